"""A contact's notes and tasks (both versions), and API 2.0's duplicate search."""

import pytest

from keyhouse.models import Note, db


def prefix(version):
    return f"/{version}/contacts"


def slash(version):
    return "/" if version == "v1" else ""  # API 1.0's collection paths end in a slash


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_note_crud(api, keys, crm_data, version):
    contact = crm_data.north_contact.id
    notes = f"{prefix(version)}/{contact}/notes"
    created = api("POST", notes + slash(version), keys.north, body={"body": "Called back", "userId": "u1"})
    assert created.status_code == (200 if version == "v1" else 201)
    note = created.get_json()["note"]
    assert (note["body"], note["userId"], note["contactId"]) == ("Called back", "u1", contact)
    assert note["dateAdded"].endswith("Z")
    listed = api("GET", notes + slash(version), keys.north).get_json()["notes"]
    assert [n["body"] for n in listed] == ["north note", "Called back"] and listed[-1] == note  # oldest first
    assert api("GET", f"{notes}/{note['id']}", keys.north).get_json() == {"note": note}
    changed = api("PUT", f"{notes}/{note['id']}", keys.north, body={"body": "Called back twice"})
    assert changed.get_json()["note"]["body"] == "Called back twice"
    for bad in ({"body": ""}, {"body": 5}, {"body": "x" * 5001}):
        response = api("PUT", f"{notes}/{note['id']}", keys.north, body=bad)
        assert response.status_code == 422 and response.get_json()["message"].startswith("body")
    assert api("POST", notes + slash(version), keys.north, body={}).status_code == 422
    deleted = api("DELETE", f"{notes}/{note['id']}", keys.north)
    assert deleted.get_json() == ({} if version == "v1" else {"succeeded": True, "succeded": True})
    missing = api("GET", f"{notes}/{note['id']}", keys.north)
    assert missing.status_code == 404 and missing.get_json()["message"] == "Note not found"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_task_crud(api, keys, crm_data, version):
    contact = crm_data.north_contact.id
    tasks = f"{prefix(version)}/{contact}/tasks"
    created = api("POST", tasks + slash(version), keys.north,
                  body={"title": "Send quote", "dueDate": "2026-12-01T10:00:00+01:00", "completed": False,
                        "assignedTo": "u2", "body": "with discount"})
    assert created.status_code == (200 if version == "v1" else 201)
    task = created.get_json()["task"]
    assert (task["title"], task["dueDate"], task["completed"], task["assignedTo"]) == (
        "Send quote", "2026-12-01T09:00:00.000Z", False, "u2")
    listed = api("GET", tasks + slash(version), keys.north).get_json()["tasks"]
    assert [t["title"] for t in listed] == ["north task", "Send quote"] and listed[-1] == task
    assert api("GET", f"{tasks}/{task['id']}", keys.north).get_json() == {"task": task}
    changed = api("PUT", f"{tasks}/{task['id']}", keys.north, body={"title": "Send the quote"}).get_json()["task"]
    assert changed["title"] == "Send the quote" and changed["body"] == "with discount"
    for bad, field in (({"title": "T"}, "dueDate"), ({"title": "T", "dueDate": "soon"}, "dueDate"),
                       ({"dueDate": "2026-12-01T10:00:00Z"}, "title"),
                       ({"title": "T", "dueDate": "2026-12-01T10:00:00Z", "completed": "yes"}, "completed")):
        response = api("POST", tasks + slash(version), keys.north, body=bad)
        assert response.status_code == 422 and field in response.get_json()["message"], bad
    api("DELETE", f"{tasks}/{task['id']}", keys.north)
    assert api("GET", f"{tasks}/{task['id']}", keys.north).status_code == 404


def test_v2_task_completed(api, keys, crm_data):
    tasks = f"/v2/contacts/{crm_data.north_contact.id}/tasks"
    task = api("POST", tasks, keys.north, body={"title": "T", "dueDate": "2026-12-01T10:00:00Z"}).get_json()["task"]
    done = api("PUT", f"{tasks}/{task['id']}/completed", keys.north, body={"completed": True})
    assert done.status_code == 200 and done.get_json()["task"]["completed"] is True
    assert api("PUT", f"{tasks}/{task['id']}/completed", keys.north, body={}).status_code == 422


def test_notes_belong_to_their_contact_and_location(api, keys, crm_data, tenants):
    north, south = crm_data.north_contact.id, crm_data.south_contact.id
    note = api("POST", f"/v2/contacts/{north}/notes", keys.north, body={"body": "mine"}).get_json()["note"]
    assert api("GET", f"/v2/contacts/{south}/notes/{note['id']}", keys.south).status_code == 404
    assert api("GET", f"/v2/contacts/{north}/notes", keys.south).status_code == 404
    assert api("GET", f"/v2/contacts/{north}/notes?locationId={tenants.north.api_id}", keys.agency).status_code == 200
    assert api("POST", f"/v2/contacts/{north}/notes", keys.readonly, body={"body": "x"}).status_code == 403
    api("DELETE", f"/v2/contacts/{north}", keys.north)
    with db.connection_context():
        assert not Note.select().where(Note.id == note["id"]).exists()  # a contact's notes go with it


def test_v2_duplicate_search(api, keys, crm_data, tenants):
    alice = api("GET", "/v2/contacts/search/duplicate?email=ALICE@example.com", keys.north).get_json()["contact"]
    assert alice["email"] == "alice@example.com"
    by_phone = api("GET", "/v2/contacts/search/duplicate?number=%2B1%20555%200102", keys.north).get_json()["contact"]
    assert by_phone["firstName"] == "Chen"
    both = api("GET", "/v2/contacts/search/duplicate?email=alice@example.com&number=%2B15550102", keys.north)
    assert both.get_json()["contact"]["id"] == alice["id"]  # email first
    none = api("GET", "/v2/contacts/search/duplicate?email=nobody@example.com", keys.north)
    assert (none.status_code, none.get_json()) == (200, {"contact": None})
    assert api("GET", "/v2/contacts/search/duplicate?email=alice@example.com", keys.south).get_json()["contact"]["id"] != alice["id"]
    bad = api("GET", "/v2/contacts/search/duplicate?email=not-an-email", keys.north)
    assert bad.status_code == 422 and bad.get_json()["message"].startswith("email")


def test_a_due_date_before_the_year_1000_is_answered_with_four_year_digits(api, keys, crm_data):
    """Found by the fuzzer: "0102-04-09T21:51:35Z" was answered "102-04-09T…", not an ISO 8601 date-time."""
    contact = crm_data.north_contact.id
    response = api("POST", f"/v2/contacts/{contact}/tasks", keys.north, body={"title": "Old", "dueDate": "0102-04-09T21:51:35Z"})
    assert response.status_code == 201
    assert response.get_json()["task"]["dueDate"] == "0102-04-09T21:51:35.000Z"
