"""What happened to keys: audit events, and notifications shown in the bell."""

from peewee import (
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .base import BaseModel, utcnow
from .keys import ApiKey
from .tenancy import Agency, Location, User


class AuditEvent(BaseModel):
    # agency, key and location: no index of their own, the (…, id) indexes below lead with them.
    agency = ForeignKeyField(Agency, backref="audit_events", on_delete="CASCADE", index=False)
    key = ForeignKeyField(ApiKey, null=True, backref="audit_events", on_delete="SET NULL", index=False)
    location = ForeignKeyField(Location, null=True, on_delete="SET NULL", index=False)
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    actor_label = CharField(max_length=254)  # the actor's email, or "system"
    action = CharField(max_length=40)
    ip = CharField(max_length=45, null=True)
    detail = TextField(default="")
    created_at = DateTimeField(default=utcnow, index=True)
    # Set while the event still owes webhooks or e-mail (keyhouse.outbound); the
    # dispatch job clears it, and the sweep re-enqueues events left set too long.
    outbox_at = DateTimeField(null=True, index=True)

    class Meta:
        indexes = (
            # The audit log, newest first (by id), with each of its filters.
            (("agency", "id"), False),
            (("agency", "action", "id"), False),
            (("location", "id"), False),  # a location-level user's log
            (("location", "action", "id"), False),
            (("key", "id"), False),
        )


class Notification(BaseModel):
    user = ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    key = ForeignKeyField(ApiKey, null=True, backref="notifications", on_delete="CASCADE")
    WARNING = "warning"  # a key will be deleted for inactivity unless it is used
    DELETED = "deleted"  # a key was deleted for inactivity or at its expiry date
    SELF_ROLLED = "self_rolled"  # a key rolled itself through the API
    EXPIRY_WARNING = "expiry_warning"  # a key reaches its expiry date soon (a use does not resolve it)
    LEAK_REPORT = "leak_report"  # a key was reported as leaked and deactivated
    KINDS = (WARNING, DELETED, SELF_ROLLED, EXPIRY_WARNING, LEAK_REPORT)

    kind = CharField(max_length=20)  # one of KINDS
    # For warnings: days before deletion, and the activity clock they belong to (for
    # expiry warnings and notices: the expiry date; for leak reports: the report's time).
    threshold_days = IntegerField(null=True)
    period_start = DateTimeField(null=True)
    message = TextField()
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            # One warning per key, threshold, activity period and recipient.
            (("key", "kind", "threshold_days", "period_start", "user"), True),
            # The bell: a user's unread notifications, newest first.
            (("user", "read_at", "id"), False),
            # The dropdown and the notifications page: a user's notifications, newest first.
            (("user", "id"), False),
        )

    @classmethod
    def deliver(cls, key, kind, users, message, now, threshold_days=None, period_start=None):
        """One notification about `key` per user; the unique index drops any already delivered.

        Returns how many are new."""
        rows = [
            {"user": user.id, "key": key.id, "kind": kind, "threshold_days": threshold_days,
             "period_start": period_start, "message": message, "created_at": now}
            for user in users
        ]
        if not rows:
            return 0
        return cls.insert_many(rows).on_conflict_ignore().as_rowcount().execute()

    UNREAD_CAP = 100  # the badge shows "99+" beyond this; counting stops there

    @classmethod
    def unread_count(cls, user_id):
        """How many unread notifications `user_id` has, counted up to UNREAD_CAP (one indexed query)."""
        unread = (
            cls.select(cls.id)
            .where((cls.user == user_id) & cls.read_at.is_null())
            .limit(cls.UNREAD_CAP)
        )
        return unread.count()

    @classmethod
    def newest_for(cls, user_id, before=None, limit=20):
        """A page of `user_id`'s notifications, newest first; `before` is the last id already shown."""
        query = cls.select().where(cls.user == user_id)
        if before:
            query = query.where(cls.id < before)
        return query.order_by(cls.id.desc()).limit(limit)

    @classmethod
    def mark_read(cls, user_id, now, notification_id=None):
        """Mark one (or all) of `user_id`'s unread notifications read; returns how many changed."""
        query = cls.update(read_at=now).where((cls.user == user_id) & cls.read_at.is_null())
        if notification_id is not None:
            query = query.where(cls.id == notification_id)
        return query.execute()
