"""The dashboard's front door and the Agency View / location switcher."""

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user, login_required

from keyhouse import permissions
from keyhouse.models import Location
from keyhouse.web.layout import show_location
from keyhouse.web.params import small_int

bp = Blueprint("dashboard", __name__)


@bp.before_request
@login_required
def require_login():
    """Every dashboard page needs a signed-in staff member."""


@bp.route("/")
def index():
    return redirect(url_for("keys.index"))


@bp.route("/view", methods=["POST"])
def switch_view():
    """Switch between Agency View and one location (sub-account)."""
    target = request.form.get("location", "")
    if target == "agency":
        if not permissions.sees_agency_keys(current_user):
            abort(404)
        show_location(None)
    else:
        location_id = small_int(target)
        location = Location.get_or_none(Location.id == location_id) if location_id else None
        if location is None or not permissions.sees_location(current_user, location):
            abort(404)
        show_location(location)
    return redirect(url_for("keys.index"), code=303)
