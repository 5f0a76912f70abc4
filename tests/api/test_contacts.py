"""Contacts on both versions: create, get, update, delete, list and pages, lookup, upsert, search, tags, workflows."""

import pytest

from keyhouse.models import Contact, Enrollment, db
from tests.helpers import error_body


def v2(path, tenants, location="north"):
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}locationId={getattr(tenants, location).api_id}"


NEW = {"firstName": "Eve", "lastName": "Stone", "email": "Eve@Example.com", "phone": "+44 20 7946 0000",
       "tags": ["vip", "VIP", " trial "],
       "dnd": True, "dateOfBirth": "1990-05-17", "companyName": "Stone & Co", "source": "api"}


def test_v1_contact_lifecycle(api, keys, crm_data, tenants):
    created = api("POST", "/v1/contacts/", keys.north, body=NEW)
    assert created.status_code == 200
    contact = created.get_json()["contact"]
    assert contact["email"] == "eve@example.com" and contact["phone"] == "+442079460000"
    assert contact["name"] == "Eve Stone" and contact["tags"] == ["vip", "trial"]
    assert contact["locationId"] == tenants.north.api_id and contact["dnd"] is True
    assert contact["customFields"] == []  # custom fields: test_custom_fields.py
    assert len(contact["id"]) == 20 and contact["id"].isalnum()
    assert contact["dateAdded"].endswith("Z")

    got = api("GET", f"/v1/contacts/{contact['id']}", keys.north)
    assert got.status_code == 200 and got.get_json() == {"contact": contact}

    updated = api("PUT", f"/v1/contacts/{contact['id']}", keys.north, body={"city": "Leeds"})
    assert updated.status_code == 200
    changed = updated.get_json()["contact"]
    assert changed["city"] == "Leeds" and changed["firstName"] == "Eve"

    deleted = api("DELETE", f"/v1/contacts/{contact['id']}", keys.north)
    assert deleted.status_code == 200 and deleted.get_json() == {}
    missing = api("GET", f"/v1/contacts/{contact['id']}", keys.north)
    assert missing.status_code == 404
    assert error_body(missing) == {"statusCode": 404, "error": "Not Found", "message": "Contact not found"}


def test_v2_contact_lifecycle(api, keys, crm_data, tenants):
    created = api("POST", "/v2/contacts/", keys.north, body={**NEW, "locationId": tenants.north.api_id})
    assert created.status_code == 201
    contact = created.get_json()["contact"]
    got = api("GET", f"/v2/contacts/{contact['id']}", keys.north)
    assert got.get_json() == {"contact": contact}
    updated = api("PUT", f"/v2/contacts/{contact['id']}", keys.north, body={"name": "Eva Marie Stone"})
    assert updated.status_code == 200
    body = updated.get_json()
    assert body["succeeded"] is True and body["succeded"] is True  # HighLevel's spelling too
    assert (body["contact"]["firstName"], body["contact"]["lastName"]) == ("Eva", "Marie Stone")
    assert api("DELETE", f"/v2/contacts/{contact['id']}", keys.north).get_json() == {"succeeded": True, "succeded": True}
    assert api("GET", f"/v2/contacts/{contact['id']}", keys.north).status_code == 404


def test_v2_agency_key_acts_on_a_named_location(api, keys, crm_data, tenants):
    created = api("POST", "/v2/contacts/", keys.agency, body={"locationId": tenants.south.api_id, "email": "a@b.co"})
    assert created.status_code == 201
    contact_id = created.get_json()["contact"]["id"]
    assert created.get_json()["contact"]["locationId"] == tenants.south.api_id
    assert api("GET", v2(f"/v2/contacts/{contact_id}", tenants, "south"), keys.agency).status_code == 200
    assert api("GET", v2(f"/v2/contacts/{contact_id}", tenants, "north"), keys.agency).status_code == 404
    assert api("GET", f"/v2/contacts/{contact_id}", keys.agency).status_code == 422  # no locationId
    other = api("POST", "/v2/contacts/", keys.agency, body={"locationId": tenants.elsewhere.api_id, "email": "x@y.co"})
    assert other.status_code == 404 and other.get_json()["message"] == "Location not found"


def test_v2_location_key_may_omit_or_must_match_location_id(api, keys, crm_data, tenants):
    assert api("POST", "/v2/contacts/", keys.north, body={"email": "n@b.co"}).status_code == 201
    wrong = api("POST", "/v2/contacts/", keys.north, body={"email": "n@b.co", "locationId": tenants.south.api_id})
    assert wrong.status_code == 404


def make_contacts(location, count):
    with db.connection_context():
        for number in range(count):
            Contact.create(location=location, first_name=f"Page{number:02d}", name=f"Page{number:02d}",
                           email=f"page{number}@example.com")


@pytest.mark.parametrize("path", ["/v1/contacts/", "/v2/contacts/"])
def test_contact_pages_follow_the_cursor(api, keys, crm_data, tenants, path):
    make_contacts(tenants.north, 7)
    seen, url, pages = [], f"{path}?query=page&limit=3", []
    while url:
        response = api("GET", url.replace("http://localhost", ""), keys.north)
        assert response.status_code == 200
        body = response.get_json()
        seen += [contact["id"] for contact in body["contacts"]]
        pages.append(body["meta"])
        url = body["meta"]["nextPageUrl"]
    assert len(seen) == len(set(seen)) == 7
    assert [meta["currentPage"] for meta in pages] == [1, 2, 3]
    assert [meta["nextPage"] for meta in pages] == [2, 3, None]
    assert [meta["prevPage"] for meta in pages] == [None, 1, 2]
    assert all(meta["total"] == 7 for meta in pages)
    assert pages[0]["startAfterId"] == seen[2] and isinstance(pages[0]["startAfter"], int)


def test_v1_contacts_sort_by_and_order(api, keys, crm_data, tenants):
    make_contacts(tenants.north, 4)
    ascending = api("GET", "/v1/contacts/?query=page&sortBy=date_added&order=asc", keys.north).get_json()["contacts"]
    descending = api("GET", "/v1/contacts/?query=page&order=desc", keys.north).get_json()["contacts"]
    assert [c["id"] for c in descending] == [c["id"] for c in reversed(ascending)]
    second = api("GET", f"/v1/contacts/?query=page&order=desc&limit=2&startAfterId={descending[1]['id']}", keys.north)
    assert [c["id"] for c in second.get_json()["contacts"]] == [c["id"] for c in descending[2:4]]
    for bad in ("sortBy=name", "order=up", "limit=0", "limit=101", "limit=x", "startAfter=soon"):
        response = api("GET", f"/v1/contacts/?{bad}", keys.north)
        assert response.status_code == 422, bad
        assert bad.split("=")[0] in response.get_json()["message"]
    assert api("GET", "/v1/contacts/?startAfterId=nope", keys.north).status_code == 404


def test_contact_query_finds_by_name_email_phone_company(api, keys, crm_data):
    for text, expected in (("alice", "Alice Moreau"), ("KELLER", "Bruno Keller"), ("5550102", "Chen Wei"),
                           ("bruno@", "Bruno Keller")):
        names = [c["name"] for c in api("GET", f"/v1/contacts/?query={text}", keys.north).get_json()["contacts"]]
        assert names == [expected], text
    assert api("GET", "/v1/contacts/?query=%25", keys.north).get_json()["contacts"] == []  # no wildcard


def test_v1_lookup_by_email_or_phone(api, keys, crm_data):
    by_email = api("GET", "/v1/contacts/lookup?email=ALICE@example.com", keys.north).get_json()["contacts"]
    assert [c["name"] for c in by_email] == ["Alice Moreau"]
    by_phone = api("GET", "/v1/contacts/lookup?phone=%2B1 555 0102", keys.north).get_json()["contacts"]
    assert [c["name"] for c in by_phone] == ["Chen Wei"]
    both = api("GET", "/v1/contacts/lookup?email=alice@example.com&phone=%2B15550102", keys.north)
    assert len(both.get_json()["contacts"]) == 2
    neither = api("GET", "/v1/contacts/lookup", keys.north)
    assert neither.status_code == 422 and "email" in neither.get_json()["message"]
    bad = api("GET", "/v1/contacts/lookup?email=not-an-email", keys.north)
    assert bad.status_code == 422 and "email" in bad.get_json()["message"]
    assert api("GET", "/v1/contacts/lookup?email=nobody@example.com", keys.north).get_json() == {"contacts": []}


def test_v2_upsert_matches_email_then_phone(api, keys, crm_data, tenants):
    updated = api("POST", "/v2/contacts/upsert", keys.north,
                  body={"locationId": tenants.north.api_id, "email": "ALICE@example.com", "city": "Paris"})
    assert updated.status_code == 200
    assert updated.get_json()["new"] is False and updated.get_json()["contact"]["city"] == "Paris"
    assert updated.get_json()["contact"]["id"] == crm_data.north_contact.id or updated.get_json()["contact"]["name"] == "Alice Moreau"
    by_phone = api("POST", "/v2/contacts/upsert", keys.north, body={"phone": "+1 555 0102", "lastName": "Wei-Li"})
    assert by_phone.get_json()["new"] is False and by_phone.get_json()["contact"]["name"] == "Chen Wei-Li"
    created = api("POST", "/v2/contacts/upsert", keys.north, body={"email": "new@example.com"})
    assert created.get_json()["new"] is True
    again = api("POST", "/v2/contacts/upsert", keys.north, body={"email": "new@example.com", "firstName": "N"})
    assert again.get_json()["new"] is False and again.get_json()["contact"]["id"] == created.get_json()["contact"]["id"]


def test_v2_search(api, keys, crm_data, tenants):
    make_contacts(tenants.north, 5)
    first = api("POST", "/v2/contacts/search", keys.north,
                body={"locationId": tenants.north.api_id, "query": "page", "pageLimit": 2, "page": 1}).get_json()
    second = api("POST", "/v2/contacts/search", keys.north, body={"query": "page", "pageLimit": 2, "page": 3}).get_json()
    assert first["total"] == second["total"] == 5
    assert len(first["contacts"]) == 2 and len(second["contacts"]) == 1
    for bad in ({"pageLimit": "2"}, {"page": 0}, {"pageLimit": 1000}, {"query": 5}, {"page": True}):
        response = api("POST", "/v2/contacts/search", keys.north, body=bad)
        assert response.status_code == 422
        assert list(bad)[0] in response.get_json()["message"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_tags_add_and_remove(api, keys, crm_data, version):
    contact = crm_data.north_contact.id
    path = f"/{version}/contacts/{contact}/tags" + ("/" if version == "v1" else "")
    added = api("POST", path, keys.north, body={"tags": ["Gold", "customer", "new"]})
    assert added.status_code == (200 if version == "v1" else 201)  # API 2.0: 201, as HighLevel's spec says
    tags = added.get_json()["tags"]
    assert "Gold" in tags and "new" in tags and len(tags) == len({t.lower() for t in tags})
    removed = api("DELETE", path, keys.north, body={"tags": ["gold", "absent"]})
    assert "Gold" not in removed.get_json()["tags"] and "new" in removed.get_json()["tags"]
    for bad in ({}, {"tags": "gold"}, {"tags": [1]}, {"tags": [""]}, {"tags": ["x" * 101]}):
        response = api("POST", path, keys.north, body=bad)
        assert response.status_code == 422 and "tags" in response.get_json()["message"]
    assert api("POST", path.replace(contact, "X" * 20), keys.north, body={"tags": ["a"]}).status_code == 404


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_workflow_enrollment(api, keys, crm_data, version):
    contact, workflow = crm_data.north_contact.id, crm_data.north_workflow.id
    path = f"/{version}/contacts/{contact}/workflow/{workflow}"
    expected = {} if version == "v1" else {"succeeded": True, "succeded": True}
    response = api("POST", path, keys.north, body={"eventStartTime": "2026-12-01T09:30:00Z"})
    assert response.status_code == 200 and response.get_json() == expected
    with db.connection_context():
        enrollment = Enrollment.get(Enrollment.contact == contact)
    assert enrollment.workflow_id == workflow and enrollment.event_start_time.hour == 9
    assert api("POST", path, keys.north).status_code == 200  # again: still one enrollment
    with db.connection_context():
        assert Enrollment.select().count() == 1
    bad = api("POST", path, keys.north, body={"eventStartTime": "tomorrow"})
    assert bad.status_code == 422 and "eventStartTime" in bad.get_json()["message"]
    assert api("DELETE", path, keys.north).get_json() == expected
    with db.connection_context():
        assert Enrollment.select().count() == 0
    missing = api("POST", f"/{version}/contacts/{contact}/workflow/{'Z' * 20}", keys.north)
    assert missing.status_code == 404 and missing.get_json()["message"] == "Workflow not found"


DND = {"SMS": {"status": "active", "message": "asked by phone"}, "Email": {"status": "permanent", "code": "unsub"}}


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_documented_contact_fields_are_kept(api, keys, crm_data, tenants, version):
    """gender, dndSettings and inboundDndSettings are stored and answered, not dropped."""
    body = {"firstName": "Gil", "gender": "male", "dndSettings": DND,
            "inboundDndSettings": {"all": {"status": "inactive"}}}
    if version == "v2":
        body["locationId"] = tenants.north.api_id
    created = api("POST", f"/{version}/contacts/", keys.north, body=body).get_json()["contact"]
    assert (created["gender"], created["dndSettings"], created["inboundDndSettings"]) == (
        "male", DND, {"all": {"status": "inactive"}})
    got = api("GET", f"/{version}/contacts/{created['id']}", keys.north).get_json()["contact"]
    assert got["dndSettings"] == DND and got["gender"] == "male"
    updated = api("PUT", f"/{version}/contacts/{created['id']}", keys.north,
                  body={"dndSettings": {"Call": {"status": "inactive"}}}).get_json()["contact"]
    assert updated["dndSettings"] == {"Call": {"status": "inactive"}}  # the object given replaces the old one
    assert updated["inboundDndSettings"] == {"all": {"status": "inactive"}}
    plain = api("GET", f"/{version}/contacts/{crm_data.north_contact.id}", keys.north).get_json()["contact"]
    assert (plain["gender"], plain["dndSettings"], plain["inboundDndSettings"]) == (None, {}, {})


def test_documented_contact_fields_are_validated(api, keys, crm_data):
    for field, bad in (("gender", 3), ("gender", "x" * 51), ("dndSettings", "on"),
                       ("dndSettings", {"Pigeon": {"status": "active"}}), ("dndSettings", {"SMS": {"status": "maybe"}}),
                       ("dndSettings", {"SMS": {"message": "no status"}}), ("dndSettings", {"SMS": {"status": "active", "x": 1}}),
                       ("inboundDndSettings", {"all": {"status": "permanent"}}), ("inboundDndSettings", {"SMS": {"status": "active"}}),
                       ("dndSettings", None)):
        response = api("POST", "/v1/contacts/", keys.north, body={"firstName": "Bad", field: bad})
        assert response.status_code == 422, (field, bad)
        assert field in response.get_json()["message"]
    with db.connection_context():
        assert not Contact.select().where(Contact.first_name == "Bad").exists()
