"""Instructions per API request, counted by valgrind's callgrind: a figure the machine's load does not move.

    .venv/bin/python bench/instructions.py [--requests 100]          # SQLite in a temp folder, an embedded Valkey

Needs valgrind and its client header (Debian: apt-get install valgrind) and a C
compiler. The script compiles a two-function helper that switches callgrind's
counting on and off, runs itself under `valgrind --tool=callgrind
--instr-atstart=no`, and in there calls the app's WSGI callable directly (no
server, no sockets of its own): a Flask hello world (the one bench/api.py
serves), a malformed key's 401 and a valid key's `GET /v2/locations/{id}`. Only
the requests are counted, after a warm-up (the request log line included, to
the child's stderr, which is discarded); set-up, imports and the Valkey server
(another process) are not. It prints instructions per request and the
ratio to the hello world.
"""

import argparse
import ctypes
import glob
import io
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))

HELPER = """
#include <valgrind/callgrind.h>
void count_from_here(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void count_to_here(const char *name) { CALLGRIND_DUMP_STATS_AT(name); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def _environ(path, headers):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return environ


def _request(app, path, headers, status):
    """A function that answers one request through `app` and checks its status."""
    def once():
        answered = []
        body = app(_environ(path, headers), lambda line, _headers, _exc=None: answered.append(line))
        b"".join(body)
        getattr(body, "close", lambda: None)()
        if not answered[0].startswith(status):
            raise SystemExit(f"{path}: {answered[0]}, expected {status}")
    return once


def child(helper, requests):
    """Under callgrind: set up, then count `requests` requests of each kind."""
    import api as bench_api

    from keyhouse.services import embedded_redis

    counter = ctypes.CDLL(helper)
    namespace = {"__name__": "hello"}
    exec(bench_api.HELLO, namespace)  # the hello world bench/api.py serves
    with tempfile.TemporaryDirectory() as workdir, embedded_redis() as redis_url:
        app, api_id, token = bench_api.seed_keyhouse(f"sqlite:///{workdir}/keyhouse.db", workdir, redis_url,
                                                     RATE_LIMIT_BURST=10**9, RATE_LIMIT_DAILY=10**9)
        path = f"/v2/locations/{api_id}"
        cases = {
            "hello world": _request(namespace["app"], "/", {}, "200"),
            "malformed-key 401": _request(app, path, {"Authorization": "Bearer nope", "Version": bench_api.VERSION}, "401"),
            "valid key": _request(app, path, {"Authorization": f"Bearer {token}", "Version": bench_api.VERSION,
                                              "User-Agent": "bench"}, "200"),
        }
        for name, once in cases.items():
            for _ in range(20):
                once()
            counter.count_from_here()
            for _ in range(requests):
                once()
            counter.count_to_here(name.encode())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.requests)
    with tempfile.TemporaryDirectory() as folder:
        helper = os.path.join(folder, "counting.so")
        subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-x", "c", "-o", helper, "-"], input=HELPER, text=True,
                       check=True)
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        f"--callgrind-out-file={folder}/callgrind.%p", sys.executable, os.path.abspath(__file__),
                        "--child", helper, "--requests", str(args.requests)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        per_request = {}
        for dump in sorted(glob.glob(f"{folder}/callgrind.*.*"), key=lambda name: int(name.rsplit(".", 1)[1])):
            text = open(dump).read()
            name = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.M).group(1)
            per_request[name] = int(re.search(r"^summary: (\d+)", text, re.M).group(1)) / args.requests
    hello = per_request["hello world"]
    print(f"instructions per request (callgrind, {args.requests} requests each, in process, SQLite)\n")
    print("| request | instructions | ÷ hello world |")
    print("|---|---|---|")
    for name, count in per_request.items():
        print(f"| {name} | {count / 1000:,.0f} k | {hello / count:.2f}× |")


if __name__ == "__main__":
    main()
