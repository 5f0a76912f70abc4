"""How errors answer: JSON to API clients, a toast to htmx, a page to a browser.

The API says which paths are its own (`answer_json_under`), so an unknown path
under /v2/ still answers in the API's JSON shape.
"""

import logging
import time

import peewee
from flask import (
    Blueprint,
    current_app,
    g,
    make_response,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from keyhouse.web import jsonio
from keyhouse.web.htmx import toast, wants_fragment

log = logging.getLogger("keyhouse")

bp = Blueprint("errors", __name__)

_JSON_PREFIXES = "keyhouse.json_prefixes"
MESSAGES = {404: "There is nothing here, or it is outside your reach."}


def answer_json_under(app, prefix):
    """Errors on paths below `prefix` (e.g. "/v2/") answer in the API's JSON shape."""
    prefixes = app.extensions.get(_JSON_PREFIXES, ())
    app.extensions[_JSON_PREFIXES] = (*prefixes, prefix)


def _wants_json():
    prefixes = current_app.extensions.get(_JSON_PREFIXES, ())
    return request.path.startswith(prefixes) or request.accept_mimetypes.best == "application/json"


def error_response(status, title, message):
    """The answer for an error: JSON, a toast with its message, or a page."""
    if _wants_json():
        return jsonio.error_response(status, message)
    if wants_fragment():
        response = make_response(render_template("errors/_message.html", title=title, message=message), status)
        return toast(response, message, "error")
    return render_template("errors/error.html", status=status, title=title, message=message), status


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    log.warning("CSRF check failed on %s %s: %s", request.method, request.path, error.description)
    return error_response(
        400, "Bad Request", "This form has expired or did not come from Keyhouse. Reload the page and try again."
    )


DATABASE_RETRY_AFTER = 10  # seconds a client is asked to wait when the database is unavailable
DATABASE_LOG_EVERY = 60  # seconds between two log lines about an unavailable database (per process)


@bp.app_errorhandler(peewee.OperationalError)
@bp.app_errorhandler(peewee.InterfaceError)
def database_unavailable(error):
    """The database cannot be reached (or timed out): 503 with Retry-After, one log line a minute, no traceback."""
    state = current_app.extensions.setdefault("keyhouse.database_log", {"at": None})
    now = time.monotonic()
    if state["at"] is None or now - state["at"] >= DATABASE_LOG_EVERY:
        state["at"] = now
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        log.error("Database unavailable (%s: %s): answering 503 until it returns", type(error).__name__, reason)
    g._login_user = current_app.login_manager.anonymous_user()  # the page must not ask the database who is signed in
    response = make_response(
        error_response(
            503, "Service Unavailable", "The database is unavailable for a moment. Please try again shortly."
        )
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


@bp.app_errorhandler(HTTPException)
def http_error(error):
    response = make_response(error_response(error.code, error.name, MESSAGES.get(error.code, error.description)))
    for name, value in error.get_headers():  # e.g. the Allow of a 405 (RFC 9110), Retry-After
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.app_errorhandler(Exception)
def server_error(error):
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return error_response(500, "Internal Server Error", "Something went wrong on our side. Please try again.")
