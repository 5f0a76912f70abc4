"""Security headers on every response (HSTS over HTTPS), and the NUL check of dashboard input."""

from flask import abort, current_app, request

# Scripts, styles, images and requests from this site only: no inline code, no eval.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

HSTS = "max-age=31536000"  # a year; not includeSubDomains: other hosts of the domain are not ours to decide

_OWN_INPUT_CHECKS = "keyhouse.own_input_checks"


def checks_own_input(app, blueprint):
    """`blueprint` (the API, public links and forms) answers NUL input itself, with its own error."""
    app.extensions.setdefault(_OWN_INPUT_CHECKS, set()).add(blueprint.name)


def refuse_nul_characters():
    """No dashboard form or query value may hold a NUL: PostgreSQL cannot store one."""
    if request.blueprint in current_app.extensions.get(_OWN_INPUT_CHECKS, ()):
        return None
    values = list(request.args.values()) + (list(request.form.values()) if request.form else [])
    if any("\x00" in value for value in values):
        abort(400, "The request holds a NUL character, which no field accepts.")
    return None


def add_missing(response, headers):
    """Add each of `headers` the response does not carry yet (one pass: it runs on every response)."""
    present = {name.lower() for name in response.headers.keys()}
    response.headers.extend([(name, value) for name, value in headers.items() if name.lower() not in present])


_NOT_STATIC_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store"}


def security_headers(response):
    add_missing(response, _NOT_STATIC_HEADERS if request.endpoint != "static" else SECURITY_HEADERS)
    response.vary.add("HX-Request")
    if request.is_secure:  # over HTTPS (or behind TRUSTED_PROXY_COUNT proxies that say so): stay on HTTPS
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app):
    app.before_request(refuse_nul_characters)
    app.after_request(security_headers)
