"""Developer docs at /docs: open to everyone, numbers from the settings, examples with this server's URL."""

import re

import pytest

from blueprints.api.common import ROUTES
from keyhouse.keys import tokens
from keyhouse.keys.scopes import KIND_SCOPES

PAGES = ["/docs/", "/docs/authentication", "/docs/guides", "/docs/best-practices", "/docs/sdks", "/docs/reference",
         "/docs/reference/v1", "/docs/reference/v2"]


@pytest.mark.parametrize("path", PAGES)
def test_docs_pages_are_open_to_anonymous_visitors(client, path):
    response = client.get(path, follow_redirects=True)  # /docs/reference/v2 is /docs/reference
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="docs"' in html and "Staff sign-in" in html
    assert "<script>" not in html and " style=" not in html and " onclick" not in html


def test_signed_in_staff_see_the_docs_in_the_dashboard_with_a_nav_link(client, auth, tenants):
    auth.login("admin@acme.test")
    html = client.get("/settings/api-keys").get_data(as_text=True)
    assert re.search(r'href="/docs/"\s*>Developer docs</a>', html)
    docs = client.get("/docs/guides").get_data(as_text=True)
    assert "Staff sign-in" not in docs and 'class="sidenav"' in docs
    assert 'href="/docs/" aria-current="page">Developer docs' in docs


def test_examples_use_this_servers_base_url(client):
    html = client.get("/docs/", base_url="https://crm.example.org").get_data(as_text=True)
    assert "https://crm.example.org/v2/contacts/?locationId=" in html
    assert html.count("https://crm.example.org/v2") >= 3  # curl, Python and JavaScript
    assert "KEYHOUSE_API_KEY" in html


def test_limits_and_inactivity_rule_come_from_the_settings(settings):
    from app import create_app

    app = create_app({**settings, "INACTIVITY_DAYS": 60, "WARN_DAYS": (10, 3, 1), "RATE_LIMIT_BURST": 42,
                      "RATE_LIMIT_DAILY": 5000})
    client = app.test_client()
    practices = client.get("/docs/best-practices").get_data(as_text=True)
    assert "after 60 days" in practices and "10 days, 3 days and 1 day" in practices
    overview = client.get("/docs/").get_data(as_text=True)
    assert "42 requests per 10 seconds" in overview and "5,000 requests per day" in overview


def test_the_scanner_regex_and_every_scope_are_published(client):
    html = client.get("/docs/authentication").get_data(as_text=True)
    regex = re.search(r'<code id="scanner-regex">([^<]+)</code>', html).group(1)
    assert regex == tokens.SCANNER_REGEX
    assert re.search(regex, "key=" + tokens.generate("location") + ";")
    for scope in KIND_SCOPES[tokens.AGENCY]:
        assert f"<code>{scope}</code>" in html
    for message in ("Missing or malformed API key", "Invalid API key", "API key is deactivated"):
        assert message in html


def test_the_reference_lists_every_route_of_both_versions(client):
    pages = client.get("/docs/reference/v1").get_data(as_text=True) + client.get("/docs/reference").get_data(as_text=True)
    for route in ROUTES.values():
        assert f"<code>{route.method} {route.path}</code>" in pages, route.path
    assert client.get("/docs/reference/v3").status_code == 404


def test_the_sdk_page_shows_both_base_url_overrides_for_this_server(client):
    html = client.get("/docs/sdks", base_url="https://crm.example.org").get_data(as_text=True)
    assert "Using HighLevel&#39;s SDKs with Keyhouse" in html or "Using HighLevel's SDKs with Keyhouse" in html
    assert 'HighLevel.BASE_URL = "https://crm.example.org/v2";' in html  # the JavaScript SDK
    assert 'BASE_URL = "https://crm.example.org/v2"' in html and "class Keyhouse(HighLevel)" in html  # Python
    assert "<code>2023-02-21</code>" in html and "<code>v3</code>" in html


def test_the_guides_describe_custom_fields_with_their_data_types(client):
    from keyhouse.crm import inputs

    html = client.get("/docs/guides").get_data(as_text=True)
    assert 'id="custom-fields"' in html and "{id, value}" in html
    assert all(f"<code>{kind}</code>" in html for kind in inputs.CUSTOM_FIELD_TYPES)


def test_the_docs_explain_sunset_self_inspection_and_self_rotation(client):
    """The Sunset header's Link lands on a section that explains it; the routes and their rules are described."""
    html = client.get("/docs/best-practices", base_url="https://crm.example.org").get_data(as_text=True)
    assert 'id="sunset"' in html and "RFC 8594" in html
    assert "&lt;https://crm.example.org/docs/best-practices#sunset&gt;; rel=&#34;sunset&#34;" in html or \
        '&lt;https://crm.example.org/docs/best-practices#sunset&gt;; rel="sunset"' in html
    assert 'id="self-roll"' in html and "<code>keys.self_roll</code>" in html
    for code in ("none", "1h", "24h", "7d"):  # the dashboard's grace choices, from the one table
        assert f"<code>{code}</code>" in html
    auth = client.get("/docs/authentication").get_data(as_text=True)
    assert "insufficient_scope" in auth and "GET /v2/keys/self" in auth and "opt-in" in auth
    reference = client.get("/docs/reference").get_data(as_text=True)
    assert "<code>POST /v2/keys/self/roll</code>" in reference and "No scope needed" in reference
