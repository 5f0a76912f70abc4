"""The API keys screen in Chromium: create, reveal once, copy, manage — without page reloads."""

import re

from playwright.sync_api import expect

from keyhouse.keys import apikeys
from keyhouse.models import ApiKey


def mark_page(page):
    """Tag the page's window; the tag survives htmx swaps but not a full page load."""
    page.evaluate("window.__noReload = 'still here'")


def assert_no_reload(page):
    assert page.evaluate("window.__noReload") == "still here"


def row(page, name):
    return page.locator("tr.key-row", has=page.locator(".key-name", has_text=re.compile(f"^{re.escape(name)}$")))


def test_admin_creates_copies_and_manages_keys(page, sign_in, tenants):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in("admin@acme.test")
    mark_page(page)

    # An agency key: the form, bad input first, then the reveal.
    page.get_by_role("link", name="Create agency key").click()
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#name-error")).to_contain_text("Give the key a name")
    page.get_by_label("Name", exact=True).fill("Marketing Automation")
    page.get_by_role("button", name="Create key").click()
    reveal = page.get_by_role("dialog", name="Copy your new key now")
    expect(reveal).to_contain_text("only time Keyhouse shows this key")
    expect(reveal.get_by_role("button", name="Copy")).to_be_focused()  # a modal dialog that takes focus
    agency_plain = page.locator("#revealed-key").input_value()
    assert agency_plain.startswith("kha_") and len(agency_plain) == 42
    reveal.get_by_role("button", name="Copy").click()
    expect(reveal.get_by_role("button", name="Copied")).to_be_visible()  # the feedback is in place
    expect(reveal).to_contain_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == agency_plain
    expect(row(page, "Marketing Automation")).to_be_attached()  # the list refreshed itself behind it
    reveal.get_by_role("link", name="Done").click()
    expect(reveal).to_have_count(0)
    expect(row(page, "Marketing Automation")).to_be_focused()

    # A location key for a chosen location.
    page.get_by_role("link", name="Create location key").click()
    page.get_by_label("Name", exact=True).fill("Booking widget")
    page.locator("#create-form").get_by_label("Location", exact=True).select_option(label="South Gym")
    page.get_by_label("Read contacts").uncheck()
    page.get_by_role("button", name="Create key").click()
    location_plain = page.locator("#revealed-key").input_value()
    assert location_plain.startswith("khl_")
    page.get_by_role("button", name="Copy").click()
    page.get_by_role("link", name="Done").click()
    booking = row(page, "Booking widget")
    expect(booking).to_contain_text("South Gym")
    expect(booking).not_to_contain_text("contacts.readonly")

    # Rename inline.
    marketing = row(page, "Marketing Automation")
    marketing.get_by_role("link", name="Rename").click()
    page.get_by_label(re.compile("New name for")).fill("Marketing (HubSpot)")
    page.get_by_role("button", name="Save").click()
    expect(row(page, "Marketing (HubSpot)")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Renamed “Marketing Automation” to “Marketing (HubSpot)”.")

    # Deactivate and reactivate.
    marketing = row(page, "Marketing (HubSpot)")
    marketing.get_by_role("button", name="Deactivate").click()
    confirm = page.get_by_role("dialog", name="Deactivate “Marketing (HubSpot)”?")
    expect(confirm).to_contain_text("get 401 from now on")
    expect(confirm.locator("#confirm-typed")).to_be_hidden()  # no name to type for a deactivation
    confirm.get_by_role("button", name="Deactivate").click()
    expect(marketing.locator(".status")).to_contain_text("Deactivated")
    marketing.get_by_role("button", name="Reactivate").click()
    expect(marketing.locator(".status")).to_contain_text("Active")

    # Roll with a 24-hour grace period.
    marketing.get_by_role("link", name="Roll").click()
    expect(page.get_by_label("Keep the old key working for 24 hours")).to_be_checked()  # the safe default
    page.get_by_role("button", name="Roll key").click()
    expect(page.locator("#reveal")).to_contain_text("keeps working until")
    rolled_plain = page.locator("#revealed-key").input_value()
    assert rolled_plain != agency_plain and rolled_plain.startswith("kha_")
    page.get_by_role("button", name="Copy").click()
    page.get_by_role("link", name="Done").click()
    rows = row(page, "Marketing (HubSpot)")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Rolled · stops working in 24 hours")).to_have_count(1)

    # Delete the location key, confirming in the app's dialog.
    row(page, "Booking widget").get_by_role("link", name="Delete").click()
    page.get_by_role("dialog", name="Delete “Booking widget”?").get_by_role("button", name="Delete key").click()
    expect(row(page, "Booking widget")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("Deleted “Booking widget”")
    assert ApiKey.get(ApiKey.name == "Booking widget").status == "deleted"

    assert_no_reload(page)

    # After a reload the keys are masked: the plaintext is gone for good.
    page.reload()
    html = page.content()
    for plaintext in (agency_plain, location_plain, rolled_plain):
        assert plaintext not in html
    expect(page.get_by_text(rolled_plain[:8] + "…" + rolled_plain[-4:])).to_be_visible()


def test_filtering_and_the_identify_panel_work_in_place(page, sign_in, tenants):
    _, plaintext = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Leaky Zap")
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="Quiet Make")
    sign_in("admin@acme.test")
    mark_page(page)
    page.get_by_label("Filter by name").fill("leaky")
    expect(row(page, "Quiet Make")).to_have_count(0)
    expect(row(page, "Leaky Zap")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=leaky"))

    page.get_by_role("link", name="Identify a key").click()
    page.get_by_label("Key", exact=True).fill(plaintext)
    page.get_by_role("button", name="Identify").click()
    result = page.locator("#identify-result")
    expect(result).to_contain_text("Leaky Zap")
    expect(result).to_contain_text("North Clinic")
    expect(page.get_by_label("Key", exact=True)).to_have_value("")  # the pasted secret is cleared
    result.get_by_role("button", name="Deactivate it").click()
    page.get_by_role("dialog", name="Deactivate “Leaky Zap”?").get_by_role("button", name="Deactivate").click()
    expect(result).to_contain_text("Deactivated")
    assert apikeys.authenticate(plaintext).problem == "deactivated"
    assert_no_reload(page)


def test_location_admin_sees_only_their_location(page, sign_in, tenants):
    apikeys.create(agency_id=tenants.acme.id, name="Agency secret")
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="North key")
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South key")
    sign_in("north.admin@acme.test")
    expect(row(page, "North key")).to_be_visible()
    expect(row(page, "South key")).to_have_count(0)
    expect(page.get_by_text("Agency secret")).to_have_count(0)
    expect(page.get_by_role("heading", name="Agency keys")).to_have_count(0)
    expect(page.get_by_role("link", name="Create agency key")).to_have_count(0)
    page.get_by_role("link", name="Create location key").click()
    expect(page.locator("#create-form").get_by_label("Location", exact=True).locator("option")).to_have_text(["North Clinic"])


def test_audit_log_page(page, sign_in, tenants):
    apikeys.create(agency_id=tenants.acme.id, name="Audited", actor=tenants.admin, ip="203.0.113.5")
    sign_in("admin@acme.test")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator("table.audit")).to_contain_text("203.0.113.5")
    page.get_by_label("Action").select_option(label="Renamed")
    expect(page.locator("#audit-events")).to_contain_text("No events match these filters.")
