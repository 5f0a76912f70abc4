"""Sessions the server can end: sign-out, sign out everywhere, password change, removal, remember-me.

Each test signs in through the real form with the Flask test client and replays
the real cookies it was given, as an attacker who copied them would.
"""

from keyhouse.models import SignIn, User, db
from keyhouse.sessions import REMEMBER_COOKIE
from tests.helpers import PASSWORD, Auth, csrf_token, keyhouse

KEYS = "/settings/api-keys"


def cookie(client, name):
    found = client.get_cookie(name)
    return found.value if found else None


def browser(app, **cookies):
    """A fresh browser holding only `cookies` (e.g. copied from another one)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def signed_in(app, email, remember=False):
    client = app.test_client()
    response = Auth(client).login(email, remember=remember)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def test_a_session_cookie_replayed_after_sign_out_is_refused(app, tenants):
    client = signed_in(app, "admin@acme.test")
    captured = cookie(client, "session")
    assert browser(app, session=captured).get(KEYS).status_code == 200

    assert Auth(client).logout().status_code == 302

    assert browser(app, session=captured).get(KEYS).status_code == 302
    assert client.get(KEYS).status_code == 302


def test_the_remember_cookie_is_random_and_stored_only_as_a_digest(app, tenants):
    first = cookie(signed_in(app, "admin@acme.test", remember=True), REMEMBER_COOKIE)
    second = cookie(signed_in(app, "admin@acme.test", remember=True), REMEMBER_COOKIE)
    assert first and second and first != second
    assert len(first) >= 40
    with db.connection_context():
        stored = [row.remember_digest for row in SignIn.select()]
    assert len(stored) == 2
    assert first not in stored and second not in stored


def test_remember_me_opens_a_new_session_and_rotates_the_cookie(app, tenants):
    client = signed_in(app, "admin@acme.test", remember=True)
    token = cookie(client, REMEMBER_COOKIE)

    later = browser(app, **{REMEMBER_COOKIE: token})  # the browser was closed: no session cookie
    assert later.get(KEYS).status_code == 200
    rotated = cookie(later, REMEMBER_COOKIE)
    assert rotated and rotated != token
    assert later.get(KEYS).status_code == 200  # the new session holds

    stolen = browser(app, **{REMEMBER_COOKIE: token})  # the old token was used once: it is spent
    assert stolen.get(KEYS).status_code == 302
    assert cookie(stolen, REMEMBER_COOKIE) is None  # and the browser is told to forget it

    assert browser(app, **{REMEMBER_COOKIE: rotated}).get(KEYS).status_code == 200


def test_signing_out_ends_the_remember_cookie(app, tenants):
    client = signed_in(app, "admin@acme.test", remember=True)
    token = cookie(client, REMEMBER_COOKIE)
    Auth(client).logout()
    assert cookie(client, REMEMBER_COOKIE) is None
    assert browser(app, **{REMEMBER_COOKIE: token}).get(KEYS).status_code == 302


def test_a_remember_cookie_expires_on_the_server(app, tenants):
    client = signed_in(app, "admin@acme.test", remember=True)
    token = cookie(client, REMEMBER_COOKIE)
    with db.connection_context():
        SignIn.update(expires_at=SignIn.created_at).execute()  # its REMEMBER_DAYS have passed
    assert browser(app, **{REMEMBER_COOKIE: token}).get(KEYS).status_code == 302
    assert client.get(KEYS).status_code == 302  # the session of that sign-in has ended too


def test_a_session_without_remember_me_expires_on_the_server(app, tenants):
    client = signed_in(app, "admin@acme.test")
    with db.connection_context():
        (expires,) = [row.expires_at - row.created_at for row in SignIn.select()]
        SignIn.update(expires_at=SignIn.created_at).execute()
    assert expires.total_seconds() == app.config["PERMANENT_SESSION_LIFETIME"]
    assert client.get(KEYS).status_code == 302


def test_sign_out_everywhere_ends_every_session_and_remember_cookie_of_that_user(app, tenants):
    laptop = signed_in(app, "admin@acme.test", remember=True)
    phone = signed_in(app, "admin@acme.test")
    laptop_token = cookie(laptop, REMEMBER_COOKIE)
    colleague = signed_in(app, "staff@acme.test")

    page = phone.get(KEYS).get_data(as_text=True)
    assert 'action="/logout/everywhere"' in page
    response = phone.post("/logout/everywhere", data={"csrf_token": csrf_token(phone, KEYS)})
    assert response.status_code == 302

    assert phone.get(KEYS).status_code == 302
    assert laptop.get(KEYS).status_code == 302
    assert browser(app, **{REMEMBER_COOKIE: laptop_token}).get(KEYS).status_code == 302
    assert colleague.get(KEYS).status_code == 200  # other users are not touched


def test_sign_out_everywhere_needs_the_csrf_token(app, tenants):
    client = signed_in(app, "admin@acme.test")
    assert client.post("/logout/everywhere").status_code == 400
    assert client.get(KEYS).status_code == 200


def test_a_password_change_ends_every_session_of_that_user(app, settings, tenants):
    client = signed_in(app, "admin@acme.test", remember=True)
    token = cookie(client, REMEMBER_COOKIE)

    result = keyhouse(settings, "set-password", "--password", "a brand new password", "admin@acme.test")
    assert result.returncode == 0, result.stderr
    assert "1 sign-in(s) ended" in result.stdout

    assert client.get(KEYS).status_code == 302
    assert browser(app, **{REMEMBER_COOKIE: token}).get(KEYS).status_code == 302
    assert Auth(app.test_client()).login("admin@acme.test").status_code == 401  # the old password is gone
    assert Auth(app.test_client()).login("admin@acme.test", password="a brand new password").status_code == 302


def test_removing_a_member_ends_their_sessions_at_once(app, settings, tenants):
    client = signed_in(app, "staff@acme.test", remember=True)
    token = cookie(client, REMEMBER_COOKIE)

    result = keyhouse(settings, "remove-user", "staff@acme.test")
    assert result.returncode == 0, result.stderr

    assert client.get(KEYS).status_code == 302
    assert browser(app, **{REMEMBER_COOKIE: token}).get(KEYS).status_code == 302
    with db.connection_context():
        assert not User.by_email("staff@acme.test").is_member
        assert SignIn.select().count() == 0


def test_a_member_removed_by_other_means_is_signed_out_too(app, tenants):
    client = signed_in(app, "staff@acme.test", remember=True)
    token = cookie(client, REMEMBER_COOKIE)
    with db.connection_context():
        User.update(is_member=False).where(User.id == tenants.staff.id).execute()  # e.g. their location deleted
    assert client.get(KEYS).status_code == 302
    assert browser(app, **{REMEMBER_COOKIE: token}).get(KEYS).status_code == 302


def test_a_cookie_of_the_old_format_opens_nothing(app, tenants):
    """Before sign-ins were rows, remember_token was '<id>|<HMAC>': the same forever. It no longer works."""
    from flask_login.utils import encode_cookie

    with app.test_request_context():
        old = encode_cookie(str(tenants.admin.id))
    assert browser(app, remember_token=old).get(KEYS).status_code == 302
    with app.test_request_context():
        session_id = encode_cookie(f"{tenants.admin.id}:")
    assert browser(app, remember_token=session_id).get(KEYS).status_code == 302


def test_password_is_checked_before_any_sign_in_is_recorded(app, tenants):
    Auth(app.test_client()).login("admin@acme.test", password=PASSWORD + "x")
    with db.connection_context():
        assert SignIn.select().count() == 0


def test_cookies_replayed_from_another_browser_end_that_sign_in(app, tenants):
    """Flask-Login's strong protection drops a session seen with another User-Agent; the remember-me
    cookie sent along must not simply open it again."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Firefox/130"
    assert Auth(client).login("admin@acme.test", remember=True).status_code == 302
    stolen = {"session": cookie(client, "session"), REMEMBER_COOKIE: cookie(client, REMEMBER_COOKIE)}

    thief = browser(app, **stolen)
    thief.environ_base["HTTP_USER_AGENT"] = "curl/8.5"
    assert thief.get(KEYS).status_code == 302
    again = browser(app, **{REMEMBER_COOKIE: stolen[REMEMBER_COOKIE]})
    again.environ_base["HTTP_USER_AGENT"] = "curl/8.5"
    assert again.get(KEYS).status_code == 302
