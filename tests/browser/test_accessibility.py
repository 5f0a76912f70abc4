"""An automated accessibility audit (axe-core 4: WCAG 2.1 A/AA and best practices) of every page.

Signed out and signed in, at 1280×800 and 390×844, with the new-key dialog open
too. Any violation fails the test with axe's own description of it.
"""

import importlib.resources

import pytest
from playwright.sync_api import expect

from keyhouse.keys import apikeys
from keyhouse.models import KeyCaller, KeyUsageDay, utcnow
from keyhouse.outbound import webhooks
from tests.browser.conftest import DESKTOP, PHONE, create_agency_key

AXE = importlib.resources.files("axe_playwright_python").joinpath("axe.min.js").read_text()
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
SIZES = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
DOCS = ["/docs/", "/docs/authentication", "/docs/guides", "/docs/best-practices", "/docs/sdks", "/docs/reference",
        "/docs/reference/v1", "/docs/webhooks"]


def violations(page):
    """axe's violations on the page as it is now, one readable line each."""
    page.evaluate(AXE)  # through the DevTools protocol: the page's CSP stays as it is
    result = page.evaluate("options => axe.run(document, options)", RULES)
    return [
        f"{page.url} {v['id']} ({v['impact']}): {v['help']} — " + "; ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
    ]


def audit(page, paths):
    found = []
    for path in paths:
        page.goto(path)
        found += violations(page)
    return found


@SIZES
def test_signed_out_pages_have_no_violations(page, tenants):
    assert audit(page, ["/login", *DOCS]) == []


@SIZES
def test_signed_in_pages_have_no_violations(page, sign_in, tenants):
    agency_key, _ = apikeys.create(agency_id=tenants.acme.id, name="Agency sync", actor=tenants.admin)
    north, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="North sync",
                              actor=tenants.admin)
    apikeys.set_allowlist(north, "203.0.113.7")
    KeyUsageDay.create(key=north.id, day=utcnow().date(), requests=12, refused=2, limited=1)
    KeyCaller.create(key=north.id, network="203.0.113.0/24", product="Zapier", requests=12,
                     first_seen=utcnow(), last_seen=utcnow())
    rolled, _ = apikeys.create(agency_id=tenants.acme.id, name="Rolled sync", actor=tenants.admin)
    apikeys.roll(rolled, "24h")
    endpoint = webhooks.create_endpoint(agency_id=tenants.acme.id, url="https://hooks.example.com/k",
                                        events=["key.created"])
    sign_in("admin@acme.test")
    paths = [
        "/settings/api-keys", "/settings/api-keys/new?kind=agency", "/settings/api-keys/identify",
        f"/settings/api-keys/{north.id}/page", f"/settings/api-keys/{rolled.id}/page",
        "/settings/api-keys/policy", f"/settings/api-keys/{north.id}/rules",
        f"/settings/api-keys/bulk?action=deactivate&key={agency_key.id}&key={north.id}",
        "/settings/audit-log", "/notifications/", "/activity/", f"/activity/{tenants.north.api_id}", *DOCS,
        "/settings/email", "/settings/webhooks", f"/settings/webhooks/{endpoint.id}",
    ]
    assert audit(page, paths) == []


@SIZES
def test_the_new_key_dialog_has_no_violations(page, sign_in, tenants):
    sign_in("admin@acme.test")
    expect(create_agency_key(page, "Audited key")).to_be_visible()
    assert violations(page) == []


@SIZES
def test_the_signing_secret_dialog_has_no_violations(page, sign_in, tenants):
    sign_in("admin@acme.test")
    page.goto("/settings/webhooks")
    page.get_by_label("Endpoint URL").fill("https://hooks.example.com/keyhouse")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("dialog", name="Copy the signing secret now")).to_be_visible()
    assert violations(page) == []
