"""Which audit actions become which webhook events and e-mails, and what a webhook says.

One table: every present and future audit action that should leave Keyhouse is
named here, and nowhere else.
"""

from keyhouse.crm.shapes import iso
from keyhouse.models import Notification

# audit action -> webhook event type
WEBHOOK_EVENTS = {
    "create": "key.created",
    "rename": "key.renamed",
    "deactivate": "key.deactivated",
    "reactivate": "key.reactivated",
    "roll": "key.rolled",
    "self_roll": "key.rolled",  # the key rolled itself through the API
    "delete": "key.deleted",
    "expire": "key.deleted",
    "lapse": "key.deleted",  # deleted at its expiry date
    "warn": "key.warning",
    "leak_report": "key.leak_reported",
}

# webhook event type -> what the endpoint form says about it
EVENT_TYPES = {
    "key.created": "A key was created (also the replacement of a rolled key)",
    "key.renamed": "A key was renamed",
    "key.deactivated": "A key was deactivated",
    "key.reactivated": "A key was reactivated",
    "key.rolled": "A key was rolled (replaced by a new one)",
    "key.deleted": "A key was deleted, by staff, at the end of a roll or for inactivity",
    "key.warning": "A key will be deleted soon: for inactivity unless it is used, or at its expiry date",
    "key.leak_reported": "A key was reported as leaked and deactivated",
}

# audit action -> the kinds of the bell notifications whose recipients it e-mails
EMAIL_KINDS = {
    "warn": (Notification.WARNING, Notification.EXPIRY_WARNING),
    "expire": (Notification.DELETED,),
    "lapse": (Notification.DELETED,),
    "leak_report": (Notification.LEAK_REPORT,),
}


def key_data(key):
    """What a webhook says about a key: never its plaintext, digest or hint."""
    return {
        "id": key.id,
        "name": key.name,
        "kind": key.kind,
        "status": key.status,
        "scopes": key.scope_list,
        "locationId": key.location.api_id if key.location_id else None,
        "locationName": key.location.name if key.location_id else None,
        "createdAt": iso(key.created_at),
        "lastUsedAt": iso(key.last_used_at),
        "expiresAt": iso(key.expires_at),
        "replacedBy": key.replaced_by_id,
    }


def payload(event, key):
    """The webhook body for audit `event` about `key` (Standard Webhooks' type/timestamp/data)."""
    return {
        "type": WEBHOOK_EVENTS[event.action],
        "timestamp": iso(event.created_at),
        "data": {
            "auditEventId": event.id,
            "agencyId": event.agency_id,
            "actor": event.actor_label,
            "detail": event.detail,
            "key": key_data(key),
        },
    }
