"""The calling key's own routes, alike in both versions: `GET /keys/self` and
`POST /keys/self/roll` (docs/api.md, "Your own key").

No scope is needed to look at oneself; rolling oneself needs the opt-in scope
keys.self_roll (keyhouse/keys/scopes.py). Both answer `{"key": {...}}`; the
roll's answer is the only one that ever carries the new key (`apiKey`).
"""

import datetime

from flask import g
from peewee import JOIN

from keyhouse.crm.inputs import Field
from keyhouse.crm.shapes import iso
from keyhouse.keys import apikeys, lifecycle
from keyhouse.keys.scopes import SELF_ROLL
from keyhouse.models import ApiKey, Location, utcnow
from keyhouse.web.jsonio import ApiError, json_body
from keyhouse.web.params import client_ip

GRACE_CHOICES = tuple(apikeys.ROLL_GRACE)
GRACE = Field(
    "grace", "", "choice",
    description=f"how long the old key keeps working: {', '.join(GRACE_CHOICES)} (default {apikeys.DEFAULT_GRACE}; "
                "none stops it at once)",
    choices=GRACE_CHOICES,
)
ROLL_BODY = (GRACE,)
SUMMARY = {
    "self": "The calling key: its name, kind, scopes, dates and end (no scope needed)",
    "roll": f"Roll the calling key (needs {SELF_ROLL}): the answer carries the new key, once",
}


def shape(key, now):
    """A key as the self routes answer it; `expiresAt` is its known end (lifecycle.known_end), else null,
    and `deletionAt` when it goes if it is not used again (this request counts as a use)."""
    end = lifecycle.known_end(key)
    return {
        "id": str(key.id),
        "name": key.name,
        "kind": key.kind,
        "hint": key.hint,
        "scopes": key.scope_list,
        "locationId": key.location.api_id if key.location_id else None,
        "companyId": str(key.agency_id),
        "createdAt": iso(key.created_at),
        "lastUsedAt": iso(key.last_used_at),
        "expiresAt": iso(end),
        "deletionAt": iso(end or now + datetime.timedelta(days=lifecycle.rule().inactivity_days)),
    }


def describe():
    """{"key": {...}}: the calling key as stored (lastUsedAt is the use before this request)."""
    row = (
        ApiKey.select(ApiKey, Location)  # one query, its location included
        .join(Location, JOIN.LEFT_OUTER, on=(ApiKey.location == Location.id))
        .where(ApiKey.id == g.api_key.id)
        .get()
    )
    return {"key": shape(row, utcnow())}


def roll():
    """{"key": {..., "apiKey"}, "previousKeyExpiresAt"}: the calling key replaced by a new one."""
    grace = json_body().get("grace", apikeys.DEFAULT_GRACE)
    if not isinstance(grace, str) or grace not in apikeys.ROLL_GRACE:
        raise ApiError(422, f"grace must be one of {', '.join(GRACE_CHOICES)}")
    old = g.api_key
    try:
        new, plaintext = apikeys.self_roll(old, grace, ip=client_ip())
    except apikeys.KeyProblem as problem:  # rolled already (or meanwhile): the replacement may roll
        raise ApiError(409, problem.message) from None
    return {"key": {**shape(new, new.created_at), "apiKey": plaintext}, "previousKeyExpiresAt": iso(old.expires_at)}
