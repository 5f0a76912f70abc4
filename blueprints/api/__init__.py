"""The CRM API: API 1.0 under /v1 and API 2.0 under /v2 (see docs/api.md)."""

from extensions import csrf

from . import v1, v2
from .common import limit_headers

BLUEPRINTS = (v1.bp, v2.bp)


def init_app(app):
    for bp in BLUEPRINTS:
        csrf.exempt(bp)  # callers authenticate with keys, not cookies
        app.register_blueprint(bp)
    app.after_request(limit_headers)
