"""What leaves Keyhouse about keys: e-mail to staff and signed webhooks to an agency's endpoints.

Each row is the database's record that something is owed to someone, so jobs
can be retried, killed and re-run without telling anyone twice.
"""

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .activity import AuditEvent, Notification
from .base import BaseModel, utcnow
from .tenancy import Agency, Location, User


class EmailChoice(BaseModel):
    """A user's choice for one e-mail event ("warning_15", "deleted", ...); no row = the default."""

    user = ForeignKeyField(User, backref="email_choices", on_delete="CASCADE")
    event = CharField(max_length=40)
    enabled = BooleanField()

    class Meta:
        indexes = ((("user", "event"), True),)


class EmailDelivery(BaseModel):
    """The e-mail owed for one bell notification: at most one row per notification (unique)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"

    notification = ForeignKeyField(Notification, unique=True, on_delete="CASCADE")
    user = ForeignKeyField(User, on_delete="CASCADE")
    status = CharField(max_length=10, default=PENDING)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow, null=True, index=True)  # while pending
    last_error = CharField(max_length=300, null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)


URL_MAX = 2000


class WebhookEndpoint(BaseModel):
    """An agency's endpoint: where events go, which ones, optionally only one location's.

    `secret` is the signing secret (`whsec_` + base64): signing needs it, so it is
    stored as it is (like the SECRET_KEY in the environment); it is shown once,
    when made or rolled, and never again by any page, log or job payload.
    """

    agency = ForeignKeyField(Agency, backref="webhook_endpoints", on_delete="CASCADE")
    url = CharField(max_length=URL_MAX)
    description = CharField(max_length=200, default="")
    events = TextField()  # space-separated event types, e.g. "key.created key.deleted"
    location = ForeignKeyField(Location, null=True, on_delete="CASCADE")  # None: every location and agency keys
    secret = CharField(max_length=100)
    enabled = BooleanField(default=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    deleted_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("agency", "deleted_at"), False),)

    @property
    def event_list(self):
        return self.events.split()

    @classmethod
    def live(cls):
        """Endpoints not deleted."""
        return cls.select().where(cls.deleted_at.is_null())

    @classmethod
    def listening(cls, agency_id, location_id, event_type):
        """The agency's enabled endpoints that want `event_type` about a key of `location_id`
        (None: an agency key, which only endpoints for every location hear)."""
        return cls.live().where(
            (cls.agency == agency_id)
            & cls.enabled
            & cls.events.contains(event_type)
            & (cls.location.is_null() | (cls.location == location_id))
        )


class WebhookDelivery(BaseModel):
    """One message for one endpoint; its `msg_id` is the `webhook-id` of every attempt (and resend)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    endpoint = ForeignKeyField(WebhookEndpoint, backref="deliveries", on_delete="CASCADE")
    audit_event = ForeignKeyField(AuditEvent, null=True, on_delete="SET NULL")
    msg_id = CharField(max_length=40, unique=True)
    event_type = CharField(max_length=40)
    payload = TextField()  # the JSON body, as signed
    status = CharField(max_length=10, default=PENDING)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True, index=True)  # while pending
    last_status_code = IntegerField(null=True)
    last_duration_ms = IntegerField(null=True)
    last_error = CharField(max_length=300, null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("endpoint", "audit_event"), True),  # one message per event per endpoint
            (("endpoint", "id"), False),  # the delivery log, newest first
        )


class WebhookAttempt(BaseModel):
    """One HTTP request of a delivery: when, the status (None: no answer), how long it took."""

    delivery = ForeignKeyField(WebhookDelivery, backref="attempt_rows", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    status_code = IntegerField(null=True)
    duration_ms = IntegerField(null=True)
    error = CharField(max_length=300, null=True)
    manual = BooleanField(default=False)  # a "Resend"

    class Meta:
        indexes = ((("delivery", "id"), False),)
