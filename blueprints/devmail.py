"""/dev/mail: the e-mail `keyhouse dev`'s SMTP catcher caught. Registered only when DEV_MAIL_DIR is set."""

from flask import Blueprint, current_app
from flask_login import login_required

from keyhouse.outbound import devmail
from keyhouse.web.htmx import render

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")


@bp.before_request
@login_required
def require_login():
    """Caught mail is for the people trying Keyhouse out, signed in."""


@bp.route("")
def index():
    messages = devmail.caught(current_app.config["DEV_MAIL_DIR"])
    return render("devmail/index.html", "devmail/index.html", messages=messages)


def init_app(app):
    if app.config["DEV_MAIL_DIR"]:
        app.register_blueprint(bp)
