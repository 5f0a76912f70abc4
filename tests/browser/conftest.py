"""A live Keyhouse server and a real Chromium driven by Playwright.

Chromium is looked for in this order: $CHROMIUM_PATH, `chromium` on the PATH
(Debian's package), then Playwright's own download (`python -m playwright
install chromium`). With none of them the browser tests fail and say how to
install one; they are never skipped.
"""

import os
import re
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_path():
    for candidate in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        except Error as error:
            pytest.fail(
                "No Chromium for the browser tests: install Debian's `chromium` package, set "
                f"CHROMIUM_PATH, or run `python -m playwright install chromium` ({error.message.splitlines()[0]})",
                pytrace=False,
            )
        yield browser
        browser.close()


@pytest.fixture
def viewport(request):
    """The window size: a desktop's unless a test parametrizes it (indirect=True) with PHONE."""
    return getattr(request, "param", DESKTOP)


@pytest.fixture
def page(browser, live_server, viewport):
    """A fresh browser tab; fails the test on any console error (CSP violations included)."""
    context = browser.new_context(base_url=live_server, viewport=viewport)
    page = context.new_page()
    errors = []

    def on_console(message):
        # Chromium reports every 4xx answer; 401 (wrong password) and 422 (a form
        # re-rendered with its errors) are answers the user is meant to get.
        expected = re.search(r"status of (401|422) ", message.text)
        if message.type == "error" and not expected:
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def sign_in(page):
    def sign_in(email, password=None):
        from tests.helpers import PASSWORD

        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password or PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        return page

    return sign_in


def create_agency_key(page, name):
    """Create an agency key through the keys screen; the dialog that reveals it."""
    page.get_by_role("link", name="Create agency key").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create key").click()
    return page.get_by_role("dialog", name="Copy your new key now")
