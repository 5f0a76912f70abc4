"""`keyhouse worker` and `keyhouse cron`: a Redis outage pauses them, it does not end them.

RQ's worker quits on some Redis errors (a timeout, an error outside its dequeue
loop) and RQ's cron scheduler on any. Here each runs in a loop: when it stops
because Redis went away, the process says so once, waits for Redis with a
growing pause (1 s doubling to 30 s), and starts again when Redis answers, with
no manual step. A stop asked for by a signal (Ctrl-C, SIGTERM) still stops it.
"""

import logging
import time

from redis.exceptions import RedisError
from rq.exceptions import StopRequested

log = logging.getLogger("keyhouse.jobs")

MAX_PAUSE = 30  # seconds between two attempts to reach Redis while it is down


def _reachable(redis):
    try:
        redis.ping()
    except (RedisError, OSError):
        return False
    return True


def wait_for_redis(redis, what):
    """Return once Redis answers; says once that `what` waits for it."""
    if _reachable(redis):
        return
    log.warning("%s: Redis is unreachable; waiting for it to return", what)
    pause = 1
    while not _reachable(redis):
        time.sleep(pause)
        pause = min(pause * 2, MAX_PAUSE)
    log.warning("%s: Redis is back; starting again", what)


def run_worker(app, burst=False):
    """An RQ worker (with RQ's scheduler) on the app's queue, restarted after each Redis outage."""
    from rq import Worker

    from jobs import queue

    redis = app.extensions["redis"]
    while True:
        worker = None
        try:
            wait_for_redis(redis, "worker")
            worker = Worker([queue(app)], connection=redis)  # RQ asks Redis here already
            worker.work(with_scheduler=True, burst=burst)
        except StopRequested:
            return
        except (RedisError, OSError) as error:
            log.warning("worker: stopped by a Redis error (%s)", type(error).__name__)
        signalled = worker is not None and worker._shutdown_requested_date is not None
        if signalled or (burst and _reachable(redis)):
            return  # a signal asked it to stop (RQ records when), or a burst ran to its end
        if _reachable(redis):  # it quit for another reason: start again, but not in a tight loop
            time.sleep(1)


def _cron_scheduler_class():
    from rq.cron import CronScheduler

    class StoppableCronScheduler(CronScheduler):
        """RQ's cron scheduler, which also notes a stop signal and looks at the note once a second.

        RQ's handler raises StopRequested where the signal lands; landing inside a Redis call
        it can be lost (seen: a SIGTERM after a Redis restart left cron asleep), so the loop
        checks the note on each turn and never sleeps longer than a second before it does.
        """

        stopping = False

        def _request_stop(self, signum, frame):
            StoppableCronScheduler.stopping = True
            super()._request_stop(signum, frame)

        def calculate_sleep_interval(self):
            if StoppableCronScheduler.stopping:
                raise StopRequested()
            return min(super().calculate_sleep_interval(), 1.0)

    return StoppableCronScheduler


def run_cron(app):
    """RQ's cron scheduler with jobs/cron.py (it only enqueues), restarted after each Redis outage."""
    scheduler_class = _cron_scheduler_class()
    redis = app.extensions["redis"]
    while True:
        try:
            wait_for_redis(redis, "cron")
            if scheduler_class.stopping:
                return
            scheduler = scheduler_class(connection=redis)
            scheduler.load_config_from_file("jobs.cron")
            scheduler.start()
            return  # start() returns when a stop was asked for
        except (StopRequested, KeyboardInterrupt):
            return
        except (RedisError, OSError) as error:
            log.warning("cron: stopped by a Redis error (%s)", type(error).__name__)
