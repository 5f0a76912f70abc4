"""Prometheus metrics: what happens per request, in the web processes, and what the
jobs did, kept in Redis.

Two homes, each chosen for where its figures arise:

* **Per request** (requests by route and status, latencies, API authentication
  failures, rate-limited requests) — counted in the web process that answers,
  with prometheus_client. Under gunicorn, which runs several worker processes,
  its multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by keyhouse/gunicorn_conf.py)
  keeps them in files every worker of the host reads, so a scrape answered by any
  worker counts all of them. This is the hot path: a Redis round trip per request
  would cost every caller for the sake of a scrape.
* **Jobs** (sweeps, their duration and keys handled, warnings and deletion notices
  sent, keys deleted) — the jobs run in RQ work horses on any host, forked per job
  and gone a moment later, so they add to one Redis hash (a few HINCRBYs per job,
  not per key), and the queue's depth and the age of its oldest job are read from
  Redis when scraped. These figures are the same whichever host is scraped.

Nothing is recorded while METRICS_TOKEN is unset (the endpoint is off).
"""

import logging
import os
import time

from flask import current_app, request
from redis.exceptions import RedisError

log = logging.getLogger("keyhouse.metrics")

JOB_COUNTERS = "keyhouse:metrics:jobs"  # a Redis hash: counter name → value
LAST_SWEEP = "keyhouse:metrics:last_sweep"  # a Redis hash: duration_seconds, finished_at

_web = None  # the per-request metrics, made on first use (after gunicorn set the multiprocess folder)


def enabled(app=None):
    return bool((app or current_app).config.get("METRICS_TOKEN"))


def web():
    """The per-request metrics (prometheus_client objects), made once per process."""
    global _web
    if _web is None:
        from types import SimpleNamespace

        from prometheus_client import Counter, Histogram

        _web = SimpleNamespace(
            requests=Counter(
                "keyhouse_http_requests", "HTTP requests answered, by route and status", ("route", "method", "status")
            ),
            latency=Histogram(
                "keyhouse_http_request_duration_seconds", "Time to answer a request, by route", ("route", "method"),
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            ),
            auth_failures=Counter("keyhouse_api_auth_failures", "API requests refused for their key, by reason", ("reason",)),
            rate_limited=Counter("keyhouse_api_rate_limited", "API requests refused by the per-key rate limit"),
        )
    return _web


def record_request(app, status, seconds):
    """Count the answered request of this request context, by its route, method and `status`."""
    if enabled(app):  # first: the route and method are read only while metrics are on
        metrics = web()
        route, method = request.url_rule.rule if request.url_rule else "(no route)", request.method
        metrics.requests.labels(route, method, str(status)).inc()
        metrics.latency.labels(route, method).observe(seconds)


def record_auth_failure(reason):
    if enabled():
        web().auth_failures.labels(reason).inc()


def record_rate_limited():
    if enabled():
        web().rate_limited.inc()


# --- jobs: counters in Redis -----------------------------------------------------------


def count_jobs(app, **amounts):
    """Add `amounts` (name → number) to the jobs' counters in Redis; a failure only logs."""
    if not enabled(app):
        return
    try:
        with app.extensions["redis"].pipeline(transaction=False) as pipe:
            for name, amount in amounts.items():
                if isinstance(amount, float):
                    pipe.hincrbyfloat(JOB_COUNTERS, name, amount)
                elif amount:
                    pipe.hincrby(JOB_COUNTERS, name, amount)
            pipe.execute()
    except RedisError as error:
        log.warning("could not count %s in Redis: %s", ", ".join(amounts), error)


def record_sweep(app, seconds, counts):
    count_jobs(app, sweep_runs=1, sweep_seconds=float(seconds), **{f"sweep_keys_{a}": n for a, n in counts.items()})
    if enabled(app):
        try:
            app.extensions["redis"].hset(LAST_SWEEP, mapping={"duration_seconds": seconds, "finished_at": time.time()})
        except RedisError as error:
            log.warning("could not record the sweep in Redis: %s", error)


class JobCollector:
    """The jobs' figures, read from Redis at scrape time."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        from jobs import queue

        redis = self.app.extensions["redis"]
        up = GaugeMetricFamily("keyhouse_redis_up", "1 when Redis answered this scrape")
        try:
            counters = {name.decode(): float(value) for name, value in redis.hgetall(JOB_COUNTERS).items()}
            last = {name.decode(): float(value) for name, value in redis.hgetall(LAST_SWEEP).items()}
            work = queue(self.app)
            depth = work.count
            oldest_age = 0.0
            first = work.get_job_ids(0, 1)
            if first:
                job = work.fetch_job(first[0])
                if job is not None and job.enqueued_at is not None:
                    oldest_age = max(0.0, time.time() - job.enqueued_at.timestamp())
            failed = work.failed_job_registry.count
        except (RedisError, OSError) as error:
            log.warning("metrics: Redis is unreachable: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        yield GaugeMetricFamily("keyhouse_queue_depth", "Jobs waiting in the queue", value=depth)
        yield GaugeMetricFamily("keyhouse_queue_oldest_job_age_seconds", "Age of the oldest waiting job (0 when none)",
                                value=oldest_age)
        yield GaugeMetricFamily("keyhouse_jobs_failed", "Jobs in the failed-job registry", value=failed)
        yield CounterMetricFamily("keyhouse_sweeps", "Inactivity sweeps run", value=counters.get("sweep_runs", 0))
        yield CounterMetricFamily("keyhouse_sweep_duration_seconds", "Time spent sweeping, summed over sweeps",
                                  value=counters.get("sweep_seconds", 0))
        yield GaugeMetricFamily("keyhouse_sweep_last_duration_seconds", "Duration of the latest sweep",
                                value=last.get("duration_seconds", 0))
        keys = CounterMetricFamily("keyhouse_sweep_keys", "Keys the sweeps handed to each job", labels=("action",))
        for action in ("warn", "expire", "finish_roll", "lapse"):
            keys.add_metric([action], counters.get(f"sweep_keys_{action}", 0))
        yield keys
        yield CounterMetricFamily("keyhouse_warnings_sent", "Inactivity and expiry warnings delivered (one per key and recipient)",
                                  value=counters.get("warnings_sent", 0))
        yield CounterMetricFamily("keyhouse_deletion_notices_sent", "Deletion notices delivered (one per key and recipient)",
                                  value=counters.get("deletion_notices_sent", 0))
        yield CounterMetricFamily("keyhouse_keys_expired", "Keys deleted for inactivity",
                                  value=counters.get("keys_expired", 0))
        yield CounterMetricFamily("keyhouse_keys_lapsed", "Keys deleted at their expiry date",
                                  value=counters.get("keys_lapsed", 0))


def exposition(app):
    """The text a Prometheus scrape gets: this host's per-request figures and the jobs' figures."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    web()  # the families exist (at zero) before the first request
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        from prometheus_client import multiprocess

        requests = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests, path=folder)
    else:
        requests = REGISTRY
    jobs = CollectorRegistry()
    jobs.register(JobCollector(app))
    return generate_latest(requests) + generate_latest(jobs)
