"""The CRM resources the API keys unlock, each scoped to one location.

Contacts (with tags and custom fields), workflows and the contacts enrolled in
them, forms and their submissions, trigger links and their clicks. Ids are
opaque 20-character strings (`fields.new_id`).
"""

import operator
from functools import reduce

from peewee import (
    JOIN,
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .base import BaseModel, utcnow
from .fields import ID_LENGTH, JSONField, is_id, new_id
from .place import Place
from .tenancy import Location


class Resource(BaseModel):
    """A location's resource with an opaque id; `find` never queries for a malformed id."""

    id = CharField(max_length=ID_LENGTH, primary_key=True, default=new_id)

    @classmethod
    def find(cls, location, resource_id):
        """The resource with `resource_id` in `location`, or None."""
        if not is_id(resource_id):
            return None
        return cls.in_location(location).where(cls.id == resource_id).first()

    @classmethod
    def public(cls, resource_id):
        """A resource by id alone, for the public pages (trigger links, form posts)."""
        if not is_id(resource_id):
            return None
        row = cls.select(cls, Location).join(Location).where(cls.id == resource_id).first()
        return row if row is not None and row.location.is_live else None

    @classmethod
    def in_location(cls, location):
        """The location's rows, each with its location loaded (one query, not one per row)."""
        return cls.select(cls, Location).join(Location).where(cls.location == location)


class Contact(Resource, Place):
    location = ForeignKeyField(Location, backref="contacts", on_delete="CASCADE")
    first_name = CharField(max_length=100, null=True)
    last_name = CharField(max_length=100, null=True)
    name = CharField(max_length=201, null=True)  # "first last", kept for search
    email = CharField(max_length=254, null=True)  # lower-cased
    phone = CharField(max_length=30, null=True)
    company_name = CharField(max_length=200, null=True)
    address1 = CharField(max_length=255, null=True)  # and Place's columns: city, state, ...
    source = CharField(max_length=200, null=True)
    tags = JSONField(default=list)
    custom_fields = JSONField(default=list)  # [{"id": CustomField.id, "value": ...}] (older rows: {"id"|"key", "field_value"})
    dnd = BooleanField(default=False)
    dnd_settings = JSONField(null=True)  # {channel: {status, message?, code?}} (inputs.DND)
    inbound_dnd_settings = JSONField(null=True)
    gender = CharField(max_length=50, null=True)
    date_of_birth = CharField(max_length=10, null=True)  # YYYY-MM-DD
    assigned_to = CharField(max_length=100, null=True)
    date_added = DateTimeField(default=utcnow)
    date_updated = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("location", "date_added", "id"), False),
            (("location", "date_updated", "id"), False),
            (("location", "email"), False),
            (("location", "phone"), False),
        )

    @classmethod
    def by_email(cls, location, email):
        return cls.in_location(location).where(cls.email == email).order_by(cls.date_added, cls.id).first()

    @classmethod
    def by_phone(cls, location, phone):
        return cls.in_location(location).where(cls.phone == phone).order_by(cls.date_added, cls.id).first()

    @classmethod
    def lookup(cls, location, email=None, phone=None):
        """Contacts with exactly this email or phone (API 1.0's lookup)."""
        conditions = [cls.email == email] if email else []
        conditions += [cls.phone == phone] if phone else []
        return cls.in_location(location).where(reduce(operator.or_, conditions)).order_by(cls.date_added, cls.id)

    @classmethod
    def matching(cls, location, text):
        """Contacts whose name, email, phone or company contains `text` (case-insensitive)."""
        query = cls.in_location(location)
        if text:
            query = query.where(
                cls.name.contains(text)
                | cls.email.contains(text)
                | cls.phone.contains(text)
                | cls.company_name.contains(text)
            )
        return query


RECENT = 50  # rows of each kind the staff's activity page shows


class CustomField(Resource):
    """A contact field a location defines (HighLevel's custom fields): its values live in
    Contact.custom_fields, checked against `data_type` and `picklist_options` on write."""

    location = ForeignKeyField(Location, backref="custom_fields", on_delete="CASCADE")
    name = CharField(max_length=200)
    key = CharField(max_length=100)  # fieldKey without the "contact." prefix
    data_type = CharField(max_length=30)  # inputs.CUSTOM_FIELD_TYPES
    placeholder = CharField(max_length=200, null=True)
    position = IntegerField(default=0)
    picklist_options = JSONField(default=list)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("location", "key"), True),)

    @classmethod
    def listed(cls, location):
        return cls.in_location(location).order_by(cls.position, cls.name, cls.id)


class ContactChild(Resource):
    """A contact's note or task: found only through its contact."""

    @classmethod
    def of_contact(cls, contact):
        return cls.select().where(cls.contact == contact).order_by(cls.date_added, cls.id)

    @classmethod
    def find_for(cls, contact, resource_id):
        if not is_id(resource_id):
            return None
        return cls.select().where((cls.contact == contact) & (cls.id == resource_id)).first()


class Note(ContactChild):
    contact = ForeignKeyField(Contact, backref="notes", on_delete="CASCADE")
    body = TextField()
    user_id = CharField(max_length=100, null=True)
    date_added = DateTimeField(default=utcnow)


class Task(ContactChild):
    contact = ForeignKeyField(Contact, backref="tasks", on_delete="CASCADE")
    title = CharField(max_length=200)
    body = TextField(null=True)
    assigned_to = CharField(max_length=100, null=True)
    due_date = DateTimeField()
    completed = BooleanField(default=False)
    date_added = DateTimeField(default=utcnow)


class Workflow(Resource):
    location = ForeignKeyField(Location, backref="workflows", on_delete="CASCADE")
    name = CharField(max_length=200)
    status = CharField(max_length=10, default="published")  # draft | published
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Enrollment(BaseModel):
    """A contact added to a workflow (through the API), with its start time."""

    id = AutoField()
    contact = ForeignKeyField(Contact, backref="enrollments", on_delete="CASCADE")
    workflow = ForeignKeyField(Workflow, backref="enrollments", on_delete="CASCADE")
    # The workflow's location, copied (a workflow never moves): a location's latest
    # enrollments are one walk of (location, created_at, id), not a sort of all of them.
    location = ForeignKeyField(Location, null=True, backref="+", on_delete="CASCADE", index=False)
    event_start_time = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("contact", "workflow"), True), (("location", "created_at", "id"), False))

    @classmethod
    def recent(cls, location):
        """A location's latest enrollments, with their contact and workflow."""
        return (
            cls.select(cls, Contact, Workflow)
            .join(Contact).switch(cls).join(Workflow)
            .where(cls.location == location)
            .order_by(cls.created_at.desc(), cls.id.desc())
            .limit(RECENT)
        )


class Form(Resource):
    location = ForeignKeyField(Location, backref="forms", on_delete="CASCADE")
    name = CharField(max_length=200)
    created_at = DateTimeField(default=utcnow)


class FormSubmission(Resource):
    location = ForeignKeyField(Location, backref="form_submissions", on_delete="CASCADE")
    form = ForeignKeyField(Form, backref="submissions", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, backref="form_submissions", on_delete="SET NULL")
    name = CharField(max_length=201, null=True)
    email = CharField(max_length=254, null=True)
    others = JSONField(default=dict)  # every submitted field
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("location", "created_at", "id"), False), (("form", "created_at"), False))

    @classmethod
    def filtered(cls, location, form=None, text=None, start=None, end=None):
        """A location's submissions, newest first, narrowed by form, text and date range."""
        query = cls.in_location(location)
        if form is not None:
            query = query.where(cls.form == form)
        if text:
            query = query.where(cls.name.contains(text) | cls.email.contains(text))
        if start is not None:
            query = query.where(cls.created_at >= start)
        if end is not None:
            query = query.where(cls.created_at < end)
        return query.order_by(cls.created_at.desc(), cls.id.desc())

    @classmethod
    def recent(cls, location):
        """A location's latest submissions, with their form."""
        return (
            cls.select(cls, Form).join(Form)
            .where(cls.location == location)
            .order_by(cls.created_at.desc(), cls.id.desc())
            .limit(RECENT)
        )


class TriggerLink(Resource):
    location = ForeignKeyField(Location, backref="trigger_links", on_delete="CASCADE")
    name = CharField(max_length=200)
    redirect_to = CharField(max_length=2048)
    created_at = DateTimeField(default=utcnow)


class LinkClick(BaseModel):
    id = AutoField()
    link = ForeignKeyField(TriggerLink, backref="clicks", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, backref="link_clicks", on_delete="SET NULL")
    # The link's location, copied (a link never moves): a location's latest clicks
    # are one walk of (location, created_at, id), not a sort of all of them.
    location = ForeignKeyField(Location, null=True, backref="+", on_delete="CASCADE", index=False)
    ip = CharField(max_length=45, null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("link", "created_at"), False), (("location", "created_at", "id"), False))

    @classmethod
    def recent(cls, location):
        """A location's latest trigger-link clicks, with their link and contact (if known)."""
        return (
            cls.select(cls, TriggerLink, Contact)
            .join(TriggerLink).switch(cls).join(Contact, JOIN.LEFT_OUTER)
            .where(cls.location == location)
            .order_by(cls.created_at.desc(), cls.id.desc())
            .limit(RECENT)
        )

