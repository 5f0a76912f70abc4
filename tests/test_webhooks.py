"""Signed webhooks: audit events reach a real HTTP receiver, signed as Standard Webhooks says."""

import datetime
import json

import pytest
import standardwebhooks
from redis import Redis
from rq.registry import ScheduledJobRegistry

from jobs import outbound as jobs
from jobs import queue
from keyhouse.keys import apikeys
from keyhouse.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint, db, utcnow
from keyhouse.outbound import webhooks
from tests.receivers import HttpReceiver
from tests.servers import free_port


@pytest.fixture
def settings(settings):
    return {**settings, "WEBHOOK_ALLOW_PRIVATE": True}


@pytest.fixture
def receiver():
    with HttpReceiver() as receiver:
        yield receiver


def endpoint(tenants, url, events=("key.created", "key.renamed", "key.deleted", "key.rolled"), location=None):
    return WebhookEndpoint.create(
        agency=tenants.acme, url=url, events=" ".join(events), location=location, secret=webhooks.new_secret(),
    )


def test_a_key_event_reaches_the_receiver_signed_and_verifiable_with_the_reference_library(
    app, tenants, receiver, run_jobs
):
    with app.app_context(), db.connection_context():
        hook = endpoint(tenants, receiver.url)
        key, plaintext = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Zapier",
                                        actor=tenants.admin)
    run_jobs()
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = {name.lower(): value for name, value in request["headers"].items()}
    payload = standardwebhooks.Webhook(hook.secret).verify(request["body"], headers)
    assert payload["type"] == "key.created"
    assert payload["data"]["key"]["name"] == "Zapier"
    assert payload["data"]["key"]["locationId"] == tenants.north.api_id
    assert payload["data"]["actor"] == "admin@acme.test"
    assert plaintext not in request["body"].decode() and key.hint not in request["body"].decode()
    with pytest.raises(standardwebhooks.WebhookVerificationError):  # another secret does not verify it
        standardwebhooks.Webhook(webhooks.new_secret()).verify(request["body"], headers)
    with db.connection_context():
        delivery = WebhookDelivery.get()
        assert (delivery.status, delivery.last_status_code) == (WebhookDelivery.SUCCEEDED, 204)
        assert delivery.msg_id == headers["webhook-id"]
        assert AuditEvent.get(AuditEvent.action == "create").outbox_at is None


def test_endpoints_get_only_their_events_and_their_location(app, tenants, receiver, run_jobs):
    with app.app_context(), db.connection_context():
        endpoint(tenants, receiver.url, events=("key.renamed",), location=tenants.south)
        other = endpoint(tenants, receiver.url + "/all", events=("key.renamed", "key.deleted"))
        WebhookEndpoint.create(agency=tenants.other, url=receiver.url + "/other", events="key.renamed",
                               secret=webhooks.new_secret())
        north, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="North")
        south, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="South")
        apikeys.rename(north, "North 2")
        apikeys.rename(south, "South 2")
        apikeys.delete(south)
    run_jobs()
    got = sorted((r["path"], json.loads(r["body"])["type"], json.loads(r["body"])["data"]["key"]["name"])
                 for r in receiver.requests)
    assert got == [
        ("/hooks/keyhouse", "key.renamed", "South 2"),
        ("/hooks/keyhouse/all", "key.deleted", "South 2"),
        ("/hooks/keyhouse/all", "key.renamed", "North 2"),
        ("/hooks/keyhouse/all", "key.renamed", "South 2"),
    ]
    with db.connection_context():
        assert WebhookDelivery.select().where(WebhookDelivery.endpoint == other.id).count() == 3


def test_a_failing_endpoint_is_retried_with_growing_pauses_then_given_up(app, tenants, receiver, run_jobs):
    receiver.answers = [500] * 20
    with app.app_context(), db.connection_context():
        endpoint(tenants, receiver.url)
        apikeys.create(agency_id=tenants.acme.id, name="Agency wide")
    run_jobs()
    scheduled = ScheduledJobRegistry(queue=queue(app))
    with db.connection_context():
        delivery = WebhookDelivery.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        first_pause = delivery.next_attempt_at - WebhookAttempt.get().at
        assert first_pause == jobs.WEBHOOK_RETRY_DELAYS[0]
    assert scheduled.get_job_ids() == [f"deliver-{delivery.id}-1"]
    pauses = []
    for attempt in range(1, len(jobs.WEBHOOK_RETRY_DELAYS) + 1):
        # The scheduled retry is due: move it to the queue as RQ's scheduler would, and run it.
        job_id = f"deliver-{delivery.id}-{attempt}"
        assert scheduled.get_job_ids() == [job_id]
        scheduled.remove(job_id)
        queue(app).enqueue_job(queue(app).fetch_job(job_id))
        run_jobs()
        with db.connection_context():
            row = WebhookDelivery.get_by_id(delivery.id)
            last = WebhookAttempt.select().order_by(WebhookAttempt.id.desc()).get()
            if row.next_attempt_at:
                pauses.append(row.next_attempt_at - last.at)
    assert pauses == list(jobs.WEBHOOK_RETRY_DELAYS[1:])
    assert sum(jobs.WEBHOOK_RETRY_DELAYS, datetime.timedelta()) >= datetime.timedelta(days=1)
    with db.connection_context():
        row = WebhookDelivery.get_by_id(delivery.id)
        assert (row.status, row.attempts) == (WebhookDelivery.FAILED, len(jobs.WEBHOOK_RETRY_DELAYS) + 1)
    assert scheduled.get_job_ids() == []
    assert len(receiver.requests) == len(jobs.WEBHOOK_RETRY_DELAYS) + 1
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1  # one message, many attempts


def test_resend_sends_the_same_message_again(app, tenants, receiver, run_jobs):
    receiver.answers = [204, 200]
    with app.app_context(), db.connection_context():
        endpoint(tenants, receiver.url)
        apikeys.create(agency_id=tenants.acme.id, name="Agency wide")
    run_jobs()
    with app.app_context(), db.connection_context():
        delivery = WebhookDelivery.get()
        assert jobs.resend(delivery.id)
    run_jobs()
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [delivery.msg_id] * 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    with db.connection_context():
        attempts = list(WebhookAttempt.select().order_by(WebhookAttempt.id))
        assert [(a.status_code, a.manual) for a in attempts] == [(204, False), (200, True)]
        assert all(a.duration_ms is not None for a in attempts)


def test_a_rolled_back_change_sends_nothing(app, tenants, receiver, run_jobs):
    with app.app_context(), db.connection_context():
        endpoint(tenants, receiver.url)
        with pytest.raises(RuntimeError), db.atomic():
            apikeys.create(agency_id=tenants.acme.id, name="Never")
            raise RuntimeError("the request failed after the change")
    run_jobs()
    assert receiver.requests == []
    with db.connection_context():
        assert WebhookDelivery.select().count() == 0


def test_an_event_whose_job_was_lost_is_sent_by_the_catch_up(app, tenants, receiver, run_jobs, redis):
    with app.app_context(), db.connection_context():
        endpoint(tenants, receiver.url)
        apikeys.create(agency_id=tenants.acme.id, name="Agency wide")
    redis.flushdb()  # the dispatch job is lost
    run_jobs()
    assert receiver.requests == []
    with app.app_context():
        assert jobs.catch_up(utcnow())["events"] == 0  # too recent: its job may still be on its way
        assert jobs.catch_up(utcnow() + datetime.timedelta(minutes=3))["events"] == 1
    run_jobs()
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fc00::1",
                                     "::ffff:127.0.0.1", "0.0.0.0"])
def test_private_and_loopback_addresses_are_refused_unless_allowed(address):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(webhooks.DeliveryError, match="private or local"):
        webhooks.post(f"http://{host}:9/x", {}, b"{}", allow_private=False)


def test_a_host_name_is_checked_by_the_address_it_resolves_to(receiver):
    url = receiver.url.replace("127.0.0.1", "localhost")
    with pytest.raises(webhooks.DeliveryError, match="private or local"):
        webhooks.post(url, {}, b"{}", allow_private=False)
    assert receiver.requests == []
    assert webhooks.post(url, {}, b"{}", allow_private=True)[0] == 204


def test_a_change_made_while_redis_is_down_is_kept_and_sent_when_it_returns(app, tenants, receiver, run_jobs):
    live = app.extensions["redis"]
    app.extensions["redis"] = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)  # nothing there
    try:
        with app.app_context(), db.connection_context():
            endpoint(tenants, receiver.url)
            key, _ = apikeys.create(agency_id=tenants.acme.id, name="Made during the outage")
    finally:
        app.extensions["redis"] = live
    with db.connection_context():
        assert AuditEvent.get(AuditEvent.key == key.id).outbox_at is not None  # owed, not lost
    with app.app_context():
        assert jobs.catch_up(utcnow() + datetime.timedelta(minutes=3))["events"] == 1
    run_jobs()
    assert [json.loads(r["body"])["data"]["key"]["name"] for r in receiver.requests] == ["Made during the outage"]
