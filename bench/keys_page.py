"""Server time of the API keys page for an agency with 1,000 keys.

    .venv/bin/python bench/keys_page.py [--keys 1000] [--runs 50]

Uses a temp SQLite file, or DATABASE_URL when it names PostgreSQL (a fresh
schema, dropped afterwards). Prints the median and 95th percentile of the full
request (routing, queries, template) as the app serves it, signed in as the
agency admin. No Redis is needed.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import create_app  # noqa: E402
from keyhouse.keys import tokens  # noqa: E402
from keyhouse.keys.scopes import DEFAULT_SCOPES  # noqa: E402
from keyhouse.models import Agency, ApiKey, Location, Role, User, db  # noqa: E402
from keyhouse.models.schema import upgrade  # noqa: E402
from keyhouse.testing import is_postgres, scratch_database  # noqa: E402


def seed(count):
    agency = Agency.create(name="Bench Agency")
    locations = [Location.create(agency=agency, name=f"Location {n}") for n in range(10)]
    admin = User(agency=agency, email="admin@bench.test", name="Admin", role=Role.AGENCY_ADMIN)
    admin.set_password("bench-password")
    admin.save()
    now = datetime.datetime.utcnow()
    rows = []
    for number in range(count):
        location = locations[number % 10] if number % 4 else None
        kind = tokens.LOCATION if location else tokens.AGENCY
        plaintext = tokens.generate(kind)
        # Used within the last 85 days (older keys would have been deleted): about one
        # in eight is inside the 15-day warning window and shows in the banner.
        used = now - datetime.timedelta(minutes=random.randint(0, 85 * 24 * 60)) if number % 3 else None
        owner = f"location:{location.id}" if location else f"agency:{agency.id}"
        rows.append({
            "agency": agency.id, "location": location.id if location else None, "kind": kind,
            "name": f"Integration {number}", "unique_name": f"{owner}/integration {number}",
            "digest": tokens.digest(plaintext), "hint": tokens.hint(plaintext),
            "scopes": " ".join(DEFAULT_SCOPES[kind]), "created_by": admin.id,
            "created_at": now - datetime.timedelta(days=30), "activity_at": used or now,
            "last_used_at": used, "last_used_ip": "198.51.100.1" if used else None,
        })
    with db.atomic():
        for start in range(0, len(rows), 200):
            ApiKey.insert_many(rows[start:start + 200]).execute()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp()
    url, drop = scratch_database(workdir, "bench")
    app = create_app({
        "SECRET_KEY": "bench", "DATABASE_URL": url, "REDIS_URL": None, "INSTANCE_PATH": workdir,
        "SESSION_COOKIE_SECURE": False, "WTF_CSRF_ENABLED": False,
    })
    with db.connection_context():
        upgrade()
        seed(args.keys)
    client = app.test_client()
    client.post("/login", data={"email": "admin@bench.test", "password": "bench-password"})
    for _ in range(5):  # warm up templates and connections
        assert client.get("/settings/api-keys").status_code == 200
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        response = client.get("/settings/api-keys")
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and response.get_data(as_text=True).count('class="key-row') == 100
    timings.sort()
    backend = "PostgreSQL" if is_postgres(url) else "SQLite"
    print(f"keys page, {args.keys} keys in one agency ({backend}), {args.runs} requests:")
    print(f"  median {statistics.median(timings):.1f} ms, p95 {timings[int(len(timings) * 0.95) - 1]:.1f} ms, "
          f"max {timings[-1]:.1f} ms")
    db.close()
    drop()


if __name__ == "__main__":
    main()
