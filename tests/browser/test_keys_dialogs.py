"""The keys screen cannot lose a new key, and works on a phone and with a keyboard (1280×800 and 390×844)."""

import re

import pytest
from playwright.sync_api import expect

from keyhouse.keys import apikeys
from keyhouse.models import ApiKey, KeyStatus
from tests.browser.conftest import DESKTOP, PHONE, create_agency_key

BOTH = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])


def row(page, name):
    return page.locator("tr.key-row", has=page.locator(".key-name", has_text=re.compile(f"^{re.escape(name)}$")))


def in_viewport(page, locator):
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and \
        box["x"] + box["width"] <= size["width"] and box["y"] + box["height"] <= size["height"]


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def many_keys(tenants, count):
    for number in range(count):
        apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name=f"Integration {number:02d}")


@BOTH
def test_rolling_the_last_row_of_a_long_list_shows_the_new_key_in_view_and_focused(page, sign_in, tenants):
    many_keys(tenants, 50)  # a full first page of location keys
    sign_in("admin@acme.test")
    last = page.locator("#location-keys tr.key-row").last
    name = last.locator(".key-name").inner_text()
    last.scroll_into_view_if_needed()
    last.get_by_role("link", name="Roll").click()
    form = page.locator("form[data-roll-form]")
    expect(form.get_by_label("Keep the old key working for 24 hours")).to_be_checked()
    form.get_by_role("button", name="Roll key").click()
    dialog = page.get_by_role("dialog", name="Copy your new key now")
    expect(dialog.get_by_role("button", name="Copy")).to_be_focused()
    assert in_viewport(page, dialog)
    expect(dialog).to_contain_text(name)
    expect(dialog).to_contain_text("keeps working until")


@BOTH
def test_creating_a_key_shows_it_in_view_and_closing_before_copying_asks_once(page, sign_in, tenants):
    sign_in("admin@acme.test")
    dialog = create_agency_key(page, "Phone made")
    expect(dialog).to_be_visible()
    assert in_viewport(page, dialog)
    plaintext = page.locator("#revealed-key").input_value()

    dialog.get_by_role("link", name="Done").click()  # not copied yet: the app asks
    ask = page.get_by_role("dialog", name="Close without copying?")
    expect(ask).to_be_visible()
    page.keyboard.press("Escape")  # Escape cancels the question: the key stays
    expect(ask).to_be_hidden()
    expect(page.locator("#revealed-key")).to_have_value(plaintext)
    dialog.get_by_role("link", name="Done").click()
    ask.get_by_role("button", name="Close without copying").click()
    expect(page.locator("#reveal")).to_have_count(0)
    assert plaintext not in page.content()


@BOTH
def test_escape_pressed_again_and_again_never_closes_the_key_unasked(page, sign_in, tenants):
    # Chromium lets a second Escape without a click in between close a modal dialog
    # even though the page cancels it; the key must still not go without the question.
    sign_in("admin@acme.test")
    create_agency_key(page, "Escape proof")
    plaintext = page.locator("#revealed-key").input_value()
    for _ in range(6):
        page.keyboard.press("Escape")
    for _ in range(6):
        page.keyboard.press("Escape")
        expect(page.locator("#revealed-key")).to_have_value(plaintext)
    expect(page.locator("dialog[data-reveal]")).to_have_attribute("open", "")
    expect(page.locator("#revealed-key")).to_be_visible()
    expect(page.locator("#revealed-key")).to_have_value(plaintext)


def test_leaving_the_page_while_a_key_is_shown_asks(page, sign_in, tenants):
    sign_in("admin@acme.test")
    create_agency_key(page, "Do not lose me")
    plaintext = page.locator("#revealed-key").input_value()
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    page.evaluate("window.location.assign('/notifications/')")
    expect(page.locator("#revealed-key")).to_have_value(plaintext)
    assert asked == ["beforeunload"]
    assert page.url.endswith("/settings/api-keys")


def test_keyboard_only_create_copy_done(page, sign_in, tenants):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in("admin@acme.test")
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()  # the page has loaded
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(7):  # past "Key lifetime policy", "Identify a key" and the filters to the first create button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Create agency key":
            break
    expect(page.get_by_role("link", name="Create agency key")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    page.keyboard.type("Keyboard only")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Copy your new key now")
    expect(dialog.get_by_role("button", name="Copy")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#revealed-key").input_value()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("link", name="Done")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#reveal")).to_have_count(0)
    expect(row(page, "Keyboard only")).to_be_focused()


def test_stopping_the_old_key_at_once_and_deleting_an_agency_key_ask_with_their_consequence(page, sign_in, tenants):
    apikeys.create(agency_id=tenants.acme.id, name="Agency wide")
    sign_in("admin@acme.test")
    agency_row = row(page, "Agency wide")
    agency_row.get_by_role("link", name="Roll").click()
    page.get_by_label("Stop the old key now").check()
    page.get_by_role("button", name="Roll key").click()
    ask = page.get_by_role("dialog", name="Stop the old key now?")
    expect(ask).to_contain_text("gets 401 from the moment you roll")
    ask.get_by_role("button", name="Cancel").click()
    assert ApiKey.select().where(ApiKey.name == "Agency wide").count() == 1  # nothing rolled

    page.get_by_role("link", name="Cancel").click()
    agency_row.get_by_role("link", name="Delete").click()
    ask = page.get_by_role("dialog", name="Delete “Agency wide”?")
    expect(ask).to_contain_text("for every location of the agency")
    delete = ask.get_by_role("button", name="Delete key")
    expect(delete).to_be_disabled()
    ask.get_by_label(re.compile("to confirm")).fill("Agency wid")
    expect(delete).to_be_disabled()
    ask.get_by_label(re.compile("to confirm")).fill("Agency wide")
    delete.click()
    expect(agency_row).to_have_count(0)
    assert ApiKey.get(ApiKey.name == "Agency wide").status == KeyStatus.DELETED


def test_a_link_to_a_key_shows_its_row_on_its_page_of_the_full_list(page, sign_in, tenants):
    many_keys(tenants, 55)
    oldest = ApiKey.select().where(ApiKey.name == "Integration 00").get()  # newest first: it is on page 2
    sign_in("admin@acme.test")
    page.goto(f"/settings/api-keys?key={oldest.id}#key-{oldest.id}")
    linked = page.locator(f"#key-{oldest.id}")
    expect(linked).to_have_class(re.compile("linked"))
    expect(linked).to_be_focused()
    assert in_viewport(page, linked)
    expect(page.locator("#location-keys")).to_contain_text("Page 2 of 2")
    expect(page.get_by_label("Filter by name")).to_have_value("")  # the full list, not a name filter

    page.get_by_label("Filter by name").fill("Integration 01")
    expect(page.locator("#location-keys tr.key-row")).to_have_count(1)
    page.get_by_role("link", name="Clear filters").click()
    expect(page.locator("#location-keys")).to_contain_text("55 keys")


def test_a_name_too_long_is_counted_and_refused_not_cut(page, sign_in, tenants):
    sign_in("admin@acme.test")
    page.get_by_role("link", name="Create agency key").click()
    page.get_by_label("Name", exact=True).fill("x" * 300)
    expect(page.locator("#name-count")).to_have_text("300 / 100 — too long by 200")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#name-error")).to_contain_text("Keep the name to 100 characters or fewer (this one has 300)")
    assert ApiKey.select().count() == 0


@pytest.mark.parametrize("viewport", [PHONE], indirect=True, ids=["phone"])
def test_on_a_phone_no_page_scrolls_sideways_and_the_bell_fits(page, sign_in, tenants):
    many_keys(tenants, 3)
    apikeys.create(agency_id=tenants.acme.id, name="A rather long agency key name that wraps " * 2)
    sign_in("admin@acme.test")
    for path in ("/settings/api-keys", "/settings/audit-log", "/notifications/", "/docs/", "/docs/reference",
                 "/docs/authentication", "/docs/guides", "/docs/best-practices", "/docs/sdks", f"/activity/{tenants.north.api_id}", "/activity/"):
        page.goto(path)
        assert no_sideways_scroll(page), path
    page.goto("/settings/api-keys")
    page.get_by_role("link", name=re.compile("Notifications:")).click()
    expect(page.locator("#bell-panel")).to_be_visible()
    assert in_viewport(page, page.locator("#bell-panel"))


def test_view_only_rows_say_who_can_act(page, sign_in, tenants):
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South sync")
    sign_in("south.user@acme.test")
    expect(row(page, "South sync")).to_contain_text("View only: an agency admin or this location's admin can change it")


@BOTH
def test_toasts_stay_clear_of_the_row_actions(page, sign_in, tenants):
    apikeys.create(agency_id=tenants.acme.id, name="Toasted")
    sign_in("admin@acme.test")
    target = row(page, "Toasted")
    target.get_by_role("link", name="Rename").click()
    page.get_by_label(re.compile("New name for")).fill("Toasted twice")
    page.get_by_role("button", name="Save").click()
    toast = page.locator("#toasts .toast").first
    expect(toast).to_contain_text("Renamed")
    actions = row(page, "Toasted twice").locator(".actions")
    a, b = toast.bounding_box(), actions.bounding_box()
    overlaps = a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]
    assert not overlaps, (a, b)


def test_times_show_in_the_viewers_zone_with_utc_in_the_tooltip(browser, live_server, tenants):
    apikeys.create(agency_id=tenants.acme.id, name="Zoned", actor=tenants.admin)
    context = browser.new_context(base_url=live_server, timezone_id="Asia/Tokyo", locale="en-GB")
    page = context.new_page()
    from tests.helpers import PASSWORD

    page.goto("/login")
    page.get_by_label("Email").fill("admin@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/settings/audit-log")
    when = page.locator("table.audit time").first
    expect(when).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))
    utc_text = when.get_attribute("title")
    shown = when.inner_text()
    assert shown != utc_text and "UTC" not in shown  # Tokyo is 9 hours ahead: the viewer's own time
    context.close()


@BOTH
def test_both_lists_fit_the_screen_with_every_action_in_view(page, sign_in, tenants):
    rolled, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Website booking widget")
    apikeys.roll(rolled, "24h")
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Nightly export to the data warehouse")
    apikeys.create(agency_id=tenants.acme.id, name="Agency-wide reporting script")
    sign_in("admin@acme.test")
    expect(page.locator("#location-keys tr.key-row")).to_have_count(3)
    assert no_sideways_scroll(page)
    width = page.viewport_size["width"]
    for link in page.locator("tr.key-row .actions a, tr.key-row .actions button").all():
        if link.is_visible():
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (link.inner_text(), box)
