"""Text that cannot be stored is refused with a 422 naming it, on every JSON entry (never a 500)."""

import re

import pytest

from blueprints.api.routes import ROUTES
from keyhouse.models import FormSubmission, Location, db

LONE_SURROGATE = '"\\ud800"'  # JSON for a lone UTF-16 surrogate; Python parses it, UTF-8 cannot encode it
BODY_ROUTES = sorted(
    (route for route in ROUTES.values() if route.body), key=lambda route: (route.path, route.method)
)


def fill(route, crm_data, tenants):
    ids = {
        "contactId": crm_data.north_contact.id,
        "workflowId": crm_data.north_workflow.id,
        "linkId": crm_data.north_link.id,
        "locationId": tenants.north.api_id,
        "noteId": crm_data.north_note.id,
        "taskId": crm_data.north_task.id,
        # API 2.0 names a note's and a custom field's id plainly {id}
        "id": (crm_data.north_custom_field if "/customFields/" in route.path else crm_data.north_note).id,
    }
    return re.sub(r"\{(\w+)\}", lambda match: str(ids[match.group(1)]), route.path)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda route: f"{route.method} {route.path}")
def test_a_lone_surrogate_in_any_body_field_is_a_named_422(api, keys, crm_data, tenants, route):
    key = keys.agency if route.kind == "agency" else keys.rotating  # every location scope, opt-in ones too
    for field in route.body:
        body = '{"locationId": "%s", "%s": %s}' % (tenants.north.api_id, field.name, LONE_SURROGATE)
        response = api(route.method, fill(route, crm_data, tenants), key=key, body=body)
        assert response.status_code == 422, (field.name, response.get_data(as_text=True))
        answer = response.get_json()
        assert answer["statusCode"] == 422
        assert field.name in answer["message"] and "Unicode" in answer["message"]


def test_a_lone_surrogate_deep_in_a_body_or_in_a_field_name_is_named(api, keys, tenants):
    body = '{"name": "Deep", "settings": {"a": [1, {"b": %s}]}}' % LONE_SURROGATE
    response = api("POST", "/v1/locations/", key=keys.agency, body=body)
    assert response.status_code == 422
    assert "settings.a[1].b is not valid Unicode" in response.get_json()["message"]

    response = api("POST", "/v1/locations/", key=keys.agency, body='{"name": "X", %s: 1}' % LONE_SURROGATE)
    assert response.status_code == 422
    assert "field name" in response.get_json()["message"]
    with db.connection_context():
        assert not Location.select().where(Location.name.in_(["Deep", "X"])).exists()


def test_a_lone_surrogate_in_a_public_form_post_is_a_named_422(client, crm_data):
    form = crm_data.north_form
    with db.connection_context():
        before = FormSubmission.select().count()
    response = client.post(
        f"/f/{form.id}", data='{"email": "a@b.co", "note": %s}' % LONE_SURROGATE, content_type="application/json"
    )
    assert response.status_code == 422
    assert "note is not valid Unicode" in response.get_json()["message"]
    with db.connection_context():
        assert FormSubmission.select().count() == before


def test_escaped_bytes_that_are_not_utf8_in_a_form_post_are_kept_as_they_were_sent(client, crm_data):
    form = crm_data.north_form
    raw = b"email=bytes%40example.com&note=caf%ED%A0%80%FF"  # a UTF-8-encoded surrogate and a stray byte
    response = client.post(f"/f/{form.id}", data=raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 201)
    with db.connection_context():
        submission = FormSubmission.get(FormSubmission.email == "bytes@example.com")
        assert submission.others["note"] == "caf%ED%A0%80%FF"


def test_a_form_post_that_is_not_utf8_is_a_named_422_not_an_empty_submission(client, crm_data):
    form = crm_data.north_form
    raw = b"email=bytes%40example.com&note=caf\xed\xa0\x80\xff"
    response = client.post(f"/f/{form.id}", data=raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert response.get_json()["message"] == "The form is not valid UTF-8 text"


def test_bodies_nested_too_deep_are_refused_before_they_are_stored(api, keys):
    deep = {"name": "Nested", "settings": {}}
    level = deep["settings"]
    for _ in range(900):
        level["x"] = {}
        level = level["x"]
    response = api("POST", "/v1/locations/", key=keys.agency, body=deep)
    assert response.status_code == 422
    assert "nested more than" in response.get_json()["message"]
    with db.connection_context():
        assert not Location.select().where(Location.name == "Nested").exists()


def test_a_lone_surrogate_in_a_contact_search_query_is_refused(api, keys, tenants):
    body = '{"locationId": "%s", "query": %s}' % (tenants.north.api_id, LONE_SURROGATE)
    response = api("POST", "/v2/contacts/search", key=keys.north, body=body)
    assert response.status_code == 422
    assert "query is not valid Unicode" in response.get_json()["message"]
