"""Database connections: pooled, taken on a request's first query, handed back after it."""

import os

import peewee
import pytest

from app import create_app
from tests.api.conftest import Api
from tests.helpers import VERSION


def test_requests_that_need_no_database_open_no_connection(settings):
    # Neither the database nor Redis can be reached: a request that needs them would fail.
    app = create_app({
        **settings,
        "DATABASE_URL": "sqlite:////nonexistent/dir/keyhouse.db",
        "REDIS_URL": "redis://127.0.0.1:9/0",
    })
    client = app.test_client()
    api = Api(client)

    for path in ("/v2/locations/abc", "/v1/contacts/"):
        response = api("GET", path, "nope")
        assert response.status_code == 401
        assert response.get_json()["message"] == "Missing or malformed API key"
        assert response.headers["X-RateLimit-Limit-Daily"]  # the configured limits, as before
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/docs/").status_code == 200
    assert client.get("/login").status_code == 200


def test_a_pool_of_one_serves_every_request_in_turn(settings, keys, tenants):
    # Each request hands its connection back: with one connection and no wait, the
    # next request would otherwise find the pool exhausted.
    app = create_app({**settings, "DATABASE_POOL_SIZE": 1, "DATABASE_POOL_WAIT_SECONDS": 1})
    api = Api(app.test_client())
    for _ in range(5):
        response = api("GET", f"/v2/locations/{tenants.north.api_id}", keys.north, version=VERSION)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["location"]["id"] == tenants.north.api_id
        assert api("GET", "/v2/locations/unknown", keys.north).status_code == 404


def test_a_forked_child_opens_its_own_connection_and_leaves_its_parents(app, tenants):
    import os

    from keyhouse.models import Agency, db

    with db.connection_context():
        parents = id(db.connection())
        assert Agency.select().count() == 2
    # The parent's connection is back in its pool when an RQ worker forks a work horse.
    child = os.fork()
    if child == 0:
        code = 3
        try:
            with db.connection_context():
                code = 1 if id(db.connection()) == parents else 0 if Agency.select().count() == 2 else 2
        finally:
            os._exit(code)  # neither pytest's teardown nor the parent's objects' cleanup runs here
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # 1: it was handed the parent's connection
    with db.connection_context():
        assert id(db.connection()) == parents  # the parent's connection, untouched, still serves it
        assert Agency.select().count() == 2


def _pooled_backend_pid(database):
    with database.connection_context():
        return database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def _terminate(settings, pid):
    import psycopg2

    with psycopg2.connect(settings["DATABASE_URL"]) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    admin.close()


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL's pool")
def test_a_pooled_postgresql_connection_the_server_ended_is_replaced(settings, monkeypatch):
    from keyhouse.models import base

    database = base.open_database(settings["DATABASE_URL"], pool={"size": 2})
    try:
        # Idle for longer than the bypass window (here: any time at all): checked before reuse.
        monkeypatch.setattr(base, "ALIVE_BYPASS_SECONDS", 0)
        first = _pooled_backend_pid(database)
        _terminate(settings, first)
        second = _pooled_backend_pid(database)  # no error: a new connection replaced it
        assert second != first

        # Handed back a moment ago: reused without a round trip. A connection the
        # server ended in that moment fails the one query that gets it, then is dropped.
        monkeypatch.setattr(base, "ALIVE_BYPASS_SECONDS", 3600)
        _terminate(settings, second)
        with pytest.raises(peewee.OperationalError):
            _pooled_backend_pid(database)
        assert _pooled_backend_pid(database) not in (first, second)
    finally:
        database.close_all()
