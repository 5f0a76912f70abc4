"""Background work on RQ. The database is the source of truth; Redis carries work.

Jobs are plain functions in this package. They take ids, never objects, secrets
or request state, and open their own database connection, so `keyhouse worker`
and a bare `rq worker` run them alike.
"""

from flask import current_app, has_app_context
from rq import Queue

from .context import job_app


def queue(app=None):
    """The RQ queue of `app` (or of the current app, or of the worker's app)."""
    app = app or (current_app._get_current_object() if has_app_context() else job_app())
    return Queue(app.config["RQ_QUEUE"], connection=app.extensions["redis"])
