"""The bell in Chromium: count, dropdown, following a warning to its key, marking read, live updates."""

import datetime

from playwright.sync_api import expect

from jobs import sweep as jobs
from keyhouse.models import db, utcnow
from tests.helpers import aged_key


def test_the_admin_follows_a_warning_marks_all_read_and_sees_a_new_one_arrive(app, page, sign_in, tenants, run_jobs):
    now = utcnow().replace(microsecond=0)
    with app.app_context(), db.connection_context():
        key = aged_key("Zapier sync", agency=tenants.acme, location=tenants.north, actor=tenants.admin,
                       clock=now - datetime.timedelta(days=76))
        later = aged_key("Make.com", agency=tenants.acme, actor=tenants.admin, clock=now - datetime.timedelta(days=70))
        jobs.sweep(now.isoformat())
    run_jobs()

    sign_in("admin@acme.test")
    count = page.locator("#bell [data-testid=bell-count]")
    expect(count).to_have_text("1")

    page.get_by_role("link", name="Notifications: 1 unread").click()
    panel = page.locator("#bell-panel")
    expect(panel).to_be_visible()
    warning = panel.get_by_role("link", name="“Zapier sync” (North Clinic)")
    expect(warning).to_contain_text("will be deleted on")
    warning.click()
    expect(page).to_have_url(f"/settings/api-keys/{key.id}/page")  # the key's own page
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zapier sync")

    page.get_by_role("link", name="Notifications: 1 unread").click()
    panel.get_by_role("button", name="Mark all as read").click()
    expect(count).to_have_count(0)
    expect(page.get_by_role("link", name="Notifications: 0 unread")).to_be_visible()
    expect(panel.get_by_role("button", name="Mark all as read")).to_have_count(0)  # the list refreshed too

    # A worker warns about the second key; the open page learns of it without a reload.
    with app.app_context():
        jobs.sweep((now + datetime.timedelta(days=6)).isoformat())
    run_jobs()
    page.evaluate("document.body.dispatchEvent(new Event('notifications-changed'))")
    expect(count).to_have_text("1")
    expect(panel.get_by_role("link", name="“Make.com” (agency key)")).to_be_visible()
    expect(panel.get_by_role("link", name="“Make.com” (agency key)")).to_have_attribute(
        "href", f"/settings/api-keys/{later.id}/page"
    )
