"""Scale-out: two web processes (gunicorn, different ports), two workers and cron on one
database and one Redis, as docs/deploy.md's "More hosts" runs them.

Runs on the suite's database — SQLite, or PostgreSQL in CI's second pass — and Redis.
Waits poll with a deadline; nothing sleeps to synchronise.
"""

import datetime
import http.cookiejar
import json
import os
import re
import signal
import urllib.error
import urllib.parse
import urllib.request

import pytest
from peewee import fn
from rq import Worker

from jobs import queue
from jobs import sweep as jobs
from keyhouse.keys import tokens
from keyhouse.keys.scopes import DEFAULT_SCOPES
from keyhouse.models import ApiKey, AuditEvent, Notification, db, utcnow
from tests.helpers import PASSWORD, VERSION, bulk_keys, writes_locked
from tests.servers import eventually, gunicorn, keyhouse_process

WAIT = 120  # seconds the processes get to finish their work
RECIPIENTS = 3  # of a north key: its creator (north's admin), the agency admin, the agency user assigned to north


class Browser:
    """A staff member's browser against one web process: cookies, the CSRF token."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, path, data=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def token(self, path):
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', self.open(path)[1]).group(1)

    def sign_in(self, email):
        status, page = self.open("/login", {"email": email, "password": PASSWORD, "csrf_token": self.token("/login")})
        assert status == 200 and "<h1>API keys</h1>" in page, page
        return self


def api(base, key):
    request = urllib.request.Request(base + "/v1/contacts/", headers={"Authorization": f"Bearer {key}", "Version": VERSION})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def settled(app):
    """The queue is empty and no worker holds a job."""
    work = queue(app)
    return work.count == 0 and work.started_job_registry.count == 0 and work.scheduled_job_registry.count == 0


def descendants(pid):
    """The process ids below `pid` (a worker's work horse), read from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


@pytest.fixture
def cluster(app, settings, tenants):
    """Web A and web B (gunicorn), two workers and cron, all started; stopped after the test."""
    started = []
    try:
        web_a, base_a = gunicorn(settings, WEB_CONCURRENCY="1")
        started.append(web_a)
        web_b, base_b = gunicorn(settings, WEB_CONCURRENCY="1")
        started.append(web_b)
        workers = [keyhouse_process(settings, "worker") for _ in range(2)]
        started += workers
        for worker in workers:
            worker.wait_for(r"Listening on keyhouse")
        cron = keyhouse_process(settings, "cron")
        started.append(cron)
        cron.wait_for(r"Enqueued job sweep")
        yield base_a, base_b, workers
    finally:
        for process in started:
            process.stop()


def test_two_web_processes_two_workers_and_cron_share_one_truth(app, settings, tenants, cluster):
    base_a, base_b, workers = cluster
    assert base_a != base_b

    # A key created through web A ...
    admin_a = Browser(base_a).sign_in("north.admin@acme.test")
    status, reveal = admin_a.open("/settings/api-keys", {
        "kind": tokens.LOCATION, "location": tenants.north.id, "name": "Shared",
        "scopes": list(DEFAULT_SCOPES[tokens.LOCATION]), "csrf_token": admin_a.token("/settings/api-keys"),
    })
    assert status == 201, reveal
    (plaintext,) = set(re.findall(tokens.SCANNER_REGEX, reveal))
    # ... works through web B,
    assert api(base_b, plaintext)[0] == 200
    with db.connection_context():
        key_id = ApiKey.get(ApiKey.name == "Shared").id

    # deactivated through web B, it is refused through web A within a second.
    admin_b = Browser(base_b).sign_in("north.admin@acme.test")
    status, _ = admin_b.open(f"/settings/api-keys/{key_id}/deactivate",
                             {"csrf_token": admin_b.token("/settings/api-keys")})
    assert status == 200
    def refused_through_a():
        """the key refused through web A"""
        status, body = api(base_a, plaintext)
        return body if status == 401 else None

    assert json.loads(eventually(refused_through_a, timeout=1, pause=0.01))["message"] == "API key is deactivated"


def test_concurrent_sweeps_in_two_workers_warn_each_key_once_and_a_killed_worker_loses_nothing(
    app, settings, tenants, cluster
):
    _, _, workers = cluster
    keys = 2 * jobs.BATCH  # two batches, so the two sweeps race over the claims
    with db.connection_context():
        bulk_keys(tenants, keys, clock=utcnow() - datetime.timedelta(days=76))
    work = queue(app)
    work.enqueue(jobs.sweep)  # two sweeps at once: one in each worker
    work.enqueue(jobs.sweep)

    def warned():
        """every key warned and the queue settled"""
        with db.connection_context():
            return Notification.select().count() == keys * RECIPIENTS and settled(app)

    eventually(warned)
    with db.connection_context():
        repeated = (
            Notification.select(Notification.key, Notification.user, Notification.threshold_days)
            .group_by(Notification.key, Notification.user, Notification.threshold_days)
            .having(fn.COUNT(Notification.id) > 1)
        )
        assert list(repeated) == []
        assert AuditEvent.select().where(AuditEvent.action == "warn").count() == keys
        assert work.failed_job_registry.count == 0

    # A worker killed in the middle of a sweep: the sweep waits on a lock on the keys'
    # table; its worker and work horse die; the lock goes. Nothing may be lost.
    with db.connection_context():
        crash = ApiKey.get(ApiKey.name == "Bulk 0")
        ApiKey.update(activity_at=utcnow() - datetime.timedelta(days=76), warned_period=None, sweep_at=None).where(
            ApiKey.id == crash.id
        ).execute()
        Notification.delete().where(Notification.key == crash.id).execute()
    with writes_locked(settings["DATABASE_URL"], "api_key"):
        job = work.enqueue(jobs.sweep)

        def running():
            """the sweep started in a worker"""
            job.refresh()
            return job.worker_name if job.get_status() == "started" else None

        name = eventually(running)
        (holder,) = [w for w in Worker.all(queue=work) if w.name == name]
        victim = next(worker for worker in workers if worker.pid == holder.pid)
        for pid in descendants(victim.pid):
            os.kill(pid, signal.SIGKILL)
        victim.kill()
    survivor = next(worker for worker in workers if worker is not victim)
    assert survivor.process.poll() is None

    # Whatever the killed sweep had claimed is free again when its lease runs out:
    # the next sweep (as of then) finds the key, and the survivor delivers its warning once.
    work.enqueue(jobs.sweep, (utcnow() + jobs.LEASE + datetime.timedelta(minutes=1)).isoformat())

    def rewarned():
        """the crashed sweep's key warned again"""
        with db.connection_context():
            return Notification.select().where(Notification.key == crash.id).count() == RECIPIENTS and (
                work.count == 0 and work.scheduled_job_registry.count == 0
            )

    eventually(rewarned)
    with db.connection_context():
        assert Notification.select().where(Notification.key == crash.id).count() == RECIPIENTS
        assert Notification.select().count() == keys * RECIPIENTS
