"""Answers both API versions give alike; each version adds its own key rules and wrappers."""

import datetime
from urllib.parse import urlencode

from flask import request

from keyhouse.crm import actions as crm
from keyhouse.crm import inputs, shapes
from keyhouse.models import Contact, CustomField, Form, FormSubmission, Note, Task, TriggerLink, Workflow
from keyhouse.web.jsonio import json_body, not_found

from .common import choice_arg, date_arg, find, int_arg, str_arg
from .routes import param

MAX_LIMIT = 100
MAX_PAGE = 10**6


def limit_param(default, kind="number", name="limit"):
    return param(name, kind, f"page size, 1-{MAX_LIMIT} (default {default})", minimum=1, maximum=MAX_LIMIT)


LIMIT = limit_param(20)
PAGE = param("page", "number", "page number, from 1", minimum=1, maximum=MAX_PAGE)
START_AFTER = param("startAfter", "number", "the meta.startAfter of the previous page (milliseconds since 1970)",
                    minimum=0, maximum=10**14)
CONTACTS_QUERY = (
    param("query", "string", "text to find in name, email, phone or company"),
    LIMIT,
    param("startAfterId", "id", "the meta.startAfterId of the previous page"),
    START_AFTER,
)
ORDER = param("order", "choice", "asc (default) or desc", choices=("asc", "desc"))
SORT_QUERY = (
    param("sortBy", "choice", "date_added (default) or date_updated", choices=("date_added", "date_updated")),
    ORDER,
)
SUBMISSIONS_QUERY = (
    param("formId", "id", "only this form's submissions"),
    param("q", "string", "text to find in the submitter's name or email"),
    param("startAt", "date", "submitted on or after this date (YYYY-MM-DD)"),
    param("endAt", "date", "submitted on or before this date (YYYY-MM-DD)"),
    PAGE,
    LIMIT,
)
ENROLL_BODY = (param("eventStartTime", "datetime", "when the contact starts the workflow (ISO 8601)"),)
TAGS_BODY = (param("tags", "tags", "tags to add or remove"),)
CUSTOM_FIELD_BODY = (inputs.CUSTOM_FIELD_TYPE, *inputs.CUSTOM_FIELD_FIELDS)


def _millis(moment):
    return int(moment.replace(tzinfo=datetime.UTC).timestamp() * 1000)


def _after(column, cursor, descending):
    value, ident = cursor
    if descending:
        return (column < value) | ((column == value) & (Contact.id < ident)) if ident else column < value
    return (column > value) | ((column == value) & (Contact.id > ident)) if ident else column > value


def contacts_page(location, sortable=False):
    """{"contacts": [...], "meta": {...}}: a page of contacts after a cursor (startAfterId/startAfter)."""
    limit = int_arg(LIMIT, 20)
    sort_by = choice_arg(SORT_QUERY[0]) if sortable else "date_added"
    descending = sortable and choice_arg(ORDER) == "desc"
    column = getattr(Contact, sort_by)
    query = Contact.matching(location, str_arg("query"))
    total = query.count()

    after_id, after_ms = str_arg("startAfterId"), int_arg(START_AFTER, None)
    cursor = None
    if after_id:
        anchor = find(Contact, location, after_id, "Contact")
        cursor = (getattr(anchor, sort_by), anchor.id)
    elif after_ms is not None:
        cursor = (datetime.datetime.fromtimestamp(after_ms / 1000, datetime.UTC).replace(tzinfo=None), None)
    if cursor is not None:
        query = query.where(_after(column, cursor, descending))
    before = total - query.count() if cursor is not None else 0

    order = (column.desc(), Contact.id.desc()) if descending else (column, Contact.id)
    rows = list(query.order_by(*order).limit(limit + 1))
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    current = before // limit + 1
    next_url = None
    if more:
        args = dict(request.args)
        args.update(startAfterId=last.id, startAfter=_millis(getattr(last, sort_by)))
        next_url = request.base_url + "?" + urlencode(args)
    return {
        "contacts": [shapes.contact(row) for row in rows],
        "meta": {
            "total": total,
            "nextPageUrl": next_url,
            "startAfterId": last.id if last else None,
            "startAfter": _millis(getattr(last, sort_by)) if last else None,
            "currentPage": current,
            "nextPage": current + 1 if more else None,
            "prevPage": current - 1 if current > 1 else None,
        },
    }


def page_meta(total, page, limit):
    return {
        "total": total,
        "currentPage": page,
        "nextPage": page + 1 if page * limit < total else None,
        "prevPage": page - 1 if page > 1 else None,
    }


def submissions_page(location):
    """{"submissions": [...], "meta": {...}}, newest first."""
    page, limit = int_arg(PAGE, 1), int_arg(LIMIT, 20)
    form_id = str_arg("formId")
    form = find(Form, location, form_id, "Form") if form_id else None
    start, end = date_arg("startAt"), date_arg("endAt")
    if end is not None and len(request.args["endAt"].strip()) == 10:  # a whole day: up to its end
        end = end + datetime.timedelta(days=1) if end.date() < datetime.date.max else None
    query = FormSubmission.filtered(location, form, str_arg("q"), start, end)
    total = query.count()
    return {
        "submissions": [shapes.submission(row) for row in query.paginate(page, limit)],
        "meta": page_meta(total, page, limit),
    }


def contact(location, contact_id):
    return find(Contact, location, contact_id, "Contact")


def change_tags(location, contact_id, add):
    """{"tags": [...]}: the contact's tags after adding or removing the body's."""
    found = contact(location, contact_id)
    body = json_body()
    if "tags" not in body:
        raise inputs.Invalid([("tags", "tags is required")])
    try:
        tags = inputs.clean_tags(body["tags"])
    except ValueError as error:
        raise inputs.Invalid([("tags", str(error))]) from None
    changed = crm.add_tags(found, tags) if add else crm.remove_tags(found, tags)
    return {"tags": changed.tags}


def change_enrollment(location, contact_id, workflow_id, add):
    """Add the contact to the workflow (with the body's eventStartTime) or remove it."""
    found = contact(location, contact_id)
    workflow = find(Workflow, location, workflow_id, "Workflow")
    body = json_body()
    if add:
        crm.enroll(found, workflow, inputs.parse_time(body.get("eventStartTime"), "eventStartTime"))
    else:
        crm.unenroll(found, workflow)


def workflows(location):
    query = Workflow.in_location(location).order_by(Workflow.name, Workflow.id)
    return {"workflows": [shapes.workflow(row) for row in query]}


def forms(location, skip=0, limit=None):
    query = Form.in_location(location).order_by(Form.name, Form.id)
    total = query.count()
    page = query.offset(skip).limit(limit) if limit else query
    return [shapes.form(row) for row in page], total


def links(location):
    query = TriggerLink.in_location(location).order_by(TriggerLink.name, TriggerLink.id)
    return {"links": [shapes.link(row) for row in query]}


def lookup(location):
    """API 1.0's lookup: contacts with exactly this email or phone; 422 when neither is given."""
    email, phone = str_arg("email"), str_arg("phone")
    if not email and not phone:
        raise inputs.Invalid([("email", "give email or phone (or both)")])
    values = inputs.clean(inputs.CONTACT_FIELDS, {"email": email, "phone": phone})
    rows = Contact.lookup(location, values.get("email"), values.get("phone"))
    return {"contacts": [shapes.contact(row) for row in rows]}


def custom_fields(location):
    return {"customFields": [shapes.custom_field(row) for row in CustomField.listed(location)]}


def custom_field(location, field_id):
    return find(CustomField, location, field_id, "Custom field")


# A contact's notes and tasks: kind -> (model, shape, create, update).
CHILDREN = {
    "note": (Note, shapes.note, crm.create_note, crm.update_note),
    "task": (Task, shapes.task, crm.create_task, crm.update_task),
}


def children(location, contact_id, kind):
    """{"notes": [...]} / {"tasks": [...]}: the contact's, oldest first."""
    model, shape, _, _ = CHILDREN[kind]
    return {f"{kind}s": [shape(row) for row in model.of_contact(contact(location, contact_id))]}


def child(location, contact_id, kind, child_id):
    """The contact's note or task `child_id`, or 404 "Note not found"."""
    found = CHILDREN[kind][0].find_for(contact(location, contact_id), child_id)
    if found is None:
        raise not_found(kind.capitalize())
    return found


def create_child(location, contact_id, kind):
    _, shape, create, _ = CHILDREN[kind]
    return {kind: shape(create(contact(location, contact_id), json_body()))}


def update_child(location, contact_id, kind, child_id, change=None):
    _, shape, _, update = CHILDREN[kind]
    return {kind: shape((change or update)(child(location, contact_id, kind, child_id), json_body()))}


def delete_child(location, contact_id, kind, child_id):
    crm.delete_row(child(location, contact_id, kind, child_id))
