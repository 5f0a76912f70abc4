"""The JSON of each resource, as both API versions (and the public form endpoint) answer it."""

from keyhouse.crm.inputs import PLACE_FIELDS


def iso(moment):
    """2026-11-29T07:04:32.000Z (naive UTC in, ISO 8601 with milliseconds out)."""
    if moment is None:
        return None
    # isoformat, not strftime("%Y"): glibc writes the year 102 as "102", not "0102"
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _place(row):
    """The address fields contacts and locations share (inputs.PLACE_FIELDS)."""
    return {field.name: getattr(row, field.column) for field in PLACE_FIELDS}


def contact(row):
    return {
        "id": row.id,
        "locationId": row.location.api_id,
        "firstName": row.first_name,
        "lastName": row.last_name,
        "name": row.name,
        "email": row.email,
        "phone": row.phone,
        "companyName": row.company_name,
        "address1": row.address1,
        **_place(row),
        "source": row.source,
        "tags": list(row.tags or []),
        "customFields": [custom_value(item) for item in row.custom_fields or []],
        "dnd": bool(row.dnd),
        "dndSettings": dict(row.dnd_settings or {}),
        "inboundDndSettings": dict(row.inbound_dnd_settings or {}),
        "gender": row.gender,
        "dateOfBirth": row.date_of_birth,
        "assignedTo": row.assigned_to,
        "dateAdded": iso(row.date_added),
        "dateUpdated": iso(row.date_updated),
    }


def workflow(row):
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "version": row.version,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "locationId": row.location.api_id,
    }


def form(row):
    return {"id": row.id, "name": row.name, "locationId": row.location.api_id}


def submission(row):
    return {
        "id": row.id,
        "contactId": row.contact_id,
        "formId": row.form_id,
        "name": row.name,
        "email": row.email,
        "createdAt": iso(row.created_at),
        "others": dict(row.others or {}),
    }


def link(row):
    return {
        "id": row.id,
        "name": row.name,
        "redirectTo": row.redirect_to,
        "fieldKey": "{{trigger_link.%s}}" % row.id,
        "locationId": row.location.api_id,
    }


def location(row):
    return {
        "id": row.api_id,
        "companyId": str(row.agency_id),
        "name": row.name,
        "address": row.address,
        **_place(row),
        "email": row.email,
        "phone": row.phone,
        "settings": dict(row.settings or {}),
        "social": dict(row.social or {}),
    }


def custom_value(item):
    """A contact's custom field value as HighLevel answers it: {id, value} (rows stored
    before custom fields were defined per location hold {id|key, field_value})."""
    return {"id": item.get("id") or item.get("key"), "value": item.get("value", item.get("field_value"))}


def custom_field(row):
    return {
        "id": row.id,
        "name": row.name,
        "fieldKey": f"contact.{row.key}",
        "dataType": row.data_type,
        "placeholder": row.placeholder,
        "position": row.position,
        "picklistOptions": list(row.picklist_options or []),
        "model": "contact",
        "locationId": row.location.api_id,
    }


def note(row):
    return {
        "id": row.id,
        "contactId": row.contact_id,
        "body": row.body,
        "userId": row.user_id,
        "dateAdded": iso(row.date_added),
    }


def task(row):
    return {
        "id": row.id,
        "contactId": row.contact_id,
        "title": row.title,
        "body": row.body,
        "assignedTo": row.assigned_to,
        "dueDate": iso(row.due_date),
        "completed": bool(row.completed),
    }
