"""The database unreachable or hung: every request that needs it answers 503 with Retry-After
(JSON on the API, a page on the dashboard), pages that need none still answer, and the log
gets one line, not a traceback per request."""

import logging

import pytest

from app import create_app
from keyhouse.keys import tokens
from keyhouse.models import db
from keyhouse.models.base import PG_STATEMENT_TIMEOUT_MS, open_database
from keyhouse.testing import is_postgres
from tests.api.test_redis_request_path import HungRedis
from tests.helpers import Auth, csrf_token


@pytest.fixture
def hung_database():
    server = HungRedis()  # any TCP peer that accepts and never answers
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    yield f"postgresql://postgres@127.0.0.1:{port}/keyhouse?connect_timeout=1"
    server.close()


def unreachable_urls(tmp_path, hung):
    return {
        "sqlite, folder missing": f"sqlite:///{tmp_path}/no/such/folder/keyhouse.db",
        "postgresql, nothing listening": "postgresql://postgres@127.0.0.1:9/keyhouse?connect_timeout=1",
        "postgresql, hung": hung,
    }


@pytest.fixture(params=["sqlite, folder missing", "postgresql, nothing listening", "postgresql, hung"])
def down(request, app, settings, tenants, tmp_path, hung_database, caplog):
    """(app with the database unreachable, a session cookie from before the outage)."""
    client = app.test_client()
    assert Auth(client).login("admin@acme.test").status_code == 302
    session = client.get_cookie("session").value
    db.close()
    caplog.set_level(logging.INFO)
    broken = create_app({**settings, "DATABASE_URL": unreachable_urls(tmp_path, hung_database)[request.param]})
    yield broken, session
    db.close()


def test_api_requests_answer_503_json_with_retry_after(down, caplog):
    broken, _ = down
    client = broken.test_client()
    key = tokens.generate(tokens.LOCATION)  # well formed, so it must be looked up
    for path in ("/v1/contacts/", "/v2/contacts/?locationId=x"):
        response = client.get(path, headers={"Authorization": f"Bearer {key}", "Version": "2021-07-28"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "10"
        assert response.get_json()["statusCode"] == 503
        assert "database is unavailable" in response.get_json()["message"]
    assert not [record for record in caplog.records if record.exc_info]


def test_dashboard_requests_answer_a_503_page(down, caplog):
    broken, session = down
    client = broken.test_client()
    client.set_cookie("session", session)  # signed in before the outage
    response = client.get("/settings/api-keys")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert "text/html" in response.content_type and "database is unavailable" in response.get_data(as_text=True)

    anonymous = broken.test_client()
    token = csrf_token(anonymous)  # the sign-in page itself needs no database
    response = anonymous.post("/login", data={"email": "admin@acme.test", "password": "x" * 9, "csrf_token": token})
    assert response.status_code == 503 and "text/html" in response.content_type
    assert not [record for record in caplog.records if record.exc_info]


def test_pages_that_need_no_database_still_answer(down):
    broken, _ = down
    client = broken.test_client()
    for path in ("/docs/", "/docs/authentication", "/docs/reference", "/docs/reference/v1", "/v1/openapi.json", "/v2/openapi.json"):
        assert client.get(path).status_code == 200, path
    response = client.get("/v1/contacts/", headers={"Authorization": "Bearer not-a-key"})
    assert response.status_code == 401  # a malformed key is refused without asking the database


def test_many_requests_log_one_line_and_no_traceback(down, caplog):
    broken, _ = down
    client = broken.test_client()
    key = tokens.generate(tokens.AGENCY)
    for _ in range(6):
        assert client.get("/v1/locations/", headers={"Authorization": f"Bearer {key}"}).status_code == 503
    lines = [record for record in caplog.records if "Database unavailable" in record.getMessage()]
    assert len(lines) == 1 and lines[0].levelname == "ERROR"
    assert not [record for record in caplog.records if record.exc_info]


def test_the_database_connection_cannot_hang_for_ever(database_url):
    database = open_database(database_url)
    database.connect()
    try:
        if is_postgres(database_url):
            assert database.connect_params["connect_timeout"] == 5
            (value,) = database.execute_sql("SHOW statement_timeout").fetchone()
            assert value == f"{PG_STATEMENT_TIMEOUT_MS // 1000}s"
            (path,) = database.execute_sql("SHOW search_path").fetchone()
            assert "test_" in path  # options given in DATABASE_URL are kept
        else:
            (value,) = database.execute_sql("PRAGMA busy_timeout").fetchone()
            assert value == 10000
    finally:
        database.close()


class Clock:
    """The breaker's clock, moved on by the test instead of waiting."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_hung_database_is_tried_once_then_requests_fail_fast_until_the_breaker_retries(app, settings):
    from tests.api.test_redis_request_path import HungRedis

    hung = HungRedis()  # a PostgreSQL that accepts connections and never answers
    port = hung.url.rsplit(":", 1)[1].split("/")[0]
    url = f"postgresql://postgres@127.0.0.1:{port}/keyhouse?connect_timeout=1&sslmode=disable"
    try:
        broken = create_app({**settings, "DATABASE_URL": url})
        clock = db.obj.breaker.clock = Clock()
        client = broken.test_client()
        headers = {"Authorization": f"Bearer {tokens.generate(tokens.LOCATION)}"}
        assert client.get("/v1/contacts/", headers=headers).status_code == 503  # waited out connect_timeout
        assert hung.accepted.acquire(timeout=30)
        for path in ("/v1/contacts/", "/v1/workflows/", "/v1/links/"):
            response = client.get(path, headers=headers)  # the breaker is open: no connection tried
            assert response.status_code == 503 and response.headers["Retry-After"] == "10"
            assert "database is unavailable" in response.get_json()["message"]
        assert client.get("/v2/openapi.json").status_code == 200
        clock.now += db.obj.breaker.seconds  # the breaker lets one request try again
        assert client.get("/v1/contacts/", headers=headers).status_code == 503
        assert hung.accepted.acquire(timeout=30)
        assert len(hung.connections) == 2  # the first request and the retry: none in between
    finally:
        db.close()
        hung.close()


def test_the_database_breaker_recovers_on_its_own_when_the_database_returns(app, settings, tmp_path):
    from keyhouse.models.base import release_all
    from keyhouse.models.schema import upgrade

    folder = tmp_path / "data"
    folder.mkdir()
    broken = create_app({**settings, "DATABASE_URL": f"sqlite:///{folder}/keyhouse.db"})
    with db.connection_context():
        upgrade()
    release_all()
    clock = db.obj.breaker.clock = Clock()
    client = broken.test_client()
    headers = {"Authorization": f"Bearer {tokens.generate(tokens.LOCATION)}"}
    folder.rename(tmp_path / "away")  # the database goes away
    assert client.get("/v1/contacts/", headers=headers).status_code == 503
    (tmp_path / "away").rename(folder)  # and comes back
    assert client.get("/v1/contacts/", headers=headers).status_code == 503  # the breaker is still open
    clock.now += db.obj.breaker.seconds
    assert client.get("/v1/contacts/", headers=headers).status_code == 401  # looked up (no such key): no restart
    assert client.get("/v1/contacts/", headers=headers).status_code == 401
    db.close()
