"""Settings → API keys over HTTP: what each role may do, bad input, reveal once, audit."""

import datetime
import json
import logging
import re

import pytest

from keyhouse.keys import apikeys, tokens
from keyhouse.keys.scopes import DEFAULT_SCOPES, KIND_SCOPES
from keyhouse.models import ApiKey, AuditEvent, KeyStatus
from tests.helpers import all_stored_text, csrf_token

HX = {"HX-Request": "true"}


class Screen:
    """A signed-in staff member driving the keys screen the way htmx does."""

    def __init__(self, client, auth, email):
        self.client = client
        auth.login(email)
        self.token = csrf_token(client, "/settings/api-keys")

    def headers(self, target=None):
        headers = {**HX, "X-CSRFToken": self.token}
        if target:
            headers["HX-Target"] = target
        return headers

    def get(self, path, htmx=True, target=None):
        headers = {**HX, "HX-Target": target} if target else HX
        return self.client.get(path, headers=headers if htmx else {})

    def post(self, path, data=None, target=None):
        return self.client.post(path, data=data or {}, headers=self.headers(target))

    def create(self, kind="agency", name="Zapier", location=None, scopes=None):
        data = {"kind": kind, "name": name}
        if location is not None:
            data["location"] = str(location)
        if scopes is not None:
            data["scopes"] = scopes
        else:
            data["scopes"] = list(DEFAULT_SCOPES[kind])  # what the form ticks by default
        return self.post("/settings/api-keys", data)

    def page(self, **params):
        response = self.client.get("/settings/api-keys", query_string=params)
        assert response.status_code == 200
        return response.get_data(as_text=True)


@pytest.fixture
def as_user(client, auth, tenants):
    return lambda email: Screen(client, auth, email)


def revealed(response):
    return re.search(r'id="revealed-key" type="text" readonly value="([^"]+)"', response.get_data(as_text=True)).group(1)


def events(response):
    return json.loads(response.headers.get("HX-Trigger", "{}"))


# ------------------------------------------------------------------ create and reveal once


def test_admin_creates_an_agency_key_and_sees_it_exactly_once(as_user, tenants, redis, app, caplog):
    caplog.set_level(logging.DEBUG)
    screen = as_user("admin@acme.test")
    response = screen.create(name="Marketing Automation")
    assert response.status_code == 201
    plaintext = revealed(response)
    assert tokens.kind_of(plaintext) == "agency"
    html = response.get_data(as_text=True)
    assert '<dialog id="reveal"' in html and "the only time Keyhouse shows this key" in html
    assert "toast" not in events(response)  # the dialog says it; a toast would only cover the page
    assert "keys-changed" in events(response)
    assert response.headers["Cache-Control"] == "no-store"

    key = ApiKey.get(ApiKey.name == "Marketing Automation")
    later = [
        screen.page(),
        screen.get("/settings/api-keys").get_data(as_text=True),
        screen.get(f"/settings/api-keys/{key.id}").get_data(as_text=True),
        screen.get(f"/settings/api-keys/{key.id}/rename").get_data(as_text=True),
        screen.get("/settings/audit-log", htmx=False).get_data(as_text=True),
    ]
    for html in later:
        assert plaintext not in html
    assert key.hint in later[0]
    assert plaintext not in all_stored_text()
    assert plaintext not in caplog.text
    for redis_key in redis.scan_iter():
        assert plaintext.encode() not in redis_key
        if redis.type(redis_key) == b"string":
            assert plaintext.encode() not in (redis.get(redis_key) or b"")
        elif redis.type(redis_key) == b"hash":
            assert all(plaintext.encode() not in v for v in redis.hgetall(redis_key).values())
    event = AuditEvent.get(AuditEvent.action == "create")
    assert plaintext not in event.detail and event.actor_label == "admin@acme.test"


def test_location_key_for_a_chosen_location(as_user, tenants):
    screen = as_user("admin@acme.test")
    response = screen.create(kind="location", name="Booking widget", location=tenants.south.id)
    assert response.status_code == 201
    assert revealed(response).startswith("khl_")
    key = ApiKey.get(ApiKey.name == "Booking widget")
    assert (key.kind, key.location_id) == ("location", tenants.south.id)


def test_create_form_defaults_to_all_scopes_of_the_kind_but_rolling_itself(as_user, tenants):
    screen = as_user("admin@acme.test")
    html = screen.get("/settings/api-keys/new?kind=location").get_data(as_text=True)
    for scope in DEFAULT_SCOPES["location"]:
        assert re.search(rf'<input checked id="scopes-\d+" name="scopes" type="checkbox" value="{scope}">', html)
    # "May roll itself" is offered, unticked: a key gets it only when someone ticks it.
    assert re.search(r'<input id="scopes-\d+" name="scopes" type="checkbox" value="keys.self_roll">', html)
    assert "Roll itself through the API" in html
    assert "locations.write" not in html


def test_a_key_may_roll_itself_only_when_its_creator_ticked_it(as_user, tenants):
    screen = as_user("admin@acme.test")
    assert screen.create(name="Plain").status_code == 201
    assert screen.create(name="Rotating", scopes=[*DEFAULT_SCOPES["agency"], "keys.self_roll"]).status_code == 201
    plain, rotating = ApiKey.get(ApiKey.name == "Plain"), ApiKey.get(ApiKey.name == "Rotating")
    assert "keys.self_roll" not in plain.scope_list and "keys.self_roll" in rotating.scope_list
    rows = screen.page()
    row = re.search(rf'<tr id="key-{rotating.id}".*?</tr>', rows, re.S).group(0)
    assert "All agency scopes" in row and "keys.self_roll" in row
    assert "keys.self_roll" not in re.search(rf'<tr id="key-{plain.id}".*?</tr>', rows, re.S).group(0)


@pytest.mark.parametrize("name,message", [
    ("", "Give the key a name"),
    ("     ", "Give the key a name"),
    ("n" * 101, "100 characters or fewer"),
])
def test_bad_names_are_shown_next_to_the_field_and_keep_what_was_typed(as_user, tenants, name, message):
    screen = as_user("admin@acme.test")
    response = screen.create(name=name, scopes=["contacts.readonly"])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<p class="error" id="name-error">[^<]*' + message, html)
    assert 'value="contacts.readonly"' in html and re.search(r'<input checked [^>]*value="contacts.readonly"', html)
    assert not re.search(r'<input checked [^>]*value="links.write"', html)  # unchecked stays unchecked
    assert ApiKey.select().count() == 0


def test_duplicate_name_per_owner_is_refused(as_user, tenants):
    screen = as_user("admin@acme.test")
    assert screen.create(name="Zapier").status_code == 201
    response = screen.create(name="  zapier ")
    assert response.status_code == 422
    assert "already called" in response.get_data(as_text=True)
    assert 'value="  zapier "' in response.get_data(as_text=True)
    assert ApiKey.select().count() == 1
    # the same name for a location is another owner: fine
    assert screen.create(kind="location", name="Zapier", location=tenants.north.id).status_code == 201


def test_html_and_emoji_in_names_are_escaped_never_executed(as_user, tenants):
    screen = as_user("admin@acme.test")
    name = '<script>alert("x")</script> 🚀 Ünïcode'
    assert screen.create(name=name).status_code == 201
    html = screen.page()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; 🚀 Ünïcode" in html


def test_scopes_must_fit_the_kind_and_at_least_one_is_needed(as_user, tenants):
    screen = as_user("admin@acme.test")
    response = screen.create(kind="location", name="L", location=tenants.north.id, scopes=["locations.write"])
    assert response.status_code == 422
    assert 'id="scopes-error"' in response.get_data(as_text=True)
    response = screen.create(name="No scopes", scopes=[])
    assert response.status_code == 422
    assert "Choose at least one scope." in response.get_data(as_text=True)
    assert ApiKey.select().count() == 0


def test_missing_csrf_token_changes_nothing(as_user, client, tenants):
    screen = as_user("admin@acme.test")
    response = client.post("/settings/api-keys", data={"kind": "agency", "name": "x", "scopes": ["links.write"]}, headers=HX)
    assert response.status_code == 400
    assert ApiKey.select().count() == 0
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Keep")
    for path in (f"/settings/api-keys/{key.id}/deactivate", f"/settings/api-keys/{key.id}/roll",
                 f"/settings/api-keys/{key.id}/rename", f"/settings/api-keys/{key.id}/delete"):
        assert client.post(path, data={"name": "changed", "grace": "none"}, headers=HX).status_code == 400
    assert client.delete(f"/settings/api-keys/{key.id}", headers=HX).status_code == 400
    stored = ApiKey.get_by_id(key.id)
    assert (stored.name, stored.status, stored.expires_at) == ("Keep", KeyStatus.ACTIVE, None)
    assert screen  # the signed-in session was real


# ------------------------------------------------------------------ roles and tenants


def make_keys(tenants):
    agency_key, _ = apikeys.create(agency_id=tenants.acme.id, name="Agency-wide")
    north_key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="North sync")
    south_key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South sync")
    foreign_key, _ = apikeys.create(agency_id=tenants.other.id, location_id=tenants.elsewhere.id, name="Foreign")
    foreign_agency, _ = apikeys.create(agency_id=tenants.other.id, name="Foreign agency")
    return agency_key, north_key, south_key, foreign_key, foreign_agency


def mutations(key_id):
    return [
        ("post", f"/settings/api-keys/{key_id}/rename", {"name": "Hijacked"}),
        ("post", f"/settings/api-keys/{key_id}/deactivate", {}),
        ("post", f"/settings/api-keys/{key_id}/roll", {"grace": "none"}),
        ("post", f"/settings/api-keys/{key_id}/delete", {}),
        ("delete", f"/settings/api-keys/{key_id}", {}),
        ("get", f"/settings/api-keys/{key_id}/rename", {}),
        ("get", f"/settings/api-keys/{key_id}/roll", {}),
    ]


def assert_untouchable(screen, key):
    for method, path, data in mutations(key.id):
        if method == "get":
            response = screen.get(path)
        elif method == "delete":
            response = screen.client.delete(path, headers=screen.headers())
        else:
            response = screen.post(path, data)
        assert response.status_code == 404, (method, path)
    stored = ApiKey.get_by_id(key.id)
    assert (stored.status, stored.expires_at) == (KeyStatus.ACTIVE, None)
    assert stored.name != "Hijacked"


# (email, sees, manages) by key: agency, north, south
ROLE_TABLE = [
    ("admin@acme.test", {"agency", "north", "south"}, {"agency", "north", "south"}),
    ("staff@acme.test", {"agency", "north", "south"}, {"north"}),
    ("north.admin@acme.test", {"north"}, {"north"}),
    ("south.user@acme.test", {"south"}, set()),
]


@pytest.mark.parametrize("email,sees,manages", ROLE_TABLE)
def test_each_role_sees_and_manages_exactly_what_the_table_says(as_user, tenants, email, sees, manages):
    agency_key, north_key, south_key, foreign_key, foreign_agency = make_keys(tenants)
    by_name = {"agency": agency_key, "north": north_key, "south": south_key}
    screen = as_user(email)
    html = screen.page()
    for label, key in by_name.items():
        row = re.search(rf'<tr id="key-{key.id}".*?</tr>', html, re.S)
        assert bool(row) == (label in sees), (email, label)
        if row:
            assert ("Deactivate" in row.group(0)) == (label in manages), (email, label)
        if label not in manages:
            assert_untouchable(screen, key)
    assert ("Agency keys" in html) == ("agency" in sees)
    assert "Foreign" not in html
    for key in (foreign_key, foreign_agency):
        assert_untouchable(screen, key)
        assert screen.get(f"/settings/api-keys/{key.id}").status_code == 404


@pytest.mark.parametrize("email,kind,location,allowed", [
    ("staff@acme.test", "agency", None, False),
    ("staff@acme.test", "location", "north", True),
    ("staff@acme.test", "location", "south", False),
    ("north.admin@acme.test", "agency", None, False),
    ("north.admin@acme.test", "location", "north", True),
    ("north.admin@acme.test", "location", "south", False),
    ("south.user@acme.test", "location", "south", False),
    ("admin@acme.test", "location", "elsewhere", False),
])
def test_create_outside_reach_is_404_and_creates_nothing(as_user, tenants, email, kind, location, allowed):
    screen = as_user(email)
    location_id = getattr(tenants, location).id if location else None
    response = screen.create(kind=kind, name="Attempt", location=location_id)
    assert response.status_code == (201 if allowed else 404)
    assert ApiKey.select().count() == (1 if allowed else 0)


# ------------------------------------------------------------------ row actions


def test_rename_inline(as_user, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Old name")
    apikeys.create(agency_id=tenants.acme.id, name="Taken")
    screen = as_user("admin@acme.test")
    form = screen.get(f"/settings/api-keys/{key.id}/rename").get_data(as_text=True)
    assert form.lstrip().startswith(f'<tr id="key-{key.id}"') and 'value="Old name"' in form
    response = screen.post(f"/settings/api-keys/{key.id}/rename", {"name": "taken"})
    assert response.status_code == 422 and "already called" in response.get_data(as_text=True)
    response = screen.post(f"/settings/api-keys/{key.id}/rename", {"name": "  New   name "})
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith(f'<tr id="key-{key.id}"')
    assert "New name" in response.get_data(as_text=True)
    assert events(response)["toast"]["message"] == "Renamed “Old name” to “New name”."
    assert ApiKey.get_by_id(key.id).name == "New name"
    assert AuditEvent.get(AuditEvent.action == "rename").detail == "Old name → New name"


def test_deactivate_and_reactivate_swap_the_row(as_user, tenants):
    key, plaintext = apikeys.create(agency_id=tenants.acme.id, name="K")
    screen = as_user("admin@acme.test")
    response = screen.post(f"/settings/api-keys/{key.id}/deactivate")
    assert response.status_code == 200 and "Deactivated" in response.get_data(as_text=True)
    assert "Reactivate" in response.get_data(as_text=True)
    assert apikeys.authenticate(plaintext).problem == "deactivated"
    response = screen.post(f"/settings/api-keys/{key.id}/reactivate")
    assert "Active" in response.get_data(as_text=True)
    assert apikeys.authenticate(plaintext).problem is None
    assert [e.action for e in AuditEvent.select().order_by(AuditEvent.id)] == ["create", "deactivate", "reactivate"]


def test_roll_with_grace_reveals_the_new_key_and_shows_when_the_old_stops(as_user, tenants):
    key, old_plain = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Billing")
    screen = as_user("admin@acme.test")
    form = screen.get(f"/settings/api-keys/{key.id}/roll/in-row", target=f"key-{key.id}")
    assert form.get_data(as_text=True).lstrip().startswith(f'<tr id="key-{key.id}"')
    response = screen.post(f"/settings/api-keys/{key.id}/roll", {"grace": "7d"})
    assert response.status_code == 201
    new_plain = revealed(response)
    assert "keeps working until" in response.get_data(as_text=True)
    assert "keys-changed" in events(response)
    assert apikeys.authenticate(old_plain).problem is None
    assert apikeys.authenticate(new_plain).key.name == "Billing"
    row = re.search(rf'<tr id="key-{key.id}".*?</tr>', screen.page(), re.S).group(0)
    assert "Rolled · stops working in 7 days" in row
    assert "Roll</a>" not in row


def test_roll_without_grace_stops_the_old_key(as_user, tenants):
    key, old_plain = apikeys.create(agency_id=tenants.acme.id, name="Billing")
    screen = as_user("admin@acme.test")
    response = screen.post(f"/settings/api-keys/{key.id}/roll", {"grace": "none"})
    assert "stopped working" in response.get_data(as_text=True)
    assert apikeys.authenticate(old_plain).problem == "invalid"
    assert f'id="key-{key.id}"' not in screen.page()


def test_roll_with_an_unknown_grace_is_refused(as_user, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Billing")
    screen = as_user("admin@acme.test")
    response = screen.post(f"/settings/api-keys/{key.id}/roll", {"grace": "forever"})
    assert response.status_code == 422
    assert ApiKey.select().count() == 1


def test_delete_removes_the_row(as_user, tenants):
    key, plaintext = apikeys.create(agency_id=tenants.acme.id, name="Gone")
    screen = as_user("admin@acme.test")
    response = screen.client.delete(f"/settings/api-keys/{key.id}", headers=screen.headers())
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert events(response)["toast"]["message"].startswith("Deleted “Gone”")
    assert apikeys.authenticate(plaintext).problem == "invalid"
    assert ApiKey.get_by_id(key.id).status == KeyStatus.DELETED
    assert screen.client.delete(f"/settings/api-keys/{key.id}", headers=screen.headers()).status_code == 404


def test_plain_page_fallbacks_work_without_htmx(client, auth, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Plain")
    auth.login("admin@acme.test")
    token = csrf_token(client, "/settings/api-keys")
    confirm = client.get(f"/settings/api-keys/{key.id}/delete")
    assert confirm.status_code == 200 and "<html" in confirm.get_data(as_text=True)
    response = client.post(f"/settings/api-keys/{key.id}/rename", data={"name": "Renamed", "csrf_token": token})
    assert response.status_code == 303
    assert "Renamed “Plain” to “Renamed”." in client.get(response.headers["Location"]).get_data(as_text=True)
    page = client.post("/settings/api-keys", data={"kind": "agency", "name": "Via page", "scopes": ["links.write"], "csrf_token": token})
    assert page.status_code == 201 and "<html" in page.get_data(as_text=True) and "revealed-key" in page.get_data(as_text=True)
    response = client.post(f"/settings/api-keys/{key.id}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert ApiKey.get_by_id(key.id).status == KeyStatus.DELETED


# ------------------------------------------------------------------ the list


def test_list_is_sorted_by_most_recent_use_and_shows_last_use(as_user, tenants):
    now = datetime.datetime(2026, 11, 1, 12, 0)
    never, _ = apikeys.create(agency_id=tenants.acme.id, name="Never used")
    old, _ = apikeys.create(agency_id=tenants.acme.id, name="Used long ago")
    recent, _ = apikeys.create(agency_id=tenants.acme.id, name="Used recently")
    apikeys.record_use(old, "198.51.100.7", "curl", now=now - datetime.timedelta(days=20))
    apikeys.record_use(recent, "198.51.100.8", "curl", now=now)
    html = as_user("admin@acme.test").page()
    positions = [html.index(name) for name in ("Used recently", "Used long ago", "Never used")]
    assert positions == sorted(positions)
    assert "from 198.51.100.8" in html
    assert never.id


def test_filter_by_name_and_location(as_user, tenants):
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="North Zapier")
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South Zapier")
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South Make")
    screen = as_user("admin@acme.test")
    html = screen.page(q="zapier", location=tenants.south.id)
    assert "South Zapier" in html and "North Zapier" not in html and "South Make" not in html
    html = screen.page(q="nothing-like-this")
    assert "have “nothing-like-this” in their name" in html


def test_name_filter_ignores_case_and_takes_percent_and_underscore_literally(as_user, tenants):
    apikeys.create(agency_id=tenants.acme.id, name="Promo 50%_OFF sync")
    apikeys.create(agency_id=tenants.acme.id, name="Promo 50a-off sync")
    apikeys.create(agency_id=tenants.acme.id, name="Back\\slash hook")
    screen = as_user("admin@acme.test")
    html = screen.page(q="50%_off")
    assert "Promo 50%_OFF sync" in html and "Promo 50a-off sync" not in html
    html = screen.page(q="_")
    assert "Promo 50%_OFF sync" in html and "Promo 50a-off sync" not in html and "Back\\slash hook" not in html
    html = screen.page(q="K\\S")
    assert "Back\\slash hook" in html and "Promo" not in html


def test_list_pages_fifty_at_a_time(as_user, tenants):
    for number in range(51):
        apikeys.create(agency_id=tenants.acme.id, name=f"Key {number:02d}")
    screen = as_user("admin@acme.test")
    first = screen.page()
    assert first.count('class="key-row') == 50
    assert "Page 1 of 2 · 51 keys" in first
    second = screen.page(agency_page=2)
    assert second.count('class="key-row') == 1


def test_a_link_to_one_key_shows_its_row_marked_on_its_page_of_the_full_list(as_user, tenants):
    target, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="Needle")
    for number in range(60):  # newer keys come first: the needle ends up on page 2
        apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name=f"Filler {number:02d}")
    apikeys.create(agency_id=tenants.acme.id, name="Agency filler")
    html = as_user("admin@acme.test").page(key=target.id)
    assert f'id="key-{target.id}" class="key-row status-active linked" aria-current="true"' in html
    assert "Page 2 of 2 · 61 keys" in html  # the whole list, on the needle's page
    assert "Agency filler" in html  # the other list is not filtered away


def test_a_link_to_a_key_outside_reach_shows_the_plain_list(as_user, tenants):
    foreign, _ = apikeys.create(agency_id=tenants.other.id, name="Foreign needle")
    html = as_user("south.user@acme.test").page(key=foreign.id)
    assert "Foreign needle" not in html and "No location keys yet." in html


def test_empty_state_explains_keys_and_links_to_the_docs(as_user, tenants):
    html = as_user("admin@acme.test").page()
    assert "No agency keys yet." in html and "No location keys yet." in html
    assert 'href="/docs/"' in html


def test_keys_pending_deletion_show_days_left(as_user, tenants, app):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Dormant")
    ApiKey.update(activity_at=datetime.datetime.utcnow() - datetime.timedelta(days=80)).where(ApiKey.id == key.id).execute()
    html = as_user("admin@acme.test").page()
    assert "Deleted in 10 days unless used" in html


# ------------------------------------------------------------------ identify


def test_identify_a_pasted_key_without_echoing_it(as_user, tenants):
    key, plaintext = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Leaked one")
    screen = as_user("admin@acme.test")
    response = screen.post("/settings/api-keys/identify", {"key": f"  {plaintext} "})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Leaked one" in html and "North Clinic" in html and "Deactivate it" in html
    assert plaintext not in html
    assert AuditEvent.get(AuditEvent.action == "identify").key_id == key.id
    response = screen.post(f"/settings/api-keys/identify/{key.id}/deactivate", target="identify-result")
    assert response.get_data(as_text=True).lstrip().startswith('<div id="identify-result">')
    assert "Deactivated" in response.get_data(as_text=True)


@pytest.mark.parametrize("pasted,message", [
    ("", "Paste a key"),
    ("not a key at all", "That is not a Keyhouse key"),
    ("kha_" + "A" * 38, "its checksum does not match"),
    ("kha_" + "A" * 30, "That is not a Keyhouse key"),
])
def test_identify_rejects_what_is_not_a_key(as_user, tenants, pasted, message):
    response = as_user("admin@acme.test").post("/settings/api-keys/identify", {"key": pasted})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    if pasted:
        assert pasted not in response.get_data(as_text=True)


def test_identify_takes_a_key_as_it_appears_in_a_log_line(as_user, tenants):
    _, plaintext = apikeys.create(agency_id=tenants.acme.id, name="From a log")
    screen = as_user("admin@acme.test")
    for pasted in (f"Authorization: Bearer {plaintext}", f"bearer {plaintext}", f'"{plaintext}"'):
        html = screen.post("/settings/api-keys/identify", {"key": pasted}).get_data(as_text=True)
        assert "From a log" in html and plaintext not in html


def test_identify_keys_outside_reach_reveals_nothing(as_user, tenants):
    _, foreign = apikeys.create(agency_id=tenants.other.id, name="Foreign")
    _, agency = apikeys.create(agency_id=tenants.acme.id, name="Agency secret")
    screen = as_user("north.admin@acme.test")
    for plaintext in (foreign, agency, tokens.generate("location")):
        response = screen.post("/settings/api-keys/identify", {"key": plaintext})
        html = response.get_data(as_text=True)
        assert "No live key in your reach matches" in html
        assert "Foreign" not in html and "Agency secret" not in html


# ------------------------------------------------------------------ audit log


def test_audit_log_lists_every_action_with_actor_time_and_ip(as_user, tenants):
    screen = as_user("admin@acme.test")
    screen.create(name="Audited")
    key = ApiKey.get(ApiKey.name == "Audited")
    screen.post(f"/settings/api-keys/{key.id}/rename", {"name": "Audited 2"})
    screen.post(f"/settings/api-keys/{key.id}/deactivate")
    screen.post(f"/settings/api-keys/{key.id}/reactivate")
    screen.post(f"/settings/api-keys/{key.id}/roll", {"grace": "1h"})
    screen.client.delete(f"/settings/api-keys/{key.id}", headers=screen.headers())
    html = screen.get("/settings/audit-log", htmx=False).get_data(as_text=True)
    for label in ("Created", "Renamed", "Deactivated", "Reactivated", "Rolled", "Deleted"):
        assert f"<td>{label}</td>" in html
    assert html.count("admin@acme.test</td>") >= 6
    assert "127.0.0.1" in html
    only_renames = screen.get("/settings/audit-log?action=rename", htmx=False).get_data(as_text=True)
    assert "<td>Renamed</td>" in only_renames and "<td>Created</td>" not in only_renames
    for_key = screen.get(f"/settings/audit-log?key={key.id}", htmx=False).get_data(as_text=True)
    assert for_key.count("<tr>") == 7  # header + 6 events of the old key (the new key's creation is its own)


def test_audit_log_of_a_location_user_shows_only_their_location(as_user, tenants):
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="North only", actor=tenants.admin)
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South only", actor=tenants.admin)
    apikeys.create(agency_id=tenants.other.id, name="Other agency", actor=tenants.other_admin)
    html = as_user("south.user@acme.test").get("/settings/audit-log", htmx=False).get_data(as_text=True)
    assert "South only" in html and "North only" not in html and "Other agency" not in html


def test_audit_log_paged(as_user, tenants):
    for number in range(55):
        apikeys.create(agency_id=tenants.acme.id, name=f"K{number}", actor=tenants.admin)
    screen = as_user("admin@acme.test")
    html = screen.get("/settings/audit-log", htmx=False).get_data(as_text=True)
    assert "Page 1 of 2 · 55 events" in html
    assert screen.get("/settings/audit-log?page=2", htmx=False).get_data(as_text=True).count("<td>Created</td>") == 5


# ------------------------------------------------------------------ hostile input


@pytest.mark.parametrize("path", [
    "/settings/api-keys/99999999999999999999999",
    "/settings/api-keys/2147483648/rename",
    "/settings/api-keys?location=99999999999999999999&agency_page=99999999999999999999",
    "/settings/audit-log?key=99999999999999999999&page=-1",
    "/settings/audit-log?key=abc&action=<script>",
    "/settings/api-keys/new?kind=wizard",
    "/settings/api-keys?q=%27%3B+DROP+TABLE+api_key%3B--",
])
def test_hostile_query_values_never_cause_a_500(as_user, tenants, path):
    response = as_user("admin@acme.test").get(path, htmx=False)
    assert response.status_code in (200, 404)


@pytest.mark.parametrize("data", [
    {"kind": "location", "name": "x", "location": "abc", "scopes": ["links.write"]},
    {"kind": "location", "name": "x", "location": "99999999999999999999", "scopes": ["links.write"]},
    {"name": "no kind", "scopes": ["links.write"]},
    {"kind": "agency", "name": "x", "scopes": ["root.everything"]},
    {"kind": "agency", "name": "y" * 10_000, "scopes": ["links.write"]},
])
def test_hostile_create_forms_are_refused_without_a_500(as_user, tenants, data):
    response = as_user("admin@acme.test").post("/settings/api-keys", data)
    assert response.status_code in (404, 422)
    assert ApiKey.select().count() == 0


def test_switching_view_to_a_huge_id_is_404(as_user, client, tenants):
    screen = as_user("admin@acme.test")
    response = client.post("/view", data={"location": "9" * 30, "csrf_token": screen.token})
    assert response.status_code == 404


def test_nul_characters_in_dashboard_input_are_refused_clearly(as_user, client, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Clean")
    screen = as_user("admin@acme.test")
    for response in (
        screen.create(name="bad\x00name"),
        screen.post(f"/settings/api-keys/{key.id}/rename", {"name": "x\x00y"}),
        screen.post("/settings/api-keys/identify", {"key": "kha_\x00"}),
        screen.get("/settings/api-keys?q=a%00b"),
        client.post("/login", data={"email": "a\x00@acme.test", "password": "x", "csrf_token": screen.token}),
    ):
        assert response.status_code == 400
        assert "NUL character" in response.get_data(as_text=True) + response.headers.get("HX-Trigger", "")
    assert [k.name for k in ApiKey.select()] == ["Clean"]
