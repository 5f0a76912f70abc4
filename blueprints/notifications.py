"""The notification bell in the top bar, the notifications page, and the pending-deletion banner."""

from flask import Blueprint, abort, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from keyhouse.keys import lifecycle, usage
from keyhouse.models import Notification, utcnow
from keyhouse.web.htmx import render
from keyhouse.web.params import small_int

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PAGE_SIZE = 20
DROPDOWN_SIZE = 8


@bp.before_request
@login_required
def require_login():
    """The bell belongs to a signed-in staff member."""


@bp.app_template_global()
def unread_notifications():
    """For the bell in the layout: the signed-in user's unread count (one indexed query)."""
    return Notification.unread_count(current_user.id)


def _page(limit):
    """One page of the user's notifications, newest first: (items, id to continue before, or None)."""
    before = small_int(request.args.get("before"))
    items = list(Notification.newest_for(current_user.id, before=before, limit=limit + 1))
    more = items[limit - 1].id if len(items) > limit else None
    return items[:limit], more


@bp.route("/bell")
def bell():
    """The bell with its unread badge; every page polls it.

    A poll costs one indexed query (Notification.unread_count) besides loading
    the signed-in user.
    """
    return render("notifications/_bell.html", "notifications/_bell.html", bell_count=unread_notifications())


@bp.route("/dropdown")
def dropdown():
    """The bell's dropdown: the newest notifications, loaded when it opens."""
    items, more = _page(DROPDOWN_SIZE)
    return render("notifications/_dropdown.html", "notifications/_dropdown.html", notifications=items, more=more)


@bp.route("/items")
def items():
    """The next page of notifications, appended where the "Older" button was."""
    where = "bell" if request.args.get("bell") else "page"
    items, more = _page(DROPDOWN_SIZE if where == "bell" else PAGE_SIZE)
    return render("notifications/_items.html", "notifications/_items.html", notifications=items, more=more, where=where)


@bp.route("/")
def index():
    items, more = _page(PAGE_SIZE)
    return render("notifications/index.html", "notifications/_list.html", notifications=items, more=more)


def _changed():
    """After marking read: htmx gets 204 and the event the bell and lists refresh on; a form gets the page."""
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Trigger"] = "notifications-changed"
        return response
    return redirect(url_for("notifications.index"), code=303)


@bp.route("/<int(max=2147483647):notification_id>/read", methods=["POST"])
def mark_read(notification_id):
    if not Notification.select().where(
        (Notification.id == notification_id) & (Notification.user == current_user.id)
    ).exists():
        abort(404)
    Notification.mark_read(current_user.id, utcnow(), notification_id)
    return _changed()


@bp.route("/read", methods=["POST"])
def mark_all_read():
    Notification.mark_read(current_user.id, utcnow())
    return _changed()


def pending_banner_context(now=None):
    """What the pending-deletion banner shows: the soonest keys and how many in all
    (lifecycle.pending_banner), each key's blast radius, the inactivity period."""
    now = now or utcnow()
    banner = lifecycle.pending_banner(current_user, now)
    radii = usage.blast_radius([key for key, *_ in banner["pending"]], now, banner["inactivity_days"])
    return {**banner, "radii": radii, "now": now}


@bp.route("/pending-banner")
def pending_banner():
    """The API keys screen's banner of keys pending deletion (refreshed by htmx)."""
    return render("notifications/_pending_banner.html", "notifications/_pending_banner.html",
                  **pending_banner_context())
