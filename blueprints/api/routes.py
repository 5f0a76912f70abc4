"""The API's route table: every route of both versions with its scope, key kind,
parameters, body and answer. The views register through `route`; the guard
(common.guard) and the OpenAPI documents (openapi.py) read the same table.
"""

import dataclasses
import re

from keyhouse.crm.inputs import Field

# Accepted values of API 2.0's Version header: every value HighLevel documents
# (2023-02-21 is the default of its JavaScript SDK, v3 that of its Python SDK).
VERSIONS = ("2021-07-28", "2021-04-15", "2023-02-21", "v3")
DOCUMENT_VERSION = VERSIONS[0]  # the API 2.0 version the OpenAPI document describes


@dataclasses.dataclass(frozen=True)
class Route:
    version: str  # "v1" | "v2"
    method: str
    rule: str  # the Flask rule below the version prefix, e.g. "/contacts/<contactId>"
    endpoint: str
    summary: str
    scope: str | None  # None: any verified key may call it (the calling key's own routes)
    kind: str | None  # tokens.LOCATION / tokens.AGENCY, or None when either kind may call
    query: tuple = ()  # inputs.Field
    body: tuple = ()  # inputs.Field
    required: tuple = ()  # required body fields
    response: object = None  # see openapi.py for the notation
    status: int = 200
    errors: tuple = ()  # error statuses beyond those every route may answer (openapi.ERRORS)

    @property
    def path(self):
        """The OpenAPI path: /v2/contacts/{contactId}."""
        return f"/{self.version}" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def path_params(self):
        return re.findall(r"<(?:\w+:)?(\w+)>", self.rule)


ROUTES = {}  # endpoint -> Route, for every API route of both versions


def route(bp, method, rule, **meta):
    """Register `view` on `bp` for one method and record the route in ROUTES."""

    def decorator(view):
        endpoint = view.__name__
        bp.add_url_rule(rule, endpoint, view, methods=[method])
        ROUTES[f"{bp.name}.{endpoint}"] = Route(bp.name, method, rule, endpoint, **meta)
        return view

    return decorator


def param(name, kind, description="", max_length=255, minimum=None, maximum=None, choices=()):
    """A query parameter or body field (the same Field the CRM's inputs use).

    Kind "number" is a whole number HighLevel's spec types as `number` (its
    clients may send `20.0`); "integer" one it types as integer or string.
    Both are read by common.int_arg within `minimum`..`maximum`; kind "choice"
    by common.choice_arg, one of `choices` (the first is the default).
    """
    return Field(name, "", kind, max_length, description, minimum, maximum, choices)
