"""Server time of every dashboard page for one agency with 100,000 location keys and 1,000,000 audit events.

    .venv/bin/python bench/dashboard.py [--runs 15] [--keys 100000] [--events 1000000]
    DATABASE_URL=postgresql://... .venv/bin/python bench/dashboard.py

Seeds one agency with bulk inserts — location keys over ten locations (plus
1,000 agency keys), audit events over a year, 10,000 notifications for the
agency admin and CRM activity in one location — then signs in as the agency
admin and prints the median and 95th percentile of each page as the app serves
it (routing, queries, template), through Flask's test client. Uses a temp
SQLite file, or DATABASE_URL when it names PostgreSQL (a fresh schema, dropped
afterwards). `--keep` leaves the database and prints its URL; `--url URL`
times an existing one seeded by an earlier `--keep` run. No Redis is needed.

Deep pages are reached as a person would: by the links the first page shows
("Next", "Oldest", a key's link in the banner).
"""

import argparse
import datetime
import html
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import time

from peewee import SqliteDatabase

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import create_app  # noqa: E402
from keyhouse.keys import tokens  # noqa: E402
from keyhouse.keys.scopes import KIND_SCOPES  # noqa: E402
from keyhouse.models import (  # noqa: E402
    Agency,
    ApiKey,
    AuditEvent,
    Contact,
    Enrollment,
    Form,
    FormSubmission,
    LinkClick,
    Location,
    Notification,
    Role,
    TriggerLink,
    User,
    Workflow,
    db,
)
from keyhouse.models.schema import upgrade  # noqa: E402
from keyhouse.testing import is_postgres, scratch_database  # noqa: E402

EMAIL, PASSWORD = "admin@bench.test", "bench-password"
LOCATIONS = 10
AGENCY_KEYS = 1_000
NOTIFICATIONS = 10_000
ACTIVITY = 20_000  # form submissions, link clicks and workflow enrollments in the first location
CHUNK = 1000
# The audit log's actions as an agency's log mixes them: mostly warnings and creations.
ACTION_WEIGHTS = {"create": 20, "warn": 40, "rename": 5, "deactivate": 3, "reactivate": 2, "roll": 5,
                  "delete": 5, "expire": 10, "use_after_warning": 8, "identify": 1, "auth_failures": 1}


def _bulk(model, fields, rows):
    rows = list(rows)
    for start in range(0, len(rows), CHUNK):
        with db.atomic():
            model.insert_many(rows[start:start + CHUNK], fields=fields).execute()


def seed(key_count, event_count):
    rng = random.Random(14)
    now = datetime.datetime.utcnow()
    agency = Agency.create(name="Bench Agency")
    locations = [Location.create(agency=agency, name=f"Location {n:02d}") for n in range(LOCATIONS)]
    admin = User(agency=agency, email=EMAIL, name="Admin", role=Role.AGENCY_ADMIN)
    admin.set_password(PASSWORD)
    admin.save()

    # Keys created 30 to 42 days ago, two thirds of them used in the last 85 days (about one
    # in eight of those is in its warning window).
    fields = [ApiKey.agency, ApiKey.location, ApiKey.kind, ApiKey.name, ApiKey.unique_name, ApiKey.digest,
              ApiKey.hint, ApiKey.scopes, ApiKey.created_by, ApiKey.created_at, ApiKey.activity_at,
              ApiKey.last_used_at, ApiKey.last_used_ip]
    rows = []
    for number in range(key_count + AGENCY_KEYS):
        location = locations[number % LOCATIONS] if number < key_count else None
        kind = tokens.LOCATION if location else tokens.AGENCY
        owner = f"location:{location.id}" if location else f"agency:{agency.id}"
        created = now - datetime.timedelta(days=30, seconds=10 * number)
        used = now - datetime.timedelta(minutes=rng.randint(0, 85 * 24 * 60)) if number % 3 else None
        rows.append((agency.id, location.id if location else None, kind, f"Integration {number}",
                     f"{owner}/integration {number}", f"{number:064x}", f"{kind}_bench…", " ".join(KIND_SCOPES[kind]),
                     admin.id, created, used or created, used, "198.51.100.1" if used else None))
    _bulk(ApiKey, fields, rows)
    first_key = ApiKey.select(ApiKey.id).order_by(ApiKey.id).first().id
    key_location = {key_id: location_id for key_id, location_id in
                    ApiKey.select(ApiKey.id, ApiKey.location).tuples()}

    # Audit events over the last year, oldest first.
    fields = [AuditEvent.agency, AuditEvent.key, AuditEvent.location, AuditEvent.actor, AuditEvent.actor_label,
              AuditEvent.action, AuditEvent.ip, AuditEvent.detail, AuditEvent.created_at]
    actions = list(ACTION_WEIGHTS)
    weights = list(ACTION_WEIGHTS.values())
    start = now - datetime.timedelta(days=365)
    step = datetime.timedelta(days=365) / max(1, event_count)
    for begin in range(0, event_count, 50_000):
        batch = []
        for number in range(begin, min(event_count, begin + 50_000)):
            key_id = first_key + rng.randrange(key_count + AGENCY_KEYS)
            action = rng.choices(actions, weights)[0]
            system = action in ("warn", "expire", "use_after_warning", "auth_failures")
            batch.append((agency.id, key_id, key_location[key_id], None if system else admin.id,
                          "system" if system else EMAIL, action, None if system else "198.51.100.7", "",
                          start + step * number))
        _bulk(AuditEvent, fields, batch)

    # The admin's notifications: warnings and deletion notices, the newest 300 unread.
    fields = [Notification.user, Notification.key, Notification.kind, Notification.threshold_days,
              Notification.period_start, Notification.message, Notification.created_at, Notification.read_at]
    rows = []
    for number in range(NOTIFICATIONS):
        created = now - datetime.timedelta(minutes=10 * (NOTIFICATIONS - number))
        rows.append((admin.id, first_key + number % (key_count + AGENCY_KEYS), Notification.WARNING, 15, created,
                     f"Key “Integration {number}” has not been used for 75 days.", created,
                     None if number >= NOTIFICATIONS - 300 else created))
    _bulk(Notification, fields, rows)

    # CRM activity in the first location.
    place = locations[0]
    forms = [Form.create(location=place, name=f"Form {n}") for n in range(10)]
    links = [TriggerLink.create(location=place, name=f"Link {n}", redirect_to="https://example.com/")
             for n in range(10)]
    workflows = [Workflow.create(location=place, name=f"Workflow {n}") for n in range(10)]
    contact_ids = [f"benchcontact{n:08d}" for n in range(ACTIVITY)]
    _bulk(Contact, [Contact.id, Contact.location, Contact.name, Contact.email],
          [(cid, place.id, f"Contact {n}", f"c{n}@bench.test") for n, cid in enumerate(contact_ids)])
    moment = lambda n: now - datetime.timedelta(minutes=ACTIVITY - n)  # noqa: E731
    _bulk(FormSubmission, [FormSubmission.id, FormSubmission.location, FormSubmission.form, FormSubmission.contact,
                           FormSubmission.name, FormSubmission.email, FormSubmission.created_at],
          [(f"benchsubmit{n:09d}", place.id, forms[n % 10].id, cid, f"Contact {n}", f"c{n}@bench.test", moment(n))
           for n, cid in enumerate(contact_ids)])
    _bulk(LinkClick, [LinkClick.link, LinkClick.location, LinkClick.contact, LinkClick.created_at],
          [(links[n % 10].id, place.id, cid, moment(n)) for n, cid in enumerate(contact_ids)])
    _bulk(Enrollment, [Enrollment.contact, Enrollment.workflow, Enrollment.location, Enrollment.created_at],
          [(cid, workflows[n % 10].id, place.id, moment(n)) for n, cid in enumerate(contact_ids)])
    # What autovacuum does soon after such a load on PostgreSQL (statistics, the visibility map
    # that lets the name filter read the index alone); SQLite's ANALYZE fills sqlite_stat1.
    db.execute_sql("ANALYZE" if isinstance(db.obj, SqliteDatabase) else "VACUUM ANALYZE")


def link(client, path, text):
    """The href of the first link whose text contains `text` on the page at `path` (None if there is none)."""
    page = client.get(path).get_data(as_text=True)
    for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', page, re.S):
        if text in label:
            return html.unescape(href)
    return None


def pages(client):
    """[(label, path)]: every dashboard page the agency admin opens, deep ones reached by their links."""
    place = Location.select().order_by(Location.id).first()
    in_place = ApiKey.select(ApiKey.id).where(ApiKey.location == place.id).order_by(ApiKey.id)
    middle = in_place.offset(in_place.count() // 2).first()
    some_key = ApiKey.select(ApiKey.id).order_by(ApiKey.id).offset(1234).first()
    listed = [
        ("keys page", "/settings/api-keys"),
        ("keys: location filter", f"/settings/api-keys?location={place.id}"),
        ("keys: name filter, many match", "/settings/api-keys?q=integration+1"),
        ("keys: name filter, one matches", "/settings/api-keys?q=integration+99999"),
        ("keys: name filter, none match", "/settings/api-keys?q=no+such+key"),
        ("keys: link to one key", f"/settings/api-keys?key={middle.id}"),
    ]
    following = link(client, "/settings/api-keys", "Next")
    if following:
        listed.append(("keys: next page", following))
        following = link(client, following, "Next")
        listed.append(("keys: page after that", following))
    listed += [
        ("pending-deletion banner", "/notifications/pending-banner"),
        ("bell", "/notifications/bell"),
        ("bell dropdown", "/notifications/dropdown"),
        ("notifications page", "/notifications/"),
        ("audit log", "/settings/audit-log"),
    ]
    oldest = link(client, "/settings/audit-log", "Oldest")
    if oldest is None:  # numbered pages: the last one
        first = client.get("/settings/audit-log").get_data(as_text=True)
        last = re.search(r"Page 1 of ([\d,]+)", first).group(1).replace(",", "")
        oldest = f"/settings/audit-log?page={last}"
    listed.append(("audit log: oldest page", oldest))
    older = link(client, "/settings/audit-log", "Older")
    if older:
        listed.append(("audit log: next page", older))
    listed += [
        ("audit log: common action", "/settings/audit-log?action=warn"),
        ("audit log: rare action", "/settings/audit-log?action=identify"),
        ("audit log: one key", f"/settings/audit-log?key={some_key.id}"),
        ("audit log: one key + action", f"/settings/audit-log?key={some_key.id}&action=create"),
        ("activity: locations", "/activity/"),
        ("activity: one location", f"/activity/{place.api_id}"),
    ]
    return listed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database and print its URL")
    parser.add_argument("--url", help="time an existing database seeded by --keep")
    parser.add_argument("--only", help="time only the pages whose label contains this")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp()
    url, drop = (args.url, lambda: None) if args.url else scratch_database(workdir, "dashboard")
    app = create_app({
        "SECRET_KEY": "bench", "DATABASE_URL": url, "REDIS_URL": None, "INSTANCE_PATH": workdir,
        "SESSION_COOKIE_SECURE": False, "WTF_CSRF_ENABLED": False,
    })
    logging.disable(logging.WARNING)  # no request log lines between the figures
    backend = "PostgreSQL" if is_postgres(url) else "SQLite"
    try:
        with db.connection_context():
            upgrade()
            if not args.url:
                started = time.perf_counter()
                seed(args.keys, args.events)
                print(f"seeded {args.keys:,} location keys and {args.events:,} audit events "
                      f"in {time.perf_counter() - started:.0f} s", flush=True)
            keys, events = ApiKey.select().count(), AuditEvent.select().count()
        client = app.test_client()
        client.post("/login", data={"email": EMAIL, "password": PASSWORD})
        print(f"dashboard pages, one agency with {keys:,} keys and {events:,} audit events ({backend}), "
              f"median of {args.runs} requests:")
        for label, path in pages(client):
            if args.only and args.only not in label:
                continue
            for _ in range(2):  # warm up templates and caches
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            print(f"  {label:<34} {statistics.median(timings):7.1f} ms  (p95 {timings[int(len(timings) * 0.95) - 1]:6.1f})"
                  f"  {path}", flush=True)
    finally:
        db.close()
        if args.keep:
            print(f"kept: --url '{url}'")
        else:
            drop()


if __name__ == "__main__":
    main()
