"""Debian's nginx with the shipped configuration (deploy/nginx/keyhouse.conf) and a
self-signed certificate in front of gunicorn on loopback: the client's address, the
HTTPS scheme, Secure cookies and HSTS come through, and no key reaches nginx's log.

The client connects from 127.0.0.2 while nginx talks to gunicorn from 127.0.0.1, so
the address Keyhouse reports can only have come from X-Forwarded-For. CI installs
nginx (.ci/run); without it this test fails rather than skips.
"""

import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import urllib.parse

import pytest

from keyhouse.keys import apikeys
from keyhouse.models import db
from tests.helpers import PASSWORD, VERSION
from tests.servers import ROOT, Process, eventually, free_port, gunicorn

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CLIENT = "127.0.0.2"  # another loopback address than the one nginx uses to reach gunicorn


def shipped_configuration(tmp_path, upstream, http_port, https_port):
    """deploy/nginx/keyhouse.conf with this test's ports, certificate and log paths."""
    with open(os.path.join(ROOT, "deploy", "nginx", "keyhouse.conf")) as handle:
        text = handle.read()
    replacements = {
        "server 127.0.0.1:8000;": f"server {upstream};",
        "listen 80;": f"listen {http_port};",
        "listen 443 ssl;": f"listen {https_port} ssl;",
        "/etc/letsencrypt/live/keys.example.com/fullchain.pem": str(tmp_path / "cert.pem"),
        "/etc/letsencrypt/live/keys.example.com/privkey.pem": str(tmp_path / "key.pem"),
        "/var/log/nginx/keyhouse.access.log": str(tmp_path / "access.log"),
        "keys.example.com": "localhost",
    }
    for old, new in replacements.items():
        assert old in text, f"the shipped nginx configuration no longer has {old!r}"
        text = text.replace(old, new)
    text = "\n".join(line for line in text.splitlines() if "listen [::]:" not in line)  # no IPv6 in every sandbox
    (tmp_path / "keyhouse.conf").write_text(text)
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    (tmp_path / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {tmp_path}/keyhouse.conf;
}}
""")
    return tmp_path / "nginx.conf"


@pytest.fixture
def proxied(app, settings, tenants, tmp_path):
    assert os.path.exists(NGINX), "nginx is not installed: apt-get install nginx (.ci/run does)"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem"],
        check=True, capture_output=True,
    )
    web, base = gunicorn(settings, TRUSTED_PROXY_COUNT="1", SESSION_COOKIE_SECURE="true", WEB_CONCURRENCY="1")
    http_port, https_port = free_port(), free_port()
    conf = shipped_configuration(tmp_path, base.removeprefix("http://"), http_port, https_port)
    checked = subprocess.run([NGINX, "-t", "-c", conf, "-e", tmp_path / "error.log"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    nginx = Process([NGINX, "-c", str(conf), "-e", str(tmp_path / "error.log")], dict(os.environ))
    context = ssl.create_default_context(cafile=tmp_path / "cert.pem")
    try:
        def connect(port=https_port, secure=True):
            if secure:
                return http.client.HTTPSConnection("127.0.0.1", port, context=context, source_address=(CLIENT, 0), timeout=30)
            return http.client.HTTPConnection("127.0.0.1", port, source_address=(CLIENT, 0), timeout=30)

        wait_for_port(connect)
        yield connect, web, http_port, https_port, tmp_path / "access.log"
    finally:
        nginx.stop()
        web.stop()


def wait_for_port(connect):
    """nginx answers (it prints nothing when ready: poll with a deadline)."""
    def answers():
        """nginx accepts connections"""
        try:
            connection = connect()
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False

    eventually(answers, timeout=30)


def request(connect, method, path, headers=None, body=None):
    connection = connect()
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read().decode()


def test_behind_nginx_https_client_addresses_secure_cookies_and_hsts_come_through(proxied, tenants):
    connect, web, http_port, https_port, access_log = proxied
    origin = f"https://127.0.0.1:{https_port}"

    # Plain HTTP is sent to HTTPS.
    response, _ = request(lambda: connect(http_port, secure=False), "GET", "/login?next=/x")
    assert response.status == 301 and response.getheader("Location") == "https://127.0.0.1/login?next=/x"

    # HTTPS: HSTS, and Keyhouse sees the https scheme and the host the client used.
    response, body = request(connect, "GET", "/v1/openapi.json")
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == "max-age=63072000; includeSubDomains"
    assert len(response.headers.get_all("Strict-Transport-Security")) == 1  # nginx's, not the app's beside it
    # The documents name no host taken from the request (PUBLIC_URL unset): the server is relative.
    assert [server["url"] for server in json.loads(body)["servers"]] == ["/"]

    # Signing in: the session cookie is Secure; CSRF's HTTPS referrer check passes for our origin ...
    response, page = request(connect, "GET", "/login")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    (cookie,) = response.msg.get_all("Set-Cookie")
    assert cookie.startswith("session=") and "; Secure" in cookie and "HttpOnly" in cookie
    form = urllib.parse.urlencode({"email": "admin@acme.test", "password": PASSWORD, "csrf_token": token})
    headers = {"Cookie": cookie.split(";")[0], "Content-Type": "application/x-www-form-urlencoded"}
    refused, _ = request(connect, "POST", "/login", headers, form)  # no Referer: HTTPS requires one
    assert refused.status == 400
    signed_in, _ = request(connect, "POST", "/login", {**headers, "Referer": f"{origin}/login"}, form)
    assert signed_in.status == 302
    (session,) = [c for c in signed_in.msg.get_all("Set-Cookie") if c.startswith("session=")]
    assert "; Secure" in session and "HttpOnly" in session
    assert signed_in.getheader("Strict-Transport-Security")

    # The client's address, from X-Forwarded-For (a client's own X-Forwarded-For is not believed).
    with db.connection_context():
        _, key = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Proxied")
    response, _ = request(connect, "GET", f"/v1/contacts/?apiKey={key}",
                          {"Authorization": f"Bearer {key}", "Version": VERSION, "X-Forwarded-For": "203.0.113.9"})
    assert response.status == 200
    request_id = response.getheader("X-Request-Id")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, handed on
    line = web.wait_for(f"request_id={request_id} ")
    assert f" ip={CLIENT} " in line and "203.0.113.9" not in line

    # nginx's own access log: the same request id, the client's address, no key.
    response, _ = request(connect, "GET", f"/v1/contacts/{key}", {"Authorization": f"Bearer {key}"})
    assert response.status == 404
    stray_id = response.getheader("X-Request-Id")

    def logged():
        """nginx wrote the stray request's line"""
        text = access_log.read_text()
        return text if f"id={stray_id}" in text else None

    log = eventually(logged, timeout=10)
    assert key not in log
    assert '"GET /v1/contacts/[key] HTTP/1.1" 404' in log
    (proxied_line,) = [entry for entry in log.splitlines() if f"id={request_id}" in entry]
    assert proxied_line.startswith(CLIENT) and '"GET /v1/contacts/ HTTP/1.1" 200' in proxied_line


def test_nginx_refusals_are_the_apis_json_error_not_html(proxied):
    """What nginx refuses itself (a body over client_max_body_size, a request line or header over its
    buffers) never reaches Keyhouse: nginx answers in the contract's error shape, naming the problem."""
    import json

    connect, *_ = proxied
    cases = {
        413: ("POST", "/v2/contacts/", {"Content-Type": "application/json"}, b"x" * (1024 * 1024 + 1)),
        414: ("GET", "/v2/contacts/?q=" + "x" * 9000, {}, None),
        400: ("GET", "/v2/contacts/", {"X-Big": "y" * 9000}, None),
    }
    for status, (method, path, headers, body) in cases.items():
        response, text = request(connect, method, path, headers, body)
        assert response.status == status, (status, text[:200])
        assert response.getheader("Content-Type") == "application/json", (status, text[:200])
        error = json.loads(text)
        assert error["statusCode"] == status and error["message"] and error["requestId"], error
