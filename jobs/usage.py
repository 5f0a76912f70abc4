"""The usage roll-up: counts the API made in Redis go into the database (keyhouse/keys/usage.py).

On RQ's cron every USAGE_ROLLUP_SECONDS. Each batch is taken out of Redis in
one atomic step and added to the database in one transaction; if the database
refuses, the batch is put back and the job fails (RQ retries it). What can be
lost: the counts not yet rolled up when Redis is flushed or dies, and a batch
taken by a worker killed between the two steps.
"""

import logging

from keyhouse.keys import usage

from .context import job_context

log = logging.getLogger("keyhouse.jobs")

BATCH = 500  # keys per take
MAX_BATCHES = 100  # per run; the next run carries on


def rollup():
    """Move the keys' usage counts from Redis into the database; returns (day rows, caller rows) written."""
    with job_context() as app:
        redis = app.extensions["redis"]
        days = callers = 0
        for _ in range(MAX_BATCHES):
            taken = usage.take(redis, BATCH)
            if not taken:
                break
            try:
                written = usage.store(taken)
            except Exception:
                usage.give_back(redis, taken)
                raise
            days, callers = days + written[0], callers + written[1]
            if len(taken) < BATCH:
                break
        log.info("usage rollup: %d day row(s), %d caller row(s)", days, callers)
        return days, callers
