"""How every screen answers: page or fragment, toasts, errors, security headers."""

import json
import logging

from flask import flash, jsonify, make_response, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from models import Location, Notification

log = logging.getLogger("keyhouse")

# Scripts, styles, images and requests from this site only: no inline code, no eval.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

API_PREFIXES = ("/v1/", "/v2/")


def wants_fragment():
    """True when htmx asked for a piece of a page (not a boosted navigation)."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render(page, fragment, status=200, **context):
    """The whole `page` for a browser, only `fragment` for an htmx request.

    The fragment is the same template the page includes, so one markup serves both.
    """
    template = fragment if wants_fragment() else page
    return make_response(render_template(template, **context), status)


def toast(response, message, level="success"):
    """Have the dashboard show `message` as a toast after an htmx response."""
    events = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    events["toast"] = {"message": message, "level": level}
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def notify(message, level="success"):
    """A toast for whichever way the request came: header for htmx, flash for pages."""
    if not wants_fragment():
        flash(message, level)
        return None
    return {"message": message, "level": level}


def current_location():
    """The location the dashboard is showing, or None in Agency View."""
    if not current_user.is_authenticated:
        return None
    if current_user.location_id:  # location-level users only ever see their own
        return current_user.location
    location_id = session.get("view_location")
    if location_id is None:
        return None
    location = Location.get_or_none(
        (Location.id == location_id) & (Location.agency == current_user.agency_id)
    )
    if location is None:
        session.pop("view_location", None)
    return location


def unread_count(user):
    return (
        Notification.select()
        .where((Notification.user == user.id) & Notification.read_at.is_null())
        .count()
    )


def _error(status, title, message):
    if request.path.startswith(API_PREFIXES) or (
        request.accept_mimetypes.best == "application/json"
    ):
        return jsonify(statusCode=status, error=title, message=message), status
    if wants_fragment():
        response = make_response(render_template("errors/_message.html", title=title, message=message), status)
        return toast(response, message, "error")
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app):
    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.vary.add("HX-Request")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def layout_context():
        if not current_user.is_authenticated:
            return {}
        import permissions

        return {
            "view_location": current_location(),
            "can_agency_view": permissions.sees_agency_keys(current_user),
            "switchable_locations": list(permissions.visible_locations(current_user)),
            "bell_count": unread_count(current_user),
        }

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        log.warning("CSRF check failed on %s %s: %s", request.method, request.path, error.description)
        return _error(
            400,
            "Bad Request",
            "This form has expired or did not come from Keyhouse. Reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        messages = {404: "There is nothing here, or it is outside your reach."}
        return _error(error.code, error.name, messages.get(error.code, error.description))

    @app.errorhandler(Exception)
    def server_error(error):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return _error(500, "Internal Server Error", "Something went wrong on our side. Please try again.")
