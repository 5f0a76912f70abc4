"""What integrations did in a location: form submissions, trigger-link clicks, workflow
enrollments, and the custom fields its contacts carry.

Read-only, for the location's staff (anyone who sees the location, per
keyhouse/permissions.py); another location is 404 like everywhere in the dashboard.
"""

from flask import Blueprint, abort
from flask_login import current_user, login_required

from keyhouse import permissions
from keyhouse.models import CustomField, Enrollment, FormSubmission, LinkClick, Location
from keyhouse.web.htmx import render

bp = Blueprint("activity", __name__, url_prefix="/activity")


@bp.before_request
@login_required
def require_login():
    """Activity belongs to signed-in staff."""


@bp.route("/")
def index():
    return render("activity/index.html", "activity/index.html",
                  locations=list(permissions.visible_locations(current_user)))


@bp.route("/<locationId>")
def location(locationId):
    place = Location.by_api_id(locationId)
    if place is None or not permissions.sees_location(current_user, place):
        abort(404)
    return render(
        "activity/location.html",
        "activity/location.html",
        place=place,
        submissions=list(FormSubmission.recent(place)),
        clicks=list(LinkClick.recent(place)),
        enrollments=list(Enrollment.recent(place)),
        custom_fields=list(CustomField.listed(place)),
    )
