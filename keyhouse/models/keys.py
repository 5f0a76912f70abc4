"""API keys: only a digest and a display hint are ever stored."""

import operator
from functools import reduce

from peewee import (
    JOIN,
    CharField,
    DateTimeField,
    ForeignKeyField,
    TextField,
    fn,
)

from keyhouse.keys.scopes import DEFAULT_SCOPES, OPT_IN

from .base import COUNT_CAP, BaseModel, folded_contains, utcnow
from .tenancy import Agency, Location, User


class KeyStatus:
    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"
    ALL = (ACTIVE, INACTIVE, DELETED)
    LIVE = (ACTIVE, INACTIVE)


NAME_MAX = 100  # characters in a key's name
USER_AGENT_MAX = 300  # characters of the last caller's User-Agent kept


class ApiKey(BaseModel):
    # No index of its own: the (agency, ...) indexes below lead with it.
    agency = ForeignKeyField(Agency, backref="api_keys", on_delete="CASCADE", index=False)
    # Set for location keys, None for agency keys.
    location = ForeignKeyField(Location, null=True, backref="api_keys", on_delete="CASCADE")
    kind = CharField(max_length=10)  # tokens.AGENCY / tokens.LOCATION
    name = CharField(max_length=NAME_MAX)
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
    last_used_user_agent = CharField(max_length=USER_AGENT_MAX, null=True)
    deactivated_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True)
    # A rolled key stops working at this time (then a job deletes it).
    expires_at = DateTimeField(null=True)
    # The expiry date chosen at creation (keyhouse/keys/expiry.py): the key stops
    # working at this time, is warned about before it, and is then deleted.
    valid_until = DateTimeField(null=True)
    # The IP allowlist (keyhouse/keys/allowlist.py): canonical addresses and CIDR
    # ranges separated by spaces; None lets every address use the key.
    allowed_ips = TextField(null=True)
    replaced_by = ForeignKeyField("self", null=True, backref="replaces", on_delete="SET NULL")
    # The inactivity lifecycle (keyhouse/keys/lifecycle.py, jobs/sweep.py):
    # when the sweep next looks at the key (None: when its first warning is due) ...
    sweep_at = DateTimeField(null=True)
    # ... and, for the activity period that started at `warned_period`, the time the
    # final warning was delivered plus 24 hours: the key is not deleted before it.
    warned_period = DateTimeField(null=True)
    delete_after = DateTimeField(null=True)

    class Meta:
        indexes = (
            # The sweep: keys whose next look is due, and (SQLite) never-swept keys in clock order.
            (("status", "sweep_at", "activity_at"), False),
            # finish_roll: rolled keys whose grace period ends.
            (("status", "expires_at"), False),
            # The keys screen (ApiKey.listing, listing_order): one location's keys, or the agency keys
            # (location NULL), most recently used first, then never-used ones newest first ...
            (("agency", "location", "last_used_at", "created_at", "id", "name"), False),
            # ... and every location's keys in that order (Agency View). With `name` the name
            # filter reads the index alone, not a row per key.
            (("agency", "last_used_at", "created_at", "id", "name"), False),
            # The pending-deletion banner: an agency's keys in clock order (in_warning_window).
            (("agency", "activity_at"), False),
        )

    # Named queries of the inactivity sweep. Each is a condition on live keys that the
    # indexes above answer; `claim` takes a bounded batch of them for one sweep.

    @classmethod
    def never_looked_at(cls, status, activity_before):
        """Keys in `status` the sweep has not looked at whose clock is older than `activity_before`.

        One status at a time, claimed in clock order: the index then hands the keys
        over in that order, so no planner is tempted into a scan of every key
        (PostgreSQL otherwise misjudges how many never-swept keys have an old clock).
        """
        return (
            (cls.status == status)
            & cls.sweep_at.is_null()
            & (cls.activity_at <= activity_before)
            & cls.expires_at.is_null()
        )

    @classmethod
    def look_due(cls, now):
        """Live keys whose next look by the sweep is due at `now`."""
        return cls.status.in_(KeyStatus.LIVE) & (cls.sweep_at <= now)

    @classmethod
    def grace_over(cls, now):
        """Rolled keys still live after their grace period, not claimed by a sweep."""
        # COALESCE rather than "sweep_at IS NULL OR ...": the planner then walks the
        # (status, expires_at) index instead of every never-swept key.
        return (
            cls.status.in_(KeyStatus.LIVE)
            & (cls.expires_at <= now)
            & (fn.COALESCE(cls.sweep_at, cls.expires_at) <= now)
        )

    @classmethod
    def in_warning_window(cls, agency_id, location_ids, agency_keys, activity_before=None, valid_before=None):
        """Live, unrolled keys of an agency whose clock is older than `activity_before` or whose
        expiry date is before `valid_before` (give one or both), with their location.

        `location_ids` (a query of ids) limits the location keys; `agency_keys` says
        whether agency keys are included. Asked for expiry dates only, the condition
        names no clock, so the (agency, valid_until) index answers it.
        """
        visible = cls.location.in_(location_ids)
        if agency_keys:
            visible = visible | cls.location.is_null()
        due = [condition for bound, condition in ((activity_before, cls.activity_at <= activity_before),
                                                  (valid_before, cls.valid_until <= valid_before))
               if bound is not None]
        return (
            cls.select(cls, Location)
            .join(Location, JOIN.LEFT_OUTER, on=(cls.location == Location.id))
            .where(
                (cls.agency == agency_id)
                & cls.status.in_(KeyStatus.LIVE)
                & cls.expires_at.is_null()
                & reduce(operator.or_, due)
                & visible
            )
        )

    @classmethod
    def claim(cls, condition, until, limit, order_by=()):
        """Set `sweep_at` to `until` on up to `limit` keys matching `condition`; returns them.

        The condition is repeated in the UPDATE itself, so of two concurrent sweeps
        only one claims a key (the other's UPDATE re-checks and skips it).
        """
        batch = cls.select(cls.id).where(condition).order_by(*order_by).limit(limit)
        return list(cls.update(sweep_at=until).where(cls.id.in_(batch) & condition).returning(cls).execute())

    @property
    def scope_list(self):
        return self.scopes.split()

    @property
    def has_all_scopes(self):
        """Whether the key has every scope its kind gets by default (opt-in ones aside: see opt_in_scopes)."""
        return set(self.scope_list) >= set(DEFAULT_SCOPES[self.kind])

    @property
    def opt_in_scopes(self):
        return [scope for scope in self.scope_list if scope in OPT_IN]

    @property
    def owner(self):
        """"location:<id>" for a location key, "agency:<id>" for an agency key."""
        return f"location:{self.location_id}" if self.location_id else f"agency:{self.agency_id}"

    @property
    def is_live(self):
        return self.status in KeyStatus.LIVE

    @classmethod
    def listing_order(cls):
        """The keys screen's order as segments for keyhouse.web.paging: most recently used first,
        then keys never used, newest first (the order of `listing`)."""
        return [
            (cls.last_used_at.is_null(False), (cls.last_used_at, cls.created_at, cls.id)),
            (cls.last_used_at.is_null(), (cls.created_at, cls.id)),
        ]

    @classmethod
    def listing(cls, agency_id, location_ids=None, name_filter=""):
        """Live keys for the keys screen, unordered: keyhouse.web.paging walks them in
        `listing_order` (most recently used first).

        `location_ids` None lists the agency keys; a collection lists those
        locations' keys (one location: `==`, so the index's order serves it).
        Creator and location come in the same query.
        """
        where = cls.agency == agency_id
        if location_ids is None:
            where &= cls.location.is_null()
        else:
            location_ids = list(location_ids)
            where &= cls.location == location_ids[0] if len(location_ids) == 1 else cls.location.in_(location_ids)
        if name_filter:
            # One pass over the index (it holds the names) for the matching ids. Up to
            # COUNT_CAP of them, the list narrows every later query to those rows; beyond,
            # matches are common enough that walking the list's order finds a page at once.
            name_matches = folded_contains(cls.name, name_filter)
            matching = [key_id for key_id, in cls.select(cls.id).where(where & name_matches)
                        .limit(COUNT_CAP + 1).tuples()]
            where &= cls.id.in_(matching) if len(matching) <= COUNT_CAP else name_matches
        where &= cls.status.in_(KeyStatus.LIVE)
        return (
            cls.select(cls, Location, User)
            .join(Location, JOIN.LEFT_OUTER, on=(cls.location == Location.id))
            .switch(cls)
            .join(User, JOIN.LEFT_OUTER, on=(cls.created_by == User.id))
            .where(where)
        )

# The sweep: keys never looked at, in clock order. PostgreSQL's planner picks this
# partial index, which holds only those keys, where it would otherwise walk
# (status, activity_at) past every key swept already (it cannot know that old
# clocks and a set sweep_at go together); SQLite uses the index above.
ApiKey.add_index(
    ApiKey.index(ApiKey.status, ApiKey.activity_at, where=ApiKey.sweep_at.is_null(), name="api_key_never_swept")
)

# The pending-deletion banner's expiry dates (in_warning_window): an agency's keys that
# have one, soonest first. Partial: the many keys without an expiry date cost it no write.
ApiKey.add_index(
    ApiKey.index(ApiKey.agency, ApiKey.valid_until, where=ApiKey.valid_until.is_null(False),
                 name="api_key_expiry_dates")
)
