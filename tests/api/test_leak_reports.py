"""POST /v1/credentials/revoke: anyone reports leaked keys; matching live keys are deactivated,
their admins told, and the answer never says whether a token matched."""

import pytest

from keyhouse.keys import apikeys, tokens
from keyhouse.models import ApiKey, AuditEvent, KeyStatus, Notification, db
from tests.helpers import all_stored_text

URL = "/v1/credentials/revoke"


@pytest.fixture
def leaked(app, tenants):
    with app.app_context(), db.connection_context():
        key, plaintext = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Leaky",
                                        actor=tenants.location_admin)
    return key, plaintext


def answer(response):
    """What a reporter sees: status, body, and the headers that are not per-request."""
    headers = {name: value for name, value in response.headers.items() if name not in ("X-Request-Id", "Date")}
    return response.status_code, response.get_data(), headers


def test_a_matching_and_a_non_matching_token_get_the_same_answer(client, leaked, run_jobs, app):
    key, plaintext = leaked
    unknown = tokens.generate(tokens.LOCATION)
    matching = client.post(URL, json={"tokens": [plaintext]})
    not_matching = client.post(URL, json={"tokens": [unknown]})
    assert answer(matching) == answer(not_matching)
    assert matching.status_code == 202 and matching.get_json() == {"received": 1}
    run_jobs()
    with db.connection_context():
        current = ApiKey.get_by_id(key.id)
        assert current.status == KeyStatus.INACTIVE  # deactivated, not deleted
        assert current.digest is not None
        event = AuditEvent.get(AuditEvent.action == "leak_report")
        assert event.key_id == key.id and event.actor_label == "system" and event.ip == "127.0.0.1"
    # Requests with the reported key now get 401 "deactivated".
    response = client.get("/v1/contacts/", headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 401 and response.get_json()["message"] == "API key is deactivated"


def test_the_keys_admins_are_told_in_the_bell(client, leaked, run_jobs, tenants):
    key, plaintext = leaked
    client.post(URL, json={"tokens": [plaintext, "not a key", tokens.generate(tokens.AGENCY)]})
    run_jobs()
    with db.connection_context():
        told = Notification.select().where(Notification.kind == "leak_report")
        assert sorted(n.user_id for n in told) == sorted([tenants.admin.id, tenants.staff.id, tenants.location_admin.id])
        assert all("reported as leaked" in n.message and n.key_id == key.id for n in told)
        # No plaintext anywhere it was stored.
        assert plaintext not in all_stored_text()


def test_a_second_report_of_the_same_key_changes_nothing_more(client, leaked, run_jobs):
    _, plaintext = leaked
    for _ in range(2):
        assert client.post(URL, json={"tokens": [plaintext]}).status_code == 202
    run_jobs()
    with db.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "leak_report").count() == 1


def test_an_already_deactivated_or_deleted_key_stays_as_it_is(client, app, tenants, run_jobs):
    with app.app_context(), db.connection_context():
        off, off_plain = apikeys.create(agency_id=tenants.acme.id, name="Off")
        apikeys.deactivate(off)
        gone, gone_plain = apikeys.create(agency_id=tenants.acme.id, name="Gone")
        apikeys.delete(gone)
    response = client.post(URL, json={"tokens": [off_plain, gone_plain]})
    assert response.status_code == 202 and response.get_json() == {"received": 2}
    run_jobs()
    with db.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "leak_report").count() == 0
        assert ApiKey.get_by_id(gone.id).status == KeyStatus.DELETED


@pytest.mark.parametrize("body, message", [
    ({}, 'Send {"tokens"'),
    ({"tokens": []}, 'Send {"tokens"'),
    ({"tokens": "kha_x"}, 'Send {"tokens"'),
    ({"tokens": [1]}, "tokens[0] must be a string"),
    ({"tokens": ["x"] * 1001}, "tokens holds 1001 items; send at most 1000"),
])
def test_bad_bodies_are_refused_naming_the_problem(client, body, message):
    response = client.post(URL, json=body)
    assert response.status_code == 422
    assert message in response.get_json()["message"]


def test_up_to_1000_tokens_per_call(client, leaked, run_jobs):
    key, plaintext = leaked
    many = [tokens.generate(tokens.LOCATION) for _ in range(999)] + [plaintext]
    response = client.post(URL, json={"tokens": many})
    assert response.status_code == 202 and response.get_json() == {"received": 1000}
    run_jobs()
    with db.connection_context():
        assert ApiKey.get_by_id(key.id).status == KeyStatus.INACTIVE


def test_reports_are_limited_per_ip(app, client):
    app.config["LEAK_REPORT_LIMIT"] = 2
    body = {"tokens": [tokens.generate(tokens.AGENCY)]}
    assert [client.post(URL, json=body).status_code for _ in range(2)] == [202, 202]
    limited = client.post(URL, json=body)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "Too many leak reports" in limited.get_json()["message"]
    # Another address is not limited.
    other = client.post(URL, json=body, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 202


def test_the_endpoint_needs_no_key_and_no_csrf_token_and_is_documented(client):
    document = client.get("/v1/openapi.json").get_json()
    operation = document["paths"]["/v1/credentials/revoke"]["post"]
    assert operation["security"] == [] and "202" in operation["responses"]


def test_the_published_scanner_check_accepts_keys_and_rejects_wrong_checksums(client):
    """The docs' regular expression and CRC32 check, run as published, against real keys."""
    import html
    import re

    page = client.get("/docs/authentication").get_data(as_text=True)
    code = html.unescape(re.search(r"<pre tabindex=\"0\"><code>(import re, zlib.*?)</code></pre>", page, re.S).group(1))
    good = [tokens.generate(tokens.AGENCY), tokens.generate(tokens.LOCATION)]
    bad = good[0][:-1] + ("0" if good[0][-1] != "0" else "1")
    namespace = {"text": f"config: {good[0]} and {bad}; env LOCATION_KEY={good[1]}\n"}
    exec(code, namespace)  # noqa: S102 - the documentation's own snippet
    assert namespace["found"] == [good[0], good[1]]
    assert "/v1/credentials/revoke" in page and "202" in page
