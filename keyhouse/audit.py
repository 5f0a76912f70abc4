"""The audit trail: one call records who did what to which key, when, from where.

It is also where e-mail and webhooks start: an event that has somewhere to go
(keyhouse.outbound.owes) is marked and handed to keyhouse.outbound.announce.
"""

from keyhouse import outbound
from keyhouse.models import AuditEvent, utcnow

# The actions the audit log knows, with the words the dashboard shows.
ACTIONS = {
    "create": "Created",
    "rename": "Renamed",
    "deactivate": "Deactivated",
    "reactivate": "Reactivated",
    "roll": "Rolled",
    "delete": "Deleted",
    "expire": "Deleted for inactivity",
    "warn": "Inactivity warning sent",
    "use_after_warning": "Used after a warning",
    "identify": "Identified from a pasted key",
    "auth_failures": "Burst of failed sign-ins with keys",
    "webhook_add": "Webhook endpoint added",
    "webhook_roll_secret": "Webhook signing secret rolled",
    "webhook_enable": "Webhook endpoint enabled",
    "webhook_disable": "Webhook endpoint disabled",
    "webhook_delete": "Webhook endpoint deleted",
}

SYSTEM = "system"


def record(action, *, agency_id, key=None, actor=None, ip=None, detail=""):
    """Write one audit event; `actor` None means the system did it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    owed = outbound.owes(action, agency_id, key)
    event = AuditEvent.create(
        agency=agency_id,
        key=key.id if key else None,
        location=key.location_id if key else None,
        actor=actor.id if actor else None,
        actor_label=actor.email if actor else SYSTEM,
        action=action,
        ip=ip,
        detail=detail,
        outbox_at=utcnow() if owed else None,
    )
    if owed:
        outbound.announce(event)
    return event
