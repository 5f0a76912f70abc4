"""Per-key rate limits in the real Redis, and failing open when Redis is gone."""

import logging
import time

from app import create_app
from keyhouse import ratelimit
from keyhouse.models import ApiKey, db
from tests.helpers import error_body

HEADERS = ("X-RateLimit-Max", "X-RateLimit-Remaining", "X-RateLimit-Interval-Milliseconds",
           "X-RateLimit-Limit-Daily", "X-RateLimit-Daily-Remaining")


def test_every_api_response_carries_the_headers(app, api, keys, crm_data):
    for method, path in (("GET", "/v1/contacts/"), ("GET", "/v2/contacts/"), ("GET", "/v1/contacts/" + "A" * 20),
                         ("GET", "/v1/locations/")):
        response = api(method, path, keys.north)
        assert all(name in response.headers for name in HEADERS), (path, dict(response.headers))
    defaults = api("GET", "/v1/workflows/", keys.south)
    assert defaults.headers["X-RateLimit-Max"] == "100"
    assert defaults.headers["X-RateLimit-Interval-Milliseconds"] == "10000"
    assert defaults.headers["X-RateLimit-Limit-Daily"] == "200000"
    # One burst window for the pair below: a 10-second one may end between two requests.
    app.config["RATE_LIMIT_BURST_SECONDS"] = 3600
    first = api("GET", "/v1/workflows/", keys.south)
    second = api("GET", "/v1/workflows/", keys.south)
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert int(second.headers["X-RateLimit-Daily-Remaining"]) == int(first.headers["X-RateLimit-Daily-Remaining"]) - 1


def test_the_burst_limit_answers_429_with_retry_after(app, api, keys, crm_data):
    app.config["RATE_LIMIT_BURST"] = 3
    app.config["RATE_LIMIT_BURST_SECONDS"] = 3600  # one window for the whole test
    answers = [api("GET", "/v1/workflows/", keys.north) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert error_body(limited) == {"statusCode": 429, "error": "Too Many Requests",
                                  "message": limited.get_json()["message"]}
    assert "Rate limit" in limited.get_json()["message"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    # per key: another key is unaffected
    assert api("GET", "/v1/workflows/", keys.south).status_code == 200


def test_the_daily_limit_answers_429_until_midnight_utc(app, api, keys, crm_data):
    app.config["RATE_LIMIT_DAILY"] = 2
    answers = [api("GET", "/v2/workflows/", keys.north) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].headers["X-RateLimit-Daily-Remaining"] == "0"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 86400


def test_counters_live_in_redis_by_key_id_never_the_key(api, keys, crm_data, redis):
    api("GET", "/v1/workflows/", keys.north)
    names = [name.decode() for name in redis.keys("*")]
    assert any(name.startswith(f"ratelimit:{keys.north_key.id}:burst:") for name in names)
    assert all(keys.north not in name and keys.north[4:20] not in name for name in names)


def test_requests_succeed_when_redis_is_unreachable_and_it_is_logged_once(
    settings, keys, crm_data, caplog, redis_url, monkeypatch
):
    caplog.set_level(logging.INFO, logger="keyhouse.ratelimit")
    app = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:9/0"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {keys.north}"}
    for _ in range(3):
        response = client.get("/v1/workflows/", headers=headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Max"] == "100"
        assert "X-RateLimit-Remaining" not in response.headers  # unknown while Redis is away
    assert client.get("/v1/workflows/", headers={"Authorization": "Bearer nope"}).status_code == 401
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1 and unreachable[0].levelname == "ERROR"
    with db.connection_context():
        assert ApiKey.get_by_id(keys.north_key.id).last_used_at is not None  # the use still counts

    from redis import Redis

    app.extensions["redis"] = Redis.from_url(redis_url)  # Redis comes back ...
    later = time.monotonic() + ratelimit.BREAKER_SECONDS
    monkeypatch.setattr(ratelimit, "_clock", lambda: later)  # ... and the breaker's pause has passed
    for _ in range(2):
        response = client.get("/v1/workflows/", headers=headers)
        assert response.status_code == 200 and "X-RateLimit-Remaining" in response.headers
    assert len([r for r in caplog.records if "reachable again" in r.getMessage()]) == 1
