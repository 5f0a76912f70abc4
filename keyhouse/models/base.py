"""The database handle every model uses, and how a URL becomes a pool of connections."""

import datetime
import os

from peewee import DatabaseProxy, Model
from playhouse.db_url import connect
from playhouse.pool import PooledDatabase

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never wait for the worker's writes
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}

POOL_DEFAULTS = {"size": 8, "recycle_seconds": 300, "wait_seconds": 10}


def utcnow():
    """Now, as the naive UTC datetime every timestamp column stores."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def open_database(url, pool=None):
    """A pool of peewee connections for `url` (sqlite:///path or postgresql://...).

    `pool` sizes it (POOL_DEFAULTS' keys): at most `size` connections per
    process, each one replaced after `recycle_seconds`, a thread waiting up to
    `wait_seconds` for a free one. A connection is made on a thread's first
    query, not before, and `db.close()` hands it back to the pool; the PRAGMAs
    of a SQLite connection run once, when it is made.
    """
    pool = {**POOL_DEFAULTS, **(pool or {})}
    options = {
        "max_connections": pool["size"],
        "stale_timeout": pool["recycle_seconds"],
        "timeout": pool["wait_seconds"],
    }
    if url.startswith("sqlite:"):
        # A pooled connection serves one thread at a time, but not always the same one.
        return connect(
            "sqlite+pool:" + url.removeprefix("sqlite:"), pragmas=SQLITE_PRAGMAS, check_same_thread=False, **options
        )
    for scheme in ("postgres:", "postgresql:"):
        if url.startswith(scheme):
            return connect("postgresql+pool:" + url.removeprefix(scheme), **options)
    raise ValueError("only sqlite:/// and postgresql:// URLs are supported")


def use_database(database):
    """Point `db` at `database`, closing every connection of the pool it replaces."""
    release_all()
    db.initialize(database)


def release_all():
    """Close every pooled connection of this process (idle and in use): after a start-up
    check, and before `db` moves to another database."""
    if isinstance(db.obj, PooledDatabase):
        db.obj.close_all()


_inherited = []  # a forked child's copies of its parent's connections, never used nor closed


def _forget_inherited_connections():
    # A forked child (an RQ work horse, a gunicorn --preload worker) must not use its
    # parent's connections, nor close them (closing one ends the parent's session on
    # PostgreSQL): it keeps them out of reach and opens its own.
    if isinstance(db.obj, PooledDatabase):
        _inherited.extend(entry[-1] for entry in db.obj._connections)  # (timestamp, ..., connection)
        _inherited.extend(pooled.connection for pooled in db.obj._in_use.values())
        db.obj.dispose()


os.register_at_fork(after_in_child=_forget_inherited_connections)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
