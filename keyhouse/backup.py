"""`keyhouse backup`: a consistent copy of the database while Keyhouse keeps running.

SQLite: the online backup API (sqlite3's `Connection.backup`) copies a consistent
snapshot page by page while web and worker processes go on reading and writing;
the copy is checked, then moved into place, readable by its owner only.
PostgreSQL: `pg_dump` does the same job better, so the command says how to run it.
"""

import os
import sqlite3

from keyhouse.services import redact

PAGES_PER_STEP = 1024  # writers get the database between steps


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def sqlite_backup(source_path, target_path):
    """Copy the SQLite database at `source_path` to `target_path`; returns the copy's size in bytes."""
    target_path = os.path.abspath(target_path)
    if os.path.abspath(source_path) == target_path:
        raise BackupError("the backup file must not be the database itself")
    if not os.path.isdir(os.path.dirname(target_path)):
        raise BackupError(f"no folder {os.path.dirname(target_path)} for the backup")
    partial = f"{target_path}.partial"
    if os.path.exists(partial):
        os.remove(partial)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # owner-only from the start
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(partial)
    try:
        source.backup(target, pages=PAGES_PER_STEP)
        (verdict,) = target.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"the copy failed its integrity check: {verdict}")
    except sqlite3.Error as error:
        raise BackupError(f"cannot back up {source_path}: {error}") from None
    finally:
        target.close()
        source.close()
    os.replace(partial, target_path)
    return os.path.getsize(target_path)


def pg_dump_guidance(url, target_path):
    """What to run for a PostgreSQL database (the password is left out: use ~/.pgpass or PGPASSWORD)."""
    return "\n".join([
        "DATABASE_URL is PostgreSQL: back it up with pg_dump (from the postgresql-client package), e.g.",
        f"  pg_dump --format=custom --file={target_path} '{redact(url)}'",
        "and restore into an empty database with",
        f"  pg_restore --no-owner --dbname='<new database URL>' {target_path}",
        "See docs/deploy.md, 'Backups'.",
    ])
