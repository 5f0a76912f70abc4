"""Redis on the request path: short timeouts and a breaker, against a real Redis stopped and restarted
and against a hung one (a socket that accepts and never answers)."""

import logging
import socket
import threading
import time

import pytest

from app import create_app
from keyhouse import ratelimit
from tests.helpers import Auth
from tests.servers import OwnRedis


class HungRedis:
    """A TCP server that accepts connections and never answers; counts the connections."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.connections = []
        self.accepted = threading.Semaphore(0)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)  # kept open, never read from or written to
            self.accepted.release()

    def close(self):
        self.listener.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def hung_redis():
    server = HungRedis()
    yield server
    server.close()


@pytest.fixture
def clock(monkeypatch):
    """The breaker's clock, moved by the test instead of waiting."""
    now = {"t": time.monotonic()}
    monkeypatch.setattr(ratelimit, "_clock", lambda: now["t"])

    def advance(seconds):
        now["t"] += seconds

    return advance


def test_a_hung_redis_is_asked_once_then_skipped_for_a_few_seconds(settings, keys, crm_data, hung_redis, clock):
    app = create_app({**settings, "REDIS_URL": hung_redis.url})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {keys.north}"}
    for _ in range(5):
        response = client.get("/v1/workflows/", headers=headers)
        assert response.status_code == 200
        assert "X-RateLimit-Remaining" not in response.headers
    assert hung_redis.accepted.acquire(timeout=5)
    assert len(hung_redis.connections) == 1  # the first request waited REQUEST_TIMEOUT; the next four did not ask

    clock(ratelimit.BREAKER_SECONDS)
    assert client.get("/v1/workflows/", headers=headers).status_code == 200
    assert hung_redis.accepted.acquire(timeout=5)
    assert len(hung_redis.connections) == 2  # after the pause it is tried again (once)


def test_request_path_redis_calls_use_the_short_timeout(app):
    with app.app_context():
        client = ratelimit._request_client(app)
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == ratelimit.REQUEST_TIMEOUT <= 0.5


def test_sign_in_with_a_hung_redis_asks_it_at_most_once(settings, tenants, hung_redis, clock):
    app = create_app({**settings, "REDIS_URL": hung_redis.url})
    auth = Auth(app.test_client())
    assert auth.login("admin@acme.test", password="wrong password").status_code == 401
    assert auth.login("admin@acme.test").status_code == 302
    assert len(hung_redis.connections) <= 1  # a failed sign-in used to wait for Redis twice


def test_limits_come_back_when_a_stopped_redis_is_restarted(settings, keys, crm_data, caplog, clock):
    caplog.set_level(logging.INFO, logger="keyhouse.ratelimit")
    own = OwnRedis()
    own.start()
    try:
        app = create_app({**settings, "REDIS_URL": own.url})
        client = app.test_client()
        headers = {"Authorization": f"Bearer {keys.north}"}
        assert "X-RateLimit-Remaining" in client.get("/v1/workflows/", headers=headers).headers

        own.stop()
        for _ in range(3):
            response = client.get("/v1/workflows/", headers=headers)
            assert response.status_code == 200 and "X-RateLimit-Remaining" not in response.headers

        own.start()
        response = client.get("/v1/workflows/", headers=headers)
        assert "X-RateLimit-Remaining" not in response.headers  # still inside the breaker's pause
        clock(ratelimit.BREAKER_SECONDS)
        response = client.get("/v1/workflows/", headers=headers)
        assert response.status_code == 200 and "X-RateLimit-Remaining" in response.headers
    finally:
        if own.server is not None:
            own.stop()
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if "unreachable" in m]) == 1
    assert len([m for m in messages if "reachable again" in m]) == 1
