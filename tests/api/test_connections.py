"""Database connections: pooled, taken on a request's first query, handed back after it."""

from app import create_app
from tests.api.conftest import VERSION, Api


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
