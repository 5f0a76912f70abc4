"""E-mail choices and webhooks in Chromium: the preferences page, endpoint setup, the delivery log."""

import re

import pytest
from playwright.sync_api import expect

from keyhouse.keys import apikeys
from keyhouse.models import WebhookEndpoint, db
from tests.receivers import HttpReceiver


@pytest.fixture
def settings(settings):
    return {**settings, "WEBHOOK_ALLOW_PRIVATE": True}


def test_a_user_chooses_which_events_reach_them_by_email(page, sign_in, tenants):
    sign_in("staff@acme.test")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="E-mail").click()
    expect(page.get_by_role("heading", name="E-mail", level=1)).to_be_visible()
    first = page.get_by_label("Warning, 15 days before a key is deleted")
    seven = page.get_by_label("Warning, 7 days before a key is deleted")
    deleted = page.get_by_label("A key was deleted for inactivity")
    expect(first).to_be_checked()
    expect(seven).not_to_be_checked()
    expect(deleted).to_be_checked()
    expect(page.get_by_role("navigation", name="Settings").get_by_role("link", name="Webhooks")).to_have_count(0)

    seven.check()
    deleted.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("Saved")
    page.reload()
    expect(seven).to_be_checked()
    expect(deleted).not_to_be_checked()
    expect(first).to_be_checked()


def test_an_admin_sets_up_an_endpoint_and_reads_its_delivery_log(app, page, sign_in, tenants, run_jobs):
    with HttpReceiver() as receiver:
        sign_in("admin@acme.test")
        page.get_by_role("navigation", name="Settings").get_by_role("link", name="Webhooks").click()
        expect(page.get_by_text("No endpoints yet.")).to_be_visible()

        page.get_by_label("Endpoint URL").fill("ftp://nowhere")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.locator("#url-error")).to_contain_text("must start with https://")

        page.get_by_label("Endpoint URL").fill(receiver.url)
        page.get_by_label("Description (optional)").fill("CRM sync")
        page.get_by_label("Keys of").select_option(label="North Clinic")
        page.get_by_label("A key was renamed").uncheck()
        page.get_by_role("button", name="Add endpoint").click()

        reveal = page.get_by_role("dialog", name="Copy the signing secret now")
        expect(reveal).to_contain_text("only time Keyhouse shows this secret")
        secret = page.locator("#revealed-key").input_value()
        assert secret.startswith("whsec_")
        reveal.get_by_role("button", name="Copy").click()
        expect(reveal.get_by_role("button", name="Copied")).to_be_visible()
        reveal.get_by_role("link", name="Done").click()
        expect(reveal).to_have_count(0)
        expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
        expect(page).to_have_url(f"/settings/webhooks/{WebhookEndpoint.get().id}")  # a reload posts nothing again
        expect(page.locator("body")).not_to_contain_text(secret)
        expect(page.get_by_text("Nothing sent yet.")).to_be_visible()

        # Two events: the first answered 204, the second 500 (retried later).
        receiver.answers = [204, 500]
        with app.app_context(), db.connection_context():
            key, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Zapier",
                                    actor=tenants.admin)
            apikeys.rename(key, "Zapier 2")  # not chosen: not sent
            apikeys.deactivate(key)
            apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South")  # other location
        run_jobs()
        page.reload()
        rows = page.locator("table.deliveries tbody tr")
        expect(rows).to_have_count(2)
        failed = rows.filter(has_text="key.deactivated")
        delivered = rows.filter(has_text="key.created")
        expect(delivered).to_contain_text("Delivered")
        expect(delivered).to_contain_text("HTTP 204")
        expect(delivered).to_contain_text(" ms")
        expect(failed).to_contain_text("Retrying")
        expect(failed).to_contain_text("HTTP 500")
        expect(failed.get_by_role("button", name="Resend")).to_have_count(0)  # it is retried on its own

        delivered.get_by_role("button", name="Resend").click()
        expect(page.locator("#toasts")).to_contain_text("Sending it again now")
        run_jobs()
        page.reload()
        delivered = page.locator("table.deliveries tbody tr").filter(has_text="key.created")
        expect(delivered.locator("td").nth(3)).to_have_text(re.compile(r"^\s*2\b"))  # attempts
        delivered.get_by_text("Each attempt").click()
        expect(delivered).to_contain_text("resend")
        assert len(receiver.requests) == 3
