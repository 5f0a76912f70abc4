"""The leak-report job: deactivate the keys a public report matched (keyhouse/keys/leaks.py)."""

import logging

from keyhouse.keys import leaks
from keyhouse.models import ApiKey

from .context import job_context

log = logging.getLogger("keyhouse.jobs")


def leak_report(key_ids, ip=None):
    """Deactivate each reported key that is still active; safe to run twice."""
    with job_context():
        keys = list(ApiKey.select().where(ApiKey.id.in_(list(key_ids))).order_by(ApiKey.id)) if key_ids else []
        done = sum(leaks.deactivate(key, ip) for key in keys)
        log.info("leak_report: %d reported key(s) deactivated", done)
        return done
