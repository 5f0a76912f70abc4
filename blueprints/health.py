"""Health checks for load balancers and process managers.

* `/healthz` — the process answers (it touches neither the database nor Redis).
* `/readyz` — the database and Redis answer: 200 with each check, or 503 naming
  the part that is down (the reason goes to the log, not to the caller).

Both answer before any other request hook runs — no session, no database
connection opened for the request, no rate limit — so they say the truth about
the process even while a part it depends on is down.
"""

import logging

from flask import Blueprint, current_app, jsonify, request
from redis.exceptions import RedisError

from keyhouse.services import StartupError, check_database

log = logging.getLogger("keyhouse.health")

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _database():
    check_database(current_app.config["DATABASE_URL"])


def _redis():
    redis = current_app.extensions["redis"]
    if redis is None:
        raise StartupError("REDIS_URL is not set")
    redis.ping()


CHECKS = {"database": _database, "redis": _redis}


@bp.get("/readyz")
def readyz():
    checks = {}
    for name, check in CHECKS.items():
        try:
            check()
            checks[name] = "ok"
        except (StartupError, RedisError, OSError) as error:
            log.warning("readyz: %s is down: %s", name, error)
            checks[name] = "down"
    down = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "ok" if not down else "down", "checks": checks}
    if down:
        body["message"] = f"{' and '.join(down)} unreachable"
    return jsonify(body), 503 if down else 200


_HEALTH_ENDPOINTS = frozenset({f"{bp.name}.healthz", f"{bp.name}.readyz"})


def _answer_first():
    """Serve the health views ahead of every other before_request hook of the app."""
    if request.endpoint in _HEALTH_ENDPOINTS:
        return current_app.view_functions[request.endpoint]()
    return None


@bp.record_once
def _register(state):
    state.app.before_request_funcs.setdefault(None, []).insert(0, _answer_first)
