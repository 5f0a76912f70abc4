"""Each key's usage: requests per UTC day (ok / refused / rate-limited) and its callers.

Counting (per API request, no round trip of its own): the rate limiter's one
Redis call (keyhouse/ratelimit.py, a Lua script) also adds the request to the
key's usage hash `usage:<key id>` — the day's `requests`, and `limited` when the
limiter refuses it or `refused` when the guard already knows it will answer 4xx
(wrong kind or scope) — plus the caller's count, first and last time seen, and
puts the key id in the set `usage:keys`.

Refusals known only after the limiter call (a view's 404 or 422, a deactivated
key's 401, which never reaches the limiter) are kept in this process (`defer`)
and ride along with the process's next limiter call: counting them never costs
a round trip of its own. Until then they are in this process only.

Roll-up: the `rollup` job (jobs/usage.py, on RQ's cron) takes the hashes out
of Redis atomically (`take`) and adds them to KeyUsageDay and KeyCaller
(`store`). A Redis flush therefore loses only what was counted since the last
roll-up; the database keeps everything before.
"""

import collections
import dataclasses
import datetime
import threading

from flask import current_app
from peewee import EXCLUDED, Case, fn

from keyhouse.keys import callers as caller_names
from keyhouse.keys.apikeys import KeyProblem
from keyhouse.models import ApiKey, db, utcnow
from keyhouse.models.usage import CALLER_NAME_MAX, KeyCaller, KeyUsageDay

KEYS_SET = "usage:keys"  # ids of keys with counts not yet rolled up
HASH_PREFIX = "usage:"
HASH_TTL = 8 * 86400  # counts nobody rolls up (no cron running) go after 8 days
FIELDS = ("requests", "refused", "limited")
DAYS_SHOWN = 30
TOP_CALLERS = 10
QUIET_BEFORE_STOP = datetime.timedelta(hours=1)  # a rolled key's old half may be stopped after this without calls


def hash_name(key_id):
    return f"{HASH_PREFIX}{key_id}"


def day_field(day_text, field):
    """The usage hash's field for a day ("20270101") and one of FIELDS."""
    return f"d:{day_text}:{field}"


# --------------------------------------------------------------- refusals counted later

PENDING_MAX = 10_000  # distinct entries kept while Redis is away; more are dropped


class Pending:
    """Counts of this process waiting for its next limiter call: {(key id, hash field): amount}."""

    def __init__(self):
        self.counts = collections.Counter()
        self.lock = threading.Lock()


def _pending():
    return current_app.extensions.setdefault("usage_pending", Pending())


def defer(key_id, *fields, now=None):
    """Count `fields` ("requests", "refused") for key `key_id` today with this process's next limiter call."""
    moment = now or utcnow()
    pending = _pending()
    with pending.lock:
        for field in fields:
            entry = (key_id, day_field(f"{moment:%Y%m%d}", field))
            if entry in pending.counts or len(pending.counts) < PENDING_MAX:
                pending.counts[entry] += 1


def take_pending():
    """The deferred counts, [(key id, field, amount)], emptied from this process."""
    pending = _pending()
    if not pending.counts:  # the common case: no lock taken
        return []
    with pending.lock:
        entries = [(key_id, field, amount) for (key_id, field), amount in pending.counts.items()]
        pending.counts.clear()
    return entries


# --------------------------------------------------------------- the roll-up

# Takes up to ARGV[1] keys' hashes out of Redis in one atomic step: whatever the
# API counts meanwhile lands in fresh hashes for the next roll-up.
TAKE_SCRIPT = """
local ids = redis.call('SPOP', KEYS[1], ARGV[1])
local out = {}
for _, id in ipairs(ids) do
  local name = ARGV[2] .. id
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', name)
  redis.call('DEL', name)
end
return out
"""


def take(redis, limit):
    """[(key id, {field: value})] of up to `limit` keys, removed from Redis."""
    flat = redis.eval(TAKE_SCRIPT, 1, KEYS_SET, limit, HASH_PREFIX)
    taken = []
    for index in range(0, len(flat), 2):
        pairs = flat[index + 1]
        fields = {pairs[i].decode(): int(pairs[i + 1]) for i in range(0, len(pairs), 2)}
        taken.append((int(flat[index]), fields))
    return taken


def give_back(redis, taken):
    """Put taken counts back into Redis (the database refused them; the job will retry)."""
    pipe = redis.pipeline(transaction=False)
    for key_id, fields in taken:
        name = hash_name(key_id)
        for field, value in fields.items():
            if field.startswith(("d:", "c:")):
                pipe.hincrby(name, field, value)
            elif field.startswith("f:"):
                pipe.hsetnx(name, field, value)
            else:  # "s:": the latest is near enough
                pipe.hset(name, field, value)
        pipe.expire(name, HASH_TTL)
        pipe.sadd(KEYS_SET, key_id)
    pipe.execute()


def _moment(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).replace(tzinfo=None)


def _rows(taken):
    """The taken hashes as KeyUsageDay and KeyCaller rows."""
    days, seen = {}, {}
    for key_id, fields in taken:
        for field, value in fields.items():
            kind, _, rest = field.partition(":")
            if kind == "d":
                day_text, _, name = rest.partition(":")
                if name in FIELDS:
                    day = datetime.datetime.strptime(day_text, "%Y%m%d").date()
                    row = days.setdefault((key_id, day), {"key": key_id, "day": day, **dict.fromkeys(FIELDS, 0)})
                    row[name] += value
            elif kind in ("c", "f", "s"):
                network, product = caller_names.split(rest)
                row = seen.setdefault((key_id, network, product), {
                    "key": key_id, "network": network, "product": product, "requests": 0,
                    "first_seen": None, "last_seen": None,
                })
                if kind == "c":
                    row["requests"] += value
                else:
                    row["first_seen" if kind == "f" else "last_seen"] = _moment(value)
    for row in seen.values():
        row["first_seen"] = row["first_seen"] or row["last_seen"] or utcnow()
        row["last_seen"] = row["last_seen"] or row["first_seen"]
    return list(days.values()), list(seen.values())


def store(taken):
    """Add taken counts to the database in one transaction; returns (day rows, caller rows) written."""
    days, seen = _rows(taken)
    ids = {row["key"] for row in days + seen}
    known = {key_id for key_id, in ApiKey.select(ApiKey.id).where(ApiKey.id.in_(list(ids))).tuples()} if ids else set()
    days = [row for row in days if row["key"] in known]
    seen = [row for row in seen if row["key"] in known]
    with db.atomic():
        for start in range(0, len(days), 500):
            (KeyUsageDay.insert_many(days[start:start + 500])
             .on_conflict(conflict_target=[KeyUsageDay.key, KeyUsageDay.day],
                          update={getattr(KeyUsageDay, name): getattr(KeyUsageDay, name) + getattr(EXCLUDED, name)
                                  for name in FIELDS})
             .execute())
        for start in range(0, len(seen), 500):
            (KeyCaller.insert_many(seen[start:start + 500])
             .on_conflict(conflict_target=[KeyCaller.key, KeyCaller.network, KeyCaller.product], update={
                 KeyCaller.requests: KeyCaller.requests + EXCLUDED.requests,
                 KeyCaller.first_seen: Case(None, [(EXCLUDED.first_seen < KeyCaller.first_seen, EXCLUDED.first_seen)],
                                            KeyCaller.first_seen),
                 KeyCaller.last_seen: Case(None, [(EXCLUDED.last_seen > KeyCaller.last_seen, EXCLUDED.last_seen)],
                                           KeyCaller.last_seen),
             })
             .execute())
    return len(days), len(seen)


# --------------------------------------------------------------- what the dashboard shows


@dataclasses.dataclass(frozen=True)
class Day:
    day: datetime.date
    ok: int
    refused: int
    limited: int

    @property
    def total(self):
        return self.ok + self.refused + self.limited


def daily(key, today=None, days=DAYS_SHOWN):
    """The last `days` UTC days of `key` (oldest first), days without requests included."""
    today = today or utcnow().date()
    first = today - datetime.timedelta(days=days - 1)
    rows = {row.day: row for row in KeyUsageDay.select().where((KeyUsageDay.key == key.id) & (KeyUsageDay.day >= first))}
    out = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        row = rows.get(day)
        out.append(Day(day, row.ok, row.refused, row.limited) if row else Day(day, 0, 0, 0))
    return out


def totals(series):
    return Day(None, sum(d.ok for d in series), sum(d.refused for d in series), sum(d.limited for d in series))


def requests_since(key_ids, since):
    """{key id: requests on UTC days from `since`} for many keys in one query."""
    if not key_ids:
        return {}
    query = (
        KeyUsageDay.select(KeyUsageDay.key, fn.SUM(KeyUsageDay.requests))
        .where(KeyUsageDay.key.in_(list(key_ids)) & (KeyUsageDay.day >= since))
        .group_by(KeyUsageDay.key)
    )
    return {key_id: int(total or 0) for key_id, total in query.tuples()}


CALLER_ORDER = (KeyCaller.requests.desc(), KeyCaller.last_seen.desc())  # most requests first


def top_callers(key):
    """A key's TOP_CALLERS callers, most requests first."""
    return list(KeyCaller.select().where(KeyCaller.key == key.id).order_by(*CALLER_ORDER).limit(TOP_CALLERS))


@dataclasses.dataclass(frozen=True)
class Radius:
    """What stopping a key breaks: its callers in the window and its last call."""

    callers: int
    last_call: datetime.datetime | None
    window_days: int

    def describe(self, ago):
        """"3 callers, last call 4 minutes ago" or "no calls in 90 days"; `ago` formats a time."""
        if self.last_call is None:
            return f"no calls in {self.window_days} days"
        callers = f"{self.callers} caller{'s' if self.callers != 1 else ''}" if self.callers else "unknown callers"
        return f"{callers}, last call {ago(self.last_call)}"


def blast_radius(keys, now, window_days):
    """{key id: Radius} for many keys: one grouped query over their callers."""
    keys = list(keys)
    if not keys:
        return {}
    since = now - datetime.timedelta(days=window_days)
    query = (
        KeyCaller.select(KeyCaller.key, fn.COUNT(KeyCaller.id), fn.MAX(KeyCaller.last_seen))
        .where(KeyCaller.key.in_([key.id for key in keys]) & (KeyCaller.last_seen >= since))
        .group_by(KeyCaller.key)
    )
    found = {key_id: (count, last) for key_id, count, last in query.tuples()}
    radii = {}
    for key in keys:
        count, last = found.get(key.id, (0, None))
        if isinstance(last, str):  # SQLite hands MAX() of a datetime back as text
            last = datetime.datetime.fromisoformat(last)
        used = key.last_used_at if key.last_used_at and key.last_used_at >= since else None
        last = max((moment for moment in (last, used) if moment is not None), default=None)
        radii[key.id] = Radius(count, last, window_days)
    return radii


@dataclasses.dataclass(frozen=True)
class CutOver:
    """A rolled key in its grace period: who still calls the old key, and whether it may be stopped now."""

    rolled_at: datetime.datetime
    callers: list
    last_call: datetime.datetime | None
    can_stop: bool


def cut_overs(keys, now):
    """{key id: CutOver} for those of `keys` that are rolled keys in their grace period: two
    queries for all of them (their replacements' creation, and their callers since)."""
    rolled = [key for key in keys if key.expires_at is not None and key.is_live and key.replaced_by_id is not None]
    if not rolled:
        return {}
    created = dict(
        ApiKey.select(ApiKey.id, ApiKey.created_at).where(ApiKey.id.in_([key.replaced_by_id for key in rolled])).tuples()
    )
    rolled_at = {key.id: created.get(key.replaced_by_id) or now for key in rolled}
    still = collections.defaultdict(list)  # {key id: its callers since the roll, most requests first}
    callers = (
        KeyCaller.select()
        .where(KeyCaller.key.in_(list(rolled_at)) & (KeyCaller.last_seen >= min(rolled_at.values())))
        .order_by(*CALLER_ORDER)
    )
    for caller in callers:
        if caller.last_seen >= rolled_at[caller.key_id] and len(still[caller.key_id]) < TOP_CALLERS:
            still[caller.key_id].append(caller)
    found = {}
    for key in rolled:
        since = rolled_at[key.id]
        calls = [caller.last_seen for caller in still[key.id]]
        if key.last_used_at and key.last_used_at >= since:
            calls.append(key.last_used_at)
        last_call = max(calls, default=None)
        found[key.id] = CutOver(since, still[key.id], last_call, now - (last_call or since) >= QUIET_BEFORE_STOP)
    return found


def name_caller(key, caller_id, name):
    """Give caller `caller_id` of `key` a name (blank removes it); returns the caller, None if not the key's."""
    caller = KeyCaller.get_or_none((KeyCaller.id == caller_id) & (KeyCaller.key == key.id))
    if caller is None:
        return None
    name = " ".join((name or "").split())
    if len(name) > CALLER_NAME_MAX:
        raise KeyProblem(f"Keep the name to {CALLER_NAME_MAX} characters or fewer (this one has {len(name)}).", "name")
    caller.name = name or None
    KeyCaller.update(name=caller.name).where(KeyCaller.id == caller.id).execute()
    return caller
