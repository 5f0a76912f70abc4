"""Settings → Webhooks and Settings → E-mail: who may reach them, forms, the secret shown once, resend."""

import re

import pytest
import standardwebhooks

from keyhouse.keys import apikeys
from keyhouse.models import EmailChoice, WebhookAttempt, WebhookDelivery, WebhookEndpoint, db
from tests.helpers import csrf_token
from tests.receivers import HttpReceiver


@pytest.fixture
def settings(settings):
    return {**settings, "WEBHOOK_ALLOW_PRIVATE": True}


def add_endpoint(client, url, events=("key.created",), location=0):
    token = csrf_token(client, "/settings/webhooks")
    return client.post("/settings/webhooks", data={
        "csrf_token": token, "url": url, "events": list(events), "location": location, "description": "CRM sync",
    })


def secret_in(response):
    return re.search(r'value="(whsec_[^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("who", ["staff@acme.test", "north.admin@acme.test", "south.user@acme.test"])
def test_only_agency_admins_reach_webhooks(client, auth, tenants, who):
    auth.login(who)
    assert client.get("/settings/webhooks").status_code == 404
    assert "Webhooks</a>" not in client.get("/settings/email").get_data(as_text=True)


def test_an_admin_adds_an_endpoint_sees_its_secret_once_and_events_verify_with_it(app, client, auth, tenants, run_jobs):
    auth.login("admin@acme.test")
    assert "Webhooks</a>" in client.get("/settings/webhooks").get_data(as_text=True)
    with HttpReceiver() as receiver:
        response = add_endpoint(client, receiver.url)
        assert response.status_code == 201
        secret = secret_in(response)
        with db.connection_context():
            endpoint = WebhookEndpoint.get()
        page = client.get(f"/settings/webhooks/{endpoint.id}").get_data(as_text=True)
        assert secret not in page and secret not in client.get("/settings/webhooks").get_data(as_text=True)
        with app.app_context(), db.connection_context():
            apikeys.create(agency_id=tenants.acme.id, name="Agency wide", actor=tenants.admin)
        run_jobs()
        request = receiver.requests[0]
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert standardwebhooks.Webhook(secret).verify(request["body"], headers)["type"] == "key.created"

        rolled = client.post(f"/settings/webhooks/{endpoint.id}/roll-secret",
                             data={"csrf_token": csrf_token(client, "/settings/webhooks")})
        new_secret = secret_in(rolled)
        assert new_secret != secret
        page = client.get(f"/settings/webhooks/{endpoint.id}").get_data(as_text=True)
        assert "key.created" in page and "Delivered" in page and " ms" in page

        with db.connection_context():
            delivery = WebhookDelivery.get()
        resend = client.post(f"/settings/webhooks/{endpoint.id}/deliveries/{delivery.id}/resend",
                             data={"csrf_token": csrf_token(client, "/settings/webhooks")},
                             headers={"HX-Request": "true"})
        assert resend.status_code == 200 and f'id="delivery-{delivery.id}"' in resend.get_data(as_text=True)
        run_jobs()
        resent = receiver.requests[1]
        headers = {k.lower(): v for k, v in resent["headers"].items()}
        assert headers["webhook-id"] == delivery.msg_id
        assert standardwebhooks.Webhook(new_secret).verify(resent["body"], headers)  # signed with the new secret
    with db.connection_context():
        assert [a.manual for a in WebhookAttempt.select().order_by(WebhookAttempt.id)] == [False, True]
    log = client.get("/settings/audit-log").get_data(as_text=True)
    assert "Webhook endpoint added" in log and "Webhook signing secret rolled" in log
    assert receiver.url.rsplit("/", 2)[0] + "/…" in log  # the host only: paths are often secrets too
    assert receiver.url not in log and secret not in log and new_secret not in log
    client.post(f"/settings/webhooks/{endpoint.id}/delete", data={"csrf_token": csrf_token(client, "/settings/webhooks")})
    assert "Webhook endpoint deleted" in client.get("/settings/audit-log").get_data(as_text=True)
    assert client.get(f"/settings/webhooks/{endpoint.id}").status_code == 404


@pytest.mark.parametrize("url, message", [
    ("", "Enter the URL"),
    ("ftp://example.com/x", "must start with https://"),
    ("https://user:pw@example.com/x", "no user name or password"),
    ("https://example.com:99999/x", "not a valid URL"),
])
def test_a_bad_url_is_named_next_to_the_field(client, auth, tenants, url, message):
    auth.login("admin@acme.test")
    response = add_endpoint(client, url)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_no_events_chosen_is_named_next_to_the_field(client, auth, tenants):
    auth.login("admin@acme.test")
    response = add_endpoint(client, "https://hooks.example.com/x", events=())
    assert response.status_code == 422 and "Choose at least one event." in response.get_data(as_text=True)


def test_another_agencys_endpoint_and_location_are_out_of_reach(client, auth, tenants, app):
    with app.app_context(), db.connection_context():
        theirs = WebhookEndpoint.create(agency=tenants.other, url="https://x.example/h", events="key.created",
                                        secret="whsec_AAAA")
    auth.login("admin@acme.test")
    assert client.get(f"/settings/webhooks/{theirs.id}").status_code == 404
    token = csrf_token(client, "/settings/webhooks")
    assert client.post(f"/settings/webhooks/{theirs.id}/roll-secret", data={"csrf_token": token}).status_code == 404
    assert add_endpoint(client, "https://hooks.example.com/x", location=tenants.elsewhere.id).status_code == 404


def test_posts_without_a_csrf_token_are_refused(client, auth, tenants):
    auth.login("admin@acme.test")
    response = client.post("/settings/webhooks", data={"url": "https://hooks.example.com/x", "events": ["key.created"]})
    assert response.status_code == 400
    assert client.post("/settings/email", data={"events": ["deleted"]}).status_code == 400


def test_each_user_saves_their_own_email_choices(client, auth, tenants):
    auth.login("south.user@acme.test")
    page = client.get("/settings/email").get_data(as_text=True)
    assert 'value="warning_15" id="event-warning_15" checked' in page
    assert 'value="warning_7" id="event-warning_7">' in page
    token = csrf_token(client, "/settings/email")
    response = client.post("/settings/email", data={"csrf_token": token, "events": ["warning_7", "bogus"]})
    assert response.status_code == 303
    with db.connection_context():
        chosen = {c.event: c.enabled for c in EmailChoice.select().where(EmailChoice.user == tenants.location_user.id)}
    assert chosen == {"warning_15": False, "warning_7": True, "warning_1": False, "deleted": False}


def test_the_delivery_log_pages_newest_first(client, auth, tenants, app):
    with app.app_context(), db.connection_context():
        endpoint = WebhookEndpoint.create(agency=tenants.acme, url="https://x.example/h", events="key.created",
                                          secret="whsec_AAAA")
        WebhookDelivery.insert_many([
            {"endpoint": endpoint.id, "msg_id": f"msg_{n:03d}", "event_type": "key.created", "payload": "{}"}
            for n in range(30)
        ]).execute()
    auth.login("admin@acme.test")
    first = client.get(f"/settings/webhooks/{endpoint.id}").get_data(as_text=True)
    assert first.count("msg_0") == 25 and "msg_029" in first and "msg_004" not in first
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    rest = client.get(older).get_data(as_text=True)
    assert rest.count("msg_0") == 5 and "msg_004" in rest and "msg_029" not in rest
