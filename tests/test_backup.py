"""`keyhouse backup`: an online SQLite backup that restores into a working install;
PostgreSQL gets the pg_dump commands instead.

The SQLite backup is what is under test, so these tests make a SQLite database of
their own whatever DATABASE_URL says (they run in both CI passes)."""

import os
import shutil
import sqlite3
import stat

import pytest

from app import create_app
from keyhouse.keys import apikeys
from keyhouse.models import Agency, Location, Role, User, db
from keyhouse.models.schema import upgrade
from tests.helpers import PASSWORD_HASH, VERSION, Auth, keyhouse


@pytest.fixture
def install(tmp_path, redis_url):
    """A SQLite install with an agency, a location, its admin and a location key."""
    settings = {
        "TESTING": True, "SECRET_KEY": "backup-test", "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/live/keyhouse.db", "INSTANCE_PATH": str(tmp_path / "instance"),
        "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
    }
    os.makedirs(tmp_path / "live")
    create_app(settings)
    with db.connection_context():
        upgrade()
        agency = Agency.create(name="Backed Up")
        north = Location.create(agency=agency, name="North")
        User.create(agency=agency, email="admin@backup.test", name="Admin", role=Role.AGENCY_ADMIN,
                    password_hash=PASSWORD_HASH)
        _, key = apikeys.create(agency_id=agency.id, location_id=north.id, name="Survives")
    db.close()
    return settings, key


def test_a_backup_taken_while_a_writer_holds_the_database_restores_into_a_working_install(install, tmp_path):
    settings, key = install
    live = settings["DATABASE_URL"].removeprefix("sqlite:///")
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a write in progress: the backup neither waits nor copies it
    writer.execute("INSERT INTO agency (name, created_at) VALUES ('Uncommitted', '2027-01-01')")
    try:
        result = keyhouse(settings, "backup", str(tmp_path / "keyhouse-backup.db"))
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert result.returncode == 0, result.stderr
    assert f"backed up {live} to {tmp_path}/keyhouse-backup.db" in result.stdout
    backup = tmp_path / "keyhouse-backup.db"
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600  # it holds digests and password hashes

    # Disaster: the live database is gone. Restore = put the backup where DATABASE_URL points.
    shutil.rmtree(tmp_path / "live")
    os.makedirs(tmp_path / "restored")
    shutil.copy(backup, tmp_path / "restored" / "keyhouse.db")
    restored = {**settings, "DATABASE_URL": f"sqlite:///{tmp_path}/restored/keyhouse.db"}
    assert "schema is up to date" in keyhouse(restored, "db", "upgrade").stdout

    app = create_app(restored)
    client = app.test_client()
    answer = client.get("/v1/contacts/", headers={"Authorization": f"Bearer {key}", "Version": VERSION})
    assert answer.status_code == 200  # the key still works
    assert Auth(client).login("admin@backup.test").status_code == 302  # and so does signing in
    with db.connection_context():
        assert [agency.name for agency in Agency.select()] == ["Backed Up"]  # the uncommitted write is not in it


def test_backup_refuses_to_overwrite_the_database_or_write_into_a_missing_folder(install, tmp_path):
    settings, _ = install
    live = settings["DATABASE_URL"].removeprefix("sqlite:///")
    result = keyhouse(settings, "backup", live)
    assert result.returncode == 1 and "must not be the database itself" in result.stderr
    result = keyhouse(settings, "backup", str(tmp_path / "no" / "such" / "backup.db"))
    assert result.returncode == 1 and f"no folder {tmp_path}/no/such for the backup" in result.stderr


def test_on_postgresql_backup_prints_the_pg_dump_commands_without_the_password(tmp_path):
    from keyhouse.backup import pg_dump_guidance

    text = pg_dump_guidance("postgresql://keyhouse:s3cret@db.internal:5432/keyhouse", "/var/backups/k.dump")
    assert "s3cret" not in text
    assert "pg_dump --format=custom --file=/var/backups/k.dump 'postgresql://keyhouse:***@db.internal:5432/keyhouse'" in text
    assert "pg_restore --no-owner" in text
