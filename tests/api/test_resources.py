"""Workflows, forms, submissions, trigger links and locations on both versions."""

import pytest

from keyhouse.crm import actions as crm
from keyhouse.models import (
    ApiKey,
    AuditEvent,
    Contact,
    Form,
    FormSubmission,
    Location,
    TriggerLink,
    User,
    db,
)


def loc(tenants, where="north"):
    return f"locationId={getattr(tenants, where).api_id}"


@pytest.mark.parametrize("path", ["/v1/workflows/", "/v2/workflows/"])
def test_workflows(api, keys, crm_data, tenants, path):
    body = api("GET", path, keys.north).get_json()
    assert [w["name"] for w in body["workflows"]] == ["New lead follow-up", "Win-back campaign"]
    assert {w["status"] for w in body["workflows"]} == {"published", "draft"}
    assert set(body["workflows"][0]) == {"id", "name", "status", "version", "createdAt", "updatedAt", "locationId"}
    if path.startswith("/v2"):
        south = api("GET", f"{path}?{loc(tenants, 'south')}", keys.agency).get_json()["workflows"]
        assert {w["locationId"] for w in south} == {tenants.south.api_id}


def test_forms(api, keys, crm_data, tenants):
    v1 = api("GET", "/v1/forms/", keys.north).get_json()
    assert [f["name"] for f in v1["forms"]] == ["Contact us", "Newsletter sign-up"]
    v2 = api("GET", f"/v2/forms/?{loc(tenants)}&skip=1&limit=1", keys.north).get_json()
    assert v2 == {"forms": [v1["forms"][1]], "total": 2}
    assert api("GET", "/v2/forms/?skip=-1", keys.north).status_code == 422


@pytest.mark.parametrize("base", ["/v1/forms/submissions", "/v2/forms/submissions"])
def test_submissions(api, keys, crm_data, tenants, base):
    body = api("GET", base, keys.north).get_json()
    assert body["meta"] == {"total": 2, "currentPage": 1, "nextPage": None, "prevPage": None}
    first = body["submissions"][0]
    assert set(first) == {"id", "contactId", "formId", "name", "email", "createdAt", "others"}
    assert first["others"]["message"] in ("Call me back", "Opening hours?")
    paged = api("GET", f"{base}?limit=1&page=2", keys.north).get_json()
    assert paged["meta"] == {"total": 2, "currentPage": 2, "nextPage": None, "prevPage": 1}
    by_text = api("GET", f"{base}?q=dana", keys.north).get_json()["submissions"]
    assert [s["email"] for s in by_text] == ["dana@example.com"]
    by_form = api("GET", f"{base}?formId={crm_data.north_form.id}", keys.north).get_json()["meta"]["total"]
    assert by_form == 2
    today = first["createdAt"][:10]
    assert api("GET", f"{base}?startAt={today}&endAt={today}", keys.north).get_json()["meta"]["total"] == 2
    assert api("GET", f"{base}?endAt=2000-01-01", keys.north).get_json()["meta"]["total"] == 0
    assert api("GET", f"{base}?formId={crm_data.elsewhere_form.id}", keys.north).status_code == 404
    for bad in ("startAt=yesterday", "page=0", "limit=500"):
        response = api("GET", f"{base}?{bad}", keys.north)
        assert response.status_code == 422 and bad.split("=")[0] in response.get_json()["message"]


def test_v1_links(api, keys, crm_data):
    links = api("GET", "/v1/links/", keys.north).get_json()["links"]
    assert [link["name"] for link in links] == ["Book a visit", "Spring offer"]
    assert links[0]["fieldKey"] == "{{trigger_link.%s}}" % links[0]["id"]


def test_v2_link_crud(api, keys, crm_data, tenants):
    created = api("POST", "/v2/links/", keys.north,
                  body={"locationId": tenants.north.api_id, "name": "Promo", "redirectTo": "https://example.com/p"})
    assert created.status_code == 201
    link = created.get_json()["link"]
    assert link["fieldKey"] == "{{trigger_link.%s}}" % link["id"]
    assert api("GET", f"/v2/links/id/{link['id']}?{loc(tenants)}", keys.north).get_json() == {"link": link}
    assert link in api("GET", f"/v2/links/?{loc(tenants)}", keys.north).get_json()["links"]
    updated = api("PUT", f"/v2/links/{link['id']}", keys.north, body={"name": "Promo 2"})
    assert updated.status_code == 201  # as HighLevel's spec says
    assert updated.get_json()["link"]["name"] == "Promo 2"
    assert updated.get_json()["link"]["redirectTo"] == "https://example.com/p"
    for bad in ({"redirectTo": "javascript:alert(1)"}, {"name": ""}, {"redirectTo": None}, {"name": 3}):
        response = api("PUT", f"/v2/links/{link['id']}", keys.north, body=bad)
        assert response.status_code == 422 and list(bad)[0] in response.get_json()["message"]
    missing = api("POST", "/v2/links/", keys.north, body={"name": "no target"})
    assert missing.status_code == 422 and "redirectTo is required" in missing.get_json()["message"]
    deleted = api("DELETE", f"/v2/links/{link['id']}", keys.north)
    assert (deleted.status_code, deleted.get_json()) == (201, {"succeeded": True, "succeded": True})
    gone = api("GET", f"/v2/links/id/{link['id']}", keys.north)
    assert gone.status_code == 404 and gone.get_json()["message"] == "Link not found"


def test_v2_agency_key_manages_a_locations_links(api, keys, crm_data, tenants):
    created = api("POST", "/v2/links/", keys.agency,
                  body={"locationId": tenants.south.api_id, "name": "S", "redirectTo": "https://example.com/s"})
    assert created.status_code == 201
    link_id = created.get_json()["link"]["id"]
    assert api("PUT", f"/v2/links/{link_id}?{loc(tenants, 'south')}", keys.agency, body={"name": "S2"}).status_code == 201
    assert api("DELETE", f"/v2/links/{link_id}?{loc(tenants, 'north')}", keys.agency).status_code == 404
    assert api("DELETE", f"/v2/links/{link_id}?{loc(tenants, 'south')}", keys.agency).status_code == 201


def test_v2_locations(api, keys, crm_data, tenants):
    own = api("GET", f"/v2/locations/{tenants.north.api_id}", keys.north)
    assert own.status_code == 200
    location = own.get_json()["location"]
    assert location["id"] == tenants.north.api_id and location["name"] == "North Clinic"
    assert location["companyId"] == str(tenants.acme.id) and location["settings"] == {}
    assert api("GET", f"/v2/locations/{tenants.south.api_id}", keys.north).status_code == 404
    assert api("GET", f"/v2/locations/{tenants.south.api_id}", keys.agency).status_code == 200
    assert api("GET", f"/v2/locations/{tenants.elsewhere.api_id}", keys.agency).status_code == 404

    found = api("GET", "/v2/locations/search", keys.agency).get_json()["locations"]
    assert [l["name"] for l in found] == ["North Clinic", "South Gym"]
    desc = api("GET", f"/v2/locations/search?companyId={tenants.acme.id}&order=desc&limit=1", keys.agency)
    assert [l["name"] for l in desc.get_json()["locations"]] == ["South Gym"]
    assert api("GET", "/v2/locations/search?skip=1", keys.agency).get_json()["locations"][0]["name"] == "South Gym"
    with db.connection_context():
        Location.update(email="south@acme.test").where(Location.id == tenants.south.id).execute()
    by_email = api("GET", "/v2/locations/search?email=SOUTH@acme.test", keys.agency).get_json()["locations"]
    assert [l["name"] for l in by_email] == ["South Gym"]
    other = api("GET", f"/v2/locations/search?companyId={tenants.other.id}", keys.agency)
    assert other.status_code == 404
    assert api("GET", "/v2/locations/search?order=sideways", keys.agency).status_code == 422


def test_v1_location_crud(api, keys, crm_data, tenants):
    listed = api("GET", "/v1/locations/", keys.agency).get_json()["locations"]
    assert [l["name"] for l in listed] == ["North Clinic", "South Gym"]
    created = api("POST", "/v1/locations/", keys.agency,
                  body={"name": "East Spa", "city": "Bath", "email": "east@acme.test", "settings": {"allowDuplicateContact": False},
                        "social": {"facebookUrl": "https://facebook.com/east"}})
    assert created.status_code == 200
    east = created.get_json()
    assert east["name"] == "East Spa" and east["settings"] == {"allowDuplicateContact": False}
    assert api("GET", f"/v1/locations/{east['id']}", keys.agency).get_json() == east
    updated = api("PUT", f"/v1/locations/{east['id']}", keys.agency, body={"city": "Wells", "phone": "+44 1749 000"})
    assert updated.get_json()["city"] == "Wells" and updated.get_json()["name"] == "East Spa"
    for bad in ({"name": ""}, {"settings": []}, {"email": "no"}, {"phone": "call me"}):
        response = api("PUT", f"/v1/locations/{east['id']}", keys.agency, body=bad)
        assert response.status_code == 422 and list(bad)[0] in response.get_json()["message"]
    assert api("POST", "/v1/locations/", keys.agency, body={"city": "Nowhere"}).status_code == 422
    assert api("GET", f"/v1/locations/{tenants.elsewhere.api_id}", keys.agency).status_code == 404
    assert api("DELETE", f"/v1/locations/{tenants.elsewhere.api_id}", keys.agency).status_code == 404
    assert api("DELETE", f"/v1/locations/{east['id']}", keys.agency).get_json() == {}
    assert api("GET", f"/v1/locations/{east['id']}", keys.agency).status_code == 404


def test_deleting_a_location_removes_its_crm_data_and_retires_its_keys_and_staff(api, keys, crm_data, tenants, client, auth):
    south_keys = list(ApiKey.select().where(ApiKey.location == tenants.south.id))
    assert south_keys
    link_id = crm_data.south_link.id
    assert api("DELETE", f"/v1/locations/{tenants.south.api_id}", keys.agency).status_code == 200
    with db.connection_context():
        for model in (Contact, Form, FormSubmission, TriggerLink):
            assert not model.select().where(model.location == tenants.south.id).exists()
        assert Contact.select().where(Contact.location == tenants.north.id).exists()
        # The keys stay as tombstones, each deletion in the audit log.
        for key in south_keys:
            stored = ApiKey.get_by_id(key.id)
            assert (stored.status, stored.digest) == ("deleted", None)
            event = AuditEvent.get((AuditEvent.key == key.id) & (AuditEvent.action == "delete"))
            assert "South Gym" in event.detail and event.actor_label == "system"
        assert not User.get_by_id(tenants.location_user.id).is_member
    assert api("GET", f"/v2/contacts/?locationId={tenants.south.api_id}", keys.south).status_code == 401
    assert api("GET", f"/v1/locations/{tenants.south.api_id}", keys.agency).status_code == 404
    assert client.get(f"/l/{link_id}").status_code == 404
    assert auth.login("south.user@acme.test").status_code == 401  # its staff cannot sign in
    auth.login("admin@acme.test")
    assert "South Gym" not in client.get("/settings/api-keys").get_data(as_text=True)


def test_enrollments_clicks_and_submissions_are_kept_per_location(crm_data, tenants):
    with db.connection_context():
        link = TriggerLink.get_by_id(crm_data.north_link.id)
        click = crm.record_click(link, crm_data.south_contact.id)  # a contact of another location
        assert click.contact_id is None
        click = crm.record_click(link, crm_data.north_contact.id)
        assert click.contact_id == crm_data.north_contact.id
        assert Form.get_by_id(crm_data.north_form.id).submissions.count() == 2
