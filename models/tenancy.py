"""Agencies, their locations (sub-accounts) and the staff who sign in."""

from flask_login import UserMixin
from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
)
from werkzeug.security import check_password_hash, generate_password_hash

from .base import BaseModel, utcnow


class Agency(BaseModel):
    name = CharField(max_length=200)
    created_at = DateTimeField(default=utcnow)


class Location(BaseModel):
    agency = ForeignKeyField(Agency, backref="locations", on_delete="CASCADE")
    name = CharField(max_length=200)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("agency", "name"), False),)


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
