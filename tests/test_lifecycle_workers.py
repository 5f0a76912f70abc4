"""The lifecycle under real worker processes: concurrent sweeps, and a worker killed mid-job."""

import os
import queue as lines_queue
import re
import signal
import subprocess
import sys
import threading

from peewee import fn
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from jobs import queue
from jobs import sweep as jobs
from keyhouse.models import ApiKey, AuditEvent, Notification, db
from tests.helpers import aged_key, bulk_keys, day, process_env, writes_locked

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAIT = 120  # seconds a worker process may take
# Five of the sweep's batches: enough for four workers' sweeps to race over the same keys.
KEYS = 5 * jobs.BATCH


def worker_process(settings):
    """`keyhouse worker --burst` as its own process group, stdout and stderr merged."""
    env = process_env(settings, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "keyhouse.cli", "worker", "--burst"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )


def test_four_workers_sweeping_at_once_deliver_each_warning_exactly_once(app, settings, tenants):
    with db.connection_context():
        bulk_keys(tenants, KEYS)
        first_ids = [key.id for key in ApiKey.select(ApiKey.id).order_by(ApiKey.id).limit(jobs.BATCH)]
    work = queue(app)
    for _ in range(4):
        work.enqueue(jobs.sweep, day(76).isoformat())
    for _ in range(2):  # and two stray duplicates of a warn job, racing the sweeps' own
        work.enqueue(jobs.warn, first_ids, day(76).isoformat())

    workers = [worker_process(settings) for _ in range(4)]
    outputs = [worker.communicate(timeout=WAIT)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * 4, outputs
    assert work.count == 0 and work.failed_job_registry.count == 0, outputs

    with db.connection_context():
        recipients = 3  # north's location admin (creator), the agency admin, the agency user assigned to north
        assert Notification.select().count() == KEYS * recipients
        repeated = (
            Notification.select(Notification.key, Notification.user, Notification.threshold_days)
            .group_by(Notification.key, Notification.user, Notification.threshold_days)
            .having(fn.COUNT(Notification.id) > 1)
        )
        assert list(repeated) == []
        assert set(Notification.select(Notification.threshold_days).distinct().tuples()) == {(15,)}
        assert AuditEvent.select().where(AuditEvent.action == "warn").count() == KEYS


def wait_for_line(process, text):
    """The first line of `process`'s output containing `text` (read without sleeping)."""
    found = lines_queue.Queue()

    def pump():
        for line in process.stdout:
            if text in line:
                found.put(line)
                return
        found.put(None)

    threading.Thread(target=pump, daemon=True).start()
    line = found.get(timeout=WAIT)
    assert line is not None, f"the worker ended before printing {text!r}"
    return line


def test_a_worker_killed_mid_job_loses_nothing_and_nothing_happens_twice(app, settings, tenants, run_jobs):
    with app.app_context(), db.connection_context():
        key = aged_key("Crash test", agency=tenants.acme, location=tenants.north, actor=tenants.location_admin)
        assert jobs.sweep(day(76).isoformat())["warn"] == 1
    work = queue(app)
    (killed_job_id,) = work.job_ids

    with writes_locked(settings["DATABASE_URL"], "notification"):
        worker = worker_process(settings)
        # The work horse (its own process group) runs the job; its writes wait for the lock.
        line = wait_for_line(worker, "keyhouse.jobs: warn: 1 key(s)")
        horse = int(re.search(r"\[pid (\d+)\]", line).group(1))
        os.killpg(horse, signal.SIGKILL)  # the process running the job ...
        os.killpg(worker.pid, signal.SIGKILL)  # ... and its worker, so nobody records a failure
        worker.wait(timeout=WAIT)

    killed = Job.fetch(killed_job_id, connection=work.connection)
    assert killed.get_status() == JobStatus.STARTED  # abandoned mid-job
    with db.connection_context():
        assert Notification.select().count() == 0  # its transaction died with it
        assert ApiKey.get_by_id(key.id).sweep_at == day(76) + jobs.LEASE

    # The lease runs out; the next sweep claims the key again and a new worker finishes the work.
    with app.app_context():
        assert jobs.sweep((day(76) + jobs.LEASE).isoformat())["warn"] == 1
    run_jobs()
    # RQ's clean-up later retries the abandoned job itself: it must change nothing.
    StartedJobRegistry(queue=work).cleanup(timestamp=day(400).timestamp() * 10)
    ScheduledJobRegistry(queue=work).remove(killed)
    work.enqueue_job(killed)
    run_jobs()
    assert killed.get_status(refresh=True) == JobStatus.FINISHED

    with db.connection_context():
        assert sorted(n.user_id for n in Notification.select()) == sorted(
            [tenants.admin.id, tenants.staff.id, tenants.location_admin.id]
        )
        assert AuditEvent.select().where(AuditEvent.action == "warn").count() == 1


def test_keyhouse_sweep_as_of_runs_one_sweep_and_its_jobs(app, settings, tenants):
    from tests.helpers import keyhouse

    with app.app_context(), db.connection_context():
        key = aged_key("Cli", agency=tenants.acme, actor=tenants.admin)
    result = keyhouse(settings, "sweep", "--as-of", day(95).strftime("%Y-%m-%dT%H:%M"))
    assert result.returncode == 0, result.stderr
    assert "sweep as of 2027-04-06 09:00 UTC: keys handed to warn 1, expire 0, finish_roll 0" in result.stdout
    result = keyhouse(settings, "sweep", "--as-of", day(96).strftime("%Y-%m-%dT%H:%M"))
    assert "expire 1" in result.stdout, result.stderr
    with db.connection_context():
        assert ApiKey.get_by_id(key.id).status == "deleted"
        assert [(n.kind, n.threshold_days) for n in Notification.select()] == [("warning", 1), ("deleted", 0)]
    assert queue(app).count == 0
