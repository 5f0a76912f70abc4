"""A key's rules in the dashboard: the IP allowlist editor (htmx and plain form), by role."""

import pytest

from keyhouse.keys import apikeys
from keyhouse.models import ApiKey, AuditEvent, db
from tests.helpers import csrf_token
from tests.test_keys_screen import Screen


@pytest.fixture
def north_key(app, tenants):
    with app.app_context(), db.connection_context():
        key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="North sync")
    return key


def stored(key):
    with db.connection_context():
        return ApiKey.get_by_id(key.id).allowed_ips


def test_a_manager_edits_the_allowlist_in_place(client, auth, tenants, north_key):
    screen = Screen(client, auth, "north.admin@acme.test")
    url = f"/settings/api-keys/{north_key.id}/allowlist"
    assert f'id="allowlist-{north_key.id}"' in screen.get(url).get_data(as_text=True)
    saved = screen.post(url, {"allowlist": "203.0.113.7\n2001:db8::/32"})
    assert saved.status_code == 200
    assert "may be used from 2 addresses or ranges only" in saved.headers["HX-Trigger"]
    assert "2001:db8::/32" in saved.get_data(as_text=True)
    assert stored(north_key) == "203.0.113.7 2001:db8::/32"
    with db.connection_context():
        assert AuditEvent.get(AuditEvent.action == "allowlist").actor_label == "north.admin@acme.test"
    assert "IP allowlist" in screen.page()  # the row's badge


def test_a_bad_entry_is_shown_next_to_the_field_and_keeps_what_was_typed(client, auth, tenants, north_key):
    screen = Screen(client, auth, "admin@acme.test")
    response = screen.post(f"/settings/api-keys/{north_key.id}/allowlist", {"allowlist": "10.0.0.1\nnot-an-ip"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="allowlist-error-{north_key.id}"' in html and "“not-an-ip”" in html
    assert "10.0.0.1\nnot-an-ip</textarea>" in html
    assert stored(north_key) is None


def test_the_plain_form_works_without_htmx(client, auth, tenants, north_key):
    auth.login("admin@acme.test")
    token = csrf_token(client, "/settings/api-keys")
    url = f"/settings/api-keys/{north_key.id}/allowlist"
    response = client.post(url, data={"allowlist": "198.51.100.0/24", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "198.51.100.0/24" in page and "<html" in page.lower()


def test_without_a_csrf_token_nothing_changes(client, auth, tenants, north_key):
    auth.login("admin@acme.test")
    response = client.post(f"/settings/api-keys/{north_key.id}/allowlist", data={"allowlist": "203.0.113.7"})
    assert response.status_code in (400, 403)
    assert stored(north_key) is None


@pytest.mark.parametrize("email, sees, edits", [
    ("admin@acme.test", True, True),
    ("staff@acme.test", True, True),  # assigned to North
    ("north.admin@acme.test", True, True),
    ("south.user@acme.test", False, False),  # another location
    ("admin@other.test", False, False),
])
def test_roles(client, auth, tenants, north_key, email, sees, edits):
    screen = Screen(client, auth, email)
    url = f"/settings/api-keys/{north_key.id}/allowlist"
    assert screen.get(url).status_code == (200 if sees else 404)
    response = screen.post(url, {"allowlist": "203.0.113.7"})
    assert response.status_code == (200 if edits else 404)
    assert stored(north_key) == ("203.0.113.7" if edits else None)


def test_a_viewer_sees_the_list_without_a_form(client, auth, tenants, app):
    with app.app_context(), db.connection_context():
        key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South sync")
        apikeys.set_allowlist(key, "203.0.113.7")
    screen = Screen(client, auth, "south.user@acme.test")  # location user: sees, may not manage
    html = screen.get(f"/settings/api-keys/{key.id}/rules").get_data(as_text=True)
    assert "<code>203.0.113.7</code>" in html and "<textarea" not in html
    assert "When “South sync” stops working" in html
