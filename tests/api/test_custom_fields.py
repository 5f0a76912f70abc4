"""A location's custom fields (defined per location, both versions) and contacts' values checked against them."""

import pytest

from keyhouse.models import Contact, db


def fields_path(tenants, location="north"):
    return f"/v2/locations/{getattr(tenants, location).api_id}/customFields"


@pytest.fixture
def defined(api, keys, tenants, crm_data):
    """Plan (single option), Seats (number) and Notes (text) in North."""
    made = {}
    for body in ({"name": "Plan", "dataType": "SINGLE_OPTIONS", "picklistOptions": ["gold", "silver"]},
                 {"name": "Seats", "dataType": "NUMERICAL", "position": 1.0},
                 {"name": "Interests", "dataType": "MULTIPLE_OPTIONS", "picklistOptions": ["a", "b", "c"]},
                 {"name": "Notes", "dataType": "LARGE_TEXT", "placeholder": "anything"}):
        response = api("POST", fields_path(tenants), keys.north, body=body)
        assert response.status_code == 201, response.get_json()
        made[body["name"]] = response.get_json()["customField"]
    return made


def test_custom_field_crud(api, keys, tenants, defined):
    plan = defined["Plan"]
    assert plan["fieldKey"] == "contact.plan" and plan["model"] == "contact" and plan["dataType"] == "SINGLE_OPTIONS"
    assert plan["picklistOptions"] == ["gold", "silver"] and plan["locationId"] == tenants.north.api_id
    listed = api("GET", fields_path(tenants) + "?model=contact", keys.north).get_json()["customFields"]
    # by position, then name ("Tier" is the crm_data fixture's)
    assert [f["name"] for f in listed] == ["Interests", "Notes", "Plan", "Tier", "Seats"]
    assert api("GET", fields_path(tenants) + "?model=opportunity", keys.north).get_json() == {"customFields": []}
    assert api("GET", fields_path(tenants) + "?model=deal", keys.north).status_code == 422
    got = api("GET", f"{fields_path(tenants)}/{plan['id']}", keys.north).get_json()
    assert got == {"customField": plan}
    changed = api("PUT", f"{fields_path(tenants)}/{plan['id']}", keys.north,
                  body={"name": "Plan tier", "picklistOptions": ["gold", "silver", "bronze"]})
    assert changed.status_code == 200
    assert changed.get_json()["customField"]["fieldKey"] == "contact.plan"  # the key stays
    again = api("POST", fields_path(tenants), keys.north, body={"name": "plan", "dataType": "TEXT"})
    assert again.get_json()["customField"]["fieldKey"] == "contact.plan_2"
    deleted = api("DELETE", f"{fields_path(tenants)}/{plan['id']}", keys.north)
    assert deleted.get_json() == {"succeeded": True, "succeded": True}
    assert api("GET", f"{fields_path(tenants)}/{plan['id']}", keys.north).status_code == 404


def test_custom_field_definitions_are_validated(api, keys, tenants, crm_data):
    for body, field in (({"dataType": "TEXT"}, "name"), ({"name": "X"}, "dataType"),
                        ({"name": "X", "dataType": "COLOUR"}, "dataType"),
                        ({"name": "X", "dataType": "SINGLE_OPTIONS"}, "picklistOptions"),
                        ({"name": "X", "dataType": "TEXT", "picklistOptions": ["a"]}, "picklistOptions"),
                        ({"name": "X", "dataType": "RADIO", "picklistOptions": ["a", "a"]}, "picklistOptions"),
                        ({"name": "X", "dataType": "TEXT", "model": "opportunity"}, "model"),
                        ({"name": "X", "dataType": "TEXT", "position": 0.5}, "position")):
        response = api("POST", fields_path(tenants), keys.north, body=body)
        assert response.status_code == 422, body
        assert response.get_json()["message"].startswith(field), (body, response.get_json())


def test_custom_fields_belong_to_their_location(api, keys, tenants, defined):
    plan = defined["Plan"]
    assert api("GET", fields_path(tenants, "south"), keys.north).status_code == 404
    assert api("GET", f"{fields_path(tenants, 'south')}/{plan['id']}", keys.agency).status_code == 404
    assert api("GET", fields_path(tenants, "elsewhere"), keys.agency).status_code == 404
    assert len(api("GET", fields_path(tenants), keys.agency).get_json()["customFields"]) == 5
    assert api("GET", fields_path(tenants), keys.readonly).status_code == 403  # contacts.readonly only
    v1 = api("GET", "/v1/custom-fields/", keys.north).get_json()["customFields"]
    assert {f["name"] for f in v1} == {*defined, "Tier"}
    assert api("GET", f"/v1/custom-fields/{plan['id']}", keys.north).get_json() == {"customField": plan}
    assert api("GET", f"/v1/custom-fields/{plan['id']}", keys.south).status_code == 404


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_contact_custom_values_are_written_by_id_or_key_and_answered_as_id_value(api, keys, tenants, defined, version):
    plan, seats, interests = defined["Plan"], defined["Seats"], defined["Interests"]
    body = {"firstName": "Cy", "customFields": [
        {"key": "plan", "field_value": "gold"},  # HighLevel's write shape
        {"id": seats["id"], "value": "12"},  # its answer shape, written back
        {"key": "contact.interests", "field_value": ["a", "c"]},
    ]}
    if version == "v2":
        body["locationId"] = tenants.north.api_id
    created = api("POST", f"/{version}/contacts/", keys.north, body=body).get_json()["contact"]
    assert created["customFields"] == [{"id": plan["id"], "value": "gold"}, {"id": seats["id"], "value": 12},
                                       {"id": interests["id"], "value": ["a", "c"]}]
    updated = api("PUT", f"/{version}/contacts/{created['id']}", keys.north,
                  body={"customFields": [{"id": plan["id"], "field_value": "silver"}, {"key": "seats", "value": None}]})
    assert updated.get_json()["contact"]["customFields"] == [{"id": plan["id"], "value": "silver"},
                                                             {"id": interests["id"], "value": ["a", "c"]}]
    api("DELETE", f"{fields_path(tenants)}/{interests['id']}", keys.north)
    got = api("GET", f"/{version}/contacts/{created['id']}", keys.north).get_json()["contact"]
    assert got["customFields"] == [{"id": plan["id"], "value": "silver"}]  # a deleted field's values go with it


@pytest.mark.parametrize("item, problem", [
    ({"id": "cf1", "fieldValue": "hello"}, "has no field_value"),
    ({"key": "plan"}, "has no field_value"),
    ({"key": "nope", "field_value": "x"}, "no custom field with key 'nope'"),
    ({"id": "X" * 20, "field_value": "x"}, "no custom field with id"),
    ({"key": "plan", "field_value": "platinum"}, "must be one of its options"),
    ({"key": "seats", "field_value": "many"}, "must be a number"),
    ({"key": "interests", "field_value": ["a", "z"]}, "must hold only its options"),
    ({"key": "notes", "field_value": "x" * 5001}, "at most 5000"),
])
def test_bad_custom_values_are_422_naming_the_item(api, keys, tenants, defined, item, problem):
    response = api("POST", "/v1/contacts/", keys.north, body={"firstName": "Bad", "customFields": [item]})
    assert response.status_code == 422, item
    message = response.get_json()["message"]
    assert message.startswith("customFields") and problem in message, message
    with db.connection_context():
        assert not Contact.select().where(Contact.first_name == "Bad").exists()


def test_another_locations_custom_field_is_unknown(api, keys, tenants, defined):
    plan = defined["Plan"]
    response = api("POST", "/v1/contacts/", keys.south, body={"customFields": [{"id": plan["id"], "field_value": "gold"}]})
    assert response.status_code == 422 and "no custom field with id" in response.get_json()["message"]


def test_the_activity_page_shows_a_locations_custom_fields(client, auth, tenants, defined):
    auth.login("north.admin@acme.test")
    page = client.get(f"/activity/{tenants.north.api_id}").get_data(as_text=True)
    assert "contact.plan" in page and "SINGLE_OPTIONS" in page and "gold, silver" in page
    south = client.get(f"/activity/{tenants.south.api_id}").get_data(as_text=True)
    assert "contact.plan" not in south


def test_the_new_key_form_offers_the_custom_field_scopes(client, auth, tenants):
    auth.login("admin@acme.test")
    for kind in ("agency", "location"):
        html = client.get(f"/settings/api-keys/new?kind={kind}").get_data(as_text=True)
        assert "locations/customFields.readonly" in html and "Read a location&#39;s custom fields" in html
