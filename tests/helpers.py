"""What several test modules share: the fixture password, sign-in, aged keys, the CLI, stored text."""

import contextlib
import datetime
import os
import re
import sqlite3
import subprocess
import sys
from urllib.parse import quote

import psycopg2
from werkzeug.security import generate_password_hash

from keyhouse.keys import apikeys, tokens
from keyhouse.keys.scopes import DEFAULT_SCOPES
from keyhouse.models import ApiKey, db

PASSWORD = "correct horse battery"
# Fixture users get this hash, made once: one PBKDF2 round verifies in microseconds,
# where the scrypt hash production makes costs a quarter of a second per sign-in here.
# Only the tests store it; check_password_hash reads the method from the hash.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")

VERSION = "2021-07-28"  # the Version header the API tests send

def error_body(response):
    """An API error body without its requestId, once that is checked to be the response's X-Request-Id."""
    body = response.get_json()
    assert body.pop("requestId") == response.headers["X-Request-Id"]
    return body


def csrf_token(client, path="/login"):
    """The CSRF token a page hands the browser (its meta tag)."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email, password=PASSWORD, remember=False, next_url=None):
        token = csrf_token(self.client)
        data = {"email": email, "password": password, "csrf_token": token}
        if remember:
            data["remember"] = "y"
        path = "/login" + (f"?next={quote(next_url)}" if next_url else "")
        return self.client.post(path, data=data)

    def logout(self):
        token = csrf_token(self.client, "/settings/api-keys")
        return self.client.post("/logout", data={"csrf_token": token})


T0 = datetime.datetime(2027, 1, 1, 9, 0)


def day(number, hours=0):
    return T0 + datetime.timedelta(days=number, hours=hours)


def aged_key(name, *, agency, location=None, actor=None, clock=T0, **fields):
    """A key made by apikeys.create, its clock (and creation) moved back to `clock`."""
    key, _ = apikeys.create(agency_id=agency.id, location_id=location.id if location else None, name=name, actor=actor)
    ApiKey.update(activity_at=clock, created_at=clock, **fields).where(ApiKey.id == key.id).execute()
    return ApiKey.get_by_id(key.id)


def bulk_keys(tenants, count, clock=T0):
    """`count` location keys of north, made by its location admin, last used at `clock` (inserted in bulk)."""
    rows = [
        {
            "agency": tenants.acme.id,
            "location": tenants.north.id,
            "kind": tokens.LOCATION,
            "name": f"Bulk {number}",
            "unique_name": f"location:{tenants.north.id}/bulk {number}",
            "digest": f"{number:064x}",
            "hint": "khl_bulk…",
            "scopes": " ".join(DEFAULT_SCOPES[tokens.LOCATION]),
            "created_by": tenants.location_admin.id,
            "created_at": clock,
            "activity_at": clock,
        }
        for number in range(count)
    ]
    with db.atomic():
        for start in range(0, count, 1000):
            ApiKey.insert_many(rows[start:start + 1000]).execute()



@contextlib.contextmanager
def writes_locked(database_url, table):
    """Hold a lock that makes writes to `table` wait (on SQLite: every write)."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # no other connection may write
    else:
        holder = psycopg2.connect(database_url)
        holder.cursor().execute(f"LOCK TABLE {table} IN SHARE MODE")  # writes wait
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


def all_stored_text():
    """Every value of every row of every table, as text."""
    values = []
    for table in db.get_tables():
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            values.extend(str(value) for value in row)
    return "\n".join(values)


def process_env(settings, **overrides):
    """The environment for a `keyhouse` process that uses the test's database and Redis."""
    env = dict(os.environ)
    env.update(
        SECRET_KEY=settings["SECRET_KEY"],
        DATABASE_URL=settings["DATABASE_URL"],
        REDIS_URL=settings["REDIS_URL"],
        INSTANCE_PATH=settings["INSTANCE_PATH"],
    )
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def keyhouse(settings, *args, input=None, **env_overrides):
    return subprocess.run(
        [sys.executable, "-m", "keyhouse.cli", *args],
        env=process_env(settings, **env_overrides), input=input, capture_output=True, text=True, timeout=60,
    )
