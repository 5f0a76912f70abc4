"""The application factory."""

import os

from flask import Flask
from redis import Redis
from werkzeug.middleware.proxy_fix import ProxyFix

from keyhouse import config, sessions
from keyhouse.extensions import csrf, htmx, login_manager
from keyhouse.models import db, open_database, use_database
from keyhouse.web import filters, layout, observe, security


class Keyhouse(Flask):
    """Flask, asking once per function whether it is a coroutine.

    Flask's ensure_sync asks inspect on every call, about fifteen times a request
    (each hook, signal receiver and view); Keyhouse has no async functions, but
    should one come, it is still wrapped. The answers kept are bounded: a callable
    made afresh per request (a class-based view's bound method) must not pile up.
    """

    SYNCED_MAX = 512

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._synced = {}

    def ensure_sync(self, func):
        try:
            return self._synced[func]
        except KeyError:
            synced = super().ensure_sync(func)
            if len(self._synced) < self.SYNCED_MAX:
                self._synced[func] = synced
            return synced
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)


def create_app(test_config=None):
    """Build the app from the environment; `test_config` overrides any setting."""
    settings = config.from_environment()
    settings.update(test_config or {})
    if not settings.get("SECRET_KEY"):
        raise config.ConfigError(
            "SECRET_KEY is not set: set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )

    app = Keyhouse(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    os.makedirs(app.instance_path, exist_ok=True)

    use_database(open_database(app.config["DATABASE_URL"], pool={
        "size": app.config["DATABASE_POOL_SIZE"],
        "recycle_seconds": app.config["DATABASE_POOL_RECYCLE_SECONDS"],
        "wait_seconds": app.config["DATABASE_POOL_WAIT_SECONDS"],
        "breaker_seconds": app.config["DATABASE_BREAKER_SECONDS"],
    }))
    app.extensions["redis"] = (
        Redis.from_url(app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
        if app.config["REDIS_URL"]
        else None
    )

    app.before_request(security.whole_body_or_413)  # before CSRF and every other reader of the body
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @app.teardown_request
    def release_connection(exc):
        # A request takes a pooled connection on its first query (none if it makes
        # none) and hands it back here.
        if not db.is_closed():
            db.close()

    sessions.init_app(app, login_manager)

    if app.config["TRUSTED_PROXY_COUNT"]:  # client IP and scheme from the proxies' X-Forwarded-* headers
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    from blueprints import (
        activity,
        api,
        audit_log,
        auth,
        dashboard,
        devmail,
        docs,
        errors,
        health,
        keys,
        metrics,
        notifications,
        preferences,
        public,
        webhooks,
    )

    observe.init_app(app)
    security.init_app(app)
    filters.init_app(app)
    layout.init_app(app)
    app.register_blueprint(errors.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(keys.bp)
    app.register_blueprint(audit_log.bp)
    api.init_app(app)
    public.init_app(app)
    app.register_blueprint(docs.bp)
    app.register_blueprint(activity.bp)
    app.register_blueprint(preferences.bp)
    app.register_blueprint(webhooks.bp)
    devmail.init_app(app)  # keyhouse dev only
    return app
