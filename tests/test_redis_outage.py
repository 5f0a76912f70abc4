"""A Redis outage pauses `keyhouse cron` and `keyhouse worker`; they carry on when it returns.

Each test starts its own Valkey on a free port, stops it under the running
process, starts a new one on the same port and checks that the same process
goes on working, with no manual step.
"""

import contextlib
import os
import subprocess
import sys

import pytest
from redis import Redis

from jobs import sweep as jobs
from keyhouse.models import Notification, db
from tests.helpers import aged_key, day, process_env
from tests.servers import Output, OwnRedis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAIT = 90  # seconds an expected event may take


@pytest.fixture
def own_redis():
    redis = OwnRedis()
    redis.start()
    yield redis
    if redis.server is not None:
        redis.stop()


@contextlib.contextmanager
def keyhouse_process(settings, command, redis_url, **env):
    process = subprocess.Popen(
        [sys.executable, "-m", "keyhouse.cli", command],
        cwd=ROOT, env=process_env(settings, REDIS_URL=redis_url, PYTHONUNBUFFERED="1", **env),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        yield process, Output(process)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=WAIT)


def next_job(redis_url, queue_name):
    """Block until the next job id is pushed on the queue (what cron enqueues)."""
    got = Redis.from_url(redis_url, socket_timeout=WAIT + 5).blpop([f"rq:queue:{queue_name}"], timeout=WAIT)
    assert got is not None, "nothing was enqueued"
    return got[1]


def test_cron_survives_a_redis_outage_and_enqueues_again_when_it_returns(app, settings, own_redis):
    with keyhouse_process(  # and without SECRET_KEY: cron signs nothing
        settings, "cron", own_redis.url, SWEEP_INTERVAL_SECONDS="1", RQ_QUEUE="cron-outage", SECRET_KEY=None
    ) as (cron, output):
        assert next_job(own_redis.url, "cron-outage")

        own_redis.stop()
        output.wait_for(r"cron: Redis is unreachable; waiting for it to return")
        assert cron.poll() is None, "\n".join(output.lines)

        own_redis.start()  # an empty Redis, as after a restart without persistence
        output.wait_for(r"cron: Redis is back; starting again")
        assert next_job(own_redis.url, "cron-outage")
        assert cron.poll() is None

        cron.terminate()
        assert cron.wait(timeout=WAIT) == 0


def test_a_worker_survives_a_redis_outage_and_runs_jobs_enqueued_after_it(app, settings, tenants, own_redis):
    with db.connection_context():
        aged_key("Old integration", agency=tenants.acme, actor=tenants.admin)
    with keyhouse_process(settings, "worker", own_redis.url, RQ_QUEUE="worker-outage") as (worker, output):
        output.wait_for(r"Listening on worker-outage")

        own_redis.stop()
        output.wait_for(r"(could not connect to Redis|Redis is unreachable|stopped by a Redis error)")
        assert worker.poll() is None, "\n".join(output.lines)

        own_redis.start()
        from rq import Queue

        Queue("worker-outage", connection=Redis.from_url(own_redis.url)).enqueue(jobs.sweep, day(76).isoformat())
        output.wait_for(r"keyhouse.jobs: warn: 1 key\(s\)")
        assert worker.poll() is None
    with db.connection_context():
        assert Notification.select().where(Notification.threshold_days == 15).count() >= 1
