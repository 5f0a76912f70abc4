"""Workers and cron sign nothing, so they run without SECRET_KEY (docs/configuration.md)."""

import os
import subprocess
import sys

from jobs import queue
from jobs import sweep as jobs
from keyhouse.models import Notification, db
from tests.helpers import aged_key, day, process_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_a_worker_without_secret_key_runs_the_sweep_and_its_jobs(app, settings, tenants):
    with db.connection_context():
        aged_key("Old integration", agency=tenants.acme, actor=tenants.admin)
    work = queue(app)
    work.enqueue(jobs.sweep, day(76).isoformat())

    env = process_env(settings, SECRET_KEY=None, PYTHONUNBUFFERED="1")
    assert "SECRET_KEY" not in env
    worker = subprocess.run(
        [sys.executable, "-m", "keyhouse.cli", "worker", "--burst"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    output = worker.stdout + worker.stderr
    assert worker.returncode == 0, output
    assert "ConfigError" not in output and "SECRET_KEY" not in output
    assert work.failed_job_registry.count == 0, output
    with db.connection_context():
        assert Notification.select().where(Notification.threshold_days == 15).count() >= 1
