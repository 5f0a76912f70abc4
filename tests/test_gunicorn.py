"""gunicorn with the shipped configuration: it serves Keyhouse, and its access log never carries a key."""

import base64
import json
import urllib.error
import urllib.request

from keyhouse.keys import apikeys
from keyhouse.keys.scopes import DEFAULT_SCOPES, SELF_ROLL
from keyhouse.models import db
from tests.helpers import VERSION
from tests.servers import gunicorn


def call(url, headers=None, data=None, answer_headers=False):
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = response.status, response.read()
            return (*answer, response.headers) if answer_headers else answer
    except urllib.error.HTTPError as error:
        answer = error.code, error.read()
        return (*answer, error.headers) if answer_headers else answer


def test_the_access_log_never_carries_a_key_from_the_path_the_query_or_credentials(app, settings, tenants):
    with db.connection_context():
        _, key = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Logged")
    truncated = key[:20]  # a mistyped key is still most of a secret
    server, base = gunicorn(settings)
    try:
        bearer = {"Authorization": f"Bearer {key}", "Version": VERSION}
        assert call(f"{base}/v1/contacts/", bearer)[0] == 200
        # The key where it does not belong: in the path, the query string, Basic auth,
        # the referrer and the user agent. Each is refused, and logged without it.
        assert call(f"{base}/v1/contacts/{key}", bearer)[0] == 404
        assert call(f"{base}/v1/contacts/{truncated}x", bearer)[0] == 404
        assert call(f"{base}/v1/contacts/?apiKey={key}&page=1")[0] == 401
        basic = base64.b64encode(f"{key}:".encode()).decode()
        assert call(f"{base}/v1/contacts/", {"Authorization": f"Basic {basic}"})[0] == 401
        assert call(f"{base}/login?next=/x", {"Referer": f"{base}/x/{key}?key={key}", "User-Agent": f"bot {key}"})[0] == 200
        status, body = call(f"{base}/v2/nothing?key={key}")
        assert status == 404 and key not in body.decode()
    finally:
        status = server.stop()  # SIGTERM: a graceful stop
    assert status == 0, server.output

    log = server.output
    assert key not in log and truncated not in log and basic not in log
    access = [line for line in log.splitlines() if '"GET /' in line]
    assert len(access) == 7, log

    def lines_with(text):
        # Each worker writes its line after it answered, so the next request's line
        # (from another worker) may come first: find lines by content, not position.
        return [line for line in access if text in line]

    assert len(lines_with('"GET /v1/contacts/ HTTP/1.1" 200')) == 1
    assert len(lines_with('"GET /v1/contacts/[key] HTTP/1.1" 404')) == 2  # the truncated one too
    assert len(lines_with('"GET /v1/contacts/?… HTTP/1.1" 401')) == 1
    assert len(lines_with('"GET /v1/contacts/ HTTP/1.1" 401')) == 1  # Basic auth: no user name logged
    assert len(lines_with(f'"{base}/x/[key]" "bot [key]"')) == 1
    assert len(lines_with('"GET /v2/nothing?… HTTP/1.1" 404')) == 1


def test_a_key_rolls_itself_over_http_and_the_new_key_reaches_no_log(app, settings, tenants):
    """POST /v2/keys/self/roll through gunicorn: the new key is in its answer only, not in any log line."""
    with db.connection_context():
        _, old = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Rotating",
                                scopes=[*DEFAULT_SCOPES["location"], SELF_ROLL])
    server, base = gunicorn(settings)
    try:
        headers = {"Authorization": f"Bearer {old}", "Version": VERSION, "Content-Type": "application/json"}
        status, body, _ = call(f"{base}/v2/keys/self/roll", headers, b'{"grace": "1h"}', answer_headers=True)
        assert status == 201, body
        new = json.loads(body)["key"]["apiKey"]
        status, _, answer = call(f"{base}/v2/keys/self", headers, answer_headers=True)
        assert status == 200 and answer["Sunset"] and 'rel="sunset"' in answer["Link"]
        status, body, answer = call(f"{base}/v2/keys/self", {**headers, "Authorization": f"Bearer {new}"},
                                    answer_headers=True)
        assert status == 200 and json.loads(body)["key"]["expiresAt"] is None and "Sunset" not in answer
    finally:
        status = server.stop()
    assert status == 0, server.output
    assert new not in server.output and old not in server.output
    assert '"POST /v2/keys/self/roll HTTP/1.1" 201' in server.output


def test_the_shipped_configuration_sizes_workers_from_the_cpu_count_and_lets_the_environment_override_it(monkeypatch):
    import importlib
    import multiprocessing

    from keyhouse import gunicorn_conf

    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert importlib.reload(gunicorn_conf).workers == 2 * multiprocessing.cpu_count() + 1
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_THREADS", "8")
    reloaded = importlib.reload(gunicorn_conf)
    assert (reloaded.workers, reloaded.threads) == (3, 8)


def test_the_master_loads_no_keyhouse_code_so_a_graceful_reload_serves_the_upgraded_release():
    # `systemctl reload keyhouse-web` after an upgrade (docs/deploy.md) sends SIGHUP: gunicorn
    # forks new workers from the same master, and they inherit every module the master
    # imported. Were Keyhouse code among them, the "new" workers would run the old release's
    # copy of it next to the new release's other modules. The master imports only the config.
    import subprocess
    import sys

    probe = (
        "import sys, keyhouse.gunicorn_conf; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('keyhouse', 'app', 'wsgi', 'blueprints', 'jobs'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["keyhouse", "keyhouse.gunicorn_conf"]  # the package's __init__ is a docstring


def raw_exchange(base, data):
    """Send `data` as it is (what no HTTP library would send) and read the whole answer."""
    import socket

    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


def test_requests_gunicorn_cannot_read_get_json_naming_the_problem_never_html(app, settings):
    """gunicorn's own 400/414/431 (before Keyhouse sees the request) are the API's JSON error, without the key."""
    import json

    key = "khl_" + "A" * 40  # shaped like a key: what a client may put in a URL by mistake
    server, base = gunicorn(settings)
    try:
        long_line = b"GET /v2/contacts/?q=" + b"x" * 5000 + b"&apiKey=" + key.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        large_header = b"GET /v2/contacts/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n"
        many_headers = b"GET /v2/contacts/ HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n"
        bad_line = b"GET /v1/contacts/" + key.encode() + b" NOT-HTTP\r\nHost: x\r\n\r\n"
        answers = {name: raw_exchange(base, data) for name, data in
                   (("line", long_line), ("header", large_header), ("headers", many_headers), ("bad", bad_line))}
    finally:
        assert server.stop() == 0, server.output
    expected = {"line": (414, "request line"), "header": (431, "header"), "headers": (431, "header"), "bad": (400, "")}
    for name, (status, head, body) in answers.items():
        assert status == expected[name][0], (name, head)
        assert "Content-Type: application/json" in head, (name, head)
        error = json.loads(body)
        assert error["statusCode"] == status and error["error"] and error["requestId"], error
        assert expected[name][1] in error["message"].lower(), error
        assert key not in body.decode()
    assert key not in server.output
