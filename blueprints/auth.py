"""Staff sign-in and sign-out (the sessions themselves: keyhouse/sessions.py)."""

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.security import generate_password_hash
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from keyhouse import ratelimit, sessions
from keyhouse.models import User
from keyhouse.web.htmx import render
from keyhouse.web.params import client_ip

bp = Blueprint("auth", __name__)

# Compared against when the email is unknown, so both failures take as long.
_DUMMY_HASH = generate_password_hash("keyhouse-dummy-password")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email."), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(message="Enter your password."), Length(max=1000)]
    )
    remember = BooleanField("Remember me")


def safe_next(target):
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


def _account(email):
    """How the per-account limit names an account: a digest, so Redis never holds the address."""
    return hashlib.sha256(User.normalize_email(email).encode()).hexdigest()[:32]


def _too_many(form, window, name, whose):
    """The 429 answer when `name` reached the limit of `window` (a ratelimit.Window), else None."""
    failures, retry_after = window.count(name, 0)
    if failures is None or failures < window.limit:
        return None
    minutes = -(-retry_after // 60)
    form.password.errors = [
        f"Too many failed sign-ins {whose}. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    ]
    response = render("auth/login.html", "auth/login.html", status=429, form=form,
                      next_url=safe_next(request.args.get("next")))
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("dashboard.index"))
    form = LoginForm()
    if form.is_submitted():
        refused = _too_many(form, ratelimit.SIGN_IN_FAILURES, client_ip(), "from your address")
        if refused is None and form.email.data:
            refused = _too_many(form, ratelimit.ACCOUNT_SIGN_IN_FAILURES, _account(form.email.data), "for this account")
        if refused is not None:
            return refused
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        # One password hash checked whoever asks (unknown, removed or member), so the time taken tells nothing.
        matches = (user or User(password_hash=_DUMMY_HASH)).check_password(form.password.data)
        if user is not None and user.is_active and matches:
            sessions.start(user, remember=form.remember.data)
            return redirect(next_url or url_for("dashboard.index"))
        ratelimit.SIGN_IN_FAILURES.count(client_ip())
        ratelimit.ACCOUNT_SIGN_IN_FAILURES.count(_account(form.email.data))
        form.password.errors.append("Wrong email or password.")
        return render("auth/login.html", "auth/login.html", status=401, form=form, next_url=next_url)
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", "auth/login.html", status=status, form=form, next_url=next_url)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end_this()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    ended = sessions.end_all(current_user.id)
    sessions.end_this()
    flash(f"You have been signed out everywhere ({ended} sign-in{'s' if ended != 1 else ''} ended).", "info")
    return redirect(url_for("auth.login"))
