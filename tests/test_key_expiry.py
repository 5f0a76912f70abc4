"""Expiry dates at creation, the agency's lifetime policy, and their warnings through real RQ workers.

As in test_lifecycle.py the clock moves by passing `as_of` to the sweep; day 0
(T0) is when the keys were created.
"""

import datetime
import re

import pytest

from keyhouse.keys import apikeys, expiry, lifecycle
from keyhouse.models import Agency, ApiKey, AuditEvent, KeyStatus, Notification, db
from tests.helpers import T0, csrf_token, day
from tests.test_lifecycle import sweep_on  # noqa: F401 - the fixture: one sweep as of a moment, then a real worker
from tests.test_keys_screen import Screen, revealed


def expiring_key(tenants, until, name="Expiring", **kwargs):
    key, plaintext = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name=name,
                                    actor=tenants.location_admin, valid_until=until, now=T0, **kwargs)
    return key, plaintext


def kinds(key):
    query = Notification.select().where(Notification.key == key.id).order_by(Notification.id)
    return sorted({(n.kind, n.threshold_days) for n in query})


def actions(key):
    events = AuditEvent.select().where(AuditEvent.key == key.id).order_by(AuditEvent.id)
    return [e.action for e in events]


def test_an_expiring_key_is_warned_15_7_and_1_days_before_once_each_then_deleted(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key, plaintext = expiring_key(tenants, day(30))
        assert lifecycle.known_end(key) == day(30)
        sweep_on(day(14))
        assert kinds(key) == []
        for moment in (day(15), day(15, 1), day(16)):  # repeated sweeps deliver it once
            sweep_on(moment)
        assert kinds(key) == [("expiry_warning", 15)]
        # A use does not resolve an expiry warning (it postpones only the inactivity deletion).
        assert apikeys.record_use(ApiKey.get_by_id(key.id), now=day(20))
        assert Notification.select().where(Notification.resolved_at.is_null()).count() == 3
        sweep_on(day(23))
        sweep_on(day(29))
        sweep_on(day(29, 12))
        assert kinds(key) == [("expiry_warning", 1), ("expiry_warning", 7), ("expiry_warning", 15)]
        recipients = {tenants.admin.id, tenants.staff.id, tenants.location_admin.id}
        per_user = Notification.select().where(Notification.kind == "expiry_warning")
        assert sorted(n.user_id for n in per_user) == sorted(list(recipients) * 3)
        assert actions(key).count("warn") == 3
        # At the date it stops working at once, before any sweep deletes it ...
        assert apikeys.authenticate(plaintext, now=day(30)).problem == apikeys.Authentication.INVALID
        assert apikeys.authenticate(plaintext, now=day(29, 23)).problem is None
        counts = sweep_on(day(30))
        assert counts["lapse"] == 1
        gone = ApiKey.get_by_id(key.id)
        assert gone.status == KeyStatus.DELETED and gone.digest is None
        assert actions(gone)[-1] == "lapse"
        assert ("deleted", 0) in kinds(key)
        assert "reached its expiry date" in Notification.get(Notification.kind == "deleted").message


def test_a_late_sweep_sends_only_the_most_urgent_expiry_warning(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key, _ = expiring_key(tenants, day(30))
        sweep_on(day(29, 6))
        assert kinds(key) == [("expiry_warning", 1)]
        assert actions(key).count("warn") == 1


def test_which_comes_first_moves_from_inactivity_to_the_expiry_date_when_the_key_is_used(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key, _ = expiring_key(tenants, day(100))
        rule = lifecycle.rule()
        assert rule.first_end(key, day(1)) == ("inactivity", day(90))
        sweep_on(day(75))
        assert kinds(key) == [("warning", 15)]  # inactivity at day 90 comes before the expiry
        apikeys.record_use(ApiKey.get_by_id(key.id), now=day(80))
        key = ApiKey.get_by_id(key.id)
        assert rule.first_end(key, day(80)) == ("expiry", day(100))
        sweep_on(day(85))
        assert ("expiry_warning", 15) in kinds(key)
        assert rule.days_until_deletion(ApiKey.get_by_id(key.id), day(85)) == 15
        pending = lifecycle.pending_deletions(tenants.admin, day(85))
        assert [(k.id, days, ends_by) for k, days, ends_by in pending] == [(key.id, 15, "expiry")]


def test_a_rolled_key_keeps_its_expiry_date_and_allowlist(app, tenants):
    with app.app_context(), db.connection_context():
        key, _ = expiring_key(tenants, day(60))
        apikeys.set_allowlist(key, "203.0.113.0/24")
        new, _ = apikeys.roll(key, "1h")
        assert (new.valid_until, new.allowed_ips) == (day(60), "203.0.113.0/24")
        # The sweep looks at the replacement when its first warning, of either end, is due.
        assert ApiKey.get_by_id(new.id).sweep_at == min(day(45), new.created_at + datetime.timedelta(days=75))


def test_the_lifetime_policy_refuses_longer_or_unlimited_keys(app, tenants):
    with app.app_context(), db.connection_context():
        expiry.set_policy(tenants.acme.id, "90", actor=tenants.admin)
        for until in (None, day(91)):
            with pytest.raises(apikeys.KeyProblem) as refused:
                expiring_key(tenants, until)
            assert refused.value.field == "expiry" and "at most 90 days" in refused.value.message
        key, _ = expiring_key(tenants, day(90))
        assert key.valid_until == day(90)
        # The other agency has no policy.
        other, _ = apikeys.create(agency_id=tenants.other.id, name="Forever")
        assert other.valid_until is None
        assert AuditEvent.get(AuditEvent.action == "lifetime_policy").detail == "at most 90 days"


# ------------------------------------------------------------------ the dashboard


def test_expiry_at_creation_from_the_form(client, auth, tenants):
    screen = Screen(client, auth, "admin@acme.test")
    response = screen.post("/settings/api-keys", {"kind": "agency", "name": "Thirty", "scopes": ["links.write"], "expiry": "30"})
    assert response.status_code == 201
    with db.connection_context():
        key = ApiKey.get(ApiKey.name == "Thirty")
        assert datetime.timedelta(days=30) == key.valid_until - key.created_at
    dated = screen.post("/settings/api-keys", {"kind": "agency", "name": "Dated", "scopes": ["links.write"],
                                               "expiry": "date", "expiry_date": "2099-03-01"})
    assert dated.status_code == 201
    with db.connection_context():
        assert ApiKey.get(ApiKey.name == "Dated").valid_until == datetime.datetime(2099, 3, 1)
    page = screen.page()
    assert "Expires 2099-03-01" in page


@pytest.mark.parametrize("data, message", [
    ({"expiry": "date", "expiry_date": "2001-01-01"}, "Choose an expiry date after today."),
    ({"expiry": "date", "expiry_date": "next week"}, "Give the expiry date as YYYY-MM-DD."),
    ({"expiry": "17"}, "Choose when the key expires."),
])
def test_bad_expiry_input_is_shown_next_to_the_field(client, auth, tenants, data, message):
    screen = Screen(client, auth, "admin@acme.test")
    response = screen.post("/settings/api-keys", {"kind": "agency", "name": "Bad", "scopes": ["links.write"], **data})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="expiry-error">' + re.escape(message), html)
    with db.connection_context():
        assert ApiKey.select().count() == 0


def test_agency_admins_set_the_policy_and_creation_beyond_it_is_refused_next_to_the_field(client, auth, tenants):
    screen = Screen(client, auth, "admin@acme.test")
    assert "Key lifetime policy" in screen.page()
    bad = screen.post("/settings/api-keys/policy", {"max_days": "ninety"})
    assert bad.status_code == 422 and 'id="max_days-error"' in bad.get_data(as_text=True)
    assert screen.post("/settings/api-keys/policy", {"max_days": "60"}).status_code == 200
    with db.connection_context():
        assert Agency.get_by_id(tenants.acme.id).max_key_lifetime_days == 60
    form = screen.get("/settings/api-keys/new?kind=agency").get_data(as_text=True)
    assert '<option selected value="60">60 days</option>' in form and 'value="90"' not in form
    refused = screen.post("/settings/api-keys", {"kind": "agency", "name": "Long", "scopes": ["links.write"], "expiry": "never"})
    assert refused.status_code == 422
    assert "at most 60 days" in re.search(r'id="expiry-error">([^<]+)', refused.get_data(as_text=True)).group(1)
    ok = screen.post("/settings/api-keys", {"kind": "agency", "name": "Short", "scopes": ["links.write"], "expiry": "60"})
    assert ok.status_code == 201 and revealed(ok).startswith("kha_")


@pytest.mark.parametrize("email", ["staff@acme.test", "north.admin@acme.test", "south.user@acme.test"])
def test_only_agency_admins_reach_the_policy(client, auth, tenants, email):
    auth.login(email)
    token = csrf_token(client, "/settings/api-keys")
    assert client.get("/settings/api-keys/policy").status_code == 404
    assert client.post("/settings/api-keys/policy", data={"max_days": "1", "csrf_token": token}).status_code == 404
    with db.connection_context():
        assert Agency.get_by_id(tenants.acme.id).max_key_lifetime_days is None


def test_the_ends_view_says_which_comes_first(client, auth, tenants, app):
    with app.app_context(), db.connection_context():
        key, _ = apikeys.create(agency_id=tenants.acme.id, name="Soon", valid_until=datetime.datetime(2099, 1, 1))
        key_far = ApiKey.get_by_id(key.id)
    screen = Screen(client, auth, "admin@acme.test")
    html = screen.get(f"/settings/api-keys/{key_far.id}/ends").get_data(as_text=True)
    assert "Inactivity comes first" in html
    with app.app_context(), db.connection_context():
        soon, _ = apikeys.create(agency_id=tenants.acme.id, name="Sooner",
                                 valid_until=datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(days=10))
    html = screen.get(f"/settings/api-keys/{soon.id}/ends").get_data(as_text=True)
    assert "The expiry date comes first" in html
    assert "Expires in 10 days" in screen.page()


def test_two_worker_processes_sweeping_at_once_send_each_expiry_warning_once(app, settings, tenants):
    """`keyhouse worker --burst` processes, as in production, racing over the same expiring keys."""
    from jobs import queue
    from jobs import sweep as jobs
    from tests.test_lifecycle_workers import WAIT, worker_process

    with app.app_context(), db.connection_context():
        keys = [expiring_key(tenants, day(30), name=f"Expiring {number}")[0] for number in range(20)]
    work = queue(app)
    for _ in range(3):
        work.enqueue(jobs.sweep, day(16).isoformat())
    workers = [worker_process(settings) for _ in range(2)]
    outputs = [worker.communicate(timeout=WAIT)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert work.failed_job_registry.count == 0, outputs
    with db.connection_context():
        warnings = Notification.select().where(Notification.kind == "expiry_warning")
        assert warnings.count() == len(keys) * 3  # three recipients each, once
        assert {n.threshold_days for n in warnings} == {15}
        assert AuditEvent.select().where(AuditEvent.action == "warn").count() == len(keys)
