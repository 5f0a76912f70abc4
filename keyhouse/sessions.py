"""Sign-ins the server can end.

Each signed-in browser is a `SignIn` row. The (signed) session cookie carries
a random nonce and the "Remember me" cookie a random token; the row keeps only
their SHA-256 digests and a fixed expiry (SESSION_HOURS, or REMEMBER_DAYS with
"Remember me"). A request is signed in only while its row exists and has not
expired, so:

* signing out deletes the row: the session cookie and the remember-cookie of
  that browser stop working, even when replayed;
* "Sign out everywhere", a password change and removing a member delete every
  row of the user;
* a remember-cookie is used once: when it opens a new session it is replaced
  by a new token (rotated), and the old one no longer works.

Flask-Login's own remember-cookie (an HMAC of the user id that never changes)
is never set.
"""

import datetime
import hashlib
import secrets

from flask import current_app, g, request, session
from flask_login import current_user, login_user, logout_user, session_protected

from keyhouse.models import SignIn, User, utcnow

REMEMBER_COOKIE = "keyhouse_remember"
_CLEAR = "clear"


def _digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def _seconds(setting):
    value = current_app.config[setting]
    return int(value.total_seconds()) if isinstance(value, datetime.timedelta) else int(value)


def start(user, remember=False):
    """Sign `user` in on this browser (after their password was checked)."""
    now = utcnow()
    SignIn.delete().where((SignIn.user == user.id) & (SignIn.expires_at <= now)).execute()
    nonce = secrets.token_urlsafe(32)
    token = secrets.token_urlsafe(32) if remember else None
    lifetime = _seconds("REMEMBER_COOKIE_DURATION" if remember else "PERMANENT_SESSION_LIFETIME")
    sign_in = SignIn.create(
        user=user.id,
        created_at=now,
        session_digest=_digest(nonce),
        remember_digest=_digest(token) if token else None,
        expires_at=now + datetime.timedelta(seconds=lifetime),
    )
    user.session_nonce = nonce
    login_user(user)
    if token:
        g.remember_cookie = (token, sign_in.expires_at)


def end_this():
    """Sign out this browser: its session and its remember-cookie end."""
    nonce = getattr(current_user, "session_nonce", None)
    if nonce:
        SignIn.delete().where(SignIn.session_digest == _digest(nonce)).execute()
    logout_user()
    g.remember_cookie = _CLEAR


def end_all(user_id):
    """End every session and remember-cookie of user `user_id`; returns how many sign-ins ended."""
    return SignIn.delete().where(SignIn.user == user_id).execute()


def load_user(user_id):
    """Flask-Login's user_loader: the user of a live sign-in ("<id>:<nonce>" from the session)."""
    user_id, _, nonce = user_id.partition(":")
    if not user_id.isdigit() or not nonce:
        return None  # also every session and remember-cookie made before sign-ins were rows
    user = (
        User.select(User)
        .join(SignIn)
        .where(
            (User.id == int(user_id))
            & User.is_member
            & (SignIn.session_digest == _digest(nonce))
            & (SignIn.expires_at > utcnow())
        )
        .first()
    )
    if user is not None:
        user.session_nonce = nonce
    return user


def resume_remembered():
    """A browser with a remember-cookie and no session: open a session and rotate the cookie."""
    if "HTTP_COOKIE" not in request.environ:  # an API caller, a first visit: no cookie to parse
        return
    token = request.cookies.get(REMEMBER_COOKIE)
    if not token or "_user_id" in session:
        return
    row = (
        SignIn.select(SignIn, User)
        .join(User)
        .where((SignIn.remember_digest == _digest(token)) & (SignIn.expires_at > utcnow()) & User.is_member)
        .first()
    )
    nonce, new_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    rotated = row is not None and (
        SignIn.update(session_digest=_digest(nonce), remember_digest=_digest(new_token))
        .where((SignIn.id == row.id) & (SignIn.remember_digest == row.remember_digest))
        .execute()
    )
    if not rotated:  # unknown, expired, ended, or used by another request a moment ago
        g.remember_cookie = _CLEAR
        return
    user = row.user
    user.session_nonce = nonce
    login_user(user, fresh=False)
    g.remember_cookie = (new_token, row.expires_at)


def write_remember_cookie(response):
    """Set, replace or delete the remember-cookie as this request decided."""
    decision = g.pop("remember_cookie", None)
    if decision is None:
        return response
    config = current_app.config
    options = {
        "path": "/",
        "secure": config["REMEMBER_COOKIE_SECURE"],
        "httponly": True,
        "samesite": config["REMEMBER_COOKIE_SAMESITE"],
    }
    if decision == _CLEAR:
        response.delete_cookie(REMEMBER_COOKIE, **options)
    else:
        token, expires_at = decision
        max_age = max(0, int((expires_at - utcnow()).total_seconds()))
        response.set_cookie(REMEMBER_COOKIE, token, max_age=max_age, **options)
    return response


def _protection_failed(app):
    """Flask-Login's "strong" protection saw the session from another address or browser and dropped it:
    end the remember-me this request carries too, so the cookies cannot simply be sent again."""
    token = request.cookies.get(REMEMBER_COOKIE)
    if token:
        SignIn.delete().where(SignIn.remember_digest == _digest(token)).execute()
    g.remember_cookie = _CLEAR


def init_app(app, login_manager):
    login_manager.user_loader(load_user)
    app.before_request(resume_remembered)
    app.after_request(write_remember_cookie)
    session_protected.connect(_protection_failed, app)
