"""`keyhouse dev`: the one command that runs everything for evaluation."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request

from tests.servers import Output, free_port


def sign_in(base, email, password, opener=None):
    jar = http.cookiejar.CookieJar()
    opener = opener or urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "login").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}).encode()
    return opener.open(base + "login", data=body)  # follows the redirect


def keyhouse_dev(tmp_path, port, unset=()):
    """`keyhouse dev` on `port` in `tmp_path` with its own instance folder, without DATABASE_URL,
    SECRET_KEY and the settings named in `unset`; (process, Output)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", *unset)}
    env["INSTANCE_PATH"] = str(tmp_path / "instance")
    process = subprocess.Popen(
        [sys.executable, "-m", "keyhouse.cli", "dev", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return process, Output(process)


def test_dev_brings_up_web_worker_and_cron_and_ctrl_c_stops_them_all(tmp_path):
    port = free_port()
    process, output = keyhouse_dev(tmp_path, port)
    try:
        base = output.wait_for(r"Keyhouse is running at (http://\S+)").split(" at ")[1]
        assert base == f"http://127.0.0.1:{port}/"
        login = output.wait_for(r"^\s+admin@demo\.test\s+Agency admin")
        password = output.wait_for(r"password for all: ").split(": ")[1].rstrip("):")
        processes = output.wait_for(r"^Processes: ")

        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = sign_in(base, login.split()[0], password, browser)
        assert page.status == 200
        assert "<h1>API keys</h1>" in page.read().decode()
        assert output.wait_for(r"E-mail is caught by a local SMTP server").endswith(f"see {base}dev/mail")

        output.wait_for(r"^worker \| .*Listening on keyhouse")
        output.wait_for(r"^  cron \| .*Enqueued job sweep")
        output.wait_for(r"^worker \| .*Successfully completed jobs\.sweep\.sweep")
        # The demo key at its first warning is e-mailed to its recipients, caught and shown at /dev/mail.
        output.wait_for(r"^worker \| .*Successfully completed jobs\.outbound\.send_email")
        mail = browser.open(base + "dev/mail").read().decode()
        assert re.search(r"“Zapier new leads” is deleted (in \d+ days|tomorrow|today) unless used", mail)
        assert re.search(re.escape(f"{base}settings/api-keys/") + r"\d+/page", mail)  # a link to the key's page
        assert (tmp_path / "instance" / "keyhouse.db").exists()
        assert oct((tmp_path / "instance" / "secret_key").stat().st_mode & 0o777) == "0o600"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0

    output.wait_for(r"^Stopped\.$")
    pids = [int(pid) for pid in re.findall(r"pid (\d+)", processes)]
    assert len(pids) >= 3
    for pid in pids:  # each child led its own process group; none of them is left
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"process group {pid} survived Ctrl-C")


def test_dev_refuses_a_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, INSTANCE_PATH=str(tmp_path / "instance"))
        env.pop("DATABASE_URL", None)
        result = subprocess.run(
            [sys.executable, "-m", "keyhouse.cli", "dev", "--port", str(port)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr


def test_dev_restarts_a_child_that_exits_and_keeps_the_others_running(tmp_path):
    """Redis (the embedded Valkey) or cron dying must not take the dashboard and the API down."""
    port = free_port()
    # No REDIS_URL either: the test kills the embedded Valkey that `keyhouse dev` starts without one.
    process, output = keyhouse_dev(tmp_path, port, unset=("REDIS_URL",))
    try:
        base = output.wait_for(r"Keyhouse is running at (http://\S+)").split(" at ")[1]
        password = output.wait_for(r"password for all: ").split(": ")[1].rstrip("):")
        pids = dict(re.findall(r"(\w+) \(pid (\d+)\)", output.wait_for(r"^Processes: ")))
        output.wait_for(r"^worker \| .*Successfully completed jobs\.sweep\.sweep")

        os.killpg(int(pids["valkey"]), signal.SIGKILL)
        output.wait_for(r"^valkey exited with status -9; restarting it")
        output.wait_for(r"^valkey restarted \(pid \d+\)")
        assert process.poll() is None
        assert sign_in(base, "admin@demo.test", password).status == 200  # web never went away

        os.killpg(int(pids["cron"]), signal.SIGKILL)
        output.wait_for(r"^cron exited with status -9; restarting it")
        output.wait_for(r"^  cron \| .*Enqueued job sweep", new=True)  # the new cron, on the restarted Valkey
        output.wait_for(r"^worker \| .*Successfully completed jobs\.sweep\.sweep", new=True)  # the same worker
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
