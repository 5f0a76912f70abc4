"""Bulk actions on the keys lists: one confirmation listing the keys, each key its own audit event,
keys the user may not manage refused by name, across roles; with htmx and without."""

import re

import pytest

from keyhouse.keys import apikeys
from keyhouse.models import ApiKey, AuditEvent, KeyStatus, db
from tests.helpers import csrf_token
from tests.test_keys_screen import Screen, events

BULK = "/settings/api-keys/bulk"


@pytest.fixture
def some_keys(app, tenants):
    """Two North keys, one South key, one agency key."""
    with app.app_context(), db.connection_context():
        def make(name, location=None):
            return apikeys.create(agency_id=tenants.acme.id, location_id=location.id if location else None, name=name)[0]

        return {
            "north1": make("North one", tenants.north),
            "north2": make("North two", tenants.north),
            "south": make("South one", tenants.south),
            "agency": make("Agency one"),
        }


def status(key):
    with db.connection_context():
        return ApiKey.get_by_id(key.id).status


def audit(action):
    with db.connection_context():
        return sorted(e.key_id for e in AuditEvent.select().where(AuditEvent.action == action))


def test_the_confirmation_lists_the_keys_and_refuses_the_others_by_name(client, auth, tenants, some_keys):
    screen = Screen(client, auth, "staff@acme.test")  # agency user: manages North only, sees the rest
    ids = [some_keys[name].id for name in ("north1", "north2", "south", "agency")]
    html = screen.get(BULK + "?action=deactivate&" + "&".join(f"key={i}" for i in ids)).get_data(as_text=True)
    listed = re.search(r'data-testid="bulk-keys">(.*?)</ul>', html, re.S).group(1)
    assert "North one" in listed and "North two" in listed and "South one" not in listed
    assert "You may not change 2 of the selected keys" in html
    assert "South one" in html and "Agency one" in html
    assert "Deactivate 2 keys" in html
    assert {status(key) for key in some_keys.values()} == {KeyStatus.ACTIVE}  # a review changes nothing


def test_bulk_deactivate_gives_each_key_its_own_audit_event(client, auth, tenants, some_keys):
    screen = Screen(client, auth, "staff@acme.test")
    ids = [some_keys[name].id for name in ("north1", "north2", "south")]
    response = screen.post(BULK, {"action": "deactivate", "key": [str(i) for i in ids]})
    assert response.status_code == 200
    assert status(some_keys["north1"]) == status(some_keys["north2"]) == KeyStatus.INACTIVE
    assert status(some_keys["south"]) == KeyStatus.ACTIVE
    assert audit("deactivate") == sorted([some_keys["north1"].id, some_keys["north2"].id])
    toast = events(response)["toast"]["message"]
    assert toast == "Deactivated 2 keys. Not allowed to change: South one."
    assert "keys-changed" in events(response)
    # Then reactivate both.
    screen.post(BULK, {"action": "reactivate", "key": [str(some_keys["north1"].id), str(some_keys["north2"].id)]})
    assert audit("reactivate") == sorted([some_keys["north1"].id, some_keys["north2"].id])


@pytest.mark.parametrize("email, changed", [
    ("admin@acme.test", {"north1", "north2", "south", "agency"}),
    ("staff@acme.test", {"north1", "north2"}),
    ("north.admin@acme.test", {"north1", "north2"}),
    ("south.user@acme.test", set()),
    ("admin@other.test", set()),
])
def test_bulk_delete_across_roles(client, auth, tenants, some_keys, email, changed):
    screen = Screen(client, auth, email)
    response = screen.post(BULK, {"action": "delete", "key": [str(key.id) for key in some_keys.values()]})
    assert response.status_code == (200 if changed else 422)
    deleted = {name for name, key in some_keys.items() if status(key) == KeyStatus.DELETED}
    assert deleted == changed
    assert len(audit("delete")) == len(changed)


def test_bulk_roll_reveals_each_new_key_once(client, auth, tenants, some_keys):
    screen = Screen(client, auth, "north.admin@acme.test")
    ids = [str(some_keys["north1"].id), str(some_keys["north2"].id)]
    response = screen.post(BULK, {"action": "roll", "key": ids, "grace": "1h"})
    html = response.get_data(as_text=True)
    revealed = re.findall(r'readonly value="(khl_[0-9A-Za-z]{38})"', html)
    assert len(revealed) == 2
    with db.connection_context():
        for plaintext in revealed:
            assert apikeys.authenticate(plaintext).key.name in ("North one", "North two")
        assert ApiKey.get_by_id(some_keys["north1"].id).expires_at is not None
    assert len(audit("roll")) == 2
    assert "toast" not in events(response)
    # A rolled key is left out of another roll, by name.
    again = screen.get(BULK + "?action=roll&key=" + ids[0]).get_data(as_text=True)
    assert "North one (rolled already: roll its replacement)" in again


@pytest.mark.parametrize("query, message", [
    ("action=explode&key=1", "Choose what to do with the selected keys."),
    ("action=delete", "Select at least one key"),
    ("action=delete&" + "&".join(f"key={i}" for i in range(1, 103)), "Select at most 100 keys"),
])
def test_bad_requests_are_explained(client, auth, tenants, query, message):
    screen = Screen(client, auth, "admin@acme.test")
    response = screen.get(f"{BULK}?{query}")
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_without_a_csrf_token_nothing_changes(client, auth, tenants, some_keys):
    auth.login("admin@acme.test")
    response = client.post(BULK, data={"action": "delete", "key": [str(some_keys["north1"].id)]})
    assert response.status_code in (400, 403)
    assert status(some_keys["north1"]) == KeyStatus.ACTIVE


def test_without_javascript_all_on_this_page_then_confirm(client, auth, tenants, some_keys):
    auth.login("north.admin@acme.test")
    page = client.get("/settings/api-keys").get_data(as_text=True)
    page_ids = re.findall(r'name="page_key" value="(\d+)"', page)
    assert sorted(map(int, page_ids)) == sorted([some_keys["north1"].id, some_keys["north2"].id])
    review = client.get(BULK, query_string={"action": "deactivate", "scope": "page", "page_key": page_ids})
    assert review.status_code == 200 and "Deactivate 2 keys" in review.get_data(as_text=True)
    token = csrf_token(client, "/settings/api-keys")
    done = client.post(BULK, data={"action": "deactivate", "key": page_ids, "csrf_token": token})
    assert done.status_code == 303
    assert status(some_keys["north1"]) == status(some_keys["north2"]) == KeyStatus.INACTIVE
    assert "Deactivated 2 keys." in client.get("/settings/api-keys").get_data(as_text=True)
