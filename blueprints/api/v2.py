"""API 2.0 (`/v2`): HighLevel's services paths, with the Version header.

A location key acts for its own location; an agency key acts for one of its
agency's locations when the request names it with `locationId`.
"""

from flask import Blueprint, g

from keyhouse.crm import actions as crm
from keyhouse.crm import inputs, shapes
from keyhouse.keys.tokens import AGENCY
from keyhouse.models import Contact, Location, TriggerLink
from keyhouse.web.jsonio import json_body, not_found

from . import resources, self_key
from .common import acting_location, choice_arg, find, init_blueprint, int_arg, reachable_location, str_arg
from .resources import CONTACTS_QUERY, ENROLL_BODY, SUBMISSIONS_QUERY, TAGS_BODY
from .routes import param, route

bp = Blueprint("v2", __name__, url_prefix="/v2")
init_blueprint(bp)

LOCATION_ID = param("locationId", "id", "the location acted for: required with an agency key (else 422), "
                                       "a location key's own when given")
ON_LOCATION = (LOCATION_ID,)
# HighLevel answers `succeded` (its spelling); typed clients read it, so both are sent.
SUCCEEDED = {"succeeded": True, "succeded": True}
SUCCEEDED_SCHEMA = {"succeeded": "boolean", "succeded": "boolean"}
# Whole numbers; "number" where HighLevel's spec types them so, "integer" where it says string.
PAGE_LIMIT = resources.limit_param(20, name="pageLimit")
FORMS_SKIP = param("skip", "number", "forms to skip", minimum=0, maximum=resources.MAX_PAGE)
FORMS_LIMIT = resources.limit_param(50)
LOCATIONS_SKIP = param("skip", "integer", "locations to skip", minimum=0, maximum=resources.MAX_PAGE)
LOCATIONS_LIMIT = resources.limit_param(10, kind="integer")


@route(bp, "POST", "/contacts/", summary="Create a contact", scope="contacts.write", kind=None,
       body=(LOCATION_ID,) + inputs.CONTACT_FIELDS, response={"contact": "Contact"}, status=201)
def create_contact():
    body = json_body()
    contact = crm.create_contact(acting_location(body), body)
    return {"contact": shapes.contact(contact)}, 201


@route(bp, "POST", "/contacts/upsert", summary="Create or update a contact (matched by email, then phone)",
       scope="contacts.write", kind=None, body=(LOCATION_ID,) + inputs.CONTACT_FIELDS,
       response={"new": "boolean", "contact": "Contact"})
def upsert_contact():
    body = json_body()
    contact, new = crm.upsert_contact(acting_location(body), body)
    return {"new": new, "contact": shapes.contact(contact)}


@route(bp, "GET", "/contacts/", summary="List contacts", scope="contacts.readonly", kind=None,
       query=ON_LOCATION + CONTACTS_QUERY, response={"contacts": ["Contact"], "meta": "ContactsMeta"})
def list_contacts():
    return resources.contacts_page(acting_location())


@route(bp, "POST", "/contacts/search", summary="Search contacts", scope="contacts.readonly", kind=None,
       body=(LOCATION_ID, param("query", "string", "text to find"), PAGE_LIMIT, resources.PAGE),
       response={"contacts": ["Contact"], "total": "integer"})
def search_contacts():
    body = json_body()
    location = acting_location(body)
    limit = int_arg(PAGE_LIMIT, 20, source=body)
    page = int_arg(resources.PAGE, 1, source=body)
    query = Contact.matching(location, str_arg("query", source=body)).order_by(
        Contact.date_added, Contact.id
    )
    return {"contacts": [shapes.contact(row) for row in query.paginate(page, limit)], "total": query.count()}


@route(bp, "GET", "/contacts/search/duplicate", summary="Find the contact an email (first) or phone number matches",
       scope="contacts.readonly", kind=None,
       query=ON_LOCATION + (param("email", "email"), param("number", "phone", "phone number")),
       response={"contact": "Contact?"})
def duplicate_contact():
    found = crm.duplicate_contact(acting_location(), str_arg("email"), str_arg("number"))
    return {"contact": shapes.contact(found) if found else None}


@route(bp, "GET", "/contacts/<contactId>", summary="Get a contact", scope="contacts.readonly", kind=None,
       query=ON_LOCATION, response={"contact": "Contact"})
def get_contact(contactId):
    return {"contact": shapes.contact(resources.contact(acting_location(), contactId))}


@route(bp, "PUT", "/contacts/<contactId>", summary="Update a contact", scope="contacts.write", kind=None,
       query=ON_LOCATION, body=inputs.CONTACT_FIELDS, response={**SUCCEEDED_SCHEMA, "contact": "Contact"})
def update_contact(contactId):
    body = json_body()
    found = resources.contact(acting_location(body), contactId)
    return {**SUCCEEDED, "contact": shapes.contact(crm.update_contact(found, body))}


@route(bp, "DELETE", "/contacts/<contactId>", summary="Delete a contact", scope="contacts.write", kind=None,
       query=ON_LOCATION, response=SUCCEEDED_SCHEMA)
def delete_contact(contactId):
    crm.delete_contact(resources.contact(acting_location(), contactId))
    return SUCCEEDED


@route(bp, "POST", "/contacts/<contactId>/tags", summary="Add tags to a contact", scope="contacts.write",
       kind=None, query=ON_LOCATION, body=TAGS_BODY, required=("tags",), response={"tags": ["string"]}, status=201)
def add_tags(contactId):
    return resources.change_tags(acting_location(), contactId, add=True), 201


@route(bp, "DELETE", "/contacts/<contactId>/tags", summary="Remove tags from a contact", scope="contacts.write",
       kind=None, query=ON_LOCATION, body=TAGS_BODY, required=("tags",), response={"tags": ["string"]})
def remove_tags(contactId):
    return resources.change_tags(acting_location(), contactId, add=False)


@route(bp, "POST", "/contacts/<contactId>/workflow/<workflowId>", summary="Add a contact to a workflow",
       scope="contacts.write", kind=None, query=ON_LOCATION, body=ENROLL_BODY, response=SUCCEEDED_SCHEMA)
def enroll(contactId, workflowId):
    resources.change_enrollment(acting_location(), contactId, workflowId, add=True)
    return SUCCEEDED


@route(bp, "DELETE", "/contacts/<contactId>/workflow/<workflowId>", summary="Remove a contact from a workflow",
       scope="contacts.write", kind=None, query=ON_LOCATION, response=SUCCEEDED_SCHEMA)
def unenroll(contactId, workflowId):
    resources.change_enrollment(acting_location(), contactId, workflowId, add=False)
    return SUCCEEDED


@route(bp, "GET", "/workflows/", summary="List workflows", scope="workflows.readonly", kind=None,
       query=ON_LOCATION, response={"workflows": ["Workflow"]})
def list_workflows():
    return resources.workflows(acting_location())


@route(bp, "GET", "/forms/", summary="List forms", scope="forms.readonly", kind=None,
       query=ON_LOCATION + (FORMS_SKIP, FORMS_LIMIT),
       response={"forms": ["Form"], "total": "integer"})
def list_forms():
    location = acting_location()
    skip, limit = int_arg(FORMS_SKIP, 0), int_arg(FORMS_LIMIT, 50)
    forms, total = resources.forms(location, skip, limit)
    return {"forms": forms, "total": total}


@route(bp, "GET", "/forms/submissions", summary="List form submissions", scope="forms.readonly", kind=None,
       query=ON_LOCATION + SUBMISSIONS_QUERY, response={"submissions": ["Submission"], "meta": "PageMeta"})
def list_submissions():
    return resources.submissions_page(acting_location())


@route(bp, "GET", "/links/", summary="List trigger links", scope="links.readonly", kind=None,
       query=ON_LOCATION, response={"links": ["Link"]})
def list_links():
    return resources.links(acting_location())


@route(bp, "POST", "/links/", summary="Create a trigger link", scope="links.write", kind=None,
       body=(LOCATION_ID,) + inputs.LINK_FIELDS, required=("name", "redirectTo"),
       response={"link": "Link"}, status=201)
def create_link():
    body = json_body()
    return {"link": shapes.link(crm.create_link(acting_location(body), body))}, 201


@route(bp, "GET", "/links/id/<linkId>", summary="Get a trigger link", scope="links.readonly", kind=None,
       query=ON_LOCATION, response={"link": "Link"})
def get_link(linkId):
    return {"link": shapes.link(find(TriggerLink, acting_location(), linkId, "Link"))}


@route(bp, "PUT", "/links/<linkId>", summary="Update a trigger link", scope="links.write", kind=None,
       query=ON_LOCATION, body=inputs.LINK_FIELDS, response={"link": "Link"}, status=201)
def update_link(linkId):
    body = json_body()
    link = find(TriggerLink, acting_location(body), linkId, "Link")
    return {"link": shapes.link(crm.update_link(link, body))}, 201  # 201 as HighLevel's spec says


@route(bp, "DELETE", "/links/<linkId>", summary="Delete a trigger link", scope="links.write", kind=None,
       query=ON_LOCATION, response=SUCCEEDED_SCHEMA, status=201)
def delete_link(linkId):
    crm.delete_link(find(TriggerLink, acting_location(), linkId, "Link"))
    return SUCCEEDED, 201  # 201 as HighLevel's spec says


@route(bp, "GET", "/locations/search", summary="Search the agency's locations", scope="locations.readonly",
       kind=AGENCY, query=(param("companyId", "string", "the agency's companyId"), LOCATIONS_SKIP,
                           LOCATIONS_LIMIT, resources.ORDER,
                           param("email", "email", "only locations with this email")),
       response={"locations": ["Location"]})
def search_locations():
    agency_id = g.api_key.agency_id
    company = str_arg("companyId")
    if company is not None and company != str(agency_id):
        raise not_found("Company")
    skip, limit = int_arg(LOCATIONS_SKIP, 0), int_arg(LOCATIONS_LIMIT, 10)
    order = choice_arg(resources.ORDER)
    email = inputs.clean(inputs.LOCATION_FIELDS, {"email": str_arg("email")}).get("email")
    rows = Location.of_agency(agency_id, email, descending=order == "desc").offset(skip).limit(limit)
    return {"locations": [shapes.location(row) for row in rows]}


@route(bp, "GET", "/locations/<locationId>", summary="Get a location", scope="locations.readonly", kind=None,
       response={"location": "Location"})
def get_location(locationId):
    return {"location": shapes.location(reachable_location(locationId))}


# --- a location's custom fields -------------------------------------------------------

FIELDS_READ, FIELDS_WRITE = "locations/customFields.readonly", "locations/customFields.write"
CUSTOM_FIELDS_MODEL = param("model", "choice", "all (default), contact or opportunity (Keyhouse has contact fields only)",
                            choices=("all", "contact", "opportunity"))


@route(bp, "GET", "/locations/<locationId>/customFields", summary="List a location's custom fields",
       scope=FIELDS_READ, kind=None,
       query=(CUSTOM_FIELDS_MODEL,),
       response={"customFields": ["CustomField"]})
def list_custom_fields(locationId):
    location = reachable_location(locationId)
    if choice_arg(CUSTOM_FIELDS_MODEL) == "opportunity":
        return {"customFields": []}
    return resources.custom_fields(location)


@route(bp, "POST", "/locations/<locationId>/customFields", summary="Create a custom field", scope=FIELDS_WRITE,
       kind=None, body=resources.CUSTOM_FIELD_BODY, required=("name", "dataType"),
       response={"customField": "CustomField"}, status=201)
def create_custom_field(locationId):
    field = crm.create_custom_field(reachable_location(locationId), json_body())
    return {"customField": shapes.custom_field(field)}, 201


@route(bp, "GET", "/locations/<locationId>/customFields/<id>", summary="Get a custom field", scope=FIELDS_READ,
       kind=None, response={"customField": "CustomField"})
def get_custom_field(locationId, id):
    return {"customField": shapes.custom_field(resources.custom_field(reachable_location(locationId), id))}


@route(bp, "PUT", "/locations/<locationId>/customFields/<id>", summary="Update a custom field (not its dataType)",
       scope=FIELDS_WRITE, kind=None, body=inputs.CUSTOM_FIELD_FIELDS, response={"customField": "CustomField"})
def update_custom_field(locationId, id):
    field = resources.custom_field(reachable_location(locationId), id)
    return {"customField": shapes.custom_field(crm.update_custom_field(field, json_body()))}


@route(bp, "DELETE", "/locations/<locationId>/customFields/<id>", summary="Delete a custom field and its values",
       scope=FIELDS_WRITE, kind=None, response=SUCCEEDED_SCHEMA)
def delete_custom_field(locationId, id):
    crm.delete_custom_field(resources.custom_field(reachable_location(locationId), id))
    return SUCCEEDED


# --- a contact's notes and tasks -----------------------------------------------------


@route(bp, "GET", "/contacts/<contactId>/notes", summary="List a contact's notes", scope="contacts.readonly",
       kind=None, query=ON_LOCATION, response={"notes": ["Note"]})
def list_notes(contactId):
    return resources.children(acting_location(), contactId, "note")


@route(bp, "POST", "/contacts/<contactId>/notes", summary="Add a note to a contact", scope="contacts.write",
       kind=None, query=ON_LOCATION, body=inputs.NOTE_FIELDS, required=("body",), response={"note": "Note"},
       status=201)
def create_note(contactId):
    return resources.create_child(acting_location(), contactId, "note"), 201


@route(bp, "GET", "/contacts/<contactId>/notes/<id>", summary="Get a note", scope="contacts.readonly", kind=None,
       query=ON_LOCATION, response={"note": "Note"})
def get_note(contactId, id):
    return {"note": shapes.note(resources.child(acting_location(), contactId, "note", id))}


@route(bp, "PUT", "/contacts/<contactId>/notes/<id>", summary="Update a note", scope="contacts.write", kind=None,
       query=ON_LOCATION, body=inputs.NOTE_FIELDS, response={"note": "Note"})
def update_note(contactId, id):
    return resources.update_child(acting_location(), contactId, "note", id)


@route(bp, "DELETE", "/contacts/<contactId>/notes/<id>", summary="Delete a note", scope="contacts.write",
       kind=None, query=ON_LOCATION, response=SUCCEEDED_SCHEMA)
def delete_note(contactId, id):
    resources.delete_child(acting_location(), contactId, "note", id)
    return SUCCEEDED


@route(bp, "GET", "/contacts/<contactId>/tasks", summary="List a contact's tasks", scope="contacts.readonly",
       kind=None, query=ON_LOCATION, response={"tasks": ["Task"]})
def list_tasks(contactId):
    return resources.children(acting_location(), contactId, "task")


@route(bp, "POST", "/contacts/<contactId>/tasks", summary="Add a task to a contact", scope="contacts.write",
       kind=None, query=ON_LOCATION, body=inputs.TASK_FIELDS, required=("title", "dueDate"),
       response={"task": "Task"}, status=201)
def create_task(contactId):
    return resources.create_child(acting_location(), contactId, "task"), 201


@route(bp, "GET", "/contacts/<contactId>/tasks/<taskId>", summary="Get a task", scope="contacts.readonly",
       kind=None, query=ON_LOCATION, response={"task": "Task"})
def get_task(contactId, taskId):
    return {"task": shapes.task(resources.child(acting_location(), contactId, "task", taskId))}


@route(bp, "PUT", "/contacts/<contactId>/tasks/<taskId>", summary="Update a task", scope="contacts.write",
       kind=None, query=ON_LOCATION, body=inputs.TASK_FIELDS, response={"task": "Task"})
def update_task(contactId, taskId):
    return resources.update_child(acting_location(), contactId, "task", taskId)


@route(bp, "PUT", "/contacts/<contactId>/tasks/<taskId>/completed", summary="Mark a task completed or not",
       scope="contacts.write", kind=None, query=ON_LOCATION, body=inputs.TASK_COMPLETED, required=("completed",),
       response={"task": "Task"})
def complete_task(contactId, taskId):
    return resources.update_child(acting_location(), contactId, "task", taskId, change=crm.complete_task)


@route(bp, "DELETE", "/contacts/<contactId>/tasks/<taskId>", summary="Delete a task", scope="contacts.write",
       kind=None, query=ON_LOCATION, response=SUCCEEDED_SCHEMA)
def delete_task(contactId, taskId):
    resources.delete_child(acting_location(), contactId, "task", taskId)
    return SUCCEEDED


# --- the calling key itself ----------------------------------------------------------


@route(bp, "GET", "/keys/self", summary=self_key.SUMMARY["self"], scope=None, kind=None, response={"key": "ApiKey"})
def key_self():
    return self_key.describe()


@route(bp, "POST", "/keys/self/roll", summary=self_key.SUMMARY["roll"], scope=self_key.SELF_ROLL, kind=None,
       body=self_key.ROLL_BODY, response={"key": "NewApiKey", "previousKeyExpiresAt": "string"}, status=201,
       errors=(409,))
def roll_key_self():
    return self_key.roll(), 201  # 201 as API 2.0's other creating routes
