"""The app a job runs in: the current one (tests, CLI), else one built per worker process."""

import contextlib
import functools

from flask import current_app, has_app_context

from keyhouse.models import db


@functools.cache
def job_app():
    from app import create_app

    return create_app()


@contextlib.contextmanager
def job_context():
    """An app context and a database connection for the duration of one job."""
    app = current_app._get_current_object() if has_app_context() else job_app()
    with app.app_context(), db.connection_context():
        yield app
