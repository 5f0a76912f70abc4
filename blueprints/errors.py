"""How errors answer: JSON to API clients, a toast to htmx, a page to a browser.

The API says which paths are its own (`answer_json_under`), so an unknown path
under /v2/ still answers in the API's JSON shape.
"""

import logging

from flask import (
    Blueprint,
    current_app,
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


@bp.app_errorhandler(HTTPException)
def http_error(error):
    return error_response(error.code, error.name, MESSAGES.get(error.code, error.description))


@bp.app_errorhandler(Exception)
def server_error(error):
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return error_response(500, "Internal Server Error", "Something went wrong on our side. Please try again.")
