"""E-mail and webhook jobs: dispatch an audit event, deliver a webhook, send an e-mail, catch up.

* `dispatch(event_id)` turns one audit event into rows — a WebhookDelivery per
  matching endpoint (unique per endpoint and event) and an EmailDelivery per
  bell notification whose user wants it (unique per notification) — clears the
  event's `outbox_at` in the same transaction, then enqueues the work.
* `deliver(delivery_id, attempt)` and `send_email(delivery_id, attempt)` first
  claim their attempt with a conditional UPDATE (attempts == attempt), so a
  duplicate job does nothing; a failure schedules the next attempt with
  exponential back-off (RETRY_DELAYS, about a day in all for webhooks).
* `catch_up()` (RQ cron) re-enqueues what a lost job left behind: events still
  marked, and deliveries whose next attempt is overdue.

E-mail is sent at least once per recipient and event: a worker killed between
the SMTP server's "OK" and the database's "sent" sends it again, with the same
Message-ID, which mail clients use to drop the copy.
"""

import datetime
import json
import logging
import secrets
import smtplib

from redis.exceptions import RedisError

from keyhouse.models import (
    ApiKey,
    AuditEvent,
    EmailDelivery,
    Notification,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    db,
    utcnow,
)
from keyhouse.outbound import OUTBOX_GRACE, email, events, webhooks

from . import queue
from .context import job_context

log = logging.getLogger("keyhouse.jobs")

S = datetime.timedelta(seconds=1)
# Standard Webhooks' suggested schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (27 h in all).
WEBHOOK_RETRY_DELAYS = (5 * S, 300 * S, 1800 * S, 7200 * S, 18000 * S, 36000 * S, 36000 * S)
EMAIL_RETRY_DELAYS = (60 * S, 300 * S, 1800 * S, 7200 * S)
LEASE = datetime.timedelta(minutes=5)  # an attempt in flight; after this a lost one is retried
ABSENT_LOOKS = 4  # times dispatch looks again for an event it cannot see (1, 2, 4, 8 s)
CATCH_UP_BATCH = 500


def dispatch(event_id, looks=0):
    """Create the deliveries `event_id` owes, then enqueue them."""
    with job_context():
        event = AuditEvent.get_or_none(AuditEvent.id == event_id)
        if event is None:  # not committed yet, or rolled back
            if looks < ABSENT_LOOKS:
                queue().enqueue_in(datetime.timedelta(seconds=2**looks), dispatch, event_id, looks + 1)
            else:
                log.info("event %s: gone (its transaction was rolled back)", event_id)
            return
        if event.outbox_at is None:
            return  # dispatched already
        key = ApiKey.get_or_none(ApiKey.id == event.key_id) if event.key_id else None
        with db.atomic():
            claimed = (
                AuditEvent.update(outbox_at=None)
                .where((AuditEvent.id == event.id) & AuditEvent.outbox_at.is_null(False))
                .execute()
            )
            if not claimed or key is None:
                return
            hooks = _create_webhook_deliveries(event, key)
            mails = _create_email_deliveries(event, key)
        _enqueue_deliveries(hooks, mails)


def _endpoints_for(event, key):
    event_type = events.WEBHOOK_EVENTS[event.action]
    query = WebhookEndpoint.listening(event.agency_id, key.location_id, event_type)
    return [endpoint for endpoint in query if event_type in endpoint.event_list]  # the exact type, not a substring


def _create_webhook_deliveries(event, key):
    if event.action not in events.WEBHOOK_EVENTS:
        return []
    body = json.dumps(events.payload(event, key), separators=(",", ":"))
    now = utcnow()
    rows = [
        {
            "endpoint": endpoint.id,
            "audit_event": event.id,
            "msg_id": "msg_" + secrets.token_urlsafe(18),
            "event_type": events.WEBHOOK_EVENTS[event.action],
            "payload": body,
            "next_attempt_at": now,
            "created_at": now,
        }
        for endpoint in _endpoints_for(event, key)
    ]
    if rows:
        WebhookDelivery.insert_many(rows).on_conflict_ignore().execute()
    return list(
        WebhookDelivery.select(WebhookDelivery.id)
        .where((WebhookDelivery.audit_event == event.id) & (WebhookDelivery.attempts == 0))
    )


def _create_email_deliveries(event, key):
    kinds = events.EMAIL_KINDS.get(event.action)
    if kinds is None or not email.enabled():
        return []
    notifications = (
        Notification.select(Notification)  # the user's membership is a condition; only user_id is read
        .join(User)
        .where(
            (Notification.key == key.id)
            & Notification.kind.in_(kinds)
            & Notification.resolved_at.is_null()
            & Notification.id.not_in(EmailDelivery.select(EmailDelivery.notification).join(Notification)
                                     .where(Notification.key == key.id))
            & User.is_member
        )
    )
    notifications = list(notifications)
    wanted = email.wanted(notifications) if notifications else set()
    rows = [{"notification": n.id, "user": n.user_id} for n in notifications if n.id in wanted]
    if rows:
        EmailDelivery.insert_many(rows).on_conflict_ignore().execute()
    return list(
        EmailDelivery.select(EmailDelivery.id)
        .join(Notification)
        .where((Notification.key == key.id) & (EmailDelivery.status == EmailDelivery.PENDING)
               & (EmailDelivery.attempts == 0))
    )


def _enqueue_deliveries(hooks, mails):
    work = queue()
    for row in hooks:
        work.enqueue(deliver, row.id, 0, job_id=_job_id(deliver, row.id, 0), result_ttl=600)
    for row in mails:
        work.enqueue(send_email, row.id, 0, job_id=_job_id(send_email, row.id, 0), result_ttl=600)


def _claim(model, row_id, attempt, now):
    """Take attempt number `attempt` of a pending row; False when another job took it or it is done."""
    return bool(
        model.update(attempts=model.attempts + 1, next_attempt_at=now + LEASE)
        .where((model.id == row_id) & (model.status == model.PENDING) & (model.attempts == attempt))
        .execute()
    )


def _later(job, row_id, attempt, delays, now):
    """After attempt number `attempt` failed: when the next is due (None: no more), once enqueued for then."""
    if attempt >= len(delays):
        return None
    queue().enqueue_in(delays[attempt], job, row_id, attempt + 1, job_id=_job_id(job, row_id, attempt + 1))
    return now + delays[attempt]


def _job_id(job, row_id, attempt):
    return f"{job.__name__}-{row_id}-{attempt}"


def deliver(delivery_id, attempt, manual=False):
    """One signed POST of a webhook delivery; on failure the next one is scheduled."""
    with job_context() as app:
        now = utcnow()
        if not _claim(WebhookDelivery, delivery_id, attempt, now):
            return
        delivery = WebhookDelivery.get_by_id(delivery_id)
        endpoint = delivery.endpoint
        if endpoint.deleted_at is not None or not endpoint.enabled:
            WebhookDelivery.update(status=WebhookDelivery.FAILED, next_attempt_at=None, last_error="endpoint disabled") \
                .where(WebhookDelivery.id == delivery_id).execute()
            return
        body = delivery.payload.encode()
        status, duration, error = None, None, None
        try:
            status, duration = webhooks.post(
                endpoint.url, webhooks.signed_headers(endpoint.secret, delivery.msg_id, body), body,
                allow_private=app.config["WEBHOOK_ALLOW_PRIVATE"], timeout=app.config["WEBHOOK_TIMEOUT_SECONDS"],
            )
        except webhooks.DeliveryError as problem:
            error = str(problem)
        ok = status is not None and 200 <= status < 300
        if status is not None and not ok:
            error = f"answered HTTP {status}"
        WebhookAttempt.create(delivery=delivery_id, at=now, status_code=status, duration_ms=duration,
                              error=error, manual=manual)
        fields = {"last_status_code": status, "last_duration_ms": duration, "last_error": error}
        if ok:
            fields.update(status=WebhookDelivery.SUCCEEDED, next_attempt_at=None)
        else:
            retry_at = None if manual else _later(deliver, delivery_id, attempt, WEBHOOK_RETRY_DELAYS, now)
            fields.update(
                status=WebhookDelivery.PENDING if retry_at else WebhookDelivery.FAILED, next_attempt_at=retry_at
            )
        WebhookDelivery.update(**fields).where(WebhookDelivery.id == delivery_id).execute()
        log.info("webhook delivery %s attempt %s: %s", delivery_id, attempt + 1, status or error)


def resend(delivery_id):
    """Staff asked to send a delivery again: one more attempt now, with the same webhook-id."""
    delivery = WebhookDelivery.get_by_id(delivery_id)
    updated = (
        WebhookDelivery.update(status=WebhookDelivery.PENDING, next_attempt_at=utcnow())
        .where((WebhookDelivery.id == delivery_id) & (WebhookDelivery.status != WebhookDelivery.PENDING))
        .execute()
    )
    if updated:
        try:
            queue().enqueue(deliver, delivery_id, delivery.attempts, manual=True,
                                       job_id=_job_id(deliver, delivery_id, delivery.attempts))
        except (RedisError, OSError) as error:  # it is pending and due: the catch-up sends it
            log.warning("resend of delivery %s: not enqueued (%s)", delivery_id, type(error).__name__)
    return bool(updated)


def send_email(delivery_id, attempt):
    """Send the e-mail of one EmailDelivery; on an SMTP failure the next attempt is scheduled."""
    with job_context():
        now = utcnow()
        if not _claim(EmailDelivery, delivery_id, attempt, now):
            return
        delivery = EmailDelivery.get_by_id(delivery_id)
        notification = Notification.get_or_none(Notification.id == delivery.notification_id)
        if notification is None or not email.enabled():
            EmailDelivery.update(status=EmailDelivery.FAILED, last_error="nothing to send").where(
                EmailDelivery.id == delivery_id).execute()
            return
        try:
            email.send(email.compose(notification))
        except (OSError, smtplib.SMTPException) as error:
            message = f"{type(error).__name__}: {error}"[:300]
            retry_at = _later(send_email, delivery_id, attempt, EMAIL_RETRY_DELAYS, now)
            EmailDelivery.update(
                status=EmailDelivery.PENDING if retry_at else EmailDelivery.FAILED, last_error=message,
                next_attempt_at=retry_at,
            ).where(EmailDelivery.id == delivery_id).execute()
            log.warning("e-mail %s attempt %s failed: %s", delivery_id, attempt + 1, message)
            return
        EmailDelivery.update(status=EmailDelivery.SENT, sent_at=now, last_error=None, next_attempt_at=None).where(
            EmailDelivery.id == delivery_id).execute()


def catch_up(as_of=None):
    """Enqueue again what lost jobs left: events still owed, webhook attempts overdue. Returns counts."""
    with job_context():
        now = as_of or utcnow()
        work = queue()
        stale = now - OUTBOX_GRACE
        owed = list(
            AuditEvent.select(AuditEvent.id).where(AuditEvent.outbox_at <= stale).limit(CATCH_UP_BATCH)
        )
        for event in owed:
            work.enqueue(dispatch, event.id)
        overdue = {
            job: list(
                model.select(model.id, model.attempts)
                .where((model.status == model.PENDING) & (model.next_attempt_at <= stale))
                .limit(CATCH_UP_BATCH)
            )
            for job, model in ((deliver, WebhookDelivery), (send_email, EmailDelivery))
        }
        for job, rows in overdue.items():
            for row in rows:
                work.enqueue(job, row.id, row.attempts, job_id=_job_id(job, row.id, row.attempts))
        return {"events": len(owed), "webhooks": len(overdue[deliver]), "emails": len(overdue[send_email])}
