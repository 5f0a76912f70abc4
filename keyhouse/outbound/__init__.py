"""Telling people outside the dashboard: e-mail to staff and signed webhooks to an agency's endpoints.

Every key event already goes through `keyhouse.audit.record`. `announce` marks
the events that owe something (`events.owes`) and enqueues `jobs.outbound.dispatch`
with the event's id; the job decides who gets what from the database. The job
runs in the same transaction's shadow: when it finds no event (not committed yet,
or rolled back) it looks again a few times and then ends, and the cron's
`catch_up` re-enqueues any event still marked after OUTBOX_GRACE (Redis was down,
a worker was killed). No job carries a key, a secret or a message body.
"""

import datetime
import logging

from flask import current_app, has_app_context
from redis.exceptions import RedisError

log = logging.getLogger("keyhouse.outbound")

OUTBOX_GRACE = datetime.timedelta(minutes=2)  # an event still owed after this is enqueued again


def owes(action, agency_id, key):
    """True when an audit event of `action` about `key` has somewhere to go: an e-mail (SMTP is set up and
    the action e-mails), or an enabled endpoint of the agency that wants its webhook event and that key's location.

    One indexed query at most, so that events nobody listens to cost no job."""
    from keyhouse.models import WebhookEndpoint

    from . import email, events

    if key is None:
        return False
    if action in events.EMAIL_KINDS and email.enabled():
        return True
    event_type = events.WEBHOOK_EVENTS.get(action)
    if event_type is None:
        return False
    return WebhookEndpoint.listening(agency_id, key.location_id, event_type).exists()


def announce(event):
    """Enqueue the dispatch of `event` (an AuditEvent marked with outbox_at); Redis errors are only logged."""
    if not has_app_context() or current_app.extensions.get("redis") is None:
        return
    from jobs import queue

    try:
        queue().enqueue("jobs.outbound.dispatch", event.id, job_id=f"dispatch-{event.id}", result_ttl=600)
    except (RedisError, OSError) as error:
        log.warning("event %s: not enqueued (%s); the catch-up sends it later", event.id, type(error).__name__)
