"""Smaller hardening: the SQLite file's mode, HSTS over HTTPS, the Host header never echoed."""

import os

from app import create_app
from keyhouse.models.base import open_database


def test_the_sqlite_file_is_created_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "fresh.db"
    database = open_database(f"sqlite:///{path}")
    database.connect()
    database.execute_sql("CREATE TABLE t (x INTEGER)")
    database.execute_sql("INSERT INTO t VALUES (1)")
    for name in ("fresh.db", "fresh.db-wal", "fresh.db-shm"):
        if (tmp_path / name).exists() or name == "fresh.db":
            assert oct(os.stat(tmp_path / name).st_mode & 0o777) == "0o600", name
    database.close()


def test_hsts_is_sent_over_https_only(client):
    assert client.get("/login", base_url="https://keyhouse.example").headers["Strict-Transport-Security"] == (
        "max-age=31536000"
    )
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_the_openapi_servers_never_echo_the_host_header(client):
    for version in ("v1", "v2"):
        document = client.get(f"/{version}/openapi.json", headers={"Host": "evil.example"}).get_json()
        assert document["servers"] == [{"url": "/"}]
        assert "evil.example" not in str(document)


def test_a_host_header_that_is_not_a_plain_host_never_reaches_the_docs(client):
    forged = 'evil.example"><script>alert(1)</script>'
    html = client.get("/docs/", headers={"Host": forged}).get_data(as_text=True)
    assert "evil.example" not in html and "<script>alert" not in html


def test_public_url_names_the_server_in_the_docs_and_the_documents(settings):
    app = create_app({**settings, "PUBLIC_URL": "https://keys.agency.example"})
    client = app.test_client()
    html = client.get("/docs/", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "https://keys.agency.example/v2/contacts/?locationId=" in html and "evil.example" not in html
    assert client.get("/v2/openapi.json").get_json()["servers"] == [{"url": "https://keys.agency.example"}]


def test_a_chunked_body_over_the_limit_is_a_413_not_a_cut_400(app, settings, tenants):
    """Through a real gunicorn: a chunked body has no Content-Length, so only reading it finds its size."""
    import http.client
    import json
    import subprocess
    import sys

    from keyhouse.keys import apikeys
    from keyhouse.models import db
    from tests.helpers import process_env
    from tests.servers import Output, free_port

    with db.connection_context():
        _, key = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="chunked")
    port = free_port()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=root, env=process_env(settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = Output(server)
    try:
        output.wait_for(r"Booting worker")
        body = json.dumps({"firstName": "Big", "source": "x" * (1024 * 1024 + 100)}).encode()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(
            "POST", "/v1/contacts/", body=(body[i:i + 65536] for i in range(0, len(body), 65536)),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}, encode_chunked=True,
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 413, answer
        assert answer["statusCode"] == 413 and "larger than the limit" in answer["message"]
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_chunked_form_body_over_the_limit_is_a_clear_413_on_the_dashboard_the_public_forms_and_the_api(
        app, settings, tenants):
    """Through a real gunicorn: werkzeug stops reading a chunked body at the limit without a word, so a
    form was parsed cut (CSRF token or fields lost). Every such body is now a 413 naming the limit."""
    import http.client
    import json

    from keyhouse.keys import apikeys
    from keyhouse.models import Form, db
    from tests.servers import gunicorn

    with db.connection_context():
        _, key = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="chunked form")
        form = Form.create(location=tenants.north, name="Big")
    body = b"csrf_token=x&email=admin%40acme.test&password=" + b"p" * (1024 * 1024 + 100)
    server, base = gunicorn(settings)

    def post(path, headers):
        connection = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=60)
        connection.request("POST", path, body=(body[i:i + 65536] for i in range(0, len(body), 65536)),
                           headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
                           encode_chunked=True)
        response = connection.getresponse()
        answer = (response.status, response.getheader("Content-Type"), response.read().decode())
        connection.close()
        return answer

    try:
        api = post("/v1/contacts/", {"Authorization": f"Bearer {key}"})
        sign_in = post("/login", {"Accept": "text/html"})
        public = post(f"/f/{form.id}", {"Accept": "text/html"})
        public_json = post(f"/f/{form.id}", {"Accept": "application/json"})
    finally:
        assert server.stop() == 0, server.output
    assert api[0] == 413 and api[1] == "application/json", api
    assert "larger than the limit of 1048576 bytes" in json.loads(api[2])["message"]
    assert sign_in[0] == 413 and sign_in[1].startswith("text/html"), sign_in[:2]
    assert "larger than the limit of 1048576 bytes" in sign_in[2]
    assert public[0] == 413 and public[1].startswith("text/html") and "larger than 1048576 bytes" in public[2]
    assert public_json[0] == 413 and json.loads(public_json[2])["statusCode"] == 413
    assert "Traceback" not in server.output
