"""The Peewee models, and the list the schema is made from."""

from .activity import AuditEvent, Notification
from .base import COUNT_CAP, BaseModel, bounded_count, db, open_database, release_all, use_database, utcnow
from .crm import (
    Contact,
    CustomField,
    Enrollment,
    Form,
    FormSubmission,
    LinkClick,
    Note,
    Task,
    TriggerLink,
    Workflow,
)
from .keys import ApiKey, KeyStatus
from .outbound import EmailChoice, EmailDelivery, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .signins import SignIn
from .tenancy import Agency, Location, Role, User, UserLocation
from .usage import KeyCaller, KeyUsageDay

ALL_MODELS = [
    Agency, Location, User, UserLocation, ApiKey, AuditEvent, Notification,
    Contact, Workflow, Enrollment, Form, FormSubmission, TriggerLink, LinkClick,
    CustomField, Note, Task, SignIn, KeyUsageDay, KeyCaller,
    EmailChoice, EmailDelivery, WebhookEndpoint, WebhookDelivery, WebhookAttempt,
]

__all__ = [
    "ALL_MODELS",
    "COUNT_CAP",
    "bounded_count",
    "Agency",
    "ApiKey",
    "AuditEvent",
    "BaseModel",
    "Contact",
    "EmailChoice",
    "EmailDelivery",
    "CustomField",
    "Enrollment",
    "Form",
    "FormSubmission",
    "LinkClick",
    "Note",
    "Task",
    "TriggerLink",
    "Workflow",
    "KeyCaller",
    "KeyStatus",
    "KeyUsageDay",
    "Location",
    "Notification",
    "Role",
    "SignIn",
    "User",
    "UserLocation",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "db",
    "open_database",
    "release_all",
    "use_database",
    "utcnow",
]
