"""What can happen to the CRM resources, for the API (both versions) and the public pages.

Input is checked here, once, against the field tables below (which the OpenAPI
documents are also built from). Unknown fields are ignored, as HighLevel's API
does; a known field of the wrong type or shape is an `Invalid` that names it.
Every change runs in one transaction: nothing is ever half-written.
"""

import dataclasses
import datetime
import json
import re

from models import (
    Contact,
    Enrollment,
    FormSubmission,
    LinkClick,
    Location,
    TriggerLink,
    db,
    utcnow,
)


class Invalid(ValueError):
    """Input that cannot be used; `problems` is a list of (field, message)."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))

    @property
    def fields(self):
        return [field for field, _ in self.problems]


@dataclasses.dataclass(frozen=True)
class Field:
    name: str  # as the API spells it (camelCase)
    column: str  # the model attribute
    kind: str  # string | email | phone | url | date | boolean | tags | customFields | object
    max_length: int = 255
    description: str = ""


CONTACT_FIELDS = (
    Field("firstName", "first_name", "string", 100),
    Field("lastName", "last_name", "string", 100),
    Field("name", "name", "string", 201, "full name; split into firstName/lastName when those are not given"),
    Field("email", "email", "email", 254, "matched case-insensitively"),
    Field("phone", "phone", "phone", 30, "digits, spaces, ()-./ and a leading +"),
    Field("companyName", "company_name", "string", 200),
    Field("address1", "address1", "string", 255),
    Field("city", "city", "string", 100),
    Field("state", "state", "string", 100),
    Field("country", "country", "string", 100),
    Field("postalCode", "postal_code", "string", 20),
    Field("website", "website", "string", 500),
    Field("timezone", "timezone", "string", 100),
    Field("source", "source", "string", 200),
    Field("tags", "tags", "tags", 100, "up to 100 tags of 1-100 characters"),
    Field("customFields", "custom_fields", "customFields", 5000, "[{id or key, field_value}]"),
    Field("dnd", "dnd", "boolean"),
    Field("dateOfBirth", "date_of_birth", "date", 10, "YYYY-MM-DD"),
    Field("assignedTo", "assigned_to", "string", 100),
)

LOCATION_FIELDS = (
    Field("name", "name", "string", 200),
    Field("address", "address", "string", 255),
    Field("city", "city", "string", 100),
    Field("state", "state", "string", 100),
    Field("country", "country", "string", 100),
    Field("postalCode", "postal_code", "string", 20),
    Field("website", "website", "string", 500),
    Field("timezone", "timezone", "string", 100),
    Field("email", "email", "email", 254),
    Field("phone", "phone", "phone", 30),
    Field("settings", "settings", "object", 10000, "free-form JSON object"),
    Field("social", "social", "object", 10000, "free-form JSON object"),
)

LINK_FIELDS = (
    Field("name", "name", "string", 200),
    Field("redirectTo", "redirect_to", "url", 2048, "an http:// or https:// URL"),
)

MAX_TAGS = 100
MAX_CUSTOM_FIELDS = 100
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ().\-/]{3,30}")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)


def _string(field, value):
    if not isinstance(value, str):
        raise ValueError(f"{field.name} must be a string")
    value = value.strip()
    if len(value) > field.max_length:
        raise ValueError(f"{field.name} must be at most {field.max_length} characters")
    return value or None


def _email(field, value):
    value = _string(field, value)
    if value is not None and not _EMAIL.fullmatch(value):
        raise ValueError(f"{field.name} must be an email address")
    return value.lower() if value else None


def _phone(field, value):
    value = _string(field, value)
    if value is None:
        return None
    if not _PHONE.fullmatch(value) or not any(char.isdigit() for char in value):
        raise ValueError(f"{field.name} must be a phone number")
    return ("+" if value.startswith("+") else "") + "".join(char for char in value if char.isdigit())


def _url(field, value):
    value = _string(field, value)
    if value is not None and not _URL.fullmatch(value):
        raise ValueError(f"{field.name} must be an http:// or https:// URL")
    return value


def _date(field, value):
    value = _string(field, value)
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{field.name} must be a date (YYYY-MM-DD)") from None


def _boolean(field, value):
    if not isinstance(value, bool):
        raise ValueError(f"{field.name} must be true or false")
    return value


def clean_tags(value, name="tags"):
    """Trimmed tags without case-insensitive duplicates, in the order given."""
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValueError(f"{name} must be an array of strings")
    tags, seen = [], set()
    for tag in (tag.strip() for tag in value):
        if not tag or len(tag) > 100:
            raise ValueError(f"{name} must hold tags of 1 to 100 characters")
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"{name} must hold at most {MAX_TAGS} tags")
    return tags


def _tags(field, value):
    return clean_tags(value, field.name)


def _custom_value(value):
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= 5000
    return isinstance(value, list) and all(isinstance(item, str) and len(item) <= 5000 for item in value)


def _custom_fields(field, value):
    message = f"{field.name} must be an array of {{id or key, field_value}} objects"
    if not isinstance(value, list) or len(value) > MAX_CUSTOM_FIELDS:
        raise ValueError(message + f" (at most {MAX_CUSTOM_FIELDS})")
    cleaned = []
    for item in value:
        if not isinstance(item, dict):
            raise ValueError(message)
        ident = "id" if "id" in item else "key"
        name = item.get(ident)
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
            raise ValueError(message)
        field_value = item.get("field_value", item.get("value"))
        if not _custom_value(field_value):
            raise ValueError(f"{field.name} values must be strings (up to 5000 characters), numbers, booleans or arrays of strings")
        cleaned.append({ident: name.strip(), "field_value": field_value})
    return cleaned


def _object(field, value):
    if not isinstance(value, dict):
        raise ValueError(f"{field.name} must be an object")
    if len(json.dumps(value)) > field.max_length:
        raise ValueError(f"{field.name} must be at most {field.max_length} characters as JSON")
    return value


CLEANERS = {
    "string": _string,
    "email": _email,
    "phone": _phone,
    "url": _url,
    "date": _date,
    "boolean": _boolean,
    "tags": _tags,
    "customFields": _custom_fields,
    "object": _object,
}
NULLABLE = {"string", "email", "phone", "url", "date"}


def clean(fields, body, required=()):
    """{column: value} for the known fields present in `body`; Invalid names every bad one."""
    values, problems = {}, []
    for field in fields:
        if field.name not in body:
            if field.name in required:
                problems.append((field.name, f"{field.name} is required"))
            continue
        value = body[field.name]
        try:
            if value is None and field.kind in NULLABLE:
                cleaned = None
            elif value is None:
                raise ValueError(f"{field.name} must not be null")
            else:
                cleaned = CLEANERS[field.kind](field, value)
            if cleaned is None and field.name in required:
                raise ValueError(f"{field.name} is required")
        except ValueError as error:
            problems.append((field.name, str(error)))
            continue
        values[field.column] = cleaned
    if problems:
        raise Invalid(problems)
    return values


def parse_time(value, name):
    """An ISO 8601 date-time (a trailing Z or offset is turned into naive UTC), or None."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid([(name, f"{name} must be an ISO 8601 date-time")]) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment


# --- contacts ---------------------------------------------------------------------


def _apply_contact(contact, body):
    values = clean(CONTACT_FIELDS, body)
    for column, value in values.items():
        setattr(contact, column, value)
    if "name" in values and "first_name" not in values and "last_name" not in values:
        first, _, last = (values["name"] or "").partition(" ")
        contact.first_name, contact.last_name = first or None, last.strip() or None
    contact.name = " ".join(part for part in (contact.first_name, contact.last_name) if part) or None
    if "custom_fields" in values:
        contact.custom_fields = _merge_custom_fields(contact.custom_fields or [], values["custom_fields"])
    contact.date_updated = utcnow()
    return contact


def _merge_custom_fields(current, changes):
    def ident(item):
        return ("id", item["id"]) if "id" in item else ("key", item["key"])

    merged = {ident(item): item for item in current}
    for item in changes:
        merged[ident(item)] = item
    return list(merged.values())


def create_contact(location, body):
    contact = _apply_contact(Contact(location=location, custom_fields=[], tags=[]), body)
    with db.atomic():
        contact.save(force_insert=True)
    return contact


def update_contact(contact, body):
    _apply_contact(contact, body)
    with db.atomic():
        contact.save()
    return contact


def delete_contact(contact):
    with db.atomic():
        contact.delete_instance()


def existing_contact(location, email=None, phone=None):
    """The contact an upsert or a form submission updates: by email first, then by phone."""
    return (email and Contact.by_email(location, email)) or (phone and Contact.by_phone(location, phone)) or None


def upsert_contact(location, body):
    """(contact, created): updates the contact with the body's email (else phone), or creates one."""
    values = clean(CONTACT_FIELDS, body)
    with db.atomic():
        contact = existing_contact(location, values.get("email"), values.get("phone"))
        if contact is None:
            return create_contact(location, body), True
        return update_contact(contact, body), False


def add_tags(contact, tags):
    contact.tags = clean_tags(list(contact.tags or []) + tags)
    return update_contact(contact, {})


def remove_tags(contact, tags):
    gone = {tag.casefold() for tag in tags}
    contact.tags = [tag for tag in contact.tags or [] if tag.casefold() not in gone]
    return update_contact(contact, {})


def enroll(contact, workflow, event_start_time=None):
    """Add `contact` to `workflow` (again: its start time moves); returns the enrollment."""
    with db.atomic():
        enrollment = Enrollment.get_or_none((Enrollment.contact == contact) & (Enrollment.workflow == workflow))
        if enrollment is None:
            return Enrollment.create(contact=contact, workflow=workflow, event_start_time=event_start_time)
        enrollment.event_start_time = event_start_time
        enrollment.save()
        return enrollment


def unenroll(contact, workflow):
    with db.atomic():
        Enrollment.delete().where((Enrollment.contact == contact) & (Enrollment.workflow == workflow)).execute()


# --- locations ----------------------------------------------------------------------


def create_location(agency_id, body):
    values = clean(LOCATION_FIELDS, body, required=("name",))
    with db.atomic():
        return Location.create(agency=agency_id, **values)


def update_location(location, body):
    values = clean(LOCATION_FIELDS, body)
    if "name" in values and values["name"] is None:
        raise Invalid([("name", "name must not be empty")])
    for column, value in values.items():
        setattr(location, column, value)
    with db.atomic():
        location.save()
    return location


def delete_location(location):
    with db.atomic():
        location.delete_instance(recursive=False)


# --- trigger links ------------------------------------------------------------------


def create_link(location, body):
    values = clean(LINK_FIELDS, body, required=("name", "redirectTo"))
    with db.atomic():
        return TriggerLink.create(location=location, **values)


def update_link(link, body):
    values = clean(LINK_FIELDS, body)
    empty = [(name, f"{name} must not be empty") for name, column in (("name", "name"), ("redirectTo", "redirect_to"))
             if column in values and values[column] is None]
    if empty:
        raise Invalid(empty)
    for column, value in values.items():
        setattr(link, column, value)
    with db.atomic():
        link.save()
    return link


def delete_link(link):
    with db.atomic():
        link.delete_instance()


def record_click(link, contact_id=None, ip=None):
    """A click on a trigger link; the contact counts only when it is the link's location's."""
    contact = Contact.find(link.location_id, contact_id) if contact_id else None
    with db.atomic():
        return LinkClick.create(link=link, contact=contact, ip=ip)


# --- forms --------------------------------------------------------------------------

MAX_FORM_FIELDS = 50
MAX_FORM_VALUE = 5000
# Submitted names that fill a contact field (other fields are kept in `others` only).
FORM_CONTACT_FIELDS = {
    "first_name": "firstName", "firstName": "firstName",
    "last_name": "lastName", "lastName": "lastName",
    "full_name": "name", "name": "name",
    "email": "email", "phone": "phone",
    "company_name": "companyName", "companyName": "companyName",
}


def clean_submission(fields):
    """The submitted fields as {name: string}; Invalid when malformed or too many/long."""
    if not isinstance(fields, dict):
        raise Invalid([("body", "the submission must be an object of fields")])
    if len(fields) > MAX_FORM_FIELDS:
        raise Invalid([("body", f"a submission may have at most {MAX_FORM_FIELDS} fields")])
    problems, cleaned = [], {}
    for name, value in fields.items():
        if not name or len(name) > 100:
            problems.append((name[:100], "field names must be 1 to 100 characters"))
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append((name, f"{name} must be a string"))
        elif len(str(value)) > MAX_FORM_VALUE:
            problems.append((name, f"{name} must be at most {MAX_FORM_VALUE} characters"))
        else:
            cleaned[name] = str(value).strip()
    if problems:
        raise Invalid(problems)
    return cleaned


def submit_form(form, fields):
    """Store a submission and create or update its contact (by email, then phone)."""
    fields = clean_submission(fields)
    contact_body = {FORM_CONTACT_FIELDS[name]: value for name, value in fields.items() if name in FORM_CONTACT_FIELDS}
    values = clean(CONTACT_FIELDS, contact_body)
    if not values.get("email") and not values.get("phone"):
        raise Invalid([("email", "give an email address or a phone number")])
    contact_body["source"] = f"form: {form.name}"[:200]
    with db.atomic():
        contact = existing_contact(form.location_id, values.get("email"), values.get("phone"))
        if contact is None:
            contact = create_contact(form.location_id, contact_body)
        else:
            update_contact(contact, {k: v for k, v in contact_body.items() if v and k != "source"})
        submission = FormSubmission.create(
            location=form.location_id,
            form=form,
            contact=contact,
            name=contact.name,
            email=contact.email,
            others=fields,
        )
    return submission, contact

