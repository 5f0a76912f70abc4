"""The developer docs in a real browser: no CSP violations, navigation works for anonymous visitors."""


def test_docs_render_without_console_errors(page):
    page.goto("/docs/")
    assert page.get_by_role("heading", name="Keyhouse developer docs").is_visible()
    page.get_by_role("link", name="API reference").click()
    assert page.get_by_role("heading", name="Keyhouse API 2.0").is_visible()
    page.get_by_role("link", name="Keys, scopes and errors").click()
    assert page.locator("#scanner-regex").is_visible()
    # the docs layout is wide even without a sign-in (the anonymous layout is a narrow column)
    width = page.locator("main").evaluate("element => element.getBoundingClientRect().width")
    assert width > 600
