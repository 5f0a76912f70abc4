"""Schema-driven fuzzing of both API versions with schemathesis (issue 9, point 10; issue 12).

Every operation of /v1/openapi.json and /v2/openapi.json (the documents the app
serves, built by blueprints/api/openapi.py) is called over real HTTP with
requests generated from the document — valid ones and ones that break it — with
real keys this test creates (a location key, or an agency key where the route
needs one), the rate limit raised for the run. Each response must be no 5xx,
a documented status code, content type and headers, match its schema, and
requests that break the document must be refused (4xx), as must missing or
wrong keys.

Checks left out, and why:
* `unsupported_method`, `allow_header_conformance`: HighLevel's paths overlap
  (PUT /v1/contacts/lookup reaches PUT /v1/contacts/{contactId} with the id
  "lookup" and answers 404 Contact not found; OPTIONS /v2/contacts/upsert lists
  the methods of /v2/contacts/{contactId} too). A 405 names its Allow
  (tests/api/test_input.py::test_a_405_names_the_allowed_methods).
* `positive_data_acceptance`: some rules cannot be written in OpenAPI — a
  custom field must exist in the location, /v1/contacts/lookup needs email or
  phone — so a schema-valid request may get a named 422 (documented).

Generated ids would nearly always be 404s, so about half the well-formed ids
in a path are swapped for real ones (the North location's contact, workflow,
link, custom field, note and task): the answers of existing resources are
checked too.

FUZZ_EXAMPLES (default 10) is the number of generated cases per operation in
the fuzzing phase, on top of the examples and coverage phases.
"""

import os
import re
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance, unsupported_method

import app as _app  # noqa: F401  (importing the app registers the API's routes)
from blueprints.api import openapi
from keyhouse.keys import apikeys
from keyhouse.models import db

V1 = schemathesis.openapi.from_dict(openapi.build("v1"))
V2 = schemathesis.openapi.from_dict(openapi.build("v2"))
EXCLUDED = [unsupported_method, allow_header_conformance, positive_data_acceptance]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
KEYS = {}  # kind -> the plaintext key of the running test
REAL_IDS = {}  # path parameter (an {id} as noteId or customFieldId) -> an id that exists in the running test


class BearerKey:
    """Real keys as schemathesis' auth, so that its auth checks can also send none or a wrong one."""

    def get(self, case, context):
        kinds = case.operation.definition.raw.get("x-key-kinds") or ["location"]
        return KEYS.get(kinds[0], "")  # the kind the route needs (also asked once at collection)

    def set(self, case, token, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


V1.auth(refresh_interval=None)(BearerKey)
V2.auth(refresh_interval=None)(BearerKey)


@pytest.fixture
def fuzz(app, live_server, tenants, crm_data):
    app.config.update(RATE_LIMIT_BURST=10**6, RATE_LIMIT_DAILY=10**7)
    with db.connection_context():
        for kind, location_id in (("location", tenants.north.id), ("agency", None)):
            _, KEYS[kind] = apikeys.create(agency_id=tenants.acme.id, location_id=location_id, name=f"fuzz {kind}")
    REAL_IDS.update(
        locationId=tenants.north.api_id, contactId=crm_data.north_contact.id, workflowId=crm_data.north_workflow.id,
        linkId=crm_data.north_link.id, taskId=crm_data.north_task.id, noteId=crm_data.north_note.id,
        customFieldId=crm_data.north_custom_field.id,
    )
    yield live_server
    KEYS.clear()
    REAL_IDS.clear()


def with_real_ids(case):
    """About half the well-formed ids of the path (chosen by the generated value) made real ones."""
    for name, value in (case.path_parameters or {}).items():
        resource = name
        if name == "id":
            resource = "noteId" if "/notes/" in case.path else "customFieldId"
        real = REAL_IDS.get(resource)
        if real and isinstance(value, str) and re.fullmatch(openapi.ID_PATTERN, value) and zlib.crc32(value.encode()) % 2:
            case.path_parameters[name] = real
    return case


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@V1.parametrize()
@SETTINGS
def test_api_1_0_answers_as_its_document_says(case, fuzz):
    with_real_ids(case).call_and_validate(base_url=fuzz, excluded_checks=EXCLUDED)


@V2.parametrize()
@SETTINGS
def test_api_2_0_answers_as_its_document_says(case, fuzz):
    with_real_ids(case).call_and_validate(base_url=fuzz, excluded_checks=EXCLUDED)


def test_the_fuzzed_documents_are_the_ones_served(client):
    assert client.get("/v1/openapi.json").get_json() == V1.raw_schema
    assert client.get("/v2/openapi.json").get_json() == V2.raw_schema
