"""The lifecycle's jobs: sweep, warn, expire, finish_roll, lapse (a key reached its expiry date).

The database is the truth; Redis only carries work. The sweep claims due keys in
bounded batches (moving their `sweep_at` a lease ahead, in the same UPDATE that
finds them) and enqueues one job per batch, in the same transaction: if Redis
is unreachable the claim rolls back and the next sweep finds the same keys. A
job lost afterwards (a worker killed, Redis flushed) only delays its keys until
the lease runs out. Each job re-reads its keys and re-decides with
the rule's next_step, and the database refuses duplicates (the notification
unique index, conditional UPDATEs), so jobs are safe to run twice or at once.

`as_of` (ISO 8601, naive UTC) runs a sweep — and the jobs it enqueues — at
another time: the CLI's `keyhouse sweep --as-of` and the tests use it.
"""

import collections
import datetime
import logging
import time

from rq import Retry

from keyhouse import audit, metrics
from keyhouse.keys import apikeys, lifecycle
from keyhouse.models import ApiKey, KeyStatus, Notification, db, utcnow

from . import queue
from .context import job_context

log = logging.getLogger("keyhouse.jobs")

BATCH = 500  # keys per claim and per job
MAX_BATCHES = 100  # per sweep run; the next run carries on
LEASE = datetime.timedelta(minutes=15)  # a claimed key is not claimed again before this
JOB_OPTIONS = {
    "retry": Retry(max=3, interval=[10, 60, 300]),
    "timeout": 300,
    "result_ttl": 3600,
    "failure_ttl": 7 * 24 * 3600,
}


def _time(as_of):
    if as_of is None:
        return utcnow()
    moment = datetime.datetime.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment


def sweep(as_of=None):
    """Find keys whose next warning or deletion is due and enqueue that work.

    Cost grows with the keys due: indexed conditions (ApiKey.look_due, grace_over,
    never_looked_at), each claimed in batches of BATCH. Returns the number
    of keys handed to each job function.
    """
    with job_context() as app:
        started = time.perf_counter()
        now = _time(as_of)
        rq_queue = queue(app)
        lease_until = now + LEASE
        cutoff = lifecycle.rule().first_warning_cutoff(now)
        conditions = [(ApiKey.look_due(now), ()), (ApiKey.grace_over(now), ())] + [
            (ApiKey.never_looked_at(status, cutoff), (ApiKey.activity_at,)) for status in KeyStatus.LIVE
        ]
        counts = {lifecycle.WARN: 0, lifecycle.EXPIRE: 0, lifecycle.FINISH_ROLL: 0, lifecycle.LAPSE: 0}
        batches = 0
        for condition, order_by in conditions:
            while batches < MAX_BATCHES:
                batches += 1
                with db.atomic():
                    claimed = ApiKey.claim(condition, lease_until, BATCH, order_by)
                    work = _dispatch(claimed, now, lease_until)
                    _enqueue(rq_queue, work, as_of, lease_until)
                for action, ids in work.items():
                    counts[action] += len(ids)
                if len(claimed) < BATCH:
                    break
        log.info("sweep as of %s: %s", as_of or "now", counts)
        metrics.record_sweep(app, time.perf_counter() - started, counts)
        return counts


def _dispatch(claimed, now, lease_until):
    """{action: [key ids]} for the claimed keys; keys with nothing due get their next look."""
    work = {}
    for key in claimed:
        step = lifecycle.rule().next_step(key, now)
        if step.action:
            work.setdefault(step.action, []).append(key.id)
        elif step.at is not None:
            ApiKey.update(sweep_at=step.at).where((ApiKey.id == key.id) & (ApiKey.sweep_at == lease_until)).execute()
    return work


def _enqueue(rq_queue, work, as_of, lease_until):
    jobs = {lifecycle.WARN: warn, lifecycle.EXPIRE: expire, lifecycle.FINISH_ROLL: finish_roll, lifecycle.LAPSE: lapse}
    data = [
        rq_queue.prepare_data(
            jobs[action],
            args=(ids, as_of),
            job_id=f"{action}-{ids[0]}-{lease_until:%Y%m%dT%H%M%S%f}",
            **JOB_OPTIONS,
        )
        for action, ids in work.items()
    ]
    if data:
        rq_queue.enqueue_many(data)


def _keys(key_ids):
    return list(ApiKey.select().where(ApiKey.id.in_(list(key_ids))).order_by(ApiKey.id))


def _reschedule(key, now):
    """Nothing to do for `key` now: have the sweep look at it when something will be."""
    if not key.is_live:
        return
    step = lifecycle.rule().next_step(key, now)
    ApiKey.update(sweep_at=step.at or now).where(ApiKey.id == key.id).execute()


def _notify(key, kind, users, message, now, threshold_days, period_start=None):
    """One notification per user for the key's current activity period (or `period_start`). Returns how many are new."""
    return Notification.deliver(key, kind, users, message, now, threshold_days,
                                period_start=period_start or key.activity_at)


def _each(action, key_ids, as_of, handle):
    """Run `handle(key, now)` for each key that `action` is still due for; reschedule the others.

    What the handlers report they did ({counter: amount}) is added to the jobs' metrics."""
    with job_context() as app:
        now = _time(as_of)
        keys = _keys(key_ids)
        log.info("%s: %d key(s) as of %s", action, len(keys), now)
        done = collections.Counter()
        for key in keys:
            if lifecycle.rule().next_step(key, now).action == action:
                done.update(handle(key, now) or {})
            else:
                _reschedule(key, now)
        metrics.count_jobs(app, **done)


def warn(key_ids, as_of=None):
    """Deliver the most urgent warning due for each key, once per recipient."""
    _each(lifecycle.WARN, key_ids, as_of, _warn_one)


def _warn_one(key, now):
    rule = lifecycle.rule()
    if rule.expiry_governs(key):
        return _warn_expiry(key, now, rule)
    days = rule.due_warning(key, now)
    period = key.activity_at
    fields = {}
    if rule.is_final(days):
        fields = {"warned_period": period, "delete_after": rule.delete_after_final_warning(key, now)}
    for name, value in fields.items():
        setattr(key, name, value)
    fields["sweep_at"] = rule.next_look_at(key, now)
    users = lifecycle.recipients(key)
    with db.atomic():
        # The key row first: a use committed meanwhile moved the clock, and this
        # warning (of the old period) is no longer due.
        current = (
            ApiKey.update(**fields)
            .where((ApiKey.id == key.id) & ApiKey.status.in_(KeyStatus.LIVE) & (ApiKey.activity_at == period))
            .execute()
        )
        if not current:
            return None
        new = _notify(key, Notification.WARNING, users, rule.warning_message(key, days, now), now, days)
        if new or not users:
            detail = f"{days} day(s) before deletion; {new} recipient(s)"
            audit.record("warn", agency_id=key.agency_id, key=key, detail=detail)
    return {"warnings_sent": new}


def _warn_expiry(key, now, rule):
    """The most urgent expiry warning due, once per recipient; a use does not resolve it."""
    days = rule.due_expiry_warning(key, now)
    users = lifecycle.recipients(key)
    with db.atomic():
        current = (
            ApiKey.update(sweep_at=rule.next_look_at(key, now))
            .where((ApiKey.id == key.id) & ApiKey.status.in_(KeyStatus.LIVE) & (ApiKey.valid_until == key.valid_until))
            .execute()
        )
        if not current:
            return None
        new = _notify(key, Notification.EXPIRY_WARNING, users, rule.expiry_warning_message(key), now, days,
                      period_start=key.valid_until)
        if new or not users:
            detail = f"{days} day(s) before its expiry date; {new} recipient(s)"
            audit.record("warn", agency_id=key.agency_id, key=key, detail=detail)
    return {"warnings_sent": new}


def expire(key_ids, as_of=None):
    """Delete each key that is still unused and whose final warning had its time."""
    _each(lifecycle.EXPIRE, key_ids, as_of, _expire_one)


def _expire_one(key, now):
    inactivity_days = lifecycle.rule().inactivity_days
    users = lifecycle.recipients(key)
    with db.atomic():
        # The deleting UPDATE re-checks the clock and the final warning itself, so
        # a use committed after this job read the key keeps it alive.
        still_unused = (
            ApiKey.expires_at.is_null()
            & (ApiKey.activity_at == key.activity_at)
            & (ApiKey.activity_at <= now - datetime.timedelta(days=inactivity_days))
            & (ApiKey.warned_period == ApiKey.activity_at)
            & (ApiKey.delete_after <= now)
        )
        if not apikeys.delete(key, action="expire", only_if=still_unused):
            return None
        sent = _notify(key, Notification.DELETED, users, lifecycle.deleted_message(key, now), now, 0)
    return {"keys_expired": 1, "deletion_notices_sent": sent}


def finish_roll(key_ids, as_of=None):
    """Delete rolled keys whose grace period has ended."""
    _each(lifecycle.FINISH_ROLL, key_ids, as_of, _finish_roll_one)


def _finish_roll_one(key, now):
    apikeys.finish_roll(key, now)  # actor None: the audit log says "system"


def lapse(key_ids, as_of=None):
    """Delete each key that reached its expiry date, and tell its recipients."""
    _each(lifecycle.LAPSE, key_ids, as_of, _lapse_one)


def _lapse_one(key, now):
    users = lifecycle.recipients(key)
    with db.atomic():
        if not apikeys.delete(key, action="lapse", only_if=ApiKey.valid_until <= now):
            return None
        sent = _notify(key, Notification.DELETED, users, lifecycle.lapsed_message(key, now), now, 0,
                       period_start=key.valid_until)
    return {"keys_lapsed": 1, "deletion_notices_sent": sent}
