"""Signing in and out: what a staff member sees, and what an attacker cannot do."""

import pytest

from tests.helpers import PASSWORD, csrf_token


def test_login_with_the_right_password_opens_the_api_keys_screen(client, auth, tenants):
    response = auth.login("admin@acme.test")
    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>API keys</h1>" in html
    assert 'id="bell"' in html
    assert "Agency keys" in html


def test_email_is_matched_without_regard_to_case_or_spaces(client, auth, tenants):
    response = auth.login("  Admin@ACME.test ")
    assert response.status_code == 302


@pytest.mark.parametrize("email,password", [
    ("admin@acme.test", "wrong password"),
    ("nobody@acme.test", PASSWORD),
])
def test_a_failed_login_says_so_without_telling_which_part_was_wrong(client, auth, tenants, email, password):
    response = auth.login(email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Wrong email or password." in html
    assert 'value="' + email.strip() + '"' in html  # what was typed is kept
    assert client.get("/settings/api-keys").status_code == 302  # still signed out


def test_empty_fields_get_messages_next_to_them(client, tenants):
    token = csrf_token(client)
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error">Enter your email.' in html
    assert 'id="password-error">Enter your password.' in html


def test_a_removed_member_cannot_sign_in(client, auth, tenants):
    tenants.staff.is_member = False
    tenants.staff.save()
    assert auth.login("staff@acme.test").status_code == 401


@pytest.mark.parametrize("forged", [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
])
def test_next_only_redirects_within_this_site(client, auth, tenants, forged):
    response = auth.login("admin@acme.test", next_url=forged)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_returns_to_the_page_that_asked_for_sign_in(client, auth, tenants):
    bounced = client.get("/notifications/")
    assert bounced.status_code == 302
    assert "next=%2Fnotifications%2F" in bounced.headers["Location"]
    response = auth.login("admin@acme.test", next_url="/notifications/")
    assert response.headers["Location"] == "/notifications/"


def test_login_without_csrf_token_is_refused_clearly(client, tenants):
    response = client.post("/login", data={"email": "admin@acme.test", "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from Keyhouse" in response.get_data(as_text=True)
    assert client.get("/settings/api-keys").status_code == 302


def test_htmx_request_without_csrf_header_is_refused(client, auth, tenants):
    auth.login("admin@acme.test")
    response = client.post("/logout", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "toast" in response.headers["HX-Trigger"]
    assert client.get("/settings/api-keys").status_code == 200  # still signed in


def test_csrf_token_in_header_is_accepted(client, auth, tenants):
    auth.login("admin@acme.test")
    token = csrf_token(client, "/settings/api-keys")
    response = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 302
    assert client.get("/settings/api-keys").status_code == 302


def test_logout_is_a_post_only(client, auth, tenants):
    auth.login("admin@acme.test")
    assert client.get("/logout").status_code == 405
    assert auth.logout().status_code == 302
    assert client.get("/settings/api-keys").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, auth, tenants):
    response = auth.login("admin@acme.test")
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")][0]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_session_cookie_is_secure_by_default(settings, tenants):
    from app import create_app

    settings = dict(settings)
    del settings["SESSION_COOKIE_SECURE"], settings["REMEMBER_COOKIE_SECURE"]
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_remember_me_keeps_the_user_signed_in_after_the_session_ends(client, auth, tenants):
    response = auth.login("admin@acme.test", remember=True)
    remember = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("keyhouse_remember=")]
    assert remember and "HttpOnly" in remember[0]
    client.delete_cookie("session")
    assert client.get("/settings/api-keys").status_code == 200


def test_without_remember_me_losing_the_session_signs_out(client, auth, tenants):
    auth.login("admin@acme.test")
    client.delete_cookie("session")
    assert client.get("/settings/api-keys").status_code == 302


def test_every_page_sends_a_strict_content_security_policy(client, auth, tenants):
    for path in ("/login", "/settings/api-keys"):
        if path != "/login":
            auth.login("admin@acme.test")
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy


def test_repeated_failed_sign_ins_from_one_address_are_slowed_down(app, client, auth, tenants):
    app.config["LOGIN_FAILURE_LIMIT"] = 3
    for _ in range(3):
        assert auth.login("admin@acme.test", "wrong password").status_code == 401
    response = auth.login("admin@acme.test")  # even the right password waits
    assert response.status_code == 429
    assert "Too many failed sign-ins from your address" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 600
    assert client.get("/settings/api-keys").status_code == 302


def test_successful_sign_ins_do_not_count_toward_the_limit(app, client, auth, tenants):
    app.config["LOGIN_FAILURE_LIMIT"] = 2
    for _ in range(4):
        assert auth.login("admin@acme.test").status_code == 302
        auth.logout()
