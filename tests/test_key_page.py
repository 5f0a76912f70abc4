"""One key's page over HTTP: roles and 404s, usage chart, callers, naming, blast radius, roll cut-over, polling."""

import datetime
import re

import pytest

from keyhouse.keys import apikeys
from keyhouse.models import ApiKey, AuditEvent, KeyCaller, KeyStatus, KeyUsageDay, utcnow
from tests.helpers import Auth
from tests.test_keys_screen import ROLE_TABLE, Screen, events, make_keys


@pytest.fixture
def as_user(app, tenants):
    """A signed-in staff member, each in a browser (test client) of their own."""
    def sign_in(email):
        client = app.test_client()
        return Screen(client, Auth(client), email)
    return sign_in


def seen(key, network, product, minutes_ago, requests=1, first_days_ago=3):
    now = utcnow()
    return KeyCaller.create(key=key.id, network=network, product=product, requests=requests,
                            first_seen=now - datetime.timedelta(days=first_days_ago),
                            last_seen=now - datetime.timedelta(minutes=minutes_ago))


def page_of(screen, key, status=200):
    response = screen.client.get(f"/settings/api-keys/{key.id}/page")
    assert response.status_code == status
    return response.get_data(as_text=True)


@pytest.mark.parametrize("email,sees,manages", ROLE_TABLE)
def test_the_key_page_follows_the_role_table_and_answers_404_outside_reach(as_user, tenants, email, sees, manages):
    agency_key, north_key, south_key, foreign_key, foreign_agency = make_keys(tenants)
    for key in (agency_key, north_key, south_key):
        seen(key, "203.0.113.0/24", "Zapier", 4)
    screen = as_user(email)
    for label, key in {"agency": agency_key, "north": north_key, "south": south_key}.items():
        if label not in sees:
            page_of(screen, key, 404)
            continue
        html = page_of(screen, key)
        assert key.name in html and key.hint in html
        assert ("Deactivate key" in html) == (label in manages), (email, label)
        assert ('name="name"' in html) == (label in manages), "only managers may name callers"
        caller = KeyCaller.get(KeyCaller.key == key.id)
        named = screen.post(f"/settings/api-keys/{key.id}/callers/{caller.id}/name", {"name": "Acme lead sync"})
        assert named.status_code == (200 if label in manages else 404)
        assert (KeyCaller.get_by_id(caller.id).name == "Acme lead sync") == (label in manages)
    for key in (foreign_key, foreign_agency):
        page_of(screen, key, 404)
        assert screen.post(f"/settings/api-keys/{key.id}/callers/1/name", {"name": "x"}).status_code == 404
    page_of(screen, type("Missing", (), {"id": 2147483647})(), 404)


def test_the_page_shows_details_a_30_day_chart_with_totals_and_the_top_callers(as_user, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Lead sync",
                            actor=tenants.admin)
    today = utcnow().date()
    KeyUsageDay.create(key=key.id, day=today, requests=10, refused=2, limited=1)
    KeyUsageDay.create(key=key.id, day=today - datetime.timedelta(days=3), requests=5)
    KeyUsageDay.create(key=key.id, day=today - datetime.timedelta(days=40), requests=99)  # older than 30 days
    for number in range(12):
        seen(key, f"198.51.{number}.0/24", "python-requests/2.32", minutes_ago=number, requests=100 - number)
    html = page_of(as_user("admin@acme.test"), key)
    for fact in ("Lead sync", key.hint, "North Clinic", "contacts.readonly", "admin", "Active"):
        assert fact in html
    assert re.search(r'data-total="ok">12<', html) and re.search(r'data-total="refused">2<', html)
    assert re.search(r'data-total="limited">1<', html)
    assert html.count('class="usage-day"') == 30
    assert f'data-day="{today}" data-ok="7" data-refused="2" data-limited="1"' in html
    assert html.count('class="bar-ok"') == 2
    assert html.count('<tr id="caller-') == 10  # the top 10 by requests
    assert "198.51.0.0/24" in html and "198.51.11.0/24" not in html
    assert "MORE KEY SECTIONS" not in html  # the marked spot is a template comment
    assert " style=" not in html and "<script>" not in html  # the CSP allows neither


def test_a_deleted_key_page_is_its_tombstone_for_those_who_saw_it(as_user, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="Gone")
    apikeys.delete(key)
    html = page_of(as_user("south.user@acme.test"), key)
    assert "Deleted" in html and "Deactivate" not in html
    page_of(as_user("north.admin@acme.test"), key, 404)


def test_naming_a_caller_needs_the_csrf_token_and_refuses_overlong_names(as_user, client, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Agency sync")
    caller = seen(key, "203.0.113.0/24", "Zapier", 1)
    screen = as_user("admin@acme.test")
    url = f"/settings/api-keys/{key.id}/callers/{caller.id}/name"
    assert client.post(url, data={"name": "No token"}, headers={"HX-Request": "true"}).status_code == 400
    too_long = screen.post(url, {"name": "x" * 101})
    assert too_long.status_code == 422
    assert "100 characters or fewer" in too_long.get_data(as_text=True)
    named = screen.post(url, {"name": "  Acme   lead sync "})
    assert named.status_code == 200 and "Acme lead sync" in named.get_data(as_text=True)
    assert events(named)["toast"]["message"] == "Named the caller “Acme lead sync”."
    assert KeyCaller.get_by_id(caller.id).name == "Acme lead sync"
    other, _ = apikeys.create(agency_id=tenants.acme.id, name="Other key")
    assert screen.post(f"/settings/api-keys/{other.id}/callers/{caller.id}/name", {"name": "x"}).status_code == 404


def test_blast_radius_in_every_confirmation_and_the_pending_banner(as_user, tenants, app):
    key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Busy")
    for number, minutes in enumerate((4, 30, 600)):
        seen(key, f"203.0.{number}.0/24", "Zapier", minutes)
    quiet, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Quiet")
    # Quiet is in its inactivity warning window: the banner names it.
    ApiKey.update(activity_at=utcnow() - datetime.timedelta(days=80)).where(ApiKey.id == quiet.id).execute()
    screen = as_user("admin@acme.test")
    busy = "3 callers, last call 4 minutes ago"
    html = screen.page()
    row = re.search(rf'<tr id="key-{key.id}".*?</tr>', html, re.S).group(0)
    assert f"What breaks: {busy}." in row  # deactivate and delete confirmations
    assert row.count(busy) == 2
    banner = re.search(r'<div id="pending-banner".*?</div>', html, re.S).group(0)
    assert "Quiet" in banner and "no calls in 90 days" in banner
    roll = screen.get(f"/settings/api-keys/{key.id}/roll/in-row").get_data(as_text=True)
    assert busy in roll
    delete = screen.client.get(f"/settings/api-keys/{key.id}/delete").get_data(as_text=True)
    assert f"What breaks: {busy}." in delete
    assert "no calls in 90 days" in screen.get(f"/settings/api-keys/{quiet.id}/roll").get_data(as_text=True)


def test_the_lists_poll_last_use_and_usage_as_out_of_band_swaps(as_user, tenants):
    agency_key, north_key, south_key, foreign_key, _ = make_keys(tenants)
    KeyUsageDay.create(key=north_key.id, day=utcnow().date(), requests=1234)
    screen = as_user("north.admin@acme.test")
    html = screen.page()
    poll = re.search(r'hx-get="(/settings/api-keys/activity\?ids=[^"]+)" hx-trigger="every 30s"', html).group(1)
    apikeys.record_use(north_key, "203.0.113.5", "Zapier")
    answer = screen.get(poll.replace("&amp;", "&")).get_data(as_text=True)
    assert f'id="activity-{north_key.id}"' in answer and 'hx-swap-oob="true"' in answer
    assert "just now" in answer and "1,234 requests in 30 days" in answer
    # Keys outside the user's reach are left out, whatever ids are asked for.
    others = ",".join(str(key.id) for key in (agency_key, south_key, foreign_key))
    assert "activity-" not in screen.get(f"/settings/api-keys/activity?ids={others}").get_data(as_text=True)
    assert screen.get("/settings/api-keys/activity?ids=x,99999999999999,-1").status_code == 200


def _rolled(tenants, hours_ago=3):
    """The old half of a roll made `hours_ago` with a 24-hour grace period."""
    key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Rolled")
    new, _ = apikeys.roll(key, "24h")
    ApiKey.update(created_at=utcnow() - datetime.timedelta(hours=hours_ago)).where(ApiKey.id == new.id).execute()
    return ApiKey.get_by_id(key.id)


def test_roll_cut_over_lists_the_callers_still_on_the_old_key(as_user, tenants):
    old = _rolled(tenants)
    seen(old, "203.0.113.0/24", "Zapier", minutes_ago=2)  # still calling after the roll
    seen(old, "198.51.100.0/24", "curl/8.5", minutes_ago=2 * 24 * 60, first_days_ago=9)
    screen = as_user("admin@acme.test")
    html = page_of(screen, old)
    cut = re.search(r'<div id="cut-over-.*?</div>', html, re.S).group(0)
    assert "1 caller still uses the old key" in cut and "Zapier" in cut and "203.0.113.0/24" in cut
    assert "curl/8.5" not in cut  # it stopped before the roll
    assert "stop-old" not in cut and "is offered once the old key has had no calls for an hour" in cut
    row = re.search(rf'<tr id="key-{old.id}".*?</tr>', screen.page(), re.S).group(0)
    assert "1 caller still uses the old key" in row


def test_stop_the_old_key_is_offered_after_an_hour_without_calls_and_ends_the_grace(as_user, tenants):
    old = _rolled(tenants)
    seen(old, "203.0.113.0/24", "Zapier", minutes_ago=61)
    screen = as_user("admin@acme.test")
    html = page_of(screen, old)
    assert "Stop the old key now" in html
    assert "Last call" in html or "last call" in html
    stopped = screen.post(f"/settings/api-keys/{old.id}/stop-old", {"from": "page"})
    assert stopped.status_code == 204 and stopped.headers["HX-Redirect"] == f"/settings/api-keys/{old.id}/page"
    gone = ApiKey.get_by_id(old.id)
    assert gone.status == KeyStatus.DELETED and gone.digest is None
    event = AuditEvent.select().where((AuditEvent.key == old.id) & (AuditEvent.action == "delete")).get()
    assert event.actor_label == "admin@acme.test" and "ended early" in event.detail
    # Only the old half of a roll can be stopped, and only by those who manage it.
    new = ApiKey.get_by_id(old.replaced_by_id)
    assert screen.post(f"/settings/api-keys/{new.id}/stop-old").status_code == 404
    assert as_user("south.user@acme.test").post(f"/settings/api-keys/{new.id}/stop-old").status_code == 404
    assert ApiKey.get_by_id(new.id).status == KeyStatus.ACTIVE


def test_the_activity_poll_ignores_ids_that_are_no_numbers(as_user, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Poller")
    screen = as_user("admin@acme.test")
    for ids in ("²", "1²,x", "-1", "٣"):  # digits to str.isdigit, but no int() of them
        response = screen.client.get("/settings/api-keys/activity", query_string={"ids": f"{ids},{key.id}"})
        assert response.status_code == 200
        assert f'id="activity-{key.id}"' in response.get_data(as_text=True)


def test_a_key_page_says_when_its_expiry_date_comes_first(app, as_user, tenants):
    with app.app_context():  # the lifecycle rule is the app's
        key, _ = apikeys.create(agency_id=tenants.acme.id, name="Short lived",
                                valid_until=utcnow() + datetime.timedelta(days=10) - datetime.timedelta(hours=1))
    page = page_of(as_user("admin@acme.test"), key)
    assert "Expires in 10 days" in page  # as its row in the list says
    assert "unless used" not in page
