"""The database handle every model uses, and how a URL becomes a connection."""

import datetime
import os

from peewee import DatabaseProxy, Model
from playhouse.db_url import connect, parse

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never wait for the worker's writes
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}


def utcnow():
    """Now, as the naive UTC datetime every timestamp column stores."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


# PostgreSQL: give up connecting after this many seconds, and cancel any one
# statement after this many milliseconds, so that a hung server cannot hold a
# request (or a job) for ever. DATABASE_URL may set either itself
# (?connect_timeout=10, ?options=-c%20statement_timeout%3D60000).
PG_CONNECT_TIMEOUT = 5
PG_STATEMENT_TIMEOUT_MS = 30_000


def _postgres_timeouts(url):
    parameters = parse(url)
    options = parameters.get("options", "")
    extra = {}
    if "connect_timeout" not in parameters:
        extra["connect_timeout"] = PG_CONNECT_TIMEOUT
    if "statement_timeout" not in options:
        extra["options"] = f"{options} -c statement_timeout={PG_STATEMENT_TIMEOUT_MS}".strip()
    return extra


def _private_sqlite_file(url):
    """Create the SQLite file readable by its owner only (0600) before SQLite creates it with the umask's 0644.

    SQLite gives its -wal and -shm files the same mode. A missing folder is left
    for the connection to report.
    """
    path = parse(url).get("database") or ""
    if path and path != ":memory:" and not os.path.exists(path) and os.path.isdir(os.path.dirname(path) or "."):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def open_database(url):
    """A peewee database for `url` (sqlite:///path or postgresql://...)."""
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        return connect(url, pragmas=SQLITE_PRAGMAS)
    if url.startswith(("postgres://", "postgresql://")):
        return connect(url, **_postgres_timeouts(url))
    raise ValueError("only sqlite:/// and postgresql:// URLs are supported")


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
