"""What can happen to the CRM resources, for the API (both versions) and the public pages.

Input is checked by inputs.py before anything is written, and every change
runs in one transaction: nothing is ever half-written.
"""

import re

from peewee import PostgresqlDatabase, Value

from keyhouse.crm.inputs import (
    CONTACT_FIELDS,
    CUSTOM_FIELD_FIELDS,
    CUSTOM_FIELD_TYPE,
    LINK_FIELDS,
    LOCATION_FIELDS,
    NOTE_FIELDS,
    OPTION_TYPES,
    TASK_COMPLETED,
    TASK_FIELDS,
    Invalid,
    clean,
    clean_custom_value,
    clean_submission,
    clean_tags,
)
from keyhouse.keys import apikeys
from keyhouse.models import (
    ApiKey,
    Contact,
    CustomField,
    Enrollment,
    Form,
    FormSubmission,
    KeyStatus,
    LinkClick,
    Location,
    Note,
    Task,
    TriggerLink,
    User,
    UserLocation,
    Workflow,
    db,
    utcnow,
)

# --- contacts ---------------------------------------------------------------------


def _apply_contact(contact, body):
    values = clean(CONTACT_FIELDS, body)
    if "custom_fields" in values:
        values["custom_fields"] = _merge_custom_fields(
            contact.custom_fields or [], resolve_custom_fields(contact.location_id, values["custom_fields"])
        )
    for column, value in values.items():
        setattr(contact, column, value)
    if "name" in values and "first_name" not in values and "last_name" not in values:
        first, _, last = (values["name"] or "").partition(" ")
        contact.first_name, contact.last_name = first or None, last.strip() or None
    contact.name = " ".join(part for part in (contact.first_name, contact.last_name) if part) or None
    contact.date_updated = utcnow()
    return contact


def resolve_custom_fields(location, items):
    """[{id, value}]: each item's custom field found by id or key in `location` and its value
    checked against the field's type and options; Invalid names each item that fails."""
    definitions = list(CustomField.select().where(CustomField.location == location))
    by_id = {row.id: row for row in definitions}
    by_key = {row.key: row for row in definitions}
    resolved, problems = [], []
    for index, item in enumerate(items):
        label = f"customFields[{index}]"
        if "id" in item:
            found = by_id.get(item["id"])
        else:
            found = by_key.get(item["key"].removeprefix("contact."))
        if found is None:
            ident = "id" if "id" in item else "key"
            problems.append(("customFields", f"{label}: no custom field with {ident} {item[ident]!r} in this location"))
            continue
        try:
            value = clean_custom_value(found.data_type, found.picklist_options or [], item["value"],
                                       f"{label} ({found.key})")
        except ValueError as error:
            problems.append(("customFields", str(error)))
            continue
        resolved.append({"id": found.id, "value": value})
    if problems:
        raise Invalid(problems)
    return resolved


def _merge_custom_fields(current, changes):
    """The contact's values after `changes` (by field id); a null value clears the field."""
    merged = {item.get("id") or item.get("key"): item for item in current}
    for item in changes:
        merged[item["id"]] = item
    return [item for item in merged.values() if item.get("value", item.get("field_value")) is not None]


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
    delete_row(contact)


def _find_or_create_transaction():
    """The transaction of "find the contact by email or phone, else create it".

    SQLite: it begins IMMEDIATE, taking the write lock first, so it waits for
    other writers (busy_timeout) instead of failing with "database is locked"
    when it writes after reading; and such transactions take turns.
    PostgreSQL: existing_contact locks the location's row for the same effect.
    """
    return db.atomic() if isinstance(db.obj, PostgresqlDatabase) else db.atomic("IMMEDIATE")


def existing_contact(location, email=None, phone=None):
    """The contact an upsert or a form submission updates: by email first, then by phone.

    Call it inside _find_or_create_transaction(): the location's upserts then
    take turns, so concurrent upserts of one email or phone make one contact.
    """
    if isinstance(db.obj, PostgresqlDatabase):
        location_id = getattr(location, "id", location)
        Location.select(Location.id).where(Location.id == location_id).for_update().execute()
    return (email and Contact.by_email(location, email)) or (phone and Contact.by_phone(location, phone)) or None


def upsert_contact(location, body):
    """(contact, created): updates the contact with the body's email (else phone), or creates one."""
    values = clean(CONTACT_FIELDS, body)
    with _find_or_create_transaction():
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
    """Add `contact` to `workflow` (again: its start time moves); returns the enrollment.

    One statement (INSERT ... ON CONFLICT DO UPDATE), so concurrent enrolls of the
    same pair make one enrollment and none fails on the unique index.
    """
    pair = (Enrollment.contact == contact) & (Enrollment.workflow == workflow)
    with db.atomic():
        (
            Enrollment.insert(contact=contact, workflow=workflow, location=workflow.location_id,
                              event_start_time=event_start_time)
            .on_conflict(
                conflict_target=[Enrollment.contact, Enrollment.workflow],
                update={Enrollment.event_start_time: event_start_time},
            )
            .execute()
        )
        return Enrollment.get(pair)


def unenroll(contact, workflow):
    with db.atomic():
        Enrollment.delete().where((Enrollment.contact == contact) & (Enrollment.workflow == workflow)).execute()


def duplicate_contact(location, email=None, phone=None):
    """The contact HighLevel's duplicate search finds: by email first, then by phone."""
    values = clean(CONTACT_FIELDS, {"email": email, "phone": phone})
    return existing_contact(location, values.get("email"), values.get("phone"))


# --- custom fields, notes and tasks -------------------------------------------------


def _field_key(location, name):
    """A new custom field's key: its name in snake_case, made unique in the location."""
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:90] or "field"
    key, number = base, 1
    while CustomField.select().where((CustomField.location == location) & (CustomField.key == key)).exists():
        number += 1
        key = f"{base}_{number}"
    return key


def _check_options(data_type, options):
    if data_type in OPTION_TYPES and not options:
        raise Invalid([("picklistOptions", f"picklistOptions is required for {data_type} fields")])
    if data_type not in OPTION_TYPES and options:
        raise Invalid([("picklistOptions", f"picklistOptions only applies to {', '.join(OPTION_TYPES)} fields")])


def create_custom_field(location, body):
    values = clean((CUSTOM_FIELD_TYPE, *CUSTOM_FIELD_FIELDS), body, required=("name", "dataType"))
    values.pop("model", None)
    _check_options(values["data_type"], values.get("picklist_options"))
    with db.atomic():
        return CustomField.create(location=location, key=_field_key(location, values["name"]), **values)


def update_custom_field(field, body):
    values = clean(CUSTOM_FIELD_FIELDS, body, required=("name",), partial=True)
    values.pop("model", None)
    _check_options(field.data_type, values.get("picklist_options", field.picklist_options))
    for column, value in values.items():
        setattr(field, column, value)
    with db.atomic():
        field.save()
    return field


def delete_custom_field(field):
    """Delete a custom field and its values on the location's contacts."""
    with db.atomic():
        mentions = Value(f"%{field.id}%", converter=False)  # the id as text, not JSON-encoded; ids are [A-Za-z0-9]
        holders = Contact.select().where((Contact.location == field.location_id) & (Contact.custom_fields ** mentions))
        for contact in holders:
            contact.custom_fields = [item for item in contact.custom_fields or [] if item.get("id") != field.id]
            contact.save()
        field.delete_instance()


def create_note(contact, body):
    values = clean(NOTE_FIELDS, body, required=("body",))
    with db.atomic():
        return Note.create(contact=contact, **values)


def update_note(note, body):
    return _update(note, NOTE_FIELDS, body, required=("body",))


def create_task(contact, body):
    values = clean(TASK_FIELDS, body, required=("title", "dueDate"))
    with db.atomic():
        return Task.create(contact=contact, **values)


def update_task(task, body):
    return _update(task, TASK_FIELDS, body, required=("title", "dueDate"))


def complete_task(task, body):
    return _update(task, TASK_COMPLETED, body, required=("completed",), partial=False)


def delete_row(row):
    with db.atomic():
        row.delete_instance()


# --- locations ----------------------------------------------------------------------


def create_location(agency_id, body):
    values = clean(LOCATION_FIELDS, body, required=("name",))
    with db.atomic():
        return Location.create(agency=agency_id, **values)


def _update(row, fields, body, required, partial=True):
    """Apply the body's fields to `row` and save it; `required` fields may not be emptied
    (nor left out, unless `partial`)."""
    for column, value in clean(fields, body, required=required, partial=partial).items():
        setattr(row, column, value)
    with db.atomic():
        row.save()
    return row


def update_location(location, body):
    return _update(location, LOCATION_FIELDS, body, required=("name",))


def delete_location(location, ip=None):
    """Delete a location: its CRM data goes; its keys are deleted (tombstones and audit
    kept), its staff lose their access, and nothing finds the location any more."""
    with db.atomic():
        for model in (Contact, Workflow, Form, TriggerLink, CustomField):  # their rows' children cascade
            model.delete().where(model.location == location.id).execute()
        Location.update(deleted_at=utcnow()).where(Location.id == location.id).execute()
        live_keys = ApiKey.select().where((ApiKey.location == location.id) & ApiKey.status.in_(KeyStatus.LIVE))
        for key in live_keys:
            apikeys.delete(key, ip=ip, detail=f"its location “{location.name}” was deleted")
        User.update(is_member=False).where(User.location == location.id).execute()
        UserLocation.delete().where(UserLocation.location == location.id).execute()


# --- trigger links ------------------------------------------------------------------


def create_link(location, body):
    values = clean(LINK_FIELDS, body, required=("name", "redirectTo"))
    with db.atomic():
        return TriggerLink.create(location=location, **values)


def update_link(link, body):
    return _update(link, LINK_FIELDS, body, required=("name", "redirectTo"))


def delete_link(link):
    delete_row(link)


def record_click(link, contact_id=None, ip=None):
    """A click on a trigger link; the contact counts only when it is the link's location's."""
    contact = Contact.find(link.location_id, contact_id) if contact_id else None
    with db.atomic():
        return LinkClick.create(link=link, location=link.location_id, contact=contact, ip=ip)


# --- forms --------------------------------------------------------------------------

# Submitted names that fill a contact field (other fields are kept in `others` only).
FORM_CONTACT_FIELDS = {
    "first_name": "firstName", "firstName": "firstName",
    "last_name": "lastName", "lastName": "lastName",
    "full_name": "name", "name": "name",
    "email": "email", "phone": "phone",
    "company_name": "companyName", "companyName": "companyName",
}


def submit_form(form, fields):
    """Store a submission and create or update its contact (by email, then phone)."""
    fields = clean_submission(fields)
    contact_body = {FORM_CONTACT_FIELDS[name]: value for name, value in fields.items() if name in FORM_CONTACT_FIELDS}
    values = clean(CONTACT_FIELDS, contact_body)
    if not values.get("email") and not values.get("phone"):
        raise Invalid([("email", "give an email address or a phone number")])
    contact_body["source"] = f"form: {form.name}"[:200]
    with _find_or_create_transaction():
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

