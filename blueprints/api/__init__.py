"""The CRM API: API 1.0 under /v1 and API 2.0 under /v2 (see docs/api.md).

What other blueprints may use of it (the developer docs): ROUTES, VERSIONS,
AUTH_MESSAGES and `openapi`.
"""

from flask import request

from blueprints import errors
from keyhouse.extensions import csrf
from keyhouse.web import cookie_session, security

from . import openapi, v1, v2
from .common import AUTH_MESSAGES, limit_headers
from .routes import ROUTES, VERSIONS

__all__ = ["AUTH_MESSAGES", "ROUTES", "VERSIONS", "init_app", "openapi"]

BLUEPRINTS = (v1.bp, v2.bp)
PREFIXES = tuple(f"{bp.url_prefix}/" for bp in BLUEPRINTS)  # "/v1/", "/v2/"
for _bp in BLUEPRINTS:
    openapi.serve(_bp)


def _limit_headers(response):
    """The X-RateLimit-* headers on every API response, unknown paths included."""
    return limit_headers(response) if request.path.startswith(PREFIXES) else response


def init_app(app):
    for bp in BLUEPRINTS:
        csrf.exempt(bp)  # callers authenticate with keys, not cookies
        security.checks_own_input(app, bp)
        app.register_blueprint(bp)
    for prefix in PREFIXES:
        errors.answer_json_under(app, prefix)
        cookie_session.without_session(app, prefix)  # callers authenticate with keys, not cookies
    app.after_request(_limit_headers)
