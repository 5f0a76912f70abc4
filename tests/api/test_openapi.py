"""The OpenAPI documents and the Flask routes never disagree (both directions, methods included)."""

import re

import pytest
from openapi_spec_validator import validate

from blueprints.api.common import ROUTES
from keyhouse.keys import tokens
from keyhouse.keys.scopes import KIND_SCOPES

METHODS = {"get", "put", "post", "delete", "patch"}


def flask_routes(app, version):
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(f"/{version}/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            found |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_documents_and_routes_agree(app, client, version):
    document = client.get(f"/{version}/openapi.json").get_json()
    documented = {
        (method, path) for path, item in document["paths"].items() for method in item if method in METHODS
    }
    assert documented == flask_routes(app, version)
    assert len(documented) > 10


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_operation_is_complete(client, version):
    document = client.get(f"/{version}/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "Keyhouse key (kha_… agency, khl_… location)",
    }
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.endswith("/openapi.json") or path == "/v1/credentials/revoke":  # public: no key
                assert operation["security"] == []
                continue
            scope = operation["x-scope"]
            if scope is None:  # the calling key's own routes: any key, no scope
                assert path.endswith("/keys/self") and operation["security"] == [{"bearerAuth": []}]
            else:
                assert operation["security"] == [{"bearerAuth": [scope]}]
                assert scope in KIND_SCOPES[tokens.AGENCY]
                assert "WWW-Authenticate" in operation["responses"]["403"]["headers"]
            names = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert names == set(re.findall(r"{(\w+)}", path))
            assert ("Version" in {p["name"] for p in operation["parameters"]}) == (version == "v2")
            assert {"401", "404", "422", "429"} <= set(operation["responses"])
            assert ("403" in operation["responses"]) == (scope is not None or operation["x-key-kinds"] != [
                "location", "agency"])
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert len(success) == 1
            assert set(operation["responses"][success[0]]["headers"]) == {"Sunset", "Link"}
            for ref in re.findall(r"#/components/schemas/(\w+)", str(operation)):
                assert ref in schemas
            if method in ("post", "put"):
                assert "requestBody" in operation or path.endswith("/workflow/{workflowId}")


def test_documents_describe_scopes_and_kinds_from_the_route_table(client):
    document = client.get("/v2/openapi.json").get_json()
    operation = document["paths"]["/v2/contacts/"]["post"]
    assert operation["x-scope"] == "contacts.write"
    location_id = operation["requestBody"]["content"]["application/json"]["schema"]["properties"]["locationId"]
    assert "required with an agency key" in location_id["description"]  # a location key may leave it out
    assert document["paths"]["/v2/locations/search"]["get"]["x-key-kinds"] == ["agency"]
    v1 = client.get("/v1/openapi.json").get_json()
    assert v1["paths"]["/v1/contacts/"]["get"]["x-key-kinds"] == ["location"]
    assert {route.path for route in ROUTES.values() if route.version == "v1"} <= set(v1["paths"])
    assert v1["servers"] == [{"url": "/"}]  # relative to the document: never the Host header


def test_the_documents_need_no_key_and_no_version_header(client):
    for version in ("v1", "v2"):
        response = client.get(f"/{version}/openapi.json")
        assert response.status_code == 200 and response.is_json


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_documents_are_valid_openapi_3_1(client, version):
    validate(client.get(f"/{version}/openapi.json").get_json())


def test_the_version_header_values_come_from_one_table(client):
    """The guard, the OpenAPI document and /docs all offer HighLevel's documented values."""
    documented = {"2021-07-28", "2021-04-15", "2023-02-21", "v3"}
    operation = client.get("/v2/openapi.json").get_json()["paths"]["/v2/workflows/"]["get"]
    header = next(p for p in operation["parameters"] if p["name"] == "Version")
    assert set(header["schema"]["enum"]) == documented
    page = client.get("/docs/").get_data(as_text=True)
    assert all(f"<code>{value}</code>" in page for value in documented)


def test_the_documents_carry_highlevels_status_codes_and_spelling(client):
    paths = client.get("/v2/openapi.json").get_json()["paths"]
    assert "201" in paths["/v2/contacts/{contactId}/tags"]["post"]["responses"]
    assert "201" in paths["/v2/links/{linkId}"]["put"]["responses"]
    deleted = paths["/v2/links/{linkId}"]["delete"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert set(deleted["properties"]) == {"succeeded", "succeded"}


def test_answers_of_the_new_routes_match_their_documented_schemas(api, client, keys, crm_data, tenants):
    """Custom fields, notes, tasks, duplicate search and contacts' new fields, as documented."""
    from jsonschema import Draft202012Validator

    document = client.get("/v2/openapi.json").get_json()
    location, contact = tenants.north.api_id, crm_data.north_contact.id
    fields = f"/v2/locations/{location}/customFields"

    def checked(method, path, template, body=None):
        response = api(method, path, keys.north, body=body)
        schema = document["paths"][template][method.lower()]["responses"][str(response.status_code)]
        schema = schema["content"]["application/json"]["schema"]
        Draft202012Validator({**schema, "components": document["components"]}).validate(response.get_json())
        assert response.status_code < 300, response.get_json()
        return response.get_json()

    field = checked("POST", fields, "/v2/locations/{locationId}/customFields",
                    {"name": "Size", "dataType": "RADIO", "picklistOptions": ["S", "M"]})["customField"]
    checked("GET", fields, "/v2/locations/{locationId}/customFields")
    checked("PUT", f"{fields}/{field['id']}", "/v2/locations/{locationId}/customFields/{id}", {"position": 2})
    created = checked("POST", "/v2/contacts/", "/v2/contacts/", {
        "firstName": "Sam", "email": "sam@example.com", "gender": "other", "customFields": [{"id": field["id"], "value": "M"}],
        "dndSettings": {"Call": {"status": "permanent", "message": "no calls"}},
        "inboundDndSettings": {"all": {"status": "active"}}})["contact"]
    checked("GET", "/v2/contacts/search/duplicate?email=sam@example.com", "/v2/contacts/search/duplicate")
    checked("GET", "/v2/contacts/search/duplicate?email=none@example.com", "/v2/contacts/search/duplicate")
    note = checked("POST", f"/v2/contacts/{contact}/notes", "/v2/contacts/{contactId}/notes", {"body": "hi"})["note"]
    checked("GET", f"/v2/contacts/{contact}/notes", "/v2/contacts/{contactId}/notes")
    checked("DELETE", f"/v2/contacts/{contact}/notes/{note['id']}", "/v2/contacts/{contactId}/notes/{id}")
    task = checked("POST", f"/v2/contacts/{contact}/tasks", "/v2/contacts/{contactId}/tasks",
                   {"title": "T", "dueDate": "2026-12-01T09:00:00Z"})["task"]
    checked("PUT", f"/v2/contacts/{contact}/tasks/{task['id']}/completed",
            "/v2/contacts/{contactId}/tasks/{taskId}/completed", {"completed": True})
    checked("GET", f"/v2/contacts/{contact}/tasks", "/v2/contacts/{contactId}/tasks")
    checked("POST", f"/v2/contacts/{created['id']}/tags", "/v2/contacts/{contactId}/tags", {"tags": ["a"]})
    checked("DELETE", f"{fields}/{field['id']}", "/v2/locations/{locationId}/customFields/{id}")


def _schema_of(document, path, method, name):
    operation = document["paths"][path][method]
    found = next((p["schema"] for p in operation["parameters"] if p["name"] == name), None)
    if found is None:
        found = operation["requestBody"]["content"]["application/json"]["schema"]["properties"][name]
    return found


def test_the_documents_state_the_bounds_the_server_enforces(api, client, keys, crm_data):
    """Issue 9, point 10: each bound the probe found missing is documented, and the server holds to it."""
    from jsonschema import Draft202012Validator

    v1 = client.get("/v1/openapi.json").get_json()
    v2 = client.get("/v2/openapi.json").get_json()
    limit = _schema_of(v2, "/v2/contacts/", "get", "limit")["anyOf"][0]
    assert (limit["minimum"], limit["maximum"]) == (1, 100)
    assert api("GET", "/v2/contacts/?limit=0", keys.north).status_code == 422
    assert api("GET", "/v2/contacts/?limit=100", keys.north).status_code == 200
    assert api("GET", "/v2/contacts/?limit=", keys.north).status_code == 200  # empty: not given, as documented
    assert _schema_of(v2, "/v2/contacts/", "get", "locationId")["pattern"] == "^(?:[A-Za-z0-9]{20})?$"
    assert _schema_of(v1, "/v1/contacts/", "get", "sortBy")["anyOf"][0]["enum"] == ["date_added", "date_updated"]
    assert api("GET", "/v1/contacts/?sortBy=name", keys.north).status_code == 422
    page = _schema_of(v2, "/v2/contacts/search", "post", "page")
    assert (page["minimum"], page["maximum"]) == (1, 10**6)

    # maxLength counts the value as sent (before trimming), so the documented bound is exact
    first_name = _schema_of(v2, "/v2/contacts/", "post", "firstName")
    assert first_name["maxLength"] == 100 and first_name["type"] == ["string", "null"]
    assert api("POST", "/v2/contacts/", keys.north, body={"firstName": "x" * 100 + " "}).status_code == 422
    assert api("POST", "/v2/contacts/", keys.north, body={"firstName": " " + "x" * 99}).status_code == 201

    # answers satisfy their own patterns: a phone typed "(3 9)" is answered "39"; a Unicode email as stored
    contact = v2["components"]["schemas"]["Contact"]
    answered = api("POST", "/v2/contacts/", keys.north, body={"phone": "(3 9)", "email": "Zoë@Exämple.com"})
    assert answered.status_code == 201
    body = answered.get_json()["contact"]
    assert (body["phone"], body["email"]) == ("39", "zoë@exämple.com")
    Draft202012Validator({**contact, "components": v2["components"]},
                         format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)
    phone = _schema_of(v2, "/v2/contacts/", "post", "phone")
    assert re.fullmatch(phone["pattern"][1:-1], "(3 9)") and not re.fullmatch(phone["pattern"][1:-1], "call me")
