"""The audit trail: one call records who did what to which key, when, from where.

It is also where e-mail and webhooks start: an event that has somewhere to go
(keyhouse.outbound.owes) is marked and handed to keyhouse.outbound.announce.
"""

from keyhouse import outbound
from keyhouse.models import ApiKey, AuditEvent, utcnow

# The actions the audit log knows, with the words the dashboard shows.
ACTIONS = {
    "create": "Created",
    "rename": "Renamed",
    "deactivate": "Deactivated",
    "reactivate": "Reactivated",
    "roll": "Rolled",
    "self_roll": "Rolled itself through the API",
    "delete": "Deleted",
    "expire": "Deleted for inactivity",
    "warn": "Warning sent",
    "use_after_warning": "Used after a warning",
    "identify": "Identified from a pasted key",
    "auth_failures": "Burst of failed sign-ins with keys",
    "webhook_add": "Webhook endpoint added",
    "webhook_roll_secret": "Webhook signing secret rolled",
    "webhook_enable": "Webhook endpoint enabled",
    "webhook_disable": "Webhook endpoint disabled",
    "webhook_delete": "Webhook endpoint deleted",
    "lapse": "Deleted at expiry date",
    "allowlist": "IP allowlist changed",
    "ip_refused": "Refused: not on IP allowlist",
    "leak_report": "Reported as leaked",
    "lifetime_policy": "Key lifetime policy set",
}

SYSTEM = "system"


def actor_label(actor):
    """How the log names who did it: a staff member's email, an API key acting on itself, or "system"."""
    if actor is None:
        return SYSTEM
    if isinstance(actor, ApiKey):
        return f"API key “{actor.name}” ({actor.hint})"
    return actor.email


def record(action, *, agency_id, key=None, actor=None, ip=None, detail=""):
    """Write one audit event; `actor` is a User, an ApiKey (a key acting through the API), or None (the system)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    owed = outbound.owes(action, agency_id, key)
    event = AuditEvent.create(
        agency=agency_id,
        key=key.id if key else None,
        location=key.location_id if key else None,
        actor=None if actor is None or isinstance(actor, ApiKey) else actor.id,
        actor_label=actor_label(actor)[:254],
        action=action,
        ip=ip,
        detail=detail,
        outbox_at=utcnow() if owed else None,
    )
    if owed:
        outbound.announce(event)
    return event
