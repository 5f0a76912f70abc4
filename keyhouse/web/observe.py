"""Request ids and one log line per request.

Each request gets an id: the one the trusted proxy sent in `X-Request-Id` (when
TRUSTED_PROXY_COUNT > 0 and it looks like an id), else a fresh one. It is
answered in the `X-Request-Id` header, shown on error pages and in API error
bodies (`requestId`), so a user can quote it and an operator find the line.

The line (logger `keyhouse.requests`, INFO) has the id, method, path (anything
that looks like a key reads "[key]"; no query string), status, duration, the
client's address and the API key's id — never the key. LOG_FORMAT picks
`text` (key=value) or `json` (one object per line).
"""

import datetime
import json
import logging
import os
import re
import sys
import time

from flask import current_app, g, has_request_context, request, request_finished, request_started

from keyhouse import metrics
from keyhouse.keys.tokens import redact
from keyhouse.web.params import client_ip

log = logging.getLogger("keyhouse.requests")

HEADER = "X-Request-Id"
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")  # nginx's $request_id is 32 hex digits


def request_id():
    """This request's id (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def _incoming_id():
    if not current_app.config.get("TRUSTED_PROXY_COUNT"):
        return None  # a client may not choose the id its lines are found by
    value = request.headers.get(HEADER, "")
    if _INCOMING_ID.fullmatch(value) and redact(value) == value:
        return value
    return None


def _start(sender, **extra):
    g.request_id = _incoming_id() or os.urandom(16).hex()  # 32 hex digits, as nginx's
    g.request_started = time.perf_counter()


def fields(response):
    """What the request's log line says, in order."""
    state = g._get_current_object()
    key = getattr(state, "api_key", None)
    return {
        "request_id": state.request_id,
        "method": request.method,
        "path": redact(request.path),
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - state.request_started) * 1000, 1),
        "ip": client_ip(),
        "key_id": key.id if key is not None else None,
    }


def _finish(sender, response, **extra):
    if "request_started" not in g:  # a request that failed before it started
        return
    response.headers[HEADER] = g.request_id
    line = fields(response)
    log.info("request", extra={"request_fields": line})
    metrics.record_request(sender, response.status_code, line["duration_ms"] / 1000)


class RequestFormatter(logging.Formatter):
    """A request's line as text (`key=value ...`) or JSON (one object); other records as text."""

    def __init__(self, style="text"):
        super().__init__()
        self.json = style == "json"

    def format(self, record):
        values = getattr(record, "request_fields", None)
        moment = datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds")
        if values is None:
            values = {"message": record.getMessage()}
        if self.json:
            return json.dumps({"time": moment, "level": record.levelname.lower(), "event": record.msg, **values})
        text = " ".join(f"{name}={'-' if value is None else value}" for name, value in values.items())
        return f"{moment} {record.levelname} {record.msg} {text}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (gunicorn and pytest both swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(style):
    """The request log's handler and format (one handler per process, whatever the number of apps)."""
    for handler in [h for h in log.handlers if isinstance(h, _StderrHandler)]:
        log.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(RequestFormatter(style))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def init_app(app):
    configure_logging(app.config["LOG_FORMAT"])
    request_started.connect(_start, app)
    request_finished.connect(_finish, app)
    app.context_processor(lambda: {"request_id": request_id()})
