"""Settings → E-mail: which key events reach the signed-in user by e-mail."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from keyhouse.outbound import email
from keyhouse.web.htmx import render

bp = Blueprint("preferences", __name__, url_prefix="/settings/email")


@bp.before_request
@login_required
def require_login():
    """Each user chooses for themselves."""


@bp.route("")
def index():
    return render("preferences/index.html", "preferences/_form.html", events=email.events(),
                  chosen=email.choices(current_user), smtp_enabled=email.enabled())


@bp.route("", methods=["POST"])
def save():
    known = {event for event, _, _ in email.events()}
    email.save_choices(current_user, known & set(request.form.getlist("events")))
    flash("Saved: your e-mail choices apply from the next event.", "success")
    return redirect(url_for("preferences.index"), code=303)
