"""gunicorn's configuration for Keyhouse: `gunicorn -c python:keyhouse.gunicorn_conf wsgi:app`.

A module of the package rather than a file beside the checkout, so that the
Procfile, the systemd unit and `keyhouse dev` find the same configuration
wherever Keyhouse is installed. Settings on the command line override it
(`--bind`, `--workers`, ...); docs/deploy.md describes each value and the
environment variables it reads (WEB_CONCURRENCY, WEB_THREADS, WEB_TIMEOUT).

The access log never carries a key: the query string is replaced by "?…", the
Basic-auth user and the referrer's query are dropped, and anything that looks
like a key in the path, the referrer or the user agent reads "[key]".

A request gunicorn itself cannot read (a malformed request line or header, a
request line or headers over its limits) is answered by gunicorn before
Keyhouse sees it: in the API's JSON error body, naming the problem, never with
a key it may quote (`write_json_error`).
"""

import glob
import json
import multiprocessing
import os
import shutil
import tempfile
import uuid

from gunicorn import util
from gunicorn.glogging import Logger

# No Keyhouse module is imported here, at the top: this file runs in gunicorn's master,
# and what the master imports, every worker it forks inherits. After an upgrade,
# `systemctl reload keyhouse-web` (SIGHUP) forks new workers that must load the new
# code, not the master's copy of the old one (tests/test_gunicorn.py checks).


_redact_keys = None


def redact(text):
    """keyhouse.keys.tokens.redact, imported when first used: in a worker, not the master."""
    global _redact_keys
    if _redact_keys is None:
        from keyhouse.keys.tokens import redact as _redact_keys
    return _redact_keys(text)


def _int_env(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Workers from the CPU count (gunicorn's usual 2 × cores + 1), each with a few
# threads: requests mostly wait on PostgreSQL and Redis.
workers = _int_env("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
threads = _int_env("WEB_THREADS", 4)
worker_class = "gthread"

# A request that takes longer than this is stuck: its worker is replaced.
timeout = _int_env("WEB_TIMEOUT", 30)
# On SIGTERM or SIGHUP (a graceful restart), workers finish the requests they
# hold for up to this long before they are stopped.
graceful_timeout = 30
# Behind nginx, which keeps its own client connections: a short keep-alive.
keepalive = 5
# Workers are replaced, one at a time and gracefully, after about this many
# requests (the jitter keeps them from restarting together).
max_requests = 2000
max_requests_jitter = 200

# No gunicorn-side trust of X-Forwarded-*: TRUSTED_PROXY_COUNT is the one setting
# that decides which proxies' headers Keyhouse believes (ProxyFix in app.py).
forwarded_allow_ips = ""
control_socket_disable = True

accesslog = "-"
errorlog = "-"
# The request line rebuilt from safe parts; the request id ties it to Keyhouse's own log line.
access_log_format = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms id=%({x-request-id}o)s'


class RedactingLogger(Logger):
    """gunicorn's logger, with every access-log field a key could travel in made safe,
    and its warnings (which quote the requests it could not read) redacted."""

    def warning(self, msg, *args, **kwargs):
        super().warning(redact(str(msg) % args if args else str(msg)), **kwargs)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact(environ.get("PATH_INFO") or "")
        query = "?…" if environ.get("QUERY_STRING") else ""
        referrer = environ.get("HTTP_REFERER")
        atoms.update(
            u="-",
            U=path,
            q="…" if query else "",
            r=f"{environ['REQUEST_METHOD']} {path}{query} {environ.get('SERVER_PROTOCOL', '-')}",
            f=redact(referrer.split("?", 1)[0]) if referrer else "-",
            a=redact(environ.get("HTTP_USER_AGENT") or "-"),
        )
        # Request headers and the environment (%({name}i)s, %({name}e)s) hold the
        # Authorization header and the raw URI: nothing of them reaches the log.
        for name in [name for name in atoms if name.endswith(("}i", "}e"))]:
            del atoms[name]
        return atoms


logger_class = RedactingLogger

# gunicorn's limits (its defaults, stated): a longer request line is a 414, larger
# or more header fields a 431, both answered by write_json_error. nginx (deploy/nginx)
# allows the same sizes, so behind it the answer is the same.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

MESSAGES = {
    400: "The request could not be read as HTTP",
    414: f"The request line (method, path and query) is longer than {limit_request_line} bytes",
    431: (f"A request header is larger than {limit_request_field_size} bytes, "
          f"or there are more than {limit_request_fields} header fields"),
}


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn's own error answer (util.write_error) as the API's JSON error body.

    The request could not be read, so its path is unknown: JSON for everyone,
    which browsers show readably too. gunicorn's detail may quote the request
    line, so it is redacted and shortened.
    """
    detail = redact(mesg)[:200]
    message = MESSAGES.get(status_int, reason) + (f" ({detail})" if detail and status_int == 400 else "")
    body = json.dumps({"statusCode": status_int, "error": reason, "message": message,
                       "requestId": uuid.uuid4().hex}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


def post_worker_init(worker):
    util.write_error = write_json_error  # the one function gunicorn answers unreadable requests with


# Metrics (keyhouse/metrics.py): the workers count requests in prometheus_client's
# multiprocess mode, in files of one folder, so any worker's /metrics sums them all.
_made_metrics_folder = None


def on_starting(server):
    """Before any worker starts: a clean metrics folder (PROMETHEUS_MULTIPROC_DIR, else a private one)."""
    global _made_metrics_folder
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for stale in glob.glob(os.path.join(folder, "*.db")):  # the figures of an earlier run
            os.remove(stale)
    else:
        folder = _made_metrics_folder = tempfile.mkdtemp(prefix="keyhouse-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_folder:
        shutil.rmtree(_made_metrics_folder, ignore_errors=True)
