"""How every screen answers: page or fragment, toasts, errors, security headers."""

import json
import logging

from flask import jsonify, make_response, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

import permissions
from models import Location, Notification, utcnow

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


def render(page_template, fragment, status=200, **context):
    """The whole `page_template` for a browser, only `fragment` for an htmx request.

    The fragment is the same template the page includes, so one markup serves both.
    """
    template = fragment if wants_fragment() else page_template
    return make_response(render_template(template, fragment=fragment, **context), status)


def trigger(response, event, detail=None):
    """Add an htmx event to the response's HX-Trigger header (listeners use `from:body`)."""
    events = json.loads(response.headers.get("HX-Trigger") or "{}")
    events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def toast(response, message, level="success"):
    """Have the dashboard show `message` as a toast after an htmx response."""
    return trigger(response, "toast", {"message": message, "level": level})


MAX_ID = 2**31 - 1  # ids and page numbers beyond this are nobody's


def small_int(value):
    """`value` as a positive int that fits an id column, else None (never a database error)."""
    value = (value or "").strip()
    if not value.isdecimal() or len(value) > 10 or int(value) > MAX_ID:
        return None
    return int(value)


def client_ip():
    """The client's address (behind a trusted proxy, the one it reports)."""
    return request.remote_addr


def ago(moment, now=None):
    """'3 minutes ago', 'in 2 days', 'just now' for a naive-UTC datetime."""
    if moment is None:
        return "never"
    now = now or utcnow()
    seconds = int((now - moment).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 45:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size or unit == "minute":
            count = max(1, round(seconds / size))
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"


def utc(moment):
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def current_location():
    """The location the dashboard is showing, or None in Agency View."""
    if not current_user.is_authenticated:
        return None
    if current_user.location_id:  # location-level users only ever see their own
        return current_user.location
    location_id = session.get("view_location")
    if location_id is None:
        return None
    location = permissions.visible_locations(current_user).where(Location.id == location_id).first()
    if location is None:
        session.pop("view_location", None)
    return location


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
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["utc"] = utc

    @app.before_request
    def refuse_nul_characters():
        """No dashboard form or query value may hold a NUL: PostgreSQL cannot store one.

        The API and the public link and form endpoints check their own input.
        """
        if request.path.startswith(API_PREFIXES) or request.blueprint == "public":
            return None
        values = list(request.args.values()) + (list(request.form.values()) if request.form else [])
        if any("\x00" in value for value in values):
            return _error(400, "Bad Request", "The request holds a NUL character, which no field accepts.")
        return None

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
        return {
            "view_location": current_location(),
            "can_agency_view": permissions.sees_agency_keys(current_user),
            "switchable_locations": list(permissions.visible_locations(current_user)),
            "bell_count": Notification.unread_count(current_user.id),
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
