"""The `keyhouse` command line, run as a user runs it: a real process."""

import os
import subprocess
import sys

import pytest

from keyhouse.models import Location, Role, User, UserLocation, db
from tests.helpers import keyhouse, process_env


def test_create_agency_location_and_users_of_every_role(app, settings):
    result = keyhouse(settings, "create-agency", "Bright Agency")
    assert result.returncode == 0, result.stderr
    agency_id = result.stdout.split()[1].rstrip(":")
    result = keyhouse(settings, "create-location", "--agency", agency_id, "Harbour Cafe")
    assert result.returncode == 0, result.stderr
    location_id = result.stdout.split()[1].rstrip(":")

    for email, role, extra in [
        ("boss@bright.test", Role.AGENCY_ADMIN, []),
        ("helper@bright.test", Role.AGENCY_USER, ["--location", location_id]),
        ("cafe.admin@bright.test", Role.LOCATION_ADMIN, ["--location", location_id]),
        ("cafe.user@bright.test", Role.LOCATION_USER, ["--location", location_id]),
    ]:
        result = keyhouse(
            settings, "create-user", "--agency", agency_id, "--role", role, *extra,
            "--password", "long enough pw", email,
        )
        assert result.returncode == 0, result.stderr

    with db.connection_context():
        cafe = Location.get_by_id(int(location_id))
        assert cafe.agency.name == "Bright Agency"
        assert User.by_email("cafe.admin@bright.test").location_id == cafe.id
        helper = User.by_email("helper@bright.test")
        assert helper.location_id is None
        assert [a.location_id for a in UserLocation.select().where(UserLocation.user == helper)] == [cafe.id]
        assert User.by_email("boss@bright.test").check_password("long enough pw")


def test_create_user_password_can_be_typed_at_the_prompt(app, settings, tenants):
    result = keyhouse(
        settings, "create-user", "--agency", str(tenants.acme.id), "--role", "agency_admin",
        "new@acme.test", input="prompted password\nprompted password\n",
    )
    assert result.returncode == 0, result.stderr
    with db.connection_context():
        assert User.by_email("new@acme.test").check_password("prompted password")


@pytest.mark.parametrize("args,message", [
    (["--role", "location_admin"], "a location role needs exactly one --location"),
    (["--role", "agency_admin", "--location", "LOC"], "an agency admin has every location already"),
    (["--role", "location_user", "--location", "999999"], "no location 999999"),
    (["--role", "wizard"], "'wizard' is not one of"),
])
def test_create_user_rejects_bad_input_clearly(app, settings, tenants, args, message):
    args = [str(tenants.north.id) if a == "LOC" else a for a in args]
    result = keyhouse(
        settings, "create-user", "--agency", str(tenants.acme.id), *args,
        "--password", "long enough pw", "x@acme.test",
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    with db.connection_context():
        assert User.by_email("x@acme.test") is None


def test_create_user_refuses_a_duplicate_email(app, settings, tenants):
    result = keyhouse(
        settings, "create-user", "--agency", str(tenants.acme.id), "--role", "agency_admin",
        "--password", "long enough pw", "ADMIN@acme.test",
    )
    assert result.returncode == 2
    assert "admin@acme.test is already a user" in result.stderr


def test_db_upgrade_on_an_up_to_date_database_changes_nothing(app, settings):
    result = keyhouse(settings, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "schema is up to date"


def test_db_upgrade_creates_a_new_database(settings):
    # Without the `app` fixture the test database (file or schema) is still empty.
    result = keyhouse(settings, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "created schema version" in result.stdout


def test_seed_demo_creates_one_user_per_role_and_is_idempotent(app, settings):
    first = keyhouse(settings, "seed-demo")
    second = keyhouse(settings, "seed-demo")
    assert first.returncode == 0 and second.returncode == 0
    assert first.stdout == second.stdout
    with db.connection_context():
        assert sorted(u.role for u in User.select()) == sorted(Role.ALL)
        assert Location.select().count() == 2


@pytest.mark.parametrize("command", [["worker", "--burst"], ["cron"], ["db", "upgrade"]])
def test_unreachable_database_stops_start_up_with_one_line(settings, command):
    result = keyhouse(settings, *command, DATABASE_URL="postgresql://nobody:s3cret@127.0.0.1:9/none")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: cannot use DATABASE_URL=postgresql://nobody:***@127.0.0.1:9/none")
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize("command", [["worker", "--burst"], ["cron"]])
def test_unreachable_redis_stops_start_up_with_one_line(app, settings, command):
    result = keyhouse(settings, *command, REDIS_URL="redis://:pw@127.0.0.1:9/0")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: cannot reach REDIS_URL=redis://:***@127.0.0.1:9/0")


def test_the_web_process_will_not_start_without_a_secret_key(app, settings):
    env = process_env(settings, SECRET_KEY="")
    result = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("keyhouse: SECRET_KEY is not set")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_cli_and_workers_need_no_secret_key(app, settings):
    assert keyhouse(settings, "worker", "--burst", SECRET_KEY="").returncode == 0
    assert keyhouse(settings, "create-agency", "Keyless Agency", SECRET_KEY="").returncode == 0


def test_sweep_beside_keyhouse_dev_needs_no_settings(app, settings):
    # As after `make run`: only the instance folder (its SQLite file) is shared.
    result = keyhouse(settings, "sweep", "--as-of", "2027-03-01T00:00", SECRET_KEY="", REDIS_URL="")
    assert result.returncode == 0, result.stderr
    assert "sweep as of 2027-03-01 00:00 UTC" in result.stdout


def test_malformed_setting_is_named(app, settings):
    result = keyhouse(settings, "worker", "--burst", WARN_DAYS="15,soon")
    assert result.returncode == 1
    assert "WARN_DAYS must be comma-separated whole numbers" in result.stderr
    assert "Traceback" not in result.stderr


def test_gunicorn_entry_point_exits_with_one_line_when_redis_is_unreachable(app, settings):
    env = dict(os.environ, SECRET_KEY="x", DATABASE_URL=settings["DATABASE_URL"], REDIS_URL="redis://127.0.0.1:9/0",
               INSTANCE_PATH=settings["INSTANCE_PATH"])
    result = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("keyhouse: cannot reach REDIS_URL=redis://127.0.0.1:9/0")


def test_worker_runs_queued_jobs(app, settings):
    from jobs import queue
    from jobs.sweep import sweep

    job = queue(app).enqueue(sweep)
    result = keyhouse(settings, "worker", "--burst")
    assert result.returncode == 0, result.stderr
    job.refresh()
    assert job.get_status() == "finished"
