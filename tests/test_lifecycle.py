"""The inactivity lifecycle end to end: real database, real Redis, real RQ workers.

The clock moves by passing `as_of` to the sweep (which hands it to the jobs it
enqueues); nothing is monkeypatched. Day 0 is T0, when the keys were last used.
"""

import datetime

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from jobs import sweep as jobs
from keyhouse.keys import apikeys, lifecycle
from keyhouse.models import (
    ApiKey,
    AuditEvent,
    KeyStatus,
    Notification,
    User,
    db,
    utcnow,
)
from tests.helpers import T0, aged_key, day


@pytest.fixture
def sweep_on(app, run_jobs):
    """sweep_on(moment): one sweep as of `moment`, then a real worker runs what it enqueued."""

    def sweep_on(moment):
        with app.app_context():
            counts = jobs.sweep(moment.isoformat())
        run_jobs()
        return counts

    return sweep_on


def notes(key, **where):
    query = Notification.select().where(Notification.key == key.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(query.order_by(Notification.id))


def by_user(notifications):
    result = {}
    for n in notifications:
        result.setdefault(n.user_id, []).append((n.kind, n.threshold_days))
    return result


def audit_actions(key):
    events = AuditEvent.select().where(AuditEvent.key == key.id).order_by(AuditEvent.id)
    return [(e.action, e.actor_label) for e in events if e.action in ("warn", "expire", "delete")]


def test_a_key_is_warned_three_times_then_deleted_and_its_recipients_told(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key = aged_key("Zapier sync", agency=tenants.acme, location=tenants.north, actor=tenants.location_admin)
        bystander = aged_key("Fresh", agency=tenants.acme, clock=day(60), actor=tenants.admin)

        for moment in (day(74), day(75), day(76), day(83), day(84), day(89), day(89, 12), day(90)):
            sweep_on(moment)

        # Creator (north's location admin), the agency admin, the agency user assigned to north.
        recipients = {tenants.location_admin.id, tenants.admin.id, tenants.staff.id}
        expected = [("warning", 15), ("warning", 7), ("warning", 1), ("deleted", 0)]
        assert by_user(notes(key)) == {user: expected for user in recipients}
        assert ApiKey.get_by_id(key.id).status == KeyStatus.DELETED
        assert ApiKey.get_by_id(key.id).digest is None
        assert audit_actions(key) == [("warn", "system")] * 3 + [("expire", "system")]
        warning = notes(key, threshold_days=15)[0]
        assert "“Zapier sync” (North Clinic)" in warning.message
        assert "deleted on 2027-04-01 09:00 UTC" in warning.message
        assert notes(bystander) == []

        sweep_on(day(91))  # nothing more to say about a deleted key
        assert len(notes(key)) == 12


def test_a_key_used_on_day_80_is_not_deleted_and_gets_a_fresh_cycle(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key = aged_key("Used late", agency=tenants.acme, actor=tenants.admin)
        sweep_on(day(75))
        assert [n.resolved_at for n in notes(key)] == [None]
        assert lifecycle.pending_deletions(tenants.admin, day(79))[0][0].id == key.id

        assert apikeys.record_use(ApiKey.get_by_id(key.id), now=day(80))
        assert all(n.resolved_at == day(80) for n in notes(key))
        assert lifecycle.pending_deletions(tenants.admin, day(80)) == []
        assert ("use_after_warning", "system") in [
            (e.action, e.actor_label) for e in AuditEvent.select().where(AuditEvent.key == key.id)
        ]

        for moment in (day(83), day(89), day(90), day(96), day(154)):
            sweep_on(moment)
        assert ApiKey.get_by_id(key.id).status == KeyStatus.ACTIVE
        assert [(n.threshold_days, n.period_start) for n in notes(key)] == [(15, T0)]

        sweep_on(day(155))  # 80 + 75: the new period's first warning
        assert [(n.threshold_days, n.period_start) for n in notes(key)] == [(15, T0), (15, day(80))]


def test_the_delete_rechecks_the_clock_in_its_own_update(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key = aged_key("Raced", agency=tenants.acme, actor=tenants.admin)
        sweep_on(day(89))
        read_by_the_job = ApiKey.get_by_id(key.id)  # what an expire job read ...
        assert lifecycle.rule().next_step(read_by_the_job, day(90)).action == lifecycle.EXPIRE
        apikeys.record_use(ApiKey.get_by_id(key.id), now=day(90) - datetime.timedelta(minutes=1))  # ... then a use
        jobs._expire_one(read_by_the_job, day(90))
        assert ApiKey.get_by_id(key.id).status == KeyStatus.ACTIVE
        assert notes(key, kind="deleted") == []


def test_a_first_sweep_on_day_95_warns_once_and_deletes_24_hours_later(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key = aged_key("Forgotten", agency=tenants.acme, actor=tenants.admin)
        counts = sweep_on(day(95))
        assert counts == {"warn": 1, "expire": 0, "finish_roll": 0, "lapse": 0}
        assert by_user(notes(key)) == {tenants.admin.id: [("warning", 1)]}
        assert "deleted on 2027-04-07 09:00 UTC" in notes(key)[0].message  # day 96
        assert lifecycle.days_until_deletion(ApiKey.get_by_id(key.id), day(95)) == 1

        sweep_on(day(95, 23))
        assert ApiKey.get_by_id(key.id).status == KeyStatus.ACTIVE
        sweep_on(day(96))
        assert ApiKey.get_by_id(key.id).status == KeyStatus.DELETED
        assert by_user(notes(key)) == {tenants.admin.id: [("warning", 1), ("deleted", 0)]}
        assert audit_actions(key) == [("warn", "system"), ("expire", "system")]


def test_the_rule_needs_no_app_and_follows_its_settings():
    """Rule is pure: a key that was never saved, no app, no database."""
    key = ApiKey(status=KeyStatus.ACTIVE, activity_at=T0)
    default, short = lifecycle.Rule(), lifecycle.Rule(inactivity_days=30, warn_days=(5, 1))
    assert [days for days, _ in default.warning_times(key)] == [15, 7, 1]
    assert default.next_step(key, day(74)).action is None
    assert default.next_step(key, day(75)).action == lifecycle.WARN
    assert default.days_until_deletion(key, day(75)) == 15
    assert short.days_until_deletion(key, day(25)) == 5
    assert short.next_step(key, day(20)) == lifecycle.Step(None, day(25))


def test_days_until_deletion_before_the_final_warning_is_sent_counts_from_now(app, tenants):
    with app.app_context(), db.connection_context():
        key = aged_key("Late", agency=tenants.acme, actor=tenants.admin)
        assert lifecycle.days_until_deletion(key, day(74)) is None
        assert lifecycle.days_until_deletion(key, day(75)) == 15
        assert lifecycle.days_until_deletion(key, day(89, 12)) == 1
        # No final warning yet on day 100: still 24 h after it would be sent now.
        assert lifecycle.days_until_deletion(key, day(100)) == 1


def test_a_deactivated_key_ages_the_same_and_its_warning_says_so(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key = aged_key("Paused", agency=tenants.acme, actor=tenants.admin)
        apikeys.deactivate(key, actor=tenants.admin)
        sweep_on(day(75))
        assert notes(key)[0].message.startswith("Deactivated key “Paused” (agency key)")
        sweep_on(day(89))
        sweep_on(day(90))
        assert ApiKey.get_by_id(key.id).status == KeyStatus.DELETED


def test_recipients_are_the_creator_while_a_member_and_everyone_with_full_rights(app, tenants):
    with app.app_context(), db.connection_context():
        agency_key = aged_key("Agency", agency=tenants.acme, actor=tenants.staff)
        north_key = aged_key("North", agency=tenants.acme, location=tenants.north, actor=tenants.admin)
        south_key = aged_key("South", agency=tenants.acme, location=tenants.south, actor=tenants.location_user)

        def ids(key):
            return [user.id for user in lifecycle.recipients(key)]

        # Agency user sees agency keys masked only, but created this one.
        assert ids(agency_key) == [tenants.admin.id, tenants.staff.id]
        # Agency admin (also the creator, once), agency user assigned to north, north's admin.
        assert ids(north_key) == [tenants.admin.id, tenants.staff.id, tenants.location_admin.id]
        assert ids(south_key) == [tenants.admin.id, tenants.location_user.id]
        User.update(is_member=False).where(User.id == tenants.location_user.id).execute()
        assert ids(south_key) == [tenants.admin.id]


def test_finish_roll_deletes_the_old_key_when_its_grace_ends(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key = aged_key("Rolled", agency=tenants.acme, actor=tenants.admin, clock=utcnow().replace(microsecond=0))
        new, _ = apikeys.roll(key, "1h", actor=tenants.admin)
        old = ApiKey.get_by_id(key.id)
        assert sweep_on(old.expires_at - datetime.timedelta(minutes=1))["finish_roll"] == 0
        assert sweep_on(old.expires_at)["finish_roll"] == 1
        assert ApiKey.get_by_id(key.id).status == KeyStatus.DELETED
        assert ApiKey.get_by_id(key.id).digest is None
        assert ApiKey.get_by_id(new.id).status == KeyStatus.ACTIVE
        assert audit_actions(key) == [("delete", "system")]
        assert sweep_on(old.expires_at + datetime.timedelta(hours=1))["finish_roll"] == 0


def test_running_a_job_twice_changes_nothing_more(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        key = aged_key("Twice", agency=tenants.acme, location=tenants.north, actor=tenants.admin)
        sweep_on(day(89))
        jobs.warn([key.id], day(89).isoformat())
        jobs.warn([key.id], day(89, 1).isoformat())
        assert len(notes(key)) == 3
        jobs.expire([key.id], day(90).isoformat())
        jobs.expire([key.id], day(90).isoformat())
        assert len(notes(key, kind="deleted")) == 3
        assert audit_actions(key) == [("warn", "system"), ("expire", "system")]


def test_without_redis_the_dashboard_works_and_the_sweep_catches_up_later(app, settings, tenants, sweep_on):
    from app import create_app

    with app.app_context(), db.connection_context():
        key = aged_key("Patient", agency=tenants.acme, actor=tenants.admin)
    down = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:9/0"})
    client = down.test_client()
    from tests.helpers import Auth

    assert Auth(client).login("admin@acme.test").status_code == 302
    for path in ("/settings/api-keys", "/notifications/", "/notifications/bell", "/notifications/pending-banner"):
        assert client.get(path).status_code == 200, path
    with down.app_context(), db.connection_context():
        with pytest.raises(RedisConnectionError):
            jobs.sweep(day(76).isoformat())
        assert ApiKey.get_by_id(key.id).sweep_at is None  # the claim rolled back with the failed enqueue

    with app.app_context(), db.connection_context():
        sweep_on(day(84))  # Redis is back, a week late: the most urgent warning that applies
        assert [n.threshold_days for n in notes(key)] == [7]
        sweep_on(day(84))
        assert [n.threshold_days for n in notes(key)] == [7]
    assert Redis.from_url(settings["REDIS_URL"]).ping()


def test_the_demo_agency_has_warnings_after_its_first_sweep(app, sweep_on):
    from keyhouse.demo import DEMO_KEYS, seed_demo

    with app.app_context(), db.connection_context():
        seed_demo()
        admin = User.by_email("admin@demo.test")
        assert ApiKey.select().count() == len(DEMO_KEYS)
        counts = sweep_on(utcnow())
        assert counts["warn"] == 4
        messages = [n.message for n in Notification.select().where(Notification.user == admin.id)]
        assert len(messages) == 4
        assert any(m.startswith("Deactivated key “Legacy CRM import”") for m in messages)
        pending = lifecycle.pending_deletions(admin, utcnow())
        assert [key.name for key, _, _ in pending][0] == "Class booking sync"


def test_a_warned_key_that_is_rolled_is_deleted_when_its_grace_ends(app, tenants, sweep_on):
    with app.app_context(), db.connection_context():
        now = utcnow().replace(microsecond=0)
        key = aged_key("Warned then rolled", agency=tenants.acme, actor=tenants.admin, clock=now - datetime.timedelta(days=76))
        assert sweep_on(now)["warn"] == 1  # its next look is days away now
        apikeys.roll(ApiKey.get_by_id(key.id), "1h", actor=tenants.admin)
        old = ApiKey.get_by_id(key.id)
        assert sweep_on(old.expires_at)["finish_roll"] == 1
        assert ApiKey.get_by_id(key.id).status == KeyStatus.DELETED
