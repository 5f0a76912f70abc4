"""Scopes (API 2.0 style): what a key may do, with the words the dashboard shows.

LABELS is the one table: its order is the canonical order keys store their
scopes in; FOR_KIND derives which scopes each kind of key can have (a key
gets all of its kind's by default).
"""

from .tokens import AGENCY, LOCATION

LABELS = {
    "contacts.readonly": "Read contacts",
    "contacts.write": "Create, change and delete contacts",
    "locations.readonly": "Read locations",
    "workflows.readonly": "Read workflows",
    "forms.readonly": "Read forms and submissions",
    "links.readonly": "Read trigger links",
    "links.write": "Create, change and delete trigger links",
    "locations.write": "Create, change and delete locations",
    "locations/customFields.readonly": "Read a location's custom fields",
    "locations/customFields.write": "Create, change and delete a location's custom fields",
}
AGENCY_ONLY = ("locations.write",)  # creating and deleting locations is the agency's business

KIND_SCOPES = {
    LOCATION: tuple(scope for scope in LABELS if scope not in AGENCY_ONLY),
    AGENCY: tuple(LABELS),
}
