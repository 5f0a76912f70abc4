"""API keys: only a digest and a display hint are ever stored."""

from peewee import (
    JOIN,
    CharField,
    DateTimeField,
    ForeignKeyField,
    TextField,
    fn,
)

import tokens

from .base import BaseModel, utcnow
from .tenancy import Agency, Location, User


class KeyStatus:
    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"
    ALL = (ACTIVE, INACTIVE, DELETED)
    LIVE = (ACTIVE, INACTIVE)


class ApiKey(BaseModel):
    agency = ForeignKeyField(Agency, backref="api_keys", on_delete="CASCADE")
    # Set for location keys, None for agency keys.
    location = ForeignKeyField(Location, null=True, backref="api_keys", on_delete="CASCADE")
    kind = CharField(max_length=10)  # tokens.AGENCY / tokens.LOCATION
    name = CharField(max_length=100)
    # "<owner>/<casefolded name>" while the key is live and not being rolled away;
    # None otherwise. Its unique index makes names unique per owner among live keys.
    unique_name = CharField(max_length=160, null=True, unique=True)
    # SHA-256 hex of the key; erased (None) when the key is deleted.
    digest = CharField(max_length=64, null=True, unique=True)
    hint = CharField(max_length=20)  # e.g. "khl_AbCd…wXyZ"
    scopes = TextField()  # space-separated
    status = CharField(max_length=10, default=KeyStatus.ACTIVE)
    created_by = ForeignKeyField(User, null=True, backref="created_keys", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    # The activity clock: creation time, then the time of each successful use.
    activity_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    last_used_ip = CharField(max_length=45, null=True)
    last_used_user_agent = CharField(max_length=300, null=True)
    deactivated_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True)
    # A rolled key stops working at this time (then a job deletes it).
    expires_at = DateTimeField(null=True)
    replaced_by = ForeignKeyField("self", null=True, backref="replaces", on_delete="SET NULL")

    class Meta:
        indexes = (
            # The inactivity sweep: live keys ordered by their activity clock.
            (("status", "activity_at"), False),
            # finish_roll: rolled keys whose grace period ends.
            (("status", "expires_at"), False),
            (("agency", "location", "status"), False),
        )

    @property
    def scope_list(self):
        return self.scopes.split()

    @property
    def has_all_scopes(self):
        return set(self.scope_list) == set(tokens.SCOPES[self.kind])

    @property
    def owner(self):
        """"location:<id>" for a location key, "agency:<id>" for an agency key."""
        return f"location:{self.location_id}" if self.location_id else f"agency:{self.agency_id}"

    @property
    def is_live(self):
        return self.status in KeyStatus.LIVE

    @classmethod
    def listing(cls, agency_id, location_ids=None, name_filter=""):
        """Live keys for the keys screen, most recently used first.

        `location_ids` None lists the agency keys; a collection lists those
        locations' keys. Creator and location come in the same query.
        """
        query = (
            cls.select(cls, Location, User)
            .join(Location, JOIN.LEFT_OUTER, on=(cls.location == Location.id))
            .switch(cls)
            .join(User, JOIN.LEFT_OUTER, on=(cls.created_by == User.id))
            .where((cls.agency == agency_id) & cls.status.in_(KeyStatus.LIVE))
        )
        if location_ids is None:
            query = query.where(cls.location.is_null())
        else:
            query = query.where(cls.location.in_(list(location_ids)))
        if name_filter:
            query = query.where(fn.LOWER(cls.name).contains(name_filter.lower()))
        return query.order_by(
            cls.last_used_at.desc(nulls="LAST"), cls.created_at.desc(), cls.id.desc()
        )
