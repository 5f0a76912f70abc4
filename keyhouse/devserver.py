"""`keyhouse dev`: everything for evaluation in one process group.

Creates the SQLite database and the demo agency, starts an embedded Valkey when
REDIS_URL is unset, then the web server (gunicorn), an RQ worker with the
scheduler, and RQ's cron process, each in its own session so that Ctrl-C reaches
only this supervisor, which stops them in order and leaves nothing behind. A
child that exits on its own is started again (Valkey on the same port); the
others carry on.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import click

STOP_TIMEOUT = 15  # seconds a child gets to stop before it is killed
START_TIMEOUT = 30  # seconds the web server gets to accept connections
STEADY_RUN = 60  # a child that ran this long is restarted at once when it exits
MAX_RESTART_PAUSE = 30  # seconds between restarts of a child that keeps exiting


def _secret_key(instance_path):
    """SECRET_KEY from the environment, else one kept in the instance folder."""
    from keyhouse import config

    return os.environ.get("SECRET_KEY") or config.instance_secret_key(instance_path, create=True)


def _port_free(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _wait_for_port(host, port, children):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class Child:
    """A supervised process whose output is printed line by line with its name; restartable."""

    def __init__(self, name, argv, env):
        self.name = name
        self.argv = argv
        self.env = env
        self.restart_at = None  # when an exited child is due to start again
        self.pause = 0  # seconds before the next restart
        self._start()

    def _start(self):
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.PIPE,  # closes when the supervisor dies
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
            bufsize=1,
        )
        self.pid = self.process.pid
        self.started = time.monotonic()
        self.first_line = None
        self._ready = threading.Event()
        threading.Thread(target=self._pump, args=(self.process,), daemon=True).start()

    def _pump(self, process):
        for line in process.stdout:
            if self.first_line is None:
                self.first_line = line.strip()
                self._ready.set()
            click.echo(f"{self.name:>6} | {line.rstrip()}")
        self._ready.set()

    def restart_if_exited(self):
        """Start the child again when it has exited: at once after a long run, else after a growing pause."""
        status = self.process.poll()
        if status is None:
            return
        now = time.monotonic()
        if self.restart_at is None:
            ran = now - self.started
            self.pause = 0 if ran >= STEADY_RUN else min(max(1, self.pause * 2), MAX_RESTART_PAUSE)
            self.restart_at = now + self.pause
            click.echo(f"{self.name} exited with status {status}; restarting it in {self.pause} s")
        if now >= self.restart_at:
            self.restart_at = None
            self._start()
            click.echo(f"{self.name} restarted (pid {self.pid})")

    def wait_first_line(self, timeout):
        self._ready.wait(timeout)
        return self.first_line

    def poll(self):
        return self.process.poll()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, deadline):
        try:
            self.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait()


def run(host, port):
    from app import create_app
    from keyhouse import config
    from keyhouse.demo import DEMO_PASSWORD, seed_demo
    from keyhouse.models import db
    from keyhouse.models.schema import upgrade
    from keyhouse.services import StartupError, check_database, check_redis

    try:
        settings = config.from_environment()
    except config.ConfigError as error:
        raise click.ClickException(str(error)) from None
    instance_path = settings["INSTANCE_PATH"]
    os.makedirs(instance_path, exist_ok=True)
    env = dict(os.environ)
    env.update(
        SECRET_KEY=_secret_key(instance_path),
        INSTANCE_PATH=instance_path,
        DATABASE_URL=settings["DATABASE_URL"],
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("SESSION_COOKIE_SECURE", "false")  # served over plain http on this machine
    env.setdefault("WEBHOOK_ALLOW_PRIVATE", "true")  # so a receiver on this machine can be tried
    env.setdefault("PUBLIC_URL", f"http://{host}:{port}")  # the links in e-mail
    if not _port_free(host, port):
        raise click.ClickException(f"port {port} on {host} is in use: set PORT (or --port) to a free one")
    catcher = None
    if not settings["SMTP_HOST"]:  # e-mail goes to a local catcher, shown at /dev/mail
        from keyhouse.outbound import devmail

        mail_dir = os.path.join(instance_path, "devmail")
        catcher, smtp_port = devmail.start_catcher(mail_dir, "127.0.0.1")
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_TLS="none", DEV_MAIL_DIR=mail_dir)
    os.environ.update(env)

    try:
        app = create_app()
        check_database(app.config["DATABASE_URL"])
    except (config.ConfigError, StartupError) as error:
        if catcher is not None:
            catcher.stop()
        raise click.ClickException(str(error)) from None
    with db.connection_context():
        for line in upgrade():
            click.echo(f"database: {line}")
        logins = seed_demo()

    children = []
    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    try:
        if not settings["REDIS_URL"]:
            valkey = Child("valkey", [sys.executable, "-m", "keyhouse.devserver", "valkey"], env)
            children.append(valkey)
            url = valkey.wait_first_line(30) or ""
            if not url.startswith("redis://"):
                raise click.ClickException("the embedded Valkey server did not start (see its lines above)")
            valkey.argv = [*valkey.argv, url.rsplit(":", 1)[1].split("/")[0]]  # a restart keeps the port
            env["REDIS_URL"] = os.environ["REDIS_URL"] = url
        try:
            check_redis(env["REDIS_URL"])
        except StartupError as error:
            raise click.ClickException(str(error)) from None

        python = sys.executable
        children.append(
            Child(
                "web",
                [
                    python, "-m", "gunicorn", "--config", "python:keyhouse.gunicorn_conf",
                    "--bind", f"{host}:{port}", "--workers", "2", "--graceful-timeout", "5", "wsgi:app",
                ],
                env,
            )
        )
        children.append(Child("worker", [python, "-m", "keyhouse.cli", "worker"], env))
        children.append(Child("cron", [python, "-m", "keyhouse.cli", "cron"], env))

        if not _wait_for_port(host, port, children):
            raise click.ClickException("the web server did not start (see its lines above)")
        url = f"http://{host}:{port}/"
        click.echo("")
        click.echo(f"Keyhouse is running at {url}")
        click.echo("Demo logins (password for all: %s):" % DEMO_PASSWORD)
        for email, role in logins:
            click.echo(f"  {email:28} {role}")
        click.echo("Processes: " + ", ".join(f"{c.name} (pid {c.pid})" for c in children))
        if catcher is not None:
            click.echo(f"E-mail is caught by a local SMTP server (port {env['SMTP_PORT']}): see {url}dev/mail")
        click.echo("Press Ctrl-C to stop.")
        click.echo("")

        while not stopping.wait(0.5):  # a child that exits is started again; the others carry on
            for child in children:
                child.restart_if_exited()
        return 0
    finally:
        click.echo("Stopping Keyhouse…")
        # Web, worker and cron first, then the Redis they talk to.
        for group in ([c for c in children if c.name != "valkey"], [c for c in children if c.name == "valkey"]):
            for child in group:
                child.stop()
            deadline = time.monotonic() + STOP_TIMEOUT
            for child in group:
                child.wait(deadline)
        if catcher is not None:
            catcher.stop()
        click.echo("Stopped.")


def _serve_valkey(port=None):
    """Run an embedded Valkey (on `port`, else a free one) until told to stop or the supervisor goes away."""
    from keyhouse.services import embedded_redis

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with embedded_redis(port) as url:
        print(url, flush=True)
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
        done.wait()


if __name__ == "__main__" and sys.argv[1:2] == ["valkey"]:
    _serve_valkey(int(sys.argv[2]) if len(sys.argv) > 2 else None)
