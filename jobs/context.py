"""The app a job runs in: the current one (tests, CLI), else one built per worker process."""

import contextlib
import functools

from flask import current_app, has_app_context

from keyhouse.models import db


@functools.cache
def job_app():
    from app import create_app
    from keyhouse.config import unsigned_process_settings

    return create_app(unsigned_process_settings())  # workers sign nothing: no SECRET_KEY needed


@contextlib.contextmanager
def job_context():
    """An app context and a database connection for the duration of one job."""
    app = current_app._get_current_object() if has_app_context() else job_app()
    with app.app_context(), db.connection_context():
        yield app
