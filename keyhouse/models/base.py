"""The database handle every model uses, and how a URL becomes a pool of connections."""

import datetime
import os
import threading
import time

from peewee import SQL, DatabaseProxy, Model, NodeList, OperationalError, Value, fn
from playhouse.db_url import connect, parse, register_database
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never wait for the worker's writes
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}

POOL_DEFAULTS = {"size": 8, "recycle_seconds": 300, "wait_seconds": 10, "breaker_seconds": 5}


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


# A PostgreSQL connection back in the pool for less than this long is handed out
# again without a liveness round trip (HikariCP's aliveBypassWindowMs, 500 ms).
ALIVE_BYPASS_SECONDS = 0.5


class PostgresPool(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool, without its `SELECT 1` on every check-out of a connection
    that was in use a moment ago.

    peewee checks a pooled connection with a round trip before each reuse: on a busy
    server that is one extra query per request. A connection returned less than
    ALIVE_BYPASS_SECONDS ago skips it; one idle for longer (the case after a restart
    of PostgreSQL) is still checked. A connection broken within that half second
    fails the one request that gets it (an answer of 503), and psycopg2 then marks it
    closed, so the pool drops it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._returned_at = {}  # connection key -> time.monotonic() of its last check-in

    def _is_closed(self, conn):
        if conn.closed:
            return True
        returned = self._returned_at.get(self.conn_key(conn))
        if (
            returned is not None
            and time.monotonic() - returned < ALIVE_BYPASS_SECONDS
            and self._adapter.txn_status(conn) == self._adapter.txn_idle
        ):
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        super()._close(conn, close_conn)
        if not conn.closed:  # back in the pool
            self._returned_at[self.conn_key(conn)] = time.monotonic()

    def _close_raw(self, conn):
        self._returned_at.pop(self.conn_key(conn), None)
        super()._close_raw(conn)


register_database(PostgresPool, "keyhouse+postgresql")


def _private_sqlite_file(url):
    """Create the SQLite file readable by its owner only (0600) before SQLite creates it with the umask's 0644.

    SQLite gives its -wal and -shm files the same mode. A missing folder is left
    for the connection to report.
    """
    path = parse(url).get("database") or ""
    if path and path != ":memory:" and not os.path.exists(path) and os.path.isdir(os.path.dirname(path) or "."):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


class Breaker:
    """Fail fast while the database is unreachable: after a failed connection, new
    connections are refused at once for `seconds` (per process); then one request
    tries again (the others keep failing fast meanwhile) and a success closes it.

    Requests that need the database then answer 503 at once (errors.database_unavailable)
    instead of each waiting out the connect timeout of a hung server.
    """

    def __init__(self, seconds, clock=time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.open_until = None  # None: closed
        self._lock = threading.Lock()

    def wrap(self, connect):
        def guarded():
            with self._lock:
                now = self.clock()
                if self.open_until is not None:
                    if now < self.open_until:
                        raise OperationalError(
                            f"database unreachable: not trying again for {self.open_until - now:.0f} s (breaker open)"
                        )
                    self.open_until = now + self.seconds  # this request tries; the others still fail fast
            try:
                connection = connect()
            except Exception:
                with self._lock:
                    self.open_until = self.clock() + self.seconds
                raise
            with self._lock:
                self.open_until = None
            return connection

        return guarded


def _with_breaker(database, seconds):
    """`database` whose new connections go through a Breaker (database.breaker) when `seconds` > 0."""
    database.breaker = Breaker(seconds)
    if seconds > 0:
        database._connect = database.breaker.wrap(database._connect)  # the pool calls it for each new connection
    return database


def open_database(url, pool=None):
    """A pool of peewee connections for `url` (sqlite:///path or postgresql://...).

    `pool` sizes it (POOL_DEFAULTS' keys): at most `size` connections per
    process, each one replaced after `recycle_seconds`, a thread waiting up to
    `wait_seconds` for a free one. A connection is made on a thread's first
    query, not before, and `db.close()` hands it back to the pool; the PRAGMAs
    of a SQLite connection run once, when it is made. After a failed connection
    the pool refuses new ones for `breaker_seconds` (Breaker).
    """
    pool = {**POOL_DEFAULTS, **(pool or {})}
    options = {
        "max_connections": pool["size"],
        "stale_timeout": pool["recycle_seconds"],
        "timeout": pool["wait_seconds"],
    }
    if url.startswith("sqlite:"):
        _private_sqlite_file(url)
        # A pooled connection serves one thread at a time, but not always the same one.
        return _with_breaker(connect(
            "sqlite+pool:" + url.removeprefix("sqlite:"), pragmas=SQLITE_PRAGMAS, check_same_thread=False, **options
        ), pool["breaker_seconds"])
    for scheme in ("postgres:", "postgresql:"):
        if url.startswith(scheme):
            return _with_breaker(connect("keyhouse+postgresql:" + url.removeprefix(scheme), **_postgres_timeouts(url),
                                         **options), pool["breaker_seconds"])
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


COUNT_CAP = 1000  # rows a count on a dashboard page reads at most; beyond, it says "1,000+"


def bounded_count(query, cap=COUNT_CAP):
    """How many rows `query` has, counted up to `cap` + 1 (one more than `cap` means "more than cap")."""
    return query.select(SQL("1")).order_by().limit(cap + 1).count()


def folded_contains(column, text):
    """`column` holds `text`, ignoring case: LOWER(column) LIKE '%text%' (its wildcards escaped).

    Peewee's contains() is ILIKE on PostgreSQL, which folds the case of every row a
    second time after LOWER: over an agency's 100,000 key names, 226 ms against 107.
    """
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = NodeList((Value(f"%{escaped}%", converter=False), SQL("ESCAPE"), Value("\\", converter=False)))
    return NodeList((fn.LOWER(column), SQL("LIKE"), pattern))  # SQL's LIKE: peewee's OP.LIKE is GLOB on SQLite

