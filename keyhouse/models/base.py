"""The database handle every model uses, and how a URL becomes a connection."""

import datetime

from peewee import DatabaseProxy, Model
from playhouse.db_url import connect

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


def open_database(url):
    """A peewee database for `url` (sqlite:///path or postgresql://...)."""
    if url.startswith("sqlite"):
        return connect(url, pragmas=SQLITE_PRAGMAS)
    if url.startswith(("postgres://", "postgresql://")):
        return connect(url)
    raise ValueError("only sqlite:/// and postgresql:// URLs are supported")


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
