"""The Peewee models, and the list the schema is made from."""

from .activity import AuditEvent, Notification
from .base import BaseModel, db, open_database, utcnow
from .keys import ApiKey, KeyStatus
from .tenancy import Agency, Location, Role, User, UserLocation

ALL_MODELS = [Agency, Location, User, UserLocation, ApiKey, AuditEvent, Notification]

__all__ = [
    "ALL_MODELS",
    "Agency",
    "ApiKey",
    "AuditEvent",
    "BaseModel",
    "KeyStatus",
    "Location",
    "Notification",
    "Role",
    "User",
    "UserLocation",
    "db",
    "open_database",
    "utcnow",
]
