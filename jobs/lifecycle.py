"""The inactivity lifecycle's jobs (filled in by the lifecycle work)."""

import logging

from .context import job_context

log = logging.getLogger("keyhouse.jobs")


def sweep(as_of=None):
    """Find keys whose next warning or deletion is due and enqueue that work.

    `as_of` (ISO 8601, UTC) lets the CLI run a sweep at another time.
    Returns the number of jobs enqueued.
    """
    with job_context():
        log.info("sweep ran (as of %s): nothing due", as_of or "now")
        return 0
