"""Requests per second of the API beside a Flask hello world and a Django + DRF +
djangorestframework-api-key peer, all under the Procfile's gunicorn settings.

    .venv/bin/python bench/api.py [--duration 8] [--repeats 3]            # SQLite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/api.py   # SQLite, then PostgreSQL

Needs `wrk` (Debian: apt-get install wrk). The Django peer is generated into a
temp folder and runs from its own virtualenv, bench/.venv-peer, made on first
use with the pinned packages of PEER_PACKAGES. Keyhouse runs `gunicorn wsgi:app`
with an embedded Valkey for Redis and the rate limits raised out of the way.
Each repeat measures every server once, in turn; the ratios are taken within
a repeat and the table shows their median (and the median requests per second).
Then, in this process, the cost of verifying a key against one primary-key SELECT,
and what counting each key's usage and callers costs an authenticated request:

    .venv/bin/python bench/api.py --usage       # only that figure (no wrk, no Django peer)
"""

import argparse
import contextlib
import logging
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import timeit
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from app import create_app  # noqa: E402
from keyhouse.keys import apikeys  # noqa: E402
from keyhouse.models import Agency, Location, db, release_all  # noqa: E402
from keyhouse.models.schema import upgrade  # noqa: E402
from keyhouse.services import embedded_redis  # noqa: E402

PEER_VENV = os.path.join(ROOT, "bench", ".venv-peer")
PEER_PACKAGES = [
    "Django==5.2.19",
    "djangorestframework==3.16.1",
    "djangorestframework-api-key==3.1.0",
    "gunicorn==27.0.1",
    "psycopg2-binary==2.9.13",
]
GUNICORN = ["--workers", "2", "--threads", "4"]  # the Procfile's
VERSION = "2021-07-28"
HELLO = 'from flask import Flask\napp = Flask(__name__)\n\n\n@app.get("/")\ndef hello():\n    return {"ok": True}\n'


# --- databases -------------------------------------------------------------------


def is_postgres(url):
    return url.startswith(("postgres://", "postgresql://"))


@contextlib.contextmanager
def postgres_schemas(base, *names):
    """Fresh schemas in `base`, one per name, dropped afterwards; yields {name: schema}."""
    import psycopg2

    schemas = {name: f"bench_{name}_{uuid.uuid4().hex[:10]}" for name in names}
    admin = psycopg2.connect(base)
    admin.autocommit = True
    with admin.cursor() as cursor:
        for schema in schemas.values():
            cursor.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schemas
    finally:
        with admin.cursor() as cursor:
            for schema in schemas.values():
                cursor.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def with_search_path(url, schema):
    from urllib.parse import quote

    return f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"


def seed_keyhouse(url, workdir, redis_url=None, **settings):
    """The schema, one agency with one location, and a location key; returns (app, location api_id, token)."""
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "REDIS_URL": redis_url, "INSTANCE_PATH": workdir,
                      **settings})
    with app.app_context(), db.connection_context():
        upgrade()
        agency = Agency.create(name="Bench Agency")
        location = Location.create(agency=agency, name="Bench Location", city="Lisbon", email="front@bench.test")
        _, token = apikeys.create(agency_id=agency.id, location_id=location.id, name="bench")
    release_all()
    return app, location.api_id, token


# --- the Django peer -------------------------------------------------------------

PEER_FILES = {
    "manage.py": """
        import os, sys
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
        from django.core.management import execute_from_command_line
        execute_from_command_line(sys.argv)
    """,
    "peer/__init__.py": "",
    "peer/settings.py": """
        import os
        from urllib.parse import unquote, urlsplit, parse_qs

        SECRET_KEY = "bench"
        DEBUG = False
        ALLOWED_HOSTS = ["*"]
        INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework",
                          "rest_framework_api_key", "peer"]
        MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
        ROOT_URLCONF = "peer.urls"
        USE_TZ = True
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        REST_FRAMEWORK = {
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework_api_key.permissions.HasAPIKey"],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "UNAUTHENTICATED_USER": None,
        }
        url = os.environ["PEER_DATABASE_URL"]
        max_age = int(os.environ["PEER_CONN_MAX_AGE"])
        if url.startswith("sqlite:///"):
            DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": url[len("sqlite:///"):],
                                     "CONN_MAX_AGE": max_age}}
        else:
            parts = urlsplit(url)
            options = parse_qs(parts.query).get("options", [""])[0]
            DATABASES = {"default": {
                "ENGINE": "django.db.backends.postgresql", "NAME": parts.path.lstrip("/"),
                "USER": unquote(parts.username or ""), "PASSWORD": unquote(parts.password or ""),
                "HOST": parts.hostname or "", "PORT": parts.port or "", "CONN_MAX_AGE": max_age,
                "OPTIONS": {"options": options} if options else {},
            }}
    """,
    "peer/models.py": """
        from django.db import models

        class Location(models.Model):
            agency_id = models.IntegerField()
            name = models.CharField(max_length=200)
            created_at = models.DateTimeField(auto_now_add=True)
            api_id = models.CharField(max_length=20, unique=True)
            address = models.CharField(max_length=255, null=True)
            city = models.CharField(max_length=100, null=True)
            state = models.CharField(max_length=100, null=True)
            country = models.CharField(max_length=100, null=True)
            postal_code = models.CharField(max_length=20, null=True)
            website = models.CharField(max_length=500, null=True)
            timezone = models.CharField(max_length=100, null=True)
            email = models.CharField(max_length=254, null=True)
            phone = models.CharField(max_length=30, null=True)
            settings = models.JSONField(default=dict)
            social = models.JSONField(default=dict)
            deleted_at = models.DateTimeField(null=True)
    """,
    "peer/urls.py": """
        from django.urls import path
        from rest_framework import generics, serializers
        from .models import Location

        class LocationSerializer(serializers.ModelSerializer):
            id = serializers.CharField(source="api_id")
            companyId = serializers.CharField(source="agency_id")

            class Meta:
                model = Location
                fields = ["id", "companyId", "name", "address", "city", "state", "country", "postal_code",
                          "website", "timezone", "email", "phone", "settings", "social"]

        class LocationView(generics.RetrieveAPIView):
            queryset = Location.objects.filter(deleted_at__isnull=True)
            serializer_class = LocationSerializer
            lookup_field = "api_id"

            def retrieve(self, request, *args, **kwargs):
                response = super().retrieve(request, *args, **kwargs)
                response.data = {"location": response.data}
                return response

        urlpatterns = [path("v2/locations/<str:api_id>", LocationView.as_view())]
    """,
    "peer/wsgi.py": """
        import os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
        from django.core.wsgi import get_wsgi_application
        application = get_wsgi_application()
    """,
    "seed.py": """
        import sys
        from peer.models import Location
        from rest_framework_api_key.models import APIKey

        Location.objects.create(agency_id=1, name="Bench Location", api_id=sys.argv[1], city="Lisbon",
                                email="front@bench.test")
        _, key = APIKey.objects.create_key(name="bench")
        print(key)
    """,
}


def peer_python():
    python = os.path.join(PEER_VENV, "bin", "python")
    marker = os.path.join(PEER_VENV, "installed.txt")
    wanted = "\n".join(PEER_PACKAGES)
    if not (os.path.exists(marker) and open(marker).read() == wanted):
        print(f"making the Django peer's virtualenv in {PEER_VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", PEER_VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
        with open(marker, "w") as out:
            out.write(wanted)
    return python


def make_peer(folder, url, api_id):
    """The Django project in `folder`, migrated and seeded; returns the peer's API key."""
    for name, text in PEER_FILES.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            out.write(textwrap.dedent(text).lstrip())
    env = {**os.environ, "PEER_DATABASE_URL": url, "PEER_CONN_MAX_AGE": "0", "DJANGO_SETTINGS_MODULE": "peer.settings"}
    python = peer_python()
    run = {"cwd": folder, "env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run([python, "manage.py", "makemigrations", "peer"], **run)
    subprocess.run([python, "manage.py", "migrate"], **run)
    seeded = subprocess.run([python, "-c", "import django; django.setup(); exec(open('seed.py').read())", api_id], **run)
    return seeded.stdout.strip().splitlines()[-1]


# --- servers and load -------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(python, module, folder, env, probe_path, logdir):
    """A gunicorn with the Procfile's workers and threads; yields its base URL once it answers."""
    port = free_port()
    log = open(os.path.join(logdir, f"gunicorn-{port}.log"), "w")
    process = subprocess.Popen(
        [python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *GUNICORN, "--chdir", folder, module],
        env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + probe_path, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{module} did not start; see {log.name}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def status_of(url, headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wrk(url, headers, duration, connections):
    """Requests per second (wrk -t2), and the count of answers that were not 2xx/3xx."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, int(non_2xx.group(1)) if non_2xx else 0


# --- in process --------------------------------------------------------------------


def per_call_us(functions, rounds=15):
    """{name: µs per call}: the fastest of `rounds` timings, the functions taking turns within each round
    (so a busy moment of the machine weighs on all of them alike)."""
    best = {name: float("inf") for name in functions}
    for name, (function, _) in functions.items():
        function()
    for _ in range(rounds):
        for name, (function, number) in functions.items():
            best[name] = min(best[name], timeit.timeit(function, number=number) / number * 1e6)
    return best


def in_process(app, token):
    """µs per call: one primary-key SELECT of a key row, authenticate(valid), malformed and bad-checksum tokens."""
    bad_checksum = token[:-1] + ("A" if token[-1] != "A" else "B")
    with app.app_context(), db.connection_context():
        key_id = apikeys.authenticate(token).key.id
        sql = 'SELECT * FROM "api_key" WHERE "id" = ' + db.obj.param

        def primary_key_select():
            db.execute_sql(sql, (key_id,)).fetchone()

        def valid():
            apikeys.authenticate(token)

        figures = per_call_us({
            "one primary-key SELECT": (primary_key_select, 300),
            "authenticate(valid key)": (valid, 300),
            "authenticate(malformed)": (lambda: apikeys.authenticate("nope"), 5000),
            "authenticate(bad checksum)": (lambda: apikeys.authenticate(bad_checksum), 5000),
        })
    release_all()
    return figures


def _former_limiter_call(redis, key_id, now):
    """The rate limiter's Redis call before usage was counted: one pipeline of INCR and EXPIRE (the reference)."""
    burst_key, daily_key = f"ratelimit:{key_id}:burst:{int(now // 10)}", f"ratelimit:{key_id}:day:bench"
    pipe = redis.pipeline(transaction=False)
    pipe.incr(burst_key)
    pipe.expire(burst_key, 11)
    pipe.incr(daily_key)
    pipe.expire(daily_key, 86460)
    return pipe.execute()


# The limiter's script without the usage commands: what the request paid before counting, in the same form.
LIMITS_ONLY_SCRIPT = """
local burst = redis.call('INCR', KEYS[1])
if burst == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local daily = redis.call('INCR', KEYS[2])
if daily == 1 then redis.call('EXPIRE', KEYS[2], 86460) end
return {burst, daily}
"""


def usage_cost(redis_url, rounds=25):
    """µs per call: an authenticated API request, and the limiter call with and without usage counting."""
    from keyhouse import ratelimit
    from keyhouse.keys import callers

    def counted(key_id, caller):
        if ratelimit.hit(key_id, caller=caller).burst_count is None:  # Redis did not answer: no figure to take
            raise SystemExit("usage: the limiter could not reach Redis (a loaded machine?); run it again")

    with tempfile.TemporaryDirectory() as workdir:
        app, api_id, token = seed_keyhouse(f"sqlite:///{workdir}/keyhouse.db", workdir, redis_url,
                                           RATE_LIMIT_BURST=10**9, RATE_LIMIT_DAILY=10**9)
        logging.getLogger("keyhouse.requests").setLevel(logging.WARNING)  # no log line: a leaner request to compare with
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Version": VERSION, "User-Agent": "Zapier"}
        path = f"/v2/locations/{api_id}"
        if client.get(path, headers=headers).status_code != 200:
            raise SystemExit("usage: the authenticated request did not answer 200")
        with app.app_context(), db.connection_context():
            key_id = apikeys.authenticate(token).key.id
        with app.test_request_context():  # the limiter reads the app's settings
            redis = app.extensions["redis"]
            caller = callers.caller("203.0.113.7", "Zapier")
            limits_only = redis.register_script(LIMITS_ONLY_SCRIPT)

            figures = per_call_us({
                "authenticated request (GET /v2/locations/{id}, test client)": (
                    lambda: client.get(path, headers=headers), 200),
                "limiter call, former pipeline (no usage)": (
                    lambda: _former_limiter_call(redis, key_id, time.time()), 1000),
                "limiter call, the same script without usage": (
                    lambda: limits_only(keys=[f"ratelimit:{key_id}:burst:b", f"ratelimit:{key_id}:day:b"], args=[11]),
                    1000),
                "limiter call with usage and caller (ratelimit.hit)": (lambda: counted(key_id, caller), 1000),
                "naming the caller (callers.caller, cached)": (
                    lambda: callers.caller("203.0.113.7", "Zapier"), 20000),
            }, rounds)
        release_all()
    # Against the cheaper of the two references, so the figure never flatters.
    reference = min(figures["limiter call, former pipeline (no usage)"],
                    figures["limiter call, the same script without usage"])
    figures["counting's cost per request"] = (figures["limiter call with usage and caller (ratelimit.hit)"] - reference
                                              + figures["naming the caller (callers.caller, cached)"])
    return figures


def print_usage_cost(figures):
    print("\nusage counting, in process, µs per call (fastest of 25 rounds, the calls taking turns)\n")
    print("| call | µs |")
    print("|---|---|")
    for title, value in figures.items():
        print(f"| {title} | {value:.1f} |")
    request = figures["authenticated request (GET /v2/locations/{id}, test client)"]
    ratio = figures["counting's cost per request"] / request * 100
    print(f"| counting ÷ authenticated request (target ≤ 5 %) | **{ratio:.1f} %** |")


# --- one database -------------------------------------------------------------------


def measure(label, keyhouse_url, peer_url, workdir, redis_url, args):
    """{row: [per repeat values]} for one database, and the in-process figures."""
    app, api_id, token = seed_keyhouse(keyhouse_url, workdir)
    peer_folder = os.path.join(workdir, "peer")
    peer_key = make_peer(peer_folder, peer_url, api_id)
    with open(os.path.join(workdir, "hello.py"), "w") as out:
        out.write(HELLO)
    python = sys.executable
    keyhouse_env = {
        "SECRET_KEY": secrets.token_urlsafe(32), "DATABASE_URL": keyhouse_url, "REDIS_URL": redis_url,
        "INSTANCE_PATH": workdir, "RATE_LIMIT_BURST": str(10**9), "RATE_LIMIT_DAILY": str(10**9),
        "KEYHOUSE_DOTENV": os.devnull,
    }
    path = f"/v2/locations/{api_id}"
    valid = {"Authorization": f"Bearer {token}", "Version": VERSION}
    malformed = {"Authorization": "Bearer nope", "Version": VERSION}
    peer_headers = {"Authorization": f"Api-Key {peer_key}"}
    peer_env = {"PEER_DATABASE_URL": peer_url}
    results = {}
    with contextlib.ExitStack() as stack:
        servers = {
            "hello": stack.enter_context(gunicorn(python, "hello:app", workdir, {}, "/", workdir)),
            "keyhouse": stack.enter_context(gunicorn(python, "wsgi:app", ROOT, keyhouse_env, "/login", workdir)),
            "django60": stack.enter_context(gunicorn(peer_python(), "peer.wsgi:application", peer_folder,
                                                     {**peer_env, "PEER_CONN_MAX_AGE": "60"}, path, workdir)),
            "django0": stack.enter_context(gunicorn(peer_python(), "peer.wsgi:application", peer_folder,
                                                    {**peer_env, "PEER_CONN_MAX_AGE": "0"}, path, workdir)),
        }
        targets = {
            "hello": (servers["hello"] + "/", {}, 200),
            "valid": (servers["keyhouse"] + path, valid, 200),
            "malformed": (servers["keyhouse"] + path, malformed, 401),
            "django60": (servers["django60"] + path, peer_headers, 200),
            "django0": (servers["django0"] + path, peer_headers, 200),
        }
        for name, (url, headers, expected) in targets.items():
            got = status_of(url, headers)
            if got != expected:
                raise SystemExit(f"{label} {name}: {url} answered {got}, not {expected}")
        for repeat in range(args.repeats):
            rates = {}
            for name, (url, headers, expected) in targets.items():
                rate, errors = wrk(url, headers, args.duration, args.connections)
                if expected == 200 and errors:
                    raise SystemExit(f"{label} {name}: {errors} answers were not 2xx")
                rates[name] = rate
                results.setdefault(name, []).append(rate)
            best = max(rates["django60"], rates["django0"])
            results.setdefault("valid/django", []).append(rates["valid"] / best)
            results.setdefault("valid/hello", []).append(rates["valid"] / rates["hello"])
            results.setdefault("malformed/hello", []).append(rates["malformed"] / rates["hello"])
            print(f"  {label} repeat {repeat + 1}: " + ", ".join(f"{n} {r:,.0f}" for n, r in rates.items()),
                  file=sys.stderr)
    return results, in_process(app, token)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--in-process", action="store_true", help="only the in-process verification figures")
    parser.add_argument("--usage", action="store_true", help="only what counting usage costs a request")
    args = parser.parse_args()
    if args.in_process:
        return print_in_process(args)
    if args.usage:
        with embedded_redis() as redis_url:
            return print_usage_cost(usage_cost(redis_url))
    if not shutil.which("wrk"):
        raise SystemExit("bench/api.py needs wrk: apt-get install wrk")
    peer_python()
    base = os.environ.get("DATABASE_URL", "")
    columns = {}
    verification = {}
    with embedded_redis() as redis_url:
        with tempfile.TemporaryDirectory() as workdir:
            print("SQLite ...", file=sys.stderr)
            columns["SQLite"], verification["SQLite"] = measure(
                "SQLite", f"sqlite:///{workdir}/keyhouse.db", f"sqlite:///{workdir}/peer.db", workdir, redis_url, args
            )
        if is_postgres(base):
            with tempfile.TemporaryDirectory() as workdir, postgres_schemas(base, "keyhouse", "peer") as schemas:
                print("PostgreSQL ...", file=sys.stderr)
                columns["PostgreSQL"], verification["PostgreSQL"] = measure(
                    "PostgreSQL", with_search_path(base, schemas["keyhouse"]), with_search_path(base, schemas["peer"]),
                    workdir, redis_url, args,
                )
        usage = usage_cost(redis_url)
    print_tables(columns, verification, args)
    print_usage_cost(usage)


ROWS = [
    ("Flask hello world", "hello", None),
    ("Django + DRF + drf-api-key, CONN_MAX_AGE=60", "django60", None),
    ("Django + DRF + drf-api-key, CONN_MAX_AGE=0", "django0", None),
    ("Keyhouse GET /v2/locations/{id}, valid key", "valid", None),
    ("  ÷ best Django (target ≥ 1.5×)", "valid/django", "ratio"),
    ("  ÷ hello world (target ≥ 0.5×)", "valid/hello", "ratio"),
    ("Keyhouse 401, Authorization: Bearer nope", "malformed", None),
    ("  ÷ hello world (target ≥ 0.8×)", "malformed/hello", "ratio"),
]


def print_in_process(args):
    verification = {}
    base = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as workdir:
        app, _, token = seed_keyhouse(f"sqlite:///{workdir}/keyhouse.db", workdir)
        verification["SQLite"] = in_process(app, token)
    if is_postgres(base):
        with tempfile.TemporaryDirectory() as workdir, postgres_schemas(base, "keyhouse") as schemas:
            app, _, token = seed_keyhouse(with_search_path(base, schemas["keyhouse"]), workdir)
            verification["PostgreSQL"] = in_process(app, token)
    print_verification(verification)


def print_tables(columns, verification, args):
    names = list(columns)
    print(f"\nrequests per second, gunicorn {' '.join(GUNICORN)}, wrk -t2 -c{args.connections} -d{args.duration}s, "
          f"median of {args.repeats} repeats (ratios taken within each repeat)\n")
    print("| endpoint | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for title, row, kind in ROWS:
        cells = []
        for name in names:
            value = statistics.median(columns[name][row])
            cells.append(f"**{value:.2f}×**" if kind == "ratio" else f"{value:,.0f}")
        print(f"| {title} | " + " | ".join(cells) + " |")
    print_verification(verification)


def print_verification(verification):
    names = list(verification)
    print("\nin process, µs per call (fastest of 15 rounds, the calls taking turns)\n")
    print("| call | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for title in next(iter(verification.values())):
        print(f"| {title} | " + " | ".join(f"{verification[n][title]:.1f}" for n in names) + " |")
    ratio = " | ".join(
        f"**{verification[n]['authenticate(valid key)'] / verification[n]['one primary-key SELECT']:.1f}×**"
        for n in names
    )
    print(f"| valid key ÷ primary-key SELECT (target ≤ 3×) | {ratio} |")


if __name__ == "__main__":
    main()
