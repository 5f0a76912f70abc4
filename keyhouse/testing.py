"""A throw-away database for one test or one benchmark run (the tests and bench/ use it).

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
