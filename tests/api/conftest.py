"""API fixtures: the demo CRM data in each tenant's locations, and real keys of each kind and scope."""

import json
from types import SimpleNamespace

import pytest

from keyhouse import demo
from keyhouse.crm import actions as crm
from keyhouse.keys import apikeys, tokens
from keyhouse.keys.scopes import KIND_SCOPES
from keyhouse.models import Contact, Form, TriggerLink, Workflow, db

VERSION = "2021-07-28"


@pytest.fixture
def crm_data(tenants):
    """The demo contacts, workflows, forms, submissions and links in North, South and Elsewhere,
    and in each a custom field and a note and a task on the first contact."""
    with db.connection_context():
        for location in (tenants.north, tenants.south, tenants.elsewhere):
            demo.seed_crm(location)

        def first(model, location):
            return model.select().where(model.location == location).order_by(model.name).first()

        data = {
            f"{name}_{kind}": first(model, location)
            for name, location in (("north", tenants.north), ("south", tenants.south), ("elsewhere", tenants.elsewhere))
            for kind, model in (("contact", Contact), ("workflow", Workflow), ("form", Form), ("link", TriggerLink))
        }
        for name, location in (("north", tenants.north), ("south", tenants.south), ("elsewhere", tenants.elsewhere)):
            contact = data[f"{name}_contact"]
            data[f"{name}_custom_field"] = crm.create_custom_field(location, {"name": "Tier", "dataType": "TEXT"})
            data[f"{name}_note"] = crm.create_note(contact, {"body": f"{name} note"})
            data[f"{name}_task"] = crm.create_task(contact, {"title": f"{name} task", "dueDate": "2026-12-01T09:00:00Z"})
        return SimpleNamespace(**data)


@pytest.fixture
def keys(tenants):
    """Plaintext keys: location keys (North, South, Elsewhere), agency keys, narrow, deactivated and deleted ones,
    and `rotating`: a North key with every location scope, the opt-in keys.self_roll included."""
    with db.connection_context():
        def make(name, location=None, agency=tenants.acme, scopes=None):
            key, plaintext = apikeys.create(
                agency_id=agency.id, location_id=location.id if location else None, name=name, scopes=scopes
            )
            return key, plaintext

        north, north_token = make("north", tenants.north)
        _, south_token = make("south", tenants.south)
        _, elsewhere_token = make("elsewhere", tenants.elsewhere, agency=tenants.other)
        agency, agency_token = make("agency")
        _, other_agency_token = make("other agency", agency=tenants.other)
        _, readonly_token = make("readonly", tenants.north, scopes=["contacts.readonly"])
        _, rotating_token = make("rotating", tenants.north, scopes=list(KIND_SCOPES[tokens.LOCATION]))
        _, agency_readonly_token = make("agency readonly", scopes=["locations.readonly"])
        deactivated, deactivated_token = make("deactivated", tenants.north)
        apikeys.deactivate(deactivated)
        deleted, deleted_token = make("deleted", tenants.north)
        apikeys.delete(deleted)
    return SimpleNamespace(
        north=north_token, north_key=north, south=south_token, elsewhere=elsewhere_token,
        agency=agency_token, agency_key=agency, other_agency=other_agency_token,
        readonly=readonly_token, rotating=rotating_token, agency_readonly=agency_readonly_token,
        deactivated=deactivated_token, deleted=deleted_token,
    )


class Api:
    """Calls the API through the Flask test client like an integration would."""

    def __init__(self, client):
        self.client = client

    def __call__(self, method, path, key=None, body=None, version=VERSION, headers=None, **kwargs):
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        if version is not None and path.startswith("/v2/"):
            sent["Version"] = version
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        return self.client.open(path, method=method, headers=sent, **kwargs)


@pytest.fixture
def api(client):
    return Api(client)
