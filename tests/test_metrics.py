"""/metrics: off without METRICS_TOKEN, its own token, request figures summed over gunicorn's
workers, and the jobs' figures (queue, sweeps, warnings, deletions) read from Redis."""

import datetime
import os
import signal
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from jobs import queue
from jobs import sweep as jobs
from keyhouse.keys import apikeys, tokens
from keyhouse.models import db
from tests.helpers import VERSION, aged_key, day
from tests.servers import gunicorn

TOKEN = "scrape-token-for-tests"


def samples(text):
    """{(name, frozenset(labels)): value} of a scrape."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client, token=TOKEN):
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return samples(answer.get_data(as_text=True))


def test_metrics_are_off_without_a_token_and_refuse_any_other_credential(app, client):
    assert client.get("/metrics").status_code == 404
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    assert ("keyhouse_redis_up", frozenset()) in samples(answer.get_data(as_text=True))


def test_queue_sweeps_warnings_and_deletions_are_counted_across_processes(app, client, tenants, run_jobs):
    app.config["METRICS_TOKEN"] = TOKEN
    with app.app_context(), db.connection_context():
        aged_key("Old", agency=tenants.acme, location=tenants.north, actor=tenants.location_admin)
        assert jobs.sweep(day(76).isoformat())["warn"] == 1

    waiting = queue(app).jobs[0]
    waiting.enqueued_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)
    waiting.save()
    figures = scrape(client)
    assert figures[("keyhouse_queue_depth", frozenset())] == 1
    assert figures[("keyhouse_queue_oldest_job_age_seconds", frozenset())] >= 600
    assert figures[("keyhouse_sweeps_total", frozenset())] == 1
    assert figures[("keyhouse_sweep_keys_total", frozenset({("action", "warn")}))] == 1
    assert figures[("keyhouse_sweep_duration_seconds_total", frozenset())] > 0

    run_jobs()  # in a real RQ worker: a forked work horse counts into Redis
    figures = scrape(client)
    assert figures[("keyhouse_queue_depth", frozenset())] == 0
    assert figures[("keyhouse_queue_oldest_job_age_seconds", frozenset())] == 0
    assert figures[("keyhouse_warnings_sent_total", frozenset())] == 3  # creator, agency admin, assigned agency user

    with app.app_context():
        for moment in (day(84), day(90), day(96)):
            jobs.sweep(moment.isoformat())
            run_jobs()
    figures = scrape(client)
    assert figures[("keyhouse_sweeps_total", frozenset())] == 4
    assert figures[("keyhouse_warnings_sent_total", frozenset())] == 9
    assert figures[("keyhouse_keys_expired_total", frozenset())] == 1
    assert figures[("keyhouse_deletion_notices_sent_total", frozenset())] == 3
    assert figures[("keyhouse_sweep_keys_total", frozenset({("action", "expire")}))] == 1


def call(url, token=None, metrics_token=None):
    headers = {"Version": VERSION}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if metrics_token:
        headers["Authorization"] = f"Bearer {metrics_token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_request_figures_are_summed_over_gunicorns_worker_processes(app, settings, tenants):
    requests = 12
    with db.connection_context():
        _, key = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Counted")
    unknown = tokens.generate(tokens.LOCATION)  # well-formed, but no such key
    server, base = gunicorn(settings, METRICS_TOKEN=TOKEN, RATE_LIMIT_BURST=str(requests), RATE_LIMIT_BURST_SECONDS="3600")
    try:
        half = requests // 2
        assert [call(f"{base}/v1/contacts/", key)[0] for _ in range(half)] == [200] * half
        # A graceful restart (SIGHUP): new worker processes answer from here on, the
        # old ones finish and exit. Their figures must still count.
        os.kill(server.pid, signal.SIGHUP)
        for _ in range(2):
            server.wait_for(r"Worker exiting \(pid")
        statuses = [call(f"{base}/v1/contacts/", key)[0] for _ in range(requests - half + 1)]
        assert statuses == [200] * (requests - half) + [429]
        assert [call(f"{base}/v1/contacts/", unknown)[0] for _ in range(2)] == [401, 401]
        assert call(f"{base}/v1/contacts/", "not-a-key")[0] == 401
        status, text = call(f"{base}/metrics", metrics_token=TOKEN)
        assert status == 200, text
    finally:
        server.stop()
    figures = samples(text)
    route = ("route", "/v1/contacts/")
    get = ("method", "GET")
    assert figures[("keyhouse_http_requests_total", frozenset({route, get, ("status", "200")}))] == requests
    assert figures[("keyhouse_http_requests_total", frozenset({route, get, ("status", "429")}))] == 1
    assert figures[("keyhouse_http_requests_total", frozenset({route, get, ("status", "401")}))] == 3
    assert figures[("keyhouse_http_request_duration_seconds_count", frozenset({route, get}))] == requests + 4
    assert figures[("keyhouse_api_auth_failures_total", frozenset({("reason", "invalid")}))] == 2
    assert figures[("keyhouse_api_auth_failures_total", frozenset({("reason", "malformed")}))] == 1
    assert figures[("keyhouse_api_rate_limited_total", frozenset())] == 1
    assert key not in text
