"""Security headers on every response (HSTS over HTTPS), the NUL check of dashboard input,
and whole bodies only (a chunked body over the limit is a 413, never parsed cut)."""

from flask import abort, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

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


def whole_body_or_413():
    """A body sent without Content-Length (chunked) is read before anything parses it.

    Werkzeug reads such a body only up to MAX_CONTENT_LENGTH and stops there
    without a word: a form, a CSRF token or a JSON body would be parsed cut. Read
    here (kept for request.form, get_data and json_body), a body that reaches the
    limit is a 413 naming it, as one with a Content-Length over it is.
    """
    if "HTTP_TRANSFER_ENCODING" not in request.environ:  # the common case, the cheapest test first
        return None
    limit = request.max_content_length
    if limit is None or request.content_length is not None:
        return None
    if len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge(f"The body is larger than the limit of {limit} bytes")
    return None


def add_missing(response, headers):
    """Add each of `headers` the response does not carry yet (one pass: it runs on every response)."""
    present = {name.lower() for name, _ in response.headers}
    for name, value in headers.items():
        if name.lower() not in present:
            response.headers.add(name, value)


_NOT_STATIC_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store", "Vary": "HX-Request"}
_STATIC_HEADERS = {**SECURITY_HEADERS, "Vary": "HX-Request"}


def security_headers(response):
    had_vary = "Vary" in response.headers
    add_missing(response, _NOT_STATIC_HEADERS if request.endpoint != "static" else _STATIC_HEADERS)
    if had_vary:  # a response that varies already varies by HX-Request too
        response.vary.add("HX-Request")
    if request.is_secure:  # over HTTPS (or behind TRUSTED_PROXY_COUNT proxies that say so): stay on HTTPS
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app):
    app.before_request(refuse_nul_characters)
    app.after_request(security_headers)
