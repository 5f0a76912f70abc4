"""Agencies, their locations (sub-accounts) and the staff who sign in."""

from flask_login import UserMixin
from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)
from werkzeug.security import check_password_hash, generate_password_hash

from .base import BaseModel, utcnow
from .fields import ID_LENGTH, JSONField, is_id, new_id
from .lookup import Lookup
from .place import Place


class Agency(BaseModel):
    name = CharField(max_length=200)
    created_at = DateTimeField(default=utcnow)
    # The agency's policy for new keys: the longest lifetime (days) they may have;
    # None allows keys without an expiry date (keyhouse/keys/expiry.py).
    max_key_lifetime_days = IntegerField(null=True)


class Location(Place):
    agency = ForeignKeyField(Agency, backref="locations", on_delete="CASCADE")
    name = CharField(max_length=200)
    created_at = DateTimeField(default=utcnow)
    # The API's view of a location (API 1.0 / 2.0 "Location" fields).
    api_id = CharField(max_length=ID_LENGTH, unique=True, default=new_id)  # the API's locationId
    address = CharField(max_length=255, null=True)  # and Place's columns: city, state, ...
    email = CharField(max_length=254, null=True)
    phone = CharField(max_length=30, null=True)
    settings = JSONField(default=dict)
    social = JSONField(default=dict)
    # Set when the location is deleted: the row stays for its keys' tombstones,
    # its staff and the audit trail; nothing finds it any more.
    deleted_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("agency", "name"), False),)

    @property
    def is_live(self):
        return self.deleted_at is None

    @classmethod
    def live(cls, *fields):
        """Locations that are not deleted: every lookup of a location starts here."""
        return cls.select(*fields).where(cls.deleted_at.is_null())

    @classmethod
    def by_api_id(cls, api_id):
        """The location with this API id, or None (no query for a malformed id)."""
        if not is_id(api_id):
            return None
        return _live_by_api_id.first(api_id)

    @classmethod
    def of_agency(cls, agency_id, email=None, descending=False):
        """An agency's locations by creation (the API's list and search), optionally by email."""
        query = cls.live().where(cls.agency == agency_id)
        if email:
            query = query.where(cls.email == email)
        order = (cls.created_at.desc(), cls.id.desc()) if descending else (cls.created_at, cls.id)
        return query.order_by(*order)


_live_by_api_id = Lookup(lambda api_id: Location.live().where(Location.api_id == api_id))  # the API's every call


class Role:
    """The four staff roles of the product (see permissions.py for what each may do)."""

    AGENCY_ADMIN = "agency_admin"
    AGENCY_USER = "agency_user"
    LOCATION_ADMIN = "location_admin"
    LOCATION_USER = "location_user"

    ALL = (AGENCY_ADMIN, AGENCY_USER, LOCATION_ADMIN, LOCATION_USER)
    AGENCY_LEVEL = (AGENCY_ADMIN, AGENCY_USER)
    LOCATION_LEVEL = (LOCATION_ADMIN, LOCATION_USER)
    LABELS = {
        AGENCY_ADMIN: "Agency admin",
        AGENCY_USER: "Agency user",
        LOCATION_ADMIN: "Location admin",
        LOCATION_USER: "Location user",
    }


class User(UserMixin, BaseModel):
    agency = ForeignKeyField(Agency, backref="users", on_delete="CASCADE")
    email = CharField(max_length=254, unique=True)
    name = CharField(max_length=200)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=20, choices=[(r, r) for r in Role.ALL])
    # The one location of a location-level user; None for agency-level users.
    location = ForeignKeyField(Location, null=True, backref="members", on_delete="CASCADE")
    is_member = BooleanField(default=True)  # False once removed from the agency
    created_at = DateTimeField(default=utcnow)

    session_nonce = None  # the sign-in this request runs under (see keyhouse/sessions.py)

    def get_id(self):  # Flask-Login keeps this in the session: the user and their sign-in
        return f"{self.id}:{self.session_nonce}"

    @staticmethod
    def normalize_email(email):
        return (email or "").strip().lower()

    @classmethod
    def by_email(cls, email):
        return cls.get_or_none(cls.email == cls.normalize_email(email))

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self):  # Flask-Login: removed members cannot sign in
        return self.is_member

    @property
    def role_label(self):
        return Role.LABELS[self.role]


class UserLocation(BaseModel):
    """The locations assigned to an agency user (full rights on their location keys)."""

    user = ForeignKeyField(User, backref="assignments", on_delete="CASCADE")
    location = ForeignKeyField(Location, backref="assignments", on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "location"), True),)
