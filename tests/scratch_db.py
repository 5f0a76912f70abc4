"""A throw-away database for one test or one benchmark run.

A SQLite file in `folder`, or — when DATABASE_URL names a PostgreSQL server — a
fresh schema in it, put first on the connection's search_path.
"""

import os
import uuid
from urllib.parse import quote


def is_postgres(url):
    return url.startswith(("postgres://", "postgresql://"))


def scratch_database(folder, name="keyhouse"):
    """(url, drop): the database's URL and a function that removes it."""
    base = os.environ.get("DATABASE_URL", "")
    if not is_postgres(base):
        return f"sqlite:///{folder}/{name}.db", lambda: None
    import psycopg2

    schema = f"{name.replace('-', '_')}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {schema}")

    def drop():
        with admin.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}", drop


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
