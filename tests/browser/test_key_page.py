"""One key's page in Chromium: chart and callers from real API calls, blast radius in every dialog, roll cut-over."""

import datetime
import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from jobs import queue
from jobs.usage import rollup
from keyhouse.keys import apikeys
from keyhouse.models import ApiKey, KeyCaller, KeyStatus, utcnow


def call(live_server, token, path="/v1/contacts/", agent="Zapier"):
    request = urllib.request.Request(live_server + path, headers={"Authorization": f"Bearer {token}", "User-Agent": agent})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def seen(key, network, product, minutes_ago, requests=1):
    now = utcnow()
    KeyCaller.create(key=key.id, network=network, product=product, requests=requests,
                     first_seen=now - datetime.timedelta(days=2), last_seen=now - datetime.timedelta(minutes=minutes_ago))


def key_row(page, key):
    return page.locator(f"#key-{key.id}")


def test_the_key_page_shows_the_chart_and_callers_of_real_calls_and_a_caller_can_be_named(
        page, sign_in, tenants, live_server, app, run_jobs):
    key, token = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Lead sync")
    statuses = [call(live_server, token) for _ in range(3)]
    statuses.append(call(live_server, token, "/v1/contacts/" + "A" * 20, agent="python-requests/2.32.3"))  # 404
    statuses.append(call(live_server, token, agent="python-requests/2.32.3"))
    assert statuses == [200, 200, 200, 404, 200]
    queue(app).enqueue(rollup)
    run_jobs()

    sign_in("admin@acme.test")
    page.get_by_role("link", name="Lead sync").click()
    expect(page).to_have_url(f"/settings/api-keys/{key.id}/page")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lead sync")
    chart = page.get_by_role("img", name=re.compile("Requests per day"))
    expect(chart).to_be_visible()
    expect(chart.locator("g.usage-day")).to_have_count(30)
    expect(chart.locator("rect.bar-ok")).to_have_count(1)
    expect(chart.locator("rect.bar-refused")).to_have_count(1)
    expect(page.locator("[data-total=ok]")).to_have_text("4")
    expect(page.locator("[data-total=refused]")).to_have_text("1")

    callers = page.locator("#key-callers tr.caller")
    expect(callers).to_have_count(2)
    zapier = callers.filter(has_text="Zapier")
    expect(zapier).to_contain_text("127.0.0.0/24")
    expect(zapier.locator("td").last).to_have_text("3")
    expect(callers.filter(has_text="python-requests/2.32")).to_contain_text("2")

    zapier.get_by_label(re.compile("Name for Zapier")).fill("Acme lead sync")
    zapier.get_by_role("button", name="Save").click()
    expect(page.locator(".toast")).to_contain_text("Named the caller “Acme lead sync”.")
    expect(page.locator("#key-callers").get_by_label(re.compile("Name for Zapier"))).to_have_value("Acme lead sync")
    page.reload()
    expect(page.locator("#key-callers").get_by_label(re.compile("Name for Zapier"))).to_have_value("Acme lead sync")


def test_the_deactivate_roll_and_delete_dialogs_say_what_breaks(page, sign_in, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Busy")
    for number, minutes in enumerate((4, 30, 600)):
        seen(key, f"203.0.{number}.0/24", "Zapier", minutes)
    quiet, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Quiet")
    busy = "3 callers, last call 4 minutes ago"
    sign_in("admin@acme.test")
    confirm = page.locator("#confirm-dialog")

    key_row(page, key).get_by_role("button", name="Deactivate").click()
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"What breaks: {busy}.")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()

    key_row(page, key).get_by_role("link", name="Delete").click()
    expect(confirm).to_contain_text(f"What breaks: {busy}.")
    confirm.get_by_role("button", name="Cancel").click()

    key_row(page, key).get_by_role("link", name="Roll").click()
    form = page.locator("form[data-roll-form]")
    expect(form).to_contain_text(f"Callers of this key: {busy}.")
    form.get_by_label("Stop the old key now").check()
    form.get_by_role("button", name="Roll key").click()
    expect(confirm).to_contain_text(busy)
    confirm.get_by_role("button", name="Cancel").click()
    assert ApiKey.get_by_id(key.id).status == KeyStatus.ACTIVE and ApiKey.get_by_id(key.id).expires_at is None

    key_row(page, quiet).get_by_role("button", name="Deactivate").click()
    expect(confirm).to_contain_text("What breaks: no calls in 90 days.")
    confirm.get_by_role("button", name="Deactivate").click()
    expect(key_row(page, quiet)).to_contain_text("Deactivated")


def test_the_roll_cut_over_lists_who_still_uses_the_old_key_then_offers_to_stop_it(page, sign_in, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Rolled")
    new, _ = apikeys.roll(key, "24h")
    ApiKey.update(created_at=utcnow() - datetime.timedelta(hours=5)).where(ApiKey.id == new.id).execute()
    seen(key, "203.0.113.0/24", "Zapier", minutes_ago=10)
    seen(key, "198.51.100.0/24", "python-requests/2.32", minutes_ago=7 * 60)  # before the roll: moved already
    sign_in("admin@acme.test")

    old_row = key_row(page, key)
    expect(old_row).to_contain_text("1 caller still uses the old key")
    expect(old_row).to_contain_text("Zapier")
    expect(old_row.get_by_role("button", name="Stop the old key now")).to_have_count(0)  # called 10 minutes ago

    page.goto(f"/settings/api-keys/{key.id}/page")
    cut = page.locator(f"#cut-over-{key.id}")
    expect(cut.locator("ul.still-calling li")).to_have_count(1)
    expect(cut).to_contain_text("203.0.113.0/24")
    expect(cut).not_to_contain_text("python-requests")

    # An hour and more without calls on the old key: the page offers to stop it.
    KeyCaller.update(last_seen=utcnow() - datetime.timedelta(minutes=70)).where(
        (KeyCaller.key == key.id) & (KeyCaller.product == "Zapier")).execute()
    page.reload()
    cut.get_by_role("button", name="Stop the old key now").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text("2 callers, last call 1 hour ago")  # both called within 90 days
    confirm.get_by_role("button", name="Stop the old key").click()
    expect(page.locator("#key-facts")).to_contain_text("Deleted")
    assert ApiKey.get_by_id(key.id).status == KeyStatus.DELETED
    assert ApiKey.get_by_id(new.id).status == KeyStatus.ACTIVE


def test_last_use_and_usage_on_the_keys_page_refresh_without_a_reload(page, sign_in, tenants, live_server):
    key, token = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Polled")
    page.clock.install()
    sign_in("admin@acme.test")
    activity = page.locator(f"#activity-{key.id}")
    expect(activity).to_contain_text("never")
    assert call(live_server, token) == 200
    page.clock.fast_forward("00:31")  # the lists poll every 30 seconds
    expect(activity).to_contain_text("just now")
