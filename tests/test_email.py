"""E-mail about keys: through a real SMTP server (aiosmtpd) that the test starts, sent by real RQ workers."""

import ssl
import subprocess

import pytest
from rq.registry import ScheduledJobRegistry

from jobs import outbound as jobs
from jobs import queue
from jobs import sweep as lifecycle_jobs
from keyhouse.models import EmailChoice, EmailDelivery, db, utcnow
from keyhouse.outbound import email
from tests.helpers import aged_key, day
from tests.receivers import smtp_server


@pytest.fixture
def smtp():
    with smtp_server() as (port, received):
        yield port, received


@pytest.fixture
def settings(settings, smtp):
    port, _ = smtp
    return {**settings, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TLS": "none",
            "SMTP_FROM": "Keyhouse <keys@acme.test>", "PUBLIC_URL": "https://keys.acme.test"}


@pytest.fixture
def sweep_on(app, run_jobs):
    def sweep_on(moment):
        with app.app_context():
            lifecycle_jobs.sweep(moment.isoformat())
        run_jobs()

    return sweep_on


def inbox(smtp):
    return sorted((rcpt, item["message"]["Subject"]) for item in smtp[1] for rcpt in item["rcpt"])


def test_the_first_warning_and_the_deletion_are_mailed_to_the_bells_recipients_once_each(
    app, tenants, smtp, sweep_on, run_jobs
):
    with app.app_context(), db.connection_context():
        key = aged_key("Zapier sync", agency=tenants.acme, location=tenants.north, actor=tenants.location_admin)
        email.save_choices(tenants.staff, {"warning_15", "warning_7", "deleted"})  # staff opts in to the 7-day one
        email.save_choices(tenants.location_admin, {"warning_15"})  # and the location admin out of "deleted"
    recipients = ["admin@acme.test", "north.admin@acme.test", "staff@acme.test"]

    sweep_on(day(75))
    assert inbox(smtp) == [(who, "Keyhouse: “Zapier sync” is deleted in 15 days unless used") for who in recipients]
    message = smtp[1][0]["message"]
    body = message.get_content()
    assert "Zapier sync" in body and "North Clinic" in body and "Last caller: never used" in body
    assert f"https://keys.acme.test/settings/api-keys/{key.id}/page" in body
    assert message["From"] == "Keyhouse <keys@acme.test>"

    smtp[1].clear()
    sweep_on(day(83))
    assert inbox(smtp) == [("staff@acme.test", "Keyhouse: “Zapier sync” is deleted in 7 days unless used")]

    smtp[1].clear()
    sweep_on(day(89))
    assert inbox(smtp) == []  # nobody chose the 1-day warning
    sweep_on(day(90, hours=1))
    assert inbox(smtp) == [(who, "Keyhouse: “Zapier sync” was deleted") for who in ["admin@acme.test", "staff@acme.test"]]

    smtp[1].clear()  # jobs run again, catch-up runs: nothing is sent twice
    with app.app_context():
        for job_id in ScheduledJobRegistry(queue=queue(app)).get_job_ids():
            raise AssertionError(f"unexpected scheduled job {job_id}")
        jobs.catch_up(utcnow().replace(year=2100))
    run_jobs()
    assert smtp[1] == []
    with db.connection_context():
        assert EmailDelivery.select().where(EmailDelivery.status != EmailDelivery.SENT).count() == 0


def test_an_smtp_failure_is_retried_later_and_sent_once(app, tenants, settings, sweep_on, run_jobs, smtp):
    with app.app_context(), db.connection_context():
        aged_key("Agency sync", agency=tenants.acme, actor=tenants.admin)
    app.config["SMTP_PORT"] = 9  # nothing listens there: the first attempt fails
    sweep_on(day(75))
    with db.connection_context():
        delivery = EmailDelivery.get()
        assert (delivery.status, delivery.attempts) == (EmailDelivery.PENDING, 1)
        assert "Connection" in delivery.last_error or "refused" in delivery.last_error
    scheduled = ScheduledJobRegistry(queue=queue(app))
    job_id = f"send_email-{delivery.id}-1"
    assert scheduled.get_job_ids() == [job_id]
    app.config["SMTP_PORT"] = settings["SMTP_PORT"]
    scheduled.remove(job_id)
    queue(app).enqueue_job(queue(app).fetch_job(job_id))  # due: as RQ's scheduler would
    run_jobs()
    assert inbox(smtp) == [("admin@acme.test", "Keyhouse: “Agency sync” is deleted in 15 days unless used")]
    with db.connection_context():
        assert EmailDelivery.get().status == EmailDelivery.SENT


def test_no_smtp_host_means_no_email_and_the_bell_still_rings(app, tenants, sweep_on, smtp):
    app.config["SMTP_HOST"] = None
    with app.app_context(), db.connection_context():
        aged_key("Agency sync", agency=tenants.acme, actor=tenants.admin)
    sweep_on(day(75))
    assert smtp[1] == []
    with db.connection_context():
        assert EmailDelivery.select().count() == 0


def test_the_defaults_are_the_first_warning_and_the_deletion(app, tenants):
    with app.app_context(), db.connection_context():
        assert email.choices(tenants.admin) == {"warning_15": True, "warning_7": False, "warning_1": False,
                                                "deleted": True}
        email.save_choices(tenants.admin, {"warning_1"})
        assert email.choices(tenants.admin) == {"warning_15": False, "warning_7": False, "warning_1": True,
                                                "deleted": False}
        assert EmailChoice.select().count() == 4


def test_starttls_checks_the_servers_certificate(app, tenants, sweep_on, tmp_path):
    """A server whose certificate no authority vouches for gets no e-mail (smtplib alone would send it)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    with smtp_server(tls_context=context) as (port, received):
        app.config.update(SMTP_PORT=port, SMTP_TLS="starttls")
        with app.app_context(), db.connection_context():
            aged_key("Agency sync", agency=tenants.acme, actor=tenants.admin)
        sweep_on(day(75))
        assert received == []
        with db.connection_context():
            delivery = EmailDelivery.get()
        assert delivery.status == EmailDelivery.PENDING and "CERTIFICATE_VERIFY_FAILED" in delivery.last_error


def test_a_late_warning_says_the_days_really_left(app, tenants, smtp, sweep_on):
    # A sweep that first looks at the key with 10 days left sends the 15-day warning;
    # its subject says what is left, as the bell's message does.
    with app.app_context(), db.connection_context():
        aged_key("Late sync", agency=tenants.acme, location=tenants.north, actor=tenants.location_admin)
    sweep_on(day(80))
    assert {subject for _, subject in inbox(smtp)} == {"Keyhouse: “Late sync” is deleted in 10 days unless used"}
