"""Bad input: a clear JSON error naming the field, never a 500, nothing half-written."""

import pytest

from keyhouse.models import Contact, Location, TriggerLink, db
from tests.helpers import error_body


def contact_count():
    with db.connection_context():
        return Contact.select().count()


@pytest.mark.parametrize("path", ["/v1/contacts/", "/v2/contacts/"])
@pytest.mark.parametrize("raw", ['{"email": ', "not json", "\xff\xfe", '{"a": 1}{'])
def test_malformed_json_is_400(api, keys, crm_data, path, raw):
    before = contact_count()
    response = api("POST", path, keys.north, body=raw.encode("latin-1"))
    assert response.status_code == 400
    assert error_body(response) == {"statusCode": 400, "error": "Bad Request", "message": "The body is not valid JSON"}
    assert contact_count() == before


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "42", "null"])
def test_a_body_that_is_not_an_object_is_422(api, keys, crm_data, raw):
    response = api("POST", "/v1/contacts/", keys.north, body=raw)
    assert response.status_code == 422 and "JSON object" in response.get_json()["message"]


@pytest.mark.parametrize("field, value", [
    ("firstName", 5), ("firstName", ["a"]), ("firstName", "x" * 101), ("email", "no-at-sign"),
    ("email", 5), ("phone", "call me"), ("phone", "+++"), ("dnd", "yes"), ("dnd", None), ("tags", "a,b"),
    ("tags", [None]), ("customFields", {"plan": "gold"}), ("customFields", [{"field_value": "x"}]),
    ("customFields", [{"key": "k", "field_value": {"nested": 1}}]), ("dateOfBirth", "17/05/1990"),
    ("dateOfBirth", "1990-02-30"), ("website", "w" * 501),
])
def test_wrong_types_and_shapes_name_the_field(api, keys, crm_data, field, value):
    before = contact_count()
    for path in ("/v1/contacts/", "/v2/contacts/"):
        response = api("POST", path, keys.north, body={"email": "ok@example.com", field: value} if field != "email" else {field: value})
        assert response.status_code == 422, (path, field, value)
        body = response.get_json()
        assert body["statusCode"] == 422 and body["error"] == "Unprocessable Entity"
        assert body["message"].startswith(field), body["message"]
    assert contact_count() == before


def test_every_bad_field_is_named_at_once_and_nothing_is_changed(api, keys, crm_data):
    contact = crm_data.north_contact.id
    response = api("PUT", f"/v1/contacts/{contact}", keys.north,
                   body={"firstName": "Changed", "email": "bad", "dnd": "no", "tags": 7})
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert "email" in message and "dnd" in message and "tags" in message
    with db.connection_context():
        assert Contact.get_by_id(contact).first_name == "Alice"


def test_unknown_fields_are_ignored(api, keys, crm_data, tenants):
    response = api("POST", "/v2/contacts/", keys.north,
                   body={"email": "u@example.com", "hairColour": "x", "id": "A" * 20, "locationIdx": 1, "dateAdded": "1999"})
    assert response.status_code == 201
    contact = response.get_json()["contact"]
    assert contact["id"] != "A" * 20 and "hairColour" not in contact and not contact["dateAdded"].startswith("1999")


def test_html_and_sql_in_strings_are_stored_verbatim(api, keys, crm_data):
    html = "<script>alert('x')</script>"
    sql = "Robert'); DROP TABLE contact;--"
    response = api("POST", "/v1/contacts/", keys.north, body={"firstName": html, "lastName": sql, "tags": [sql]})
    assert response.status_code == 200 and response.mimetype == "application/json"
    contact = response.get_json()["contact"]
    assert contact["firstName"] == html and contact["lastName"] == sql and contact["tags"] == [sql]
    found = api("GET", "/v1/contacts/?query=" + "DROP TABLE", keys.north).get_json()["contacts"]
    assert [c["id"] for c in found] == [contact["id"]]
    assert api("GET", "/v1/contacts/?query=%27%20OR%201%3D1--", keys.north).get_json()["contacts"] == []
    with db.connection_context():
        assert Contact.select().count() > 1  # the table is still there


@pytest.mark.parametrize("bad_id", ["short", "x" * 21, "AAAAAAAAAAAAAAAAAAA!", "' OR '1'='1", "%00", "..%2F..%2Fetc"])
def test_invalid_ids_are_not_found(api, keys, crm_data, bad_id):
    for path in (f"/v1/contacts/{bad_id}", f"/v2/contacts/{bad_id}", f"/v2/links/id/{bad_id}"):
        response = api("GET", path, keys.north)
        assert response.status_code == 404, path
        assert response.is_json and response.get_json()["statusCode"] == 404


def test_a_non_string_location_id_is_named(api, keys, crm_data):
    response = api("POST", "/v2/contacts/", keys.agency, body={"locationId": 5})
    assert response.status_code == 422 and "locationId" in response.get_json()["message"]


def test_huge_bodies_are_413_json_and_write_nothing(app, api, keys, crm_data):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    before = contact_count()
    for path in ("/v1/contacts/", "/v2/contacts/"):
        response = api("POST", path, keys.north, body={"email": "big@example.com", "firstName": "x" * 20_000})
        assert response.status_code == 413
        assert response.is_json and response.get_json()["statusCode"] == 413
    assert contact_count() == before


def test_unknown_api_paths_and_methods_answer_json(api, keys):
    missing = api("GET", "/v2/nothing-here", keys.north)
    assert missing.status_code == 404 and missing.is_json
    assert missing.headers["X-RateLimit-Max"] == "100"
    wrong_method = api("PATCH", "/v1/contacts/", keys.north)
    assert wrong_method.status_code == 405 and wrong_method.is_json


def test_a_405_names_the_allowed_methods(api, client, keys):
    """RFC 9110: a 405 carries Allow (the fuzzer's TRACE found it missing), on the API and the dashboard."""
    wrong_method = api("PATCH", "/v1/contacts/", keys.north)
    assert set(wrong_method.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    trace = api("TRACE", "/v2/openapi.json")
    assert trace.status_code == 405 and trace.is_json and "GET" in trace.headers["Allow"]
    page = client.get("/logout")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


def test_a_failure_midway_leaves_nothing_half_written(api, keys, crm_data, tenants):
    """A link with a valid name but an invalid target: no link row appears."""
    with db.connection_context():
        before = TriggerLink.select().count()
    response = api("POST", "/v2/links/", keys.north, body={"name": "ok", "redirectTo": "ftp://x"})
    assert response.status_code == 422 and "redirectTo" in response.get_json()["message"]
    with db.connection_context():
        assert TriggerLink.select().count() == before
        assert Location.select().count() == 3


def test_nul_characters_are_refused_not_a_500(api, client, keys, crm_data, tenants):
    """PostgreSQL cannot store NUL in text: every way in is refused with a named field."""
    cases = [
        ("POST", "/v1/contacts/", {"firstName": "a\u0000b"}, "firstName"),
        ("POST", "/v2/contacts/", {"email": "a@b.co", "tags": ["x\u0000"]}, "tags"),
        ("POST", "/v2/links/", {"name": "n\u0000", "redirectTo": "https://example.com"}, "name"),
        ("POST", "/v2/contacts/search", {"query": "\u0000"}, "query"),
        ("GET", "/v1/contacts/?query=%00", None, "query"),
        ("GET", "/v1/forms/submissions?q=%00", None, "q"),
        ("GET", "/v1/contacts/lookup?email=%00", None, "email"),
    ]
    for method, path, body, field in cases:
        response = api(method, path, keys.north, body=body)
        assert response.status_code == 422, (path, response.get_json())
        assert field in response.get_json()["message"]
    form = client.post(f"/f/{crm_data.north_form.id}", json={"email": "a@b.co", "note": "x\u0000y"})
    assert form.status_code == 422 and "note" in form.get_json()["message"]
    assert client.get(f"/l/{crm_data.north_link.id}?contact_id=%00").status_code == 302


def test_extreme_numbers_and_dates_are_answered_not_500(api, keys, crm_data):
    for path in ("/v1/forms/submissions?endAt=9999-12-31", "/v1/forms/submissions?startAt=0001-01-01",
                 "/v1/contacts/?startAfter=99999999999999", "/v1/forms/submissions?page=1000000&limit=100",
                 "/v2/forms/?skip=1000000"):
        assert api("GET", path, keys.north).status_code == 200, path
    for path in ("/v1/contacts/?startAfter=999999999999999", "/v1/contacts/?limit=99999999999999999999",
                 "/v1/forms/submissions?endAt=10000-01-01",
                 "/v1/forms/submissions?endAt=9999-12-31T23:00:00-05:00",
                 "/v2/forms/submissions?startAt=0001-01-01T00:00:00%2B01:00"):
        assert api("GET", path, keys.north).status_code == 422, path
    for version in ("v1", "v2"):
        path = f"/{version}/contacts/{crm_data.north_contact.id}/workflow/{crm_data.north_workflow.id}"
        response = api("POST", path, keys.north, body={"eventStartTime": "9999-12-31T23:00:00-05:00"})
        assert response.status_code == 422 and "eventStartTime" in response.get_json()["message"]


def test_absurdly_nested_json_is_400(api, client, keys, crm_data):
    nested = "[" * 200_000 + "]" * 200_000
    assert api("POST", "/v1/contacts/", keys.north, body=nested).status_code == 400
    assert client.post(f"/f/{crm_data.north_form.id}", data=nested, content_type="application/json").status_code == 400


def test_number_parameters_accept_whole_decimals(api, keys, crm_data, tenants):
    """HighLevel types limit, startAfter, skip and page as `number`: its clients send 20.0."""
    for path in ("/v2/contacts/?limit=20.0", "/v1/contacts/?limit=2.0&startAfter=0.0",
                 "/v2/forms/?skip=0.0&limit=10.00", "/v2/forms/submissions?page=1.0&limit=20.0"):
        assert api("GET", path, keys.north).status_code == 200, path
    assert len(api("GET", "/v1/contacts/?limit=2.0", keys.north).get_json()["contacts"]) == 2
    search = api("POST", "/v2/contacts/search", keys.north,
                 body={"locationId": tenants.north.api_id, "pageLimit": 2.0, "page": 1.0})
    assert search.status_code == 200 and len(search.get_json()["contacts"]) == 2
    for path, name in (("/v2/contacts/?limit=20.5", "limit"), ("/v1/contacts/?startAfter=1.5", "startAfter"),
                       ("/v2/forms/?skip=0.1", "skip"), ("/v2/forms/submissions?page=1.5", "page"),
                       ("/v2/contacts/?limit=1e1", "limit"), ("/v2/contacts/?limit=.0", "limit")):
        response = api("GET", path, keys.north)
        assert response.status_code == 422, path
        assert response.get_json()["message"].startswith(f"{name} must be a whole number"), path
    half = api("POST", "/v2/contacts/search", keys.north, body={"locationId": tenants.north.api_id, "pageLimit": 2.5})
    assert half.status_code == 422 and "pageLimit" in half.get_json()["message"]


def test_the_openapi_documents_type_number_parameters_with_their_bounds(client):
    paths = client.get("/v2/openapi.json").get_json()["paths"]
    # a query parameter is its value's schema, or "" (empty counts as not given)
    params = {p["name"]: p["schema"]["anyOf"][0] for p in paths["/v2/contacts/"]["get"]["parameters"] if "anyOf" in p["schema"]}
    assert params["limit"]["type"] == "number" and (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 100)
    assert params["startAfter"]["type"] == "number" and params["startAfter"]["minimum"] == 0
    forms = {p["name"]: p["schema"]["anyOf"][0] for p in paths["/v2/forms/"]["get"]["parameters"] if "anyOf" in p["schema"]}
    assert forms["skip"]["type"] == forms["limit"]["type"] == "number"
    submissions = {p["name"]: p["schema"]["anyOf"][0]
                   for p in paths["/v2/forms/submissions"]["get"]["parameters"] if "anyOf" in p["schema"]}
    assert submissions["page"]["type"] == "number" and submissions["page"]["minimum"] == 1
    body = paths["/v2/contacts/search"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["pageLimit"]["maximum"] == 100
