"""Signing in through Chromium and landing on Settings → API keys."""

import re

from playwright.sync_api import expect

from keyhouse.models import Notification


def test_sign_in_shows_api_keys_settings_and_the_bell(page, sign_in, tenants):
    Notification.create(user=tenants.admin, kind="warning", message="A key will be deleted soon")
    sign_in("admin@acme.test")
    expect(page).to_have_url("/settings/api-keys")
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="API keys")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Agency keys")).to_be_visible()
    expect(page.get_by_role("heading", name="Location keys")).to_be_visible()
    expect(page.locator("#bell [data-testid=bell-count]")).to_have_text("1")
    expect(page.get_by_role("link", name="Notifications: 1 unread")).to_be_visible()


def test_wrong_password_is_shown_next_to_the_field(page, sign_in, tenants):
    sign_in("admin@acme.test", "not my password")
    expect(page.locator("#password-error")).to_have_text("Wrong email or password.")
    expect(page.get_by_label("Email")).to_have_value("admin@acme.test")


def test_location_user_switcher_offers_only_their_location(page, sign_in, tenants):
    sign_in("south.user@acme.test")
    page.locator("#switcher summary").click()
    options = page.locator("#switcher .menu-panel button")
    expect(options).to_have_text(["South Gym"])
    expect(page.get_by_role("heading", name="Agency keys")).to_have_count(0)


def test_agency_admin_switches_to_a_location_and_back(page, sign_in, tenants):
    sign_in("admin@acme.test")
    page.locator("#switcher summary").click()
    page.get_by_role("button", name="North Clinic").click()
    expect(page.locator("#switcher summary")).to_have_text("North Clinic")
    page.locator("#switcher summary").click()
    page.get_by_role("button", name="Agency View").click()
    expect(page.locator("#switcher summary")).to_have_text("Agency View")


def test_sign_out(page, sign_in, tenants):
    sign_in("admin@acme.test")
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url("/login")
    expect(page.get_by_text("You have been signed out.")).to_be_visible()


def test_sign_out_everywhere_from_the_user_menu(page, sign_in, tenants):
    sign_in("admin@acme.test")
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page).to_have_url("/login")
    expect(page.get_by_text("You have been signed out everywhere (1 sign-in ended).")).to_be_visible()
    page.goto("/settings/api-keys")
    expect(page).to_have_url(re.compile(r"/login"))
