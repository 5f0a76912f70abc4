"""RQ wiring: the cron config enqueues the sweep and the usage roll-up, and a real worker runs them."""

from rq.cron import CronScheduler
from rq.job import JobStatus

from jobs import queue


def test_cron_config_enqueues_the_sweep_and_the_usage_rollup_on_the_app_queue(app, redis, run_jobs):
    scheduler = CronScheduler(connection=redis)
    scheduler.load_config_from_file("jobs.cron")
    expected = ["jobs.sweep.sweep", "jobs.usage.rollup", "jobs.outbound.catch_up"]
    assert [job.func_name for job in scheduler.get_jobs()] == expected
    assert [job.interval for job in scheduler.get_jobs()][1] == app.config["USAGE_ROLLUP_SECONDS"]
    scheduler.enqueue_jobs()
    pending = queue(app).jobs
    assert sorted(job.func_name for job in pending) == sorted(expected)

    run_jobs()

    for job in pending:
        job.refresh()
        assert job.get_status() == JobStatus.FINISHED
    assert queue(app).count == 0


def test_sweep_interval_comes_from_the_environment(monkeypatch, redis):
    import importlib

    import jobs.cron

    monkeypatch.setenv("SWEEP_INTERVAL_SECONDS", "120")
    importlib.reload(jobs.cron)
    scheduler = CronScheduler(connection=redis)
    scheduler.load_config_from_file("jobs.cron")
    assert scheduler.get_jobs()[0].interval == 120

