"""Scopes (API 2.0 style): what a key may do, with the words the dashboard shows.

LABELS is the one table: its order is the canonical order keys store their
scopes in; KIND_SCOPES derives which scopes each kind of key can have, and
DEFAULT_SCOPES which it gets when nobody chooses: all of its kind's except the
OPT_IN ones, which someone must tick on purpose.
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
    "keys.self_roll": "Roll itself through the API (POST /keys/self/roll), off by default",
}
AGENCY_ONLY = ("locations.write",)  # creating and deleting locations is the agency's business
SELF_ROLL = "keys.self_roll"  # the key may replace itself (apikeys.self_roll)
OPT_IN = (SELF_ROLL,)  # never granted by default

KIND_SCOPES = {
    LOCATION: tuple(scope for scope in LABELS if scope not in AGENCY_ONLY),
    AGENCY: tuple(LABELS),
}
DEFAULT_SCOPES = {kind: tuple(scope for scope in scopes if scope not in OPT_IN) for kind, scopes in KIND_SCOPES.items()}
