"""Per-key rate limits, per-IP counts (failed authentications, sign-ins, form posts), kept in Redis.

Two fixed windows per key: a burst window (RATE_LIMIT_BURST requests per
RATE_LIMIT_BURST_SECONDS) and a day (RATE_LIMIT_DAILY requests per UTC day).
Redis only ever holds counters keyed by ids and IPs, never a key. The per-key
limiter's one call (a Lua script) also counts the key's usage and caller
(keyhouse/keys/usage.py), so that costs no round trip of its own.

If Redis cannot be reached the API keeps answering (fail open): limits and
failure counts are off until it returns. That is logged once when it happens
and once when Redis is back, not on every request.

A request never waits long for Redis: its calls have a short timeout
(REQUEST_TIMEOUT), and after a failure Redis is not asked again for
BREAKER_SECONDS (a circuit breaker, per process), so a hung or dead Redis
costs one short wait every few seconds, not one per request.
"""

import dataclasses
import datetime
import logging
import math
import time

from flask import current_app
from redis import ConnectionPool, Redis
from redis.exceptions import RedisError

from keyhouse.keys import usage as key_usage

log = logging.getLogger("keyhouse.ratelimit")

REQUEST_TIMEOUT = 0.25  # seconds a request waits for Redis to connect or answer
BREAKER_SECONDS = 5  # after a failure, requests skip Redis this long
_clock = time.monotonic


@dataclasses.dataclass
class Usage:
    burst_max: int
    burst_ms: int
    daily_max: int
    burst_count: int | None = None  # None when Redis could not be asked
    daily_count: int | None = None
    retry_after: int = 0  # seconds; > 0 when the request is over a limit

    @property
    def limited(self):
        return self.retry_after > 0

    def headers(self):
        """The X-RateLimit-* headers of the contract (remaining counts only when known)."""
        headers = {
            "X-RateLimit-Max": str(self.burst_max),
            "X-RateLimit-Interval-Milliseconds": str(self.burst_ms),
            "X-RateLimit-Limit-Daily": str(self.daily_max),
        }
        if self.burst_count is not None:
            headers["X-RateLimit-Remaining"] = str(max(0, self.burst_max - self.burst_count))
            headers["X-RateLimit-Daily-Remaining"] = str(max(0, self.daily_max - self.daily_count))
        if self.limited:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def limits():
    """The configured limits, before counting anything."""
    config = current_app.config
    return Usage(
        burst_max=config["RATE_LIMIT_BURST"],
        burst_ms=config["RATE_LIMIT_BURST_SECONDS"] * 1000,
        daily_max=config["RATE_LIMIT_DAILY"],
    )


def _request_client(app):
    """The app's Redis client with the request path's short timeouts (same server, own pool)."""
    source = app.extensions.get("redis")
    cached = app.extensions.get("redis_requests")
    if source is None:
        return None
    if cached is None or cached[0] is not source:
        pool = source.connection_pool
        kwargs = {**pool.connection_kwargs, "socket_timeout": REQUEST_TIMEOUT, "socket_connect_timeout": REQUEST_TIMEOUT}
        client = Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **kwargs))
        cached = app.extensions["redis_requests"] = (source, client)
    return cached[1]


def _redis_call(work):
    """work(redis) or None when Redis is unreachable or was a moment ago; logs each change of reachability once."""
    app = current_app._get_current_object()
    health = app.extensions.setdefault("redis_health", {"down": False, "retry_at": 0.0})
    if health["down"] and _clock() < health["retry_at"]:
        return None  # the breaker is open: do not wait for a Redis that just failed
    redis = _request_client(app)
    try:
        if redis is None:
            raise RedisError("REDIS_URL is not set")
        result = work(redis)
    except (RedisError, OSError) as error:
        health["retry_at"] = _clock() + BREAKER_SECONDS
        if not health["down"]:
            health["down"] = True
            log.error("Redis is unreachable (%s): rate limits and failure counts are off until it returns",
                      type(error).__name__)
        return None
    if health["down"]:
        health["down"] = False
        log.warning("Redis is reachable again: rate limits and failure counts are back on")
    return result


# The limiter's one round trip: both windows, and the key's usage (keyhouse/keys/usage.py).
# KEYS: burst counter, day counter, the key's usage hash, the set of keys with usage,
# then the usage hashes of deferred counts. ARGV: burst TTL, burst limit, day limit,
# the day's field prefix, "1" if the guard refuses the request anyway, the caller,
# now (epoch seconds), the key id, the hash TTL, then (key id, field, amount) per deferred count.
HIT_SCRIPT = """
local burst = redis.call('INCR', KEYS[1])
if burst == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local daily = redis.call('INCR', KEYS[2])
if daily == 1 then redis.call('EXPIRE', KEYS[2], 86460) end
-- A usage hash and its id in the set come and go together (the roll-up takes both at once),
-- so a hash's first count of the day is the moment to give it its TTL and its place in the set.
if redis.call('HINCRBY', KEYS[3], ARGV[4] .. 'requests', 1) == 1 then
  redis.call('EXPIRE', KEYS[3], ARGV[9])
  redis.call('SADD', KEYS[4], ARGV[8])
end
if daily > tonumber(ARGV[3]) or burst > tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[3], ARGV[4] .. 'limited', 1)
elseif ARGV[5] == '1' then
  redis.call('HINCRBY', KEYS[3], ARGV[4] .. 'refused', 1)
end
if redis.call('HINCRBY', KEYS[3], 'c:' .. ARGV[6], 1) == 1 then
  redis.call('HSET', KEYS[3], 'f:' .. ARGV[6], ARGV[7])
end
redis.call('HSET', KEYS[3], 's:' .. ARGV[6], ARGV[7])
for i = 5, #KEYS do
  local j = 10 + (i - 5) * 3
  redis.call('HINCRBY', KEYS[i], ARGV[j + 1], ARGV[j + 2])
  redis.call('EXPIRE', KEYS[i], ARGV[9])
  redis.call('SADD', KEYS[4], ARGV[j])
end
return {burst, daily}
"""


def _hit_script(redis):
    """The registered HIT_SCRIPT of this client (EVALSHA; loaded again by redis-py after a flush)."""
    script = getattr(redis, "_keyhouse_hit", None)
    if script is None:
        script = redis._keyhouse_hit = redis.register_script(HIT_SCRIPT)
    return script


def hit(key_id, now=None, caller="unknown|unknown", refused=False):
    """Count one request of key `key_id` by `caller` (callers.caller); the Usage says whether it is over a limit.

    The same round trip counts the request in the key's usage — as refused when
    `refused` (the guard answers 4xx anyway) — and carries this process's
    deferred counts (usage.defer).
    """
    usage = limits()
    now = time.time() if now is None else now
    burst_seconds = usage.burst_ms // 1000
    window = int(now // burst_seconds)
    day = datetime.datetime.fromtimestamp(now, datetime.UTC)
    day_text = f"{day:%Y%m%d}"
    keys = [f"ratelimit:{key_id}:burst:{window}", f"ratelimit:{key_id}:day:{day_text}",
            key_usage.hash_name(key_id), key_usage.KEYS_SET]
    args = [burst_seconds + 1, usage.burst_max, usage.daily_max, key_usage.day_field(day_text, ""),
            "1" if refused else "0", caller, int(now), key_id, key_usage.HASH_TTL]
    pending = key_usage.take_pending()
    for other_id, field, amount in pending:
        keys.append(key_usage.hash_name(other_id))
        args.extend((other_id, field, amount))

    counts = _redis_call(lambda redis: _hit_script(redis)(keys=keys, args=args))
    if counts is None:
        return usage
    usage.burst_count, usage.daily_count = counts
    if usage.daily_count > usage.daily_max:
        midnight = (day + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        usage.retry_after = max(1, math.ceil((midnight - day).total_seconds()))
    elif usage.burst_count > usage.burst_max:
        usage.retry_after = max(1, math.ceil((window + 1) * burst_seconds - now))
    return usage


def count_window(name, seconds, amount=1):
    """Add `amount` to the counter `name` in the current fixed window of `seconds`.

    Returns (count so far, seconds until the window ends); the count is None
    without Redis. `amount=0` reads the count without adding to it.
    """
    now = time.time()
    window = int(now // seconds)
    counter = f"{name}:{window}"

    def count(redis):
        pipe = redis.pipeline(transaction=False)  # one round trip; INCR and EXPIRE need no MULTI
        pipe.incrby(counter, amount)
        pipe.expire(counter, seconds + 1)
        return pipe.execute()[0]

    return _redis_call(count), max(1, math.ceil((window + 1) * seconds - now))


@dataclasses.dataclass(frozen=True)
class Window:
    """A count per name (a client address, an account) in fixed windows of `seconds`, limited by `setting`."""

    name: str
    seconds: int
    setting: str

    def count(self, name, amount=1):
        """Add `amount` for `name`: (count in the current window, seconds until it ends); None without Redis."""
        return count_window(f"{self.name}:{name or 'unknown'}", self.seconds, amount)

    @property
    def limit(self):
        return current_app.config[self.setting]


# The per-address and per-account limits: failed sign-ins, public form posts, failed API authentications.
SIGN_IN_FAILURES = Window("loginfail", 600, "LOGIN_FAILURE_LIMIT")
ACCOUNT_SIGN_IN_FAILURES = Window("loginfail:account", 600, "LOGIN_ACCOUNT_FAILURE_LIMIT")
FORM_POSTS = Window("formpost", 60, "FORM_POST_LIMIT")
API_AUTH_FAILURES = Window("authfail", 600, "AUTH_FAILURE_BURST")
