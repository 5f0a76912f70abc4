"""Bulk actions: deactivate, reactivate, roll or delete several keys at once.

Each key goes through the same function as a single change (keyhouse/keys/apikeys.py),
so each gets its own audit event; keys the user may not manage are refused by
name, ids outside the user's reach are only counted (as a single key's 404 would).
"""

import dataclasses

from peewee import JOIN

from keyhouse import permissions
from keyhouse.keys import apikeys
from keyhouse.models import ApiKey, KeyStatus, Location

MAX_KEYS = 100  # per bulk action (two pages of the list)
ACTIONS = {  # code -> (verb shown, past tense)
    "deactivate": ("Deactivate", "Deactivated"),
    "reactivate": ("Reactivate", "Reactivated"),
    "roll": ("Roll", "Rolled"),
    "delete": ("Delete", "Deleted"),
}


@dataclasses.dataclass
class Selection:
    keys: list  # live keys the user manages, that the action applies to
    skipped: list  # [(key, why)] managed keys the action does not apply to (e.g. already deactivated)
    refused: list  # keys the user sees but may not manage: refused by name
    missing: int  # ids that are not live keys in the user's reach


def why_not(action, key):
    """Why `action` does not apply to `key` (a live key the user manages), or None."""
    if action == "deactivate" and key.status != KeyStatus.ACTIVE:
        return "already deactivated"
    if action == "reactivate" and key.status != KeyStatus.INACTIVE:
        return "not deactivated"
    if action == "roll" and key.expires_at is not None:
        return "rolled already: roll its replacement"
    return None


def select(user, action, key_ids):
    """Sort the chosen ids for `user` and `action` (ids beyond MAX_KEYS are ignored by the caller)."""
    ids = sorted(set(key_ids))
    keys = []
    if ids:  # with their locations in the same query: the confirmation names each key's owner
        keys = list(
            ApiKey.select(ApiKey, Location)
            .join(Location, JOIN.LEFT_OUTER, on=(ApiKey.location == Location.id))
            .where(ApiKey.id.in_(ids) & ApiKey.status.in_(KeyStatus.LIVE))
            .order_by(ApiKey.name, ApiKey.id)
        )
    managed = permissions.managed_location_ids(user)
    selection = Selection([], [], [], len(ids))
    for key in keys:
        if not permissions.sees_key(user, key):
            continue
        selection.missing -= 1
        if not permissions.manages_key(user, key, managed):
            selection.refused.append(key)
        elif (reason := why_not(action, key)) is not None:
            selection.skipped.append((key, reason))
        else:
            selection.keys.append(key)
    return selection


@dataclasses.dataclass
class Outcome:
    key: ApiKey
    problem: str | None = None  # why it did not change (changed meanwhile), else None
    new_key: ApiKey | None = None  # after a roll
    plaintext: str | None = None  # after a roll: shown once, in the answer to this request only


def apply(action, keys, *, actor, ip=None, grace="none"):
    """Do `action` to each key, each with its own audit event; [Outcome] in the keys' order."""
    outcomes = []
    for key in keys:
        try:
            if action == "deactivate":
                apikeys.deactivate(key, actor=actor, ip=ip)
            elif action == "reactivate":
                apikeys.reactivate(key, actor=actor, ip=ip)
            elif action == "roll":
                new_key, plaintext = apikeys.roll(key, grace, actor=actor, ip=ip)
                outcomes.append(Outcome(key, new_key=new_key, plaintext=plaintext))
                continue
            elif action == "delete":
                if not apikeys.delete(key, actor=actor, ip=ip):
                    raise apikeys.KeyProblem("deleted meanwhile")
            else:
                raise ValueError(f"unknown bulk action {action!r}")
        except apikeys.KeyProblem as problem:
            outcomes.append(Outcome(key, problem=problem.message))
            continue
        outcomes.append(Outcome(key))
    return outcomes
