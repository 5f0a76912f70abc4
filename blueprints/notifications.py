"""The notification bell in the top bar."""

from flask import Blueprint
from flask_login import current_user, login_required

from models import Notification
from views import render, unread_count

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PAGE_SIZE = 20


@bp.before_request
@login_required
def require_login():
    """The bell belongs to a signed-in staff member."""


@bp.route("/bell")
def bell():
    """The bell with its unread badge; polled by every page."""
    return render("notifications/_bell.html", "notifications/_bell.html", bell_count=unread_count(current_user))


@bp.route("/")
def index():
    items = (
        Notification.select()
        .where(Notification.user == current_user.id)
        .order_by(Notification.id.desc())
        .limit(PAGE_SIZE)
    )
    return render("notifications/index.html", "notifications/_list.html", notifications=list(items))
