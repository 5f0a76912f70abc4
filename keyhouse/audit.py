"""The audit trail: one call records who did what to which key, when, from where."""

from keyhouse.models import AuditEvent

# The actions the audit log knows, with the words the dashboard shows.
ACTIONS = {
    "create": "Created",
    "rename": "Renamed",
    "deactivate": "Deactivated",
    "reactivate": "Reactivated",
    "roll": "Rolled",
    "delete": "Deleted",
    "expire": "Deleted for inactivity",
    "warn": "Warning sent",
    "use_after_warning": "Used after a warning",
    "identify": "Identified from a pasted key",
    "auth_failures": "Burst of failed sign-ins with keys",
    "lapse": "Deleted at expiry date",
    "allowlist": "IP allowlist changed",
    "ip_refused": "Refused: not on IP allowlist",
    "leak_report": "Reported as leaked",
    "lifetime_policy": "Key lifetime policy set",
}

SYSTEM = "system"


def record(action, *, agency_id, key=None, actor=None, ip=None, detail=""):
    """Write one audit event; `actor` None means the system did it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditEvent.create(
        agency=agency_id,
        key=key.id if key else None,
        location=key.location_id if key else None,
        actor=actor.id if actor else None,
        actor_label=actor.email if actor else SYSTEM,
        action=action,
        ip=ip,
        detail=detail,
    )
