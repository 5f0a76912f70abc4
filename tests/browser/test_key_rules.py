"""Rules per key in Chromium: expiry at creation (and the agency's policy), the IP allowlist editor,
and bulk deactivate — all without page reloads."""

import datetime

from playwright.sync_api import expect

from keyhouse.keys import apikeys, expiry
from keyhouse.models import ApiKey, KeyStatus, db, utcnow
from tests.browser.test_keys import assert_no_reload, mark_page, row


def test_expiry_at_creation_and_the_lifetime_policy(page, sign_in, tenants):
    sign_in("admin@acme.test")
    mark_page(page)
    page.get_by_role("link", name="Create agency key").click()
    page.get_by_label("Name", exact=True).fill("Quarterly export")
    page.get_by_label("Expires").select_option(label="90 days")
    page.get_by_role("button", name="Create key").click()
    reveal = page.get_by_role("dialog", name="Copy your new key now")
    expect(reveal).to_be_visible()
    reveal.get_by_role("link", name="Done").click()
    page.get_by_role("dialog", name="Close without copying?").get_by_role("button", name="Close without copying").click()
    expect(reveal).to_have_count(0)
    expected = (utcnow() + datetime.timedelta(days=90)).strftime("%Y-%m-%d")
    expect(row(page, "Quarterly export")).to_contain_text(f"Expires {expected}")

    # A policy of 30 days: "On a date" a year out is refused next to the field.
    with db.connection_context():
        expiry.set_policy(tenants.acme.id, "30")
    page.get_by_role("link", name="Create agency key").click()
    page.get_by_label("Name", exact=True).fill("Too long")
    page.get_by_label("Expires").select_option(label="On a date…")
    far = (utcnow() + datetime.timedelta(days=365)).strftime("%Y-%m-%d")
    page.get_by_label("Date").fill(far)
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#expiry-error")).to_contain_text("at most 30 days")
    expect(page.get_by_label("Expires")).to_have_attribute("aria-invalid", "true")
    assert_no_reload(page)
    with db.connection_context():
        assert ApiKey.select().where(ApiKey.name == "Too long").count() == 0


def test_editing_the_ip_allowlist(page, sign_in, tenants):
    with db.connection_context():
        key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Office sync")
    sign_in("north.admin@acme.test")
    mark_page(page)
    row(page, "Office sync").get_by_role("link", name="Rules").click()
    editor = page.locator(f"#allowlist-{key.id}")
    expect(page.get_by_test_id("first-end")).to_contain_text("Inactivity comes first")
    field = editor.get_by_label("Allowed addresses and ranges")
    field.fill("203.0.113.7\nnot-an-address")
    editor.get_by_role("button", name="Save allowlist").click()
    expect(editor.locator(".error")).to_contain_text("“not-an-address”")
    expect(editor.get_by_label("Allowed addresses and ranges")).to_have_value("203.0.113.7\nnot-an-address")
    editor.get_by_label("Allowed addresses and ranges").fill("203.0.113.7\n2001:db8::/32")
    editor.get_by_role("button", name="Save allowlist").click()
    expect(page.locator("#toasts")).to_contain_text("may be used from 2 addresses or ranges only")
    expect(row(page, "Office sync")).to_contain_text("IP allowlist")
    assert_no_reload(page)
    with db.connection_context():
        assert ApiKey.get_by_id(key.id).allowed_ips == "203.0.113.7 2001:db8::/32"


def test_bulk_deactivate(page, sign_in, tenants):
    with db.connection_context():
        for name in ("Zap one", "Zap two", *(f"Filler {n:02d}" for n in range(30))):  # the bulk bar far below the panel
            apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name=name)
        apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South only")
    sign_in("staff@acme.test")  # manages North, sees South
    mark_page(page)
    location_keys = page.locator("#location-keys")
    select_all = location_keys.get_by_label("Select all on this page")
    select_all.check()
    expect(row(page, "Filler 07").get_by_role("checkbox")).to_be_checked()
    select_all.uncheck()
    expect(row(page, "Filler 07").get_by_role("checkbox")).not_to_be_checked()
    row(page, "Zap one").get_by_role("checkbox").check()
    row(page, "Zap two").get_by_role("checkbox").check()
    expect(row(page, "South only").get_by_role("checkbox")).to_have_count(0)  # not the user's to change
    location_keys.get_by_label("With the selected location keys").select_option(label="Deactivate")
    location_keys.get_by_role("button", name="Review selected").click()
    confirm = page.locator("#bulk-confirm")
    expect(confirm).to_be_in_viewport()  # opened above the lists, brought into view
    expect(confirm.locator(":focus")).to_have_count(1)
    expect(confirm.get_by_test_id("bulk-keys")).to_contain_text("Zap one")
    expect(confirm.get_by_test_id("bulk-keys")).to_contain_text("Zap two")
    confirm.get_by_role("button", name="Deactivate 2 keys").click()
    expect(page.locator("#toasts")).to_contain_text("Deactivated 2 keys.")
    expect(row(page, "Zap one")).to_contain_text("Deactivated")
    expect(row(page, "Zap two")).to_contain_text("Deactivated")
    expect(row(page, "South only")).to_contain_text("Active")
    assert_no_reload(page)
    with db.connection_context():
        assert {key.status for key in ApiKey.select().where(ApiKey.name.startswith("Zap"))} == {KeyStatus.INACTIVE}
