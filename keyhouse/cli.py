"""The `keyhouse` command line."""

import contextlib
import os
import sys

import click

from keyhouse.config import ConfigError, unsigned_process_settings
from keyhouse.models import Agency, Location, Role, User, UserLocation, db
from keyhouse.services import StartupError, check_services


def load_app(check=True, **overrides):
    """The app, or a one-line error naming the bad setting."""
    from app import create_app

    try:
        app = create_app({**unsigned_process_settings(), **overrides})
        if check:
            check_services(app)
    except (ConfigError, StartupError) as error:
        raise click.ClickException(str(error)) from None
    return app


def _database_only():
    """The app with a reachable database (Redis is not needed by this command)."""
    from keyhouse.services import check_database

    app = load_app(check=False)
    try:
        check_database(app.config["DATABASE_URL"])
    except StartupError as error:
        raise click.ClickException(str(error)) from None
    return app


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Keyhouse: a self-hosted API-key manager for CRM agencies."""


@main.group("db")
def db_group():
    """The database schema."""


@db_group.command("upgrade")
def db_upgrade():
    """Create the schema, or bring an existing one up to date."""
    from keyhouse.models.schema import upgrade

    _database_only()
    with db.connection_context():
        done = upgrade()
    click.echo("\n".join(done) if done else "schema is up to date")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path):
    """Copy the database to PATH while Keyhouse runs (SQLite; for PostgreSQL it says how to use pg_dump)."""
    from peewee import SqliteDatabase

    from keyhouse.backup import BackupError, pg_dump_guidance, sqlite_backup

    app = _database_only()
    if not isinstance(db.obj, SqliteDatabase):
        click.echo(pg_dump_guidance(app.config["DATABASE_URL"], path))
        sys.exit(2)
    try:
        size = sqlite_backup(db.obj.database, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up {db.obj.database} to {os.path.abspath(path)} ({size} bytes)")


@main.command("create-agency")
@click.argument("name")
def create_agency(name):
    """Create an agency; prints its id."""
    _database_only()
    with db.connection_context():
        agency = Agency.create(name=name.strip())
    click.echo(f"agency {agency.id}: {agency.name}")


def _agency(agency_id):
    agency = Agency.get_or_none(Agency.id == agency_id)
    if agency is None:
        raise click.BadParameter(f"no agency with id {agency_id}", param_hint="--agency")
    return agency


@main.command("create-location")
@click.option("--agency", "agency_id", type=int, required=True, help="The agency's id.")
@click.argument("name")
def create_location(agency_id, name):
    """Create a location (sub-account) in an agency; prints its id."""
    _database_only()
    with db.connection_context():
        location = Location.create(agency=_agency(agency_id), name=name.strip())
    click.echo(f"location {location.id}: {location.name}")


@main.command("create-user")
@click.option("--agency", "agency_id", type=int, required=True, help="The agency's id.")
@click.option("--role", type=click.Choice(Role.ALL), required=True)
@click.option(
    "--location",
    "location_ids",
    type=int,
    multiple=True,
    help="For a location role: the location. For an agency user: an assigned location (repeatable).",
)
@click.option("--name", default="", help="Display name (defaults to the email).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.argument("email")
def create_user(agency_id, role, location_ids, name, password, email):
    """Create a staff user with a role."""
    _database_only()
    email = User.normalize_email(email)
    if "@" not in email:
        raise click.BadParameter("must be an email address", param_hint="EMAIL")
    if len(password) < 8:
        raise click.BadParameter("must be at least 8 characters", param_hint="--password")
    with db.connection_context(), db.atomic():
        agency = _agency(agency_id)
        locations = []
        for location_id in location_ids:
            location = Location.get_or_none((Location.id == location_id) & (Location.agency == agency))
            if location is None:
                raise click.BadParameter(f"no location {location_id} in agency {agency_id}", param_hint="--location")
            locations.append(location)
        if role in Role.LOCATION_LEVEL and len(locations) != 1:
            raise click.BadParameter("a location role needs exactly one --location", param_hint="--location")
        if role == Role.AGENCY_ADMIN and locations:
            raise click.BadParameter("an agency admin has every location already", param_hint="--location")
        if User.by_email(email):
            raise click.BadParameter(f"{email} is already a user", param_hint="EMAIL")
        user = User(
            agency=agency,
            email=email,
            name=name.strip() or email,
            role=role,
            location=locations[0] if role in Role.LOCATION_LEVEL else None,
        )
        user.set_password(password)
        user.save()
        if role == Role.AGENCY_USER:
            for location in locations:
                UserLocation.create(user=user, location=location)
    click.echo(f"user {user.id}: {user.email} ({Role.LABELS[role]})")


def _user(email):
    user = User.by_email(email)
    if user is None:
        raise click.BadParameter(f"no user {User.normalize_email(email)}", param_hint="EMAIL")
    return user


@main.command("set-password")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.argument("email")
def set_password(password, email):
    """Change a user's password; every session and remember-me of theirs ends."""
    from keyhouse.sessions import end_all

    _database_only()
    if len(password) < 8:
        raise click.BadParameter("must be at least 8 characters", param_hint="--password")
    with db.connection_context(), db.atomic():
        user = _user(email)
        user.set_password(password)
        user.save(only=[User.password_hash])
        ended = end_all(user.id)
    click.echo(f"password changed for {user.email}; {ended} sign-in(s) ended")


@main.command("remove-user")
@click.argument("email")
def remove_user(email):
    """Remove a member from their agency: they can no longer sign in, and every session of theirs ends."""
    from keyhouse.sessions import end_all

    _database_only()
    with db.connection_context(), db.atomic():
        user = _user(email)
        User.update(is_member=False).where(User.id == user.id).execute()
        ended = end_all(user.id)
    click.echo(f"removed {user.email}; {ended} sign-in(s) ended")


@main.command("seed-demo")
def seed_demo_command():
    """Create the demo agency, its locations and one user per role."""
    from keyhouse.demo import DEMO_PASSWORD, seed_demo

    _database_only()
    with db.connection_context():
        logins = seed_demo()
    for email, role in logins:
        click.echo(f"  {email:28} {DEMO_PASSWORD}   ({role})")


def _log_jobs():
    """Show what Keyhouse's jobs log (INFO and up) in a worker's output, next to RQ's own lines."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s [pid %(process)d] %(name)s: %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("keyhouse.jobs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


@main.command()
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
def worker(burst):
    """Run an RQ worker (with RQ's scheduler) for Keyhouse's jobs; it waits out Redis outages."""
    from jobs.runner import run_worker

    app = load_app()
    _log_jobs()
    run_worker(app, burst=burst)


@main.command()
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    help="Sweep as if it were this time (UTC), e.g. 2027-03-01T00:00. Default: now.",
)
def sweep(as_of):
    """Run one inactivity sweep in this process, then the jobs it enqueued (also here).

    The same job code the workers run; a running worker may take some of the jobs,
    which is harmless. Without REDIS_URL the jobs go through a private embedded
    Valkey, so it also works beside `keyhouse dev` with no setting at all.
    """
    from rq import SimpleWorker

    from jobs import queue, sweep
    from keyhouse.services import embedded_redis

    with contextlib.ExitStack() as stack:
        redis_url = os.environ.get("REDIS_URL") or stack.enter_context(embedded_redis())
        app = load_app(REDIS_URL=redis_url)
        _log_jobs()
        with app.app_context():
            counts = sweep.sweep(as_of.isoformat() if as_of else None)
            SimpleWorker([queue(app)], connection=app.extensions["redis"]).work(burst=True, logging_level="WARNING")
    moment = f"{as_of:%Y-%m-%d %H:%M} UTC" if as_of else "now"
    done = ", ".join(f"{action} {number}" for action, number in counts.items())
    click.echo(f"sweep as of {moment}: keys handed to {done}; the jobs ran in this process")


@main.command()
def cron():
    """Run RQ's cron scheduler with jobs/cron.py (it only enqueues); it waits out Redis outages."""
    from jobs.runner import run_cron

    app = load_app()
    _log_jobs()
    run_cron(app)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST")
@click.option("--port", default=5000, show_default=True, envvar="PORT", type=int)
def dev(host, port):
    """Run everything for evaluation: database, demo data, Redis, web, worker, cron."""
    from keyhouse import devserver

    sys.exit(devserver.run(host, port))


if __name__ == "__main__":
    main()
