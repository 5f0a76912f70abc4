"""What can happen to an API key, in one place for the dashboard, the API and the jobs.

Every change is written together with its audit event in one transaction. The
plaintext of a key exists only in the return value of `create` and `roll`.
"""

import dataclasses
import datetime

from peewee import Case, IntegrityError, Node

from keyhouse import audit
from keyhouse.keys import allowlist, expiry, lifecycle, tokens
from keyhouse.keys.scopes import DEFAULT_SCOPES, KIND_SCOPES, SELF_ROLL
from keyhouse.models import ApiKey, KeyStatus, Notification, db, utcnow
from keyhouse.models.keys import NAME_MAX, USER_AGENT_MAX
from keyhouse.models.lookup import Lookup
from keyhouse.problems import Problem

USE_WRITE_INTERVAL = datetime.timedelta(minutes=1)  # at most one write per key per minute
ROLL_GRACE = {  # the choices staff get when rolling a key: how long the old key keeps working
    "none": (None, "Stop the old key now"),
    "1h": (datetime.timedelta(hours=1), "Keep the old key working for 1 hour"),
    "24h": (datetime.timedelta(hours=24), "Keep the old key working for 24 hours"),
    "7d": (datetime.timedelta(days=7), "Keep the old key working for 7 days"),
}
DEFAULT_GRACE = "24h"  # the safe choice: the old key keeps working while the new one is deployed


class KeyProblem(Problem):
    """A change to a key was refused; `field` names the input at fault (or None)."""


class KeyGone(KeyProblem):
    """The key was deleted while the change was on its way."""

    def __init__(self):
        super().__init__("This key has been deleted.")


def clean_name(name):
    """The trimmed name, or KeyProblem naming what is wrong with it."""
    name = " ".join((name or "").split())
    if not name:
        raise KeyProblem("Give the key a name, for example “Marketing Automation”.", "name")
    if len(name) > NAME_MAX:
        raise KeyProblem(f"Keep the name to {NAME_MAX} characters or fewer (this one has {len(name)}).", "name")
    return name


def clean_scopes(kind, scopes):
    """The scopes as stored (space-separated, in canonical order); None means the kind's defaults."""
    allowed = KIND_SCOPES[kind]
    if scopes is not None and not scopes:
        raise KeyProblem("Choose at least one scope.", "scopes")
    chosen = set(DEFAULT_SCOPES[kind] if scopes is None else scopes)
    unknown = sorted(chosen - set(allowed))
    if unknown:
        raise KeyProblem(f"Not a scope for {kind} keys: {', '.join(unknown)}.", "scopes")
    return " ".join(scope for scope in allowed if scope in chosen)


def _unique_name(owner, name):
    return f"{owner}/{name.casefold()}"


def _taken(name):
    return KeyProblem(f"A live key here is already called “{name}”. Pick another name.", "name")


def _first_look(key, now):
    """A new key's first look by the sweep: None (when its first inactivity warning is due, found by
    ApiKey.never_looked_at) unless it has an expiry date, whose warnings may come first."""
    return lifecycle.rule().next_look_at(key, now) if key.valid_until is not None else None


def create(*, agency_id, location_id=None, name, scopes=None, valid_until=None, actor=None, ip=None, now=None):
    """A new active key; returns (key, plaintext). The plaintext is never stored.

    `valid_until` is its expiry date (None: none); the agency's lifetime policy
    refuses one beyond it (KeyProblem on the field "expiry").
    """
    kind = tokens.LOCATION if location_id else tokens.AGENCY
    name = clean_name(name)
    scopes = clean_scopes(kind, scopes)
    now = now or utcnow()
    if valid_until is not None and valid_until <= now:
        raise KeyProblem("Choose an expiry in the future.", "expiry")
    problem = expiry.policy_problem(valid_until, expiry.max_days(agency_id), now)
    if problem:
        raise KeyProblem(problem, "expiry")
    plaintext = tokens.generate(kind)
    key = ApiKey(
        agency=agency_id,
        location=location_id,
        kind=kind,
        name=name,
        digest=tokens.digest(plaintext),
        hint=tokens.hint(plaintext),
        scopes=scopes,
        created_by=actor.id if actor else None,
        created_at=now,
        activity_at=now,
        valid_until=valid_until,
    )
    key.sweep_at = _first_look(key, now)
    key.unique_name = _unique_name(key.owner, name)
    try:
        with db.atomic():
            key.save(force_insert=True)
            audit.record("create", agency_id=agency_id, key=key, actor=actor, ip=ip, detail=name)
    except IntegrityError:
        raise _taken(name) from None
    return key, plaintext


@dataclasses.dataclass(frozen=True)
class Authentication:
    key: ApiKey | None
    problem: str | None  # None when the key may be used

    MALFORMED = "malformed"
    INVALID = "invalid"
    DEACTIVATED = "deactivated"


_REFUSED_MALFORMED = Authentication(None, Authentication.MALFORMED)
_REFUSED_INVALID = Authentication(None, Authentication.INVALID)

# What a request needs of its key (the guard, record_use, audit events, failed-use logs).
VERIFIED_FIELDS = (
    ApiKey.id, ApiKey.agency, ApiKey.location, ApiKey.kind, ApiKey.name, ApiKey.hint,
    ApiKey.scopes, ApiKey.status, ApiKey.expires_at, ApiKey.valid_until, ApiKey.allowed_ips,
    ApiKey.last_used_at,
)
_by_digest = Lookup(lambda digest: ApiKey.select(*VERIFIED_FIELDS).where(ApiKey.digest == digest))


def authenticate(token, now=None):
    """The key a bearer token belongs to, or why it may not be used.

    A malformed or checksum-failing token is refused without touching the
    database; otherwise one indexed lookup by digest, on every call (nothing is
    cached, so a key deactivated, deleted or rolled past its grace is refused
    by every process at once). The key carries VERIFIED_FIELDS only.
    """
    if tokens.kind_of(token) is None:
        return _REFUSED_MALFORMED
    key = _by_digest.first(tokens.digest(token))
    if key is None or key.status == KeyStatus.DELETED:
        return _REFUSED_INVALID
    end = lifecycle.known_end(key)
    if end and end <= (now or utcnow()):
        return _REFUSED_INVALID
    if key.status == KeyStatus.INACTIVE:
        return Authentication(key, Authentication.DEACTIVATED)
    return Authentication(key, None)


def record_use(key, ip=None, user_agent=None, now=None):
    """Move the key's activity clock to now (at most one write per key per minute).

    A use resolves the key's open inactivity warnings. Returns True when written.
    """
    now = now or utcnow()
    if key.last_used_at and now - key.last_used_at < USE_WRITE_INTERVAL:
        return False
    with db.atomic():
        written = (
            ApiKey.update(
                last_used_at=now,
                activity_at=now,
                last_used_ip=ip,
                last_used_user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
            )
            .where(
                (ApiKey.id == key.id)
                & (ApiKey.status != KeyStatus.DELETED)
                & (ApiKey.last_used_at.is_null() | (ApiKey.last_used_at <= now - USE_WRITE_INTERVAL))
            )
            .execute()
        )
        if not written:
            return False
        resolved = (
            Notification.update(resolved_at=now)
            .where(
                (Notification.key == key.id)
                & (Notification.kind == Notification.WARNING)
                & Notification.resolved_at.is_null()
            )
            .execute()
        )
        if resolved:
            audit.record("use_after_warning", agency_id=key.agency_id, key=key, ip=ip)
    key.last_used_at = key.activity_at = now
    key.last_used_ip = ip
    return True


def _change(key, action, condition, fields, *, actor=None, ip=None, detail=""):
    """One conditional UPDATE of `key` and its audit event, in one transaction.

    Only the given fields are written, and only while `condition` (on ApiKey)
    still holds, so a change never writes back a stale row. Returns whether it
    changed the key.
    """
    with db.atomic():
        if not ApiKey.update(**fields).where((ApiKey.id == key.id) & condition).execute():
            return False
        audit.record(action, agency_id=key.agency_id, key=key, actor=actor, ip=ip, detail=detail)
    for name, value in fields.items():
        if not isinstance(value, Node):  # an SQL expression is the database's to evaluate
            setattr(key, name, value)
    return True


def rename(key, name, *, actor=None, ip=None):
    """Rename a live key; only the name changes."""
    name = clean_name(name)
    if name == key.name:
        return key
    old = key.name
    # A key being rolled away gave its name to its replacement: it keeps no unique name.
    unique_name = Case(None, [(ApiKey.unique_name.is_null(), None)], _unique_name(key.owner, name))
    try:
        renamed = _change(
            key, "rename", ApiKey.status.in_(KeyStatus.LIVE), {"name": name, "unique_name": unique_name},
            actor=actor, ip=ip, detail=f"{old} → {name}",
        )
    except IntegrityError:
        raise _taken(name) from None
    if not renamed:
        raise KeyGone()
    return key


def _set_status(key, status, action, was, actor, ip, **fields):
    """Move `key` from status `was` to `status`, or say it changed meanwhile."""
    if not _change(key, action, ApiKey.status == was, {"status": status, **fields}, actor=actor, ip=ip):
        raise KeyProblem("This key changed meanwhile. Reload the page to see it as it is now.")
    return key


def deactivate(key, *, actor=None, ip=None):
    if key.status != KeyStatus.ACTIVE:
        raise KeyProblem("Only an active key can be deactivated.")
    return _set_status(key, KeyStatus.INACTIVE, "deactivate", KeyStatus.ACTIVE, actor, ip, deactivated_at=utcnow())


def deactivate_if_active(key, action, *, ip=None, detail="", now=None):
    """Deactivate `key` if it is still active, recording `action` (e.g. "leak_report"); returns
    whether it changed the key (a key deactivated or deleted meanwhile is left as it is)."""
    fields = {"status": KeyStatus.INACTIVE, "deactivated_at": now or utcnow()}
    return _change(key, action, ApiKey.status == KeyStatus.ACTIVE, fields, ip=ip, detail=detail)


def reactivate(key, *, actor=None, ip=None):
    if key.status != KeyStatus.INACTIVE:
        raise KeyProblem("Only a deactivated key can be reactivated.")
    return _set_status(key, KeyStatus.ACTIVE, "reactivate", KeyStatus.INACTIVE, actor, ip, deactivated_at=None)


def delete(key, *, actor=None, ip=None, action="delete", only_if=None, detail=""):
    """Delete for good: the digest is erased, a tombstone row stays for the audit trail.

    Only while the key is live and `only_if` (a condition on ApiKey, e.g. "still
    unused") holds; returns whether it deleted the key.
    """
    condition = ApiKey.status.in_(KeyStatus.LIVE)
    if only_if is not None:
        condition &= only_if
    fields = {"status": KeyStatus.DELETED, "digest": None, "unique_name": None, "deleted_at": utcnow()}
    return _change(key, action, condition, fields, actor=actor, ip=ip, detail=detail)


def finish_roll(key, now=None, *, actor=None, ip=None):
    """End the grace period of a rolled key: delete it, if it still is the old half of a roll.

    The finish_roll job passes `now` and deletes only keys whose grace period is
    over by then; staff ("Stop the old key now") pass no `now` and end it at once.
    """
    condition = ApiKey.expires_at.is_null(False)
    if now is not None:
        condition &= ApiKey.expires_at <= now
    detail = "" if now is not None else "grace period ended early (old key stopped)"
    return delete(key, actor=actor, ip=ip, only_if=condition, detail=detail)


def roll(key, grace="none", *, actor=None, ip=None, action="roll"):
    """Replace a key: a new one with the same name, kind and scopes; returns (new, plaintext).

    The old key stops working at once (grace "none", it is deleted) or when the
    grace period ends (a job then deletes it). `actor` is the staff member who
    rolled it, or the key itself (self_roll): then the new key keeps the old
    one's creator.
    """
    if key.status == KeyStatus.DELETED:
        raise KeyProblem("A deleted key cannot be rolled.")
    if key.expires_at is not None:
        raise KeyProblem("This key was rolled already; roll its replacement instead.")
    if key.valid_until is not None and key.valid_until <= utcnow():
        raise KeyProblem("This key has reached its expiry date; create a new key instead.")
    if grace not in ROLL_GRACE:
        raise KeyProblem("Choose how long the old key keeps working.", "grace")
    now = utcnow()
    plaintext = tokens.generate(key.kind)
    period, _ = ROLL_GRACE[grace]
    old_fields = {"unique_name": None}
    if period is None:
        old_fields.update(status=KeyStatus.DELETED, digest=None, deleted_at=now, expires_at=now)
    else:
        # The sweep looks at the old key again when its grace ends (finish_roll).
        old_fields.update(expires_at=now + period, sweep_at=now + period)
    with db.atomic():
        rolled = (
            ApiKey.update(**old_fields)
            .where((ApiKey.id == key.id) & ApiKey.status.in_(KeyStatus.LIVE) & ApiKey.expires_at.is_null())
            .execute()
        )
        if not rolled:  # a double submit, or deleted meanwhile
            raise KeyProblem("This key was rolled or deleted meanwhile. Reload the page to see it as it is now.")
        current = ApiKey.get_by_id(key.id)
        by_itself = isinstance(actor, ApiKey)
        new = ApiKey(
            agency=current.agency_id,
            location=current.location_id,
            kind=current.kind,
            name=current.name,
            unique_name=_unique_name(current.owner, current.name),
            digest=tokens.digest(plaintext),
            hint=tokens.hint(plaintext),
            scopes=current.scopes,
            # The rules of the key go with it: its allowlist, and its expiry date (a
            # roll is no way around the agency's lifetime policy).
            allowed_ips=current.allowed_ips,
            valid_until=current.valid_until,
            created_by=current.created_by_id if by_itself else actor.id if actor else None,
            created_at=now,
            activity_at=now,
        )
        new.sweep_at = _first_look(new, now)
        new.save(force_insert=True)
        ApiKey.update(replaced_by=new.id).where(ApiKey.id == key.id).execute()
        detail = "old key deleted at once" if period is None else f"old key works until {old_fields['expires_at']:%Y-%m-%d %H:%M} UTC"
        audit.record(action, agency_id=key.agency_id, key=key, actor=actor, ip=ip, detail=detail)
        audit.record("create", agency_id=key.agency_id, key=new, actor=actor, ip=ip, detail=f"{new.name} (roll)")
    for name, value in old_fields.items():
        setattr(key, name, value)
    key.replaced_by = new.id
    return new, plaintext


def self_roll(key, grace=DEFAULT_GRACE, *, ip=None):
    """A key with the opt-in scope keys.self_roll replaces itself (the API's POST /keys/self/roll).

    The roll above, with the key as its actor in the audit log; everyone told
    about the key (lifecycle.recipients) finds it in the bell. Returns (new, plaintext).
    """
    if SELF_ROLL not in key.scope_list:
        raise KeyProblem(f"This key is not authorized for {SELF_ROLL}.")
    with db.atomic():
        new, plaintext = roll(key, grace, actor=key, ip=ip, action="self_roll")
        if key.expires_at > new.created_at:
            after = f"The old key works until {key.expires_at:%Y-%m-%d %H:%M} UTC."
        else:
            after = "The old key stopped working at once."
        message = f"{lifecycle.describe(new)} rolled itself through the API. {after}"
        Notification.deliver(new, Notification.SELF_ROLLED, lifecycle.recipients(new), message, new.created_at)
    return new, plaintext


def set_allowlist(key, text, *, actor=None, ip=None):
    """Replace the IP allowlist of a live key from typed text (empty: every address); KeyProblem on "allowlist"."""
    try:
        stored = allowlist.clean(text)
    except ValueError as problem:
        raise KeyProblem(str(problem), "allowlist") from None
    if stored == key.allowed_ips:
        return key
    detail = f"{len(allowlist.entries(stored))} address(es)/range(s)" if stored else "removed: every address allowed"
    if not _change(key, "allowlist", ApiKey.status.in_(KeyStatus.LIVE), {"allowed_ips": stored},
                   actor=actor, ip=ip, detail=detail):
        raise KeyGone()
    return key
