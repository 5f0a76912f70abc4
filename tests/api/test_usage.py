"""Each key's usage: counted in the rate limiter's Redis call, rolled up by a real RQ worker."""

import datetime

from jobs import queue
from jobs.usage import rollup
from keyhouse.keys import callers, usage
from keyhouse.models import KeyCaller, KeyUsageDay, db, utcnow

ZAPIER = "Zapier"
REQUESTS = "python-requests/2.32.3"


def _rolled_up(app, run_jobs):
    queue(app).enqueue(rollup)
    run_jobs()
    assert queue(app).failed_job_registry.count == 0 and queue(app).count == 0


def _today(key_id):
    with db.connection_context():
        return KeyUsageDay.get_or_none((KeyUsageDay.key == key_id) & (KeyUsageDay.day == utcnow().date()))


def test_requests_are_counted_ok_refused_and_rate_limited_and_rolled_up_by_a_worker(app, api, keys, crm_data, run_jobs, redis):
    app.config["RATE_LIMIT_BURST"] = 4
    app.config["RATE_LIMIT_BURST_SECONDS"] = 3600  # one window for the whole test
    north = keys.north_key
    ok = [api("GET", "/v1/contacts/", keys.north, headers={"User-Agent": ZAPIER}) for _ in range(2)]
    not_found = api("GET", "/v1/contacts/" + "A" * 20, keys.north, headers={"User-Agent": ZAPIER})
    wrong_kind = api("GET", "/v1/locations/", keys.north, headers={"User-Agent": ZAPIER})  # 403: a location key
    limited = api("GET", "/v1/contacts/", keys.north, headers={"User-Agent": ZAPIER})
    assert [r.status_code for r in (*ok, not_found, wrong_kind, limited)] == [200, 200, 404, 403, 429]
    # Nothing is in the database before the roll-up: the API only counted in Redis.
    assert _today(north.id) is None
    _rolled_up(app, run_jobs)
    row = _today(north.id)
    # The 404 was only known after the limiter's call: it rides along with the next call,
    # here the 429's, so all five are in.
    assert (row.requests, row.ok, row.refused, row.limited) == (5, 2, 2, 1)
    assert redis.exists(usage.hash_name(north.id)) == 0  # taken out of Redis


def test_history_survives_a_redis_flush_and_rolls_up_add(app, api, keys, crm_data, run_jobs, redis):
    for _ in range(3):
        assert api("GET", "/v1/contacts/", keys.north).status_code == 200
    _rolled_up(app, run_jobs)
    redis.flushdb()  # everything rolled up stays
    assert api("GET", "/v1/contacts/", keys.north).status_code == 200
    _rolled_up(app, run_jobs)
    row = _today(keys.north_key.id)
    assert (row.requests, row.ok) == (4, 4)


def test_a_deactivated_key_counts_its_refused_requests(app, api, keys, crm_data, run_jobs):
    from keyhouse.models import ApiKey

    with db.connection_context():
        deactivated = ApiKey.get(ApiKey.name == "deactivated")
    assert api("GET", "/v1/contacts/", keys.deactivated).status_code == 401
    assert api("GET", "/v1/contacts/", keys.north).status_code == 200  # carries the deferred count
    _rolled_up(app, run_jobs)
    row = _today(deactivated.id)
    assert (row.requests, row.refused, row.ok) == (1, 1, 0)


def test_callers_are_grouped_by_network_and_product(app, api, keys, crm_data, run_jobs):
    calls = [
        ("203.0.113.7", ZAPIER),
        ("203.0.113.200", "Zapier/1.0 (+https://zapier.com)"),  # same /24, same product
        ("203.0.113.9", REQUESTS),  # same /24, another product
        ("198.51.100.1", ZAPIER),  # another network
        ("2001:db8:1:2::1", "python-requests/2.32.0"),
        ("2001:db8:1:2:ffff::9", REQUESTS),  # same /64, same major.minor
    ]
    for ip, agent in calls:
        response = api("GET", "/v1/contacts/", keys.north, headers={"User-Agent": agent},
                       environ_base={"REMOTE_ADDR": ip})
        assert response.status_code == 200
    _rolled_up(app, run_jobs)
    with db.connection_context():
        found = {(c.network, c.product): c.requests for c in KeyCaller.select().where(KeyCaller.key == keys.north_key.id)}
    assert found == {
        ("203.0.113.0/24", "Zapier"): 2,
        ("203.0.113.0/24", "python-requests/2.32"): 1,
        ("198.51.100.0/24", "Zapier"): 1,
        ("2001:db8:1:2::/64", "python-requests/2.32"): 2,
    }


def test_caller_first_and_last_seen_span_roll_ups(app, api, keys, crm_data, run_jobs):
    api("GET", "/v1/contacts/", keys.north, headers={"User-Agent": ZAPIER})
    _rolled_up(app, run_jobs)
    with db.connection_context():
        first = KeyCaller.get(KeyCaller.key == keys.north_key.id)
        # Move the stored sighting back, as if it had been a day ago.
        earlier = first.first_seen - datetime.timedelta(days=1)
        KeyCaller.update(first_seen=earlier, last_seen=earlier).where(KeyCaller.id == first.id).execute()
    api("GET", "/v1/contacts/", keys.north, headers={"User-Agent": ZAPIER})
    _rolled_up(app, run_jobs)
    with db.connection_context():
        caller = KeyCaller.get_by_id(first.id)
    assert caller.requests == 2
    assert caller.first_seen == earlier
    assert caller.last_seen > earlier


def test_product_names():
    assert callers.product("Zapier") == "Zapier"
    assert callers.product("python-requests/2.32.3") == "python-requests/2.32"
    assert callers.product("curl/8.5.0") == "curl/8.5"
    assert callers.product("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36") == "Browser (Chrome)"
    assert callers.product("") == "unknown"
    assert callers.network("::ffff:10.1.2.3") == "10.1.2.0/24"
    assert callers.network("not an address") == "unknown"


def test_a_batch_the_database_refuses_goes_back_to_redis_and_is_stored_once_later(
        app, api, keys, crm_data, run_jobs, redis, monkeypatch):
    for _ in range(2):
        assert api("GET", "/v1/contacts/", keys.north, headers={"User-Agent": ZAPIER}).status_code == 200
    real_store = usage.store

    def refused(taken):
        raise RuntimeError("the database said no")

    monkeypatch.setattr(usage, "store", refused)  # the database is down for this run
    queue(app).enqueue(rollup)
    run_jobs()
    assert queue(app).failed_job_registry.count == 1
    assert redis.sismember(usage.KEYS_SET, keys.north_key.id)  # given back
    monkeypatch.setattr(usage, "store", real_store)
    again = queue(app).enqueue(rollup)
    run_jobs()
    assert again.get_status() == "finished"
    row = _today(keys.north_key.id)
    assert (row.requests, row.ok) == (2, 2)
    with db.connection_context():
        assert KeyCaller.get(KeyCaller.key == keys.north_key.id).requests == 2
