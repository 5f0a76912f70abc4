"""API 1.0 (`/v1`): HighLevel's v1 paths. Location resources need a location key
(the key's own location); locations need an agency key. No Version header."""

from flask import Blueprint, g

from keyhouse.crm import actions as crm
from keyhouse.crm import inputs, shapes
from keyhouse.keys.tokens import AGENCY, LOCATION
from keyhouse.models import Location
from keyhouse.web.jsonio import json_body
from keyhouse.web.params import client_ip

from . import leaks, resources, self_key
from .common import agency_location, init_blueprint
from .resources import (
    CONTACTS_QUERY,
    ENROLL_BODY,
    SORT_QUERY,
    SUBMISSIONS_QUERY,
    TAGS_BODY,
)
from .routes import param, route

bp = Blueprint("v1", __name__, url_prefix="/v1")
init_blueprint(bp)
leaks.init(bp)  # POST /v1/credentials/revoke: public, no key


def here():
    """The location a location key acts for."""
    return g.api_key.location


@route(bp, "GET", "/contacts/", summary="List contacts", scope="contacts.readonly", kind=LOCATION,
       query=CONTACTS_QUERY + SORT_QUERY, response={"contacts": ["Contact"], "meta": "ContactsMeta"})
def list_contacts():
    return resources.contacts_page(here(), sortable=True)


@route(bp, "POST", "/contacts/", summary="Create a contact", scope="contacts.write", kind=LOCATION,
       body=inputs.CONTACT_FIELDS, response={"contact": "Contact"})
def create_contact():
    return {"contact": shapes.contact(crm.create_contact(here(), json_body()))}


@route(bp, "GET", "/contacts/lookup", summary="Find contacts by email or phone", scope="contacts.readonly",
       kind=LOCATION, query=(param("email", "email"), param("phone", "phone")), response={"contacts": ["Contact"]})
def lookup_contacts():
    return resources.lookup(here())


@route(bp, "GET", "/contacts/<contactId>", summary="Get a contact", scope="contacts.readonly", kind=LOCATION,
       response={"contact": "Contact"})
def get_contact(contactId):
    return {"contact": shapes.contact(resources.contact(here(), contactId))}


@route(bp, "PUT", "/contacts/<contactId>", summary="Update a contact", scope="contacts.write", kind=LOCATION,
       body=inputs.CONTACT_FIELDS, response={"contact": "Contact"})
def update_contact(contactId):
    found = resources.contact(here(), contactId)
    return {"contact": shapes.contact(crm.update_contact(found, json_body()))}


@route(bp, "DELETE", "/contacts/<contactId>", summary="Delete a contact", scope="contacts.write", kind=LOCATION,
       response={})
def delete_contact(contactId):
    crm.delete_contact(resources.contact(here(), contactId))
    return {}


@route(bp, "POST", "/contacts/<contactId>/tags/", summary="Add tags to a contact", scope="contacts.write",
       kind=LOCATION, body=TAGS_BODY, required=("tags",), response={"tags": ["string"]})
def add_tags(contactId):
    return resources.change_tags(here(), contactId, add=True)


@route(bp, "DELETE", "/contacts/<contactId>/tags/", summary="Remove tags from a contact", scope="contacts.write",
       kind=LOCATION, body=TAGS_BODY, required=("tags",), response={"tags": ["string"]})
def remove_tags(contactId):
    return resources.change_tags(here(), contactId, add=False)


@route(bp, "POST", "/contacts/<contactId>/workflow/<workflowId>", summary="Add a contact to a workflow",
       scope="contacts.write", kind=LOCATION, body=ENROLL_BODY, response={})
def enroll(contactId, workflowId):
    resources.change_enrollment(here(), contactId, workflowId, add=True)
    return {}


@route(bp, "DELETE", "/contacts/<contactId>/workflow/<workflowId>", summary="Remove a contact from a workflow",
       scope="contacts.write", kind=LOCATION, response={})
def unenroll(contactId, workflowId):
    resources.change_enrollment(here(), contactId, workflowId, add=False)
    return {}


@route(bp, "GET", "/contacts/<contactId>/notes/", summary="List a contact's notes", scope="contacts.readonly",
       kind=LOCATION, response={"notes": ["Note"]})
def list_notes(contactId):
    return resources.children(here(), contactId, "note")


@route(bp, "POST", "/contacts/<contactId>/notes/", summary="Add a note to a contact", scope="contacts.write",
       kind=LOCATION, body=inputs.NOTE_FIELDS, required=("body",), response={"note": "Note"})
def create_note(contactId):
    return resources.create_child(here(), contactId, "note")


@route(bp, "GET", "/contacts/<contactId>/notes/<noteId>", summary="Get a note", scope="contacts.readonly",
       kind=LOCATION, response={"note": "Note"})
def get_note(contactId, noteId):
    return {"note": shapes.note(resources.child(here(), contactId, "note", noteId))}


@route(bp, "PUT", "/contacts/<contactId>/notes/<noteId>", summary="Update a note", scope="contacts.write",
       kind=LOCATION, body=inputs.NOTE_FIELDS, response={"note": "Note"})
def update_note(contactId, noteId):
    return resources.update_child(here(), contactId, "note", noteId)


@route(bp, "DELETE", "/contacts/<contactId>/notes/<noteId>", summary="Delete a note", scope="contacts.write",
       kind=LOCATION, response={})
def delete_note(contactId, noteId):
    resources.delete_child(here(), contactId, "note", noteId)
    return {}


@route(bp, "GET", "/contacts/<contactId>/tasks/", summary="List a contact's tasks", scope="contacts.readonly",
       kind=LOCATION, response={"tasks": ["Task"]})
def list_tasks(contactId):
    return resources.children(here(), contactId, "task")


@route(bp, "POST", "/contacts/<contactId>/tasks/", summary="Add a task to a contact", scope="contacts.write",
       kind=LOCATION, body=inputs.TASK_FIELDS, required=("title", "dueDate"), response={"task": "Task"})
def create_task(contactId):
    return resources.create_child(here(), contactId, "task")


@route(bp, "GET", "/contacts/<contactId>/tasks/<taskId>", summary="Get a task", scope="contacts.readonly",
       kind=LOCATION, response={"task": "Task"})
def get_task(contactId, taskId):
    return {"task": shapes.task(resources.child(here(), contactId, "task", taskId))}


@route(bp, "PUT", "/contacts/<contactId>/tasks/<taskId>", summary="Update a task", scope="contacts.write",
       kind=LOCATION, body=inputs.TASK_FIELDS, response={"task": "Task"})
def update_task(contactId, taskId):
    return resources.update_child(here(), contactId, "task", taskId)


@route(bp, "DELETE", "/contacts/<contactId>/tasks/<taskId>", summary="Delete a task", scope="contacts.write",
       kind=LOCATION, response={})
def delete_task(contactId, taskId):
    resources.delete_child(here(), contactId, "task", taskId)
    return {}


@route(bp, "GET", "/custom-fields/", summary="List the location's custom fields",
       scope="locations/customFields.readonly", kind=LOCATION, response={"customFields": ["CustomField"]})
def list_custom_fields():
    return resources.custom_fields(here())


@route(bp, "GET", "/custom-fields/<customFieldId>", summary="Get a custom field",
       scope="locations/customFields.readonly", kind=LOCATION, response={"customField": "CustomField"})
def get_custom_field(customFieldId):
    return {"customField": shapes.custom_field(resources.custom_field(here(), customFieldId))}


@route(bp, "GET", "/workflows/", summary="List workflows", scope="workflows.readonly", kind=LOCATION,
       response={"workflows": ["Workflow"]})
def list_workflows():
    return resources.workflows(here())


@route(bp, "GET", "/forms/", summary="List forms", scope="forms.readonly", kind=LOCATION,
       response={"forms": ["Form"]})
def list_forms():
    forms, _ = resources.forms(here())
    return {"forms": forms}


@route(bp, "GET", "/forms/submissions", summary="List form submissions", scope="forms.readonly", kind=LOCATION,
       query=SUBMISSIONS_QUERY, response={"submissions": ["Submission"], "meta": "PageMeta"})
def list_submissions():
    return resources.submissions_page(here())


@route(bp, "GET", "/links/", summary="List trigger links", scope="links.readonly", kind=LOCATION,
       response={"links": ["Link"]})
def list_links():
    return resources.links(here())


@route(bp, "GET", "/locations/", summary="List the agency's locations", scope="locations.readonly", kind=AGENCY,
       response={"locations": ["Location"]})
def list_locations():
    return {"locations": [shapes.location(row) for row in Location.of_agency(g.api_key.agency_id)]}


@route(bp, "POST", "/locations/", summary="Create a location", scope="locations.write", kind=AGENCY,
       body=inputs.LOCATION_FIELDS, required=("name",), response="Location")
def create_location():
    return shapes.location(crm.create_location(g.api_key.agency_id, json_body()))


@route(bp, "GET", "/locations/<locationId>", summary="Get a location", scope="locations.readonly", kind=AGENCY,
       response="Location")
def get_location(locationId):
    return shapes.location(agency_location(locationId))


@route(bp, "PUT", "/locations/<locationId>", summary="Update a location", scope="locations.write", kind=AGENCY,
       body=inputs.LOCATION_FIELDS, response="Location")
def update_location(locationId):
    return shapes.location(crm.update_location(agency_location(locationId), json_body()))


@route(bp, "DELETE", "/locations/<locationId>", summary="Delete a location and everything in it",
       scope="locations.write", kind=AGENCY, response={})
def delete_location(locationId):
    crm.delete_location(agency_location(locationId), ip=client_ip())
    return {}


# --- the calling key itself ----------------------------------------------------------


@route(bp, "GET", "/keys/self", summary=self_key.SUMMARY["self"], scope=None, kind=None, response={"key": "ApiKey"})
def key_self():
    return self_key.describe()


@route(bp, "POST", "/keys/self/roll", summary=self_key.SUMMARY["roll"], scope=self_key.SELF_ROLL, kind=None,
       body=self_key.ROLL_BODY, response={"key": "NewApiKey", "previousKeyExpiresAt": "string"}, errors=(409,))
def roll_key_self():
    return self_key.roll()
