"""Request ids (header, error pages, API error bodies) and the one log line per request, as text or JSON."""

import json
import re

import pytest

from keyhouse.keys import apikeys
from keyhouse.models import db
from keyhouse.web import observe
from tests.helpers import VERSION, error_body


@pytest.fixture
def key(app, tenants):
    with db.connection_context():
        return apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Logged")


def request_lines(capsys):
    err = capsys.readouterr().err
    return [line for line in err.splitlines() if " request " in line or '"event": "request"' in line]


def test_every_answer_carries_a_request_id_that_api_errors_and_error_pages_quote(client, auth, tenants):
    ids = set()
    api = client.get("/v1/contacts/", headers={"Authorization": "Bearer nope"})
    assert api.status_code == 401
    assert error_body(api)["message"] == "Missing or malformed API key"  # requestId == X-Request-Id
    ids.add(api.headers["X-Request-Id"])

    page = client.get("/no/such/page")
    assert page.status_code == 404
    request_id = page.headers["X-Request-Id"]
    assert f"Request id <code>{request_id}</code>" in page.get_data(as_text=True)
    ids.add(request_id)

    auth.login("admin@acme.test")
    fragment = client.get("/no/such/fragment", headers={"HX-Request": "true"})
    assert fragment.status_code == 404
    assert f"request id <code>{fragment.headers['X-Request-Id']}</code>" in fragment.get_data(as_text=True)
    ids.add(fragment.headers["X-Request-Id"])
    ok = client.get("/healthz")
    ids.add(ok.headers["X-Request-Id"])
    assert len(ids) == 4 and all(re.fullmatch(r"[0-9a-f]{32}", one) for one in ids)


def test_one_text_line_per_request_with_the_key_id_and_never_the_key(client, key, capsys):
    api_key, plaintext = key
    capsys.readouterr()
    answer = client.get("/v1/contacts/", headers={"Authorization": f"Bearer {plaintext}", "Version": VERSION})
    assert answer.status_code == 200
    stray = client.get(f"/v1/contacts/{plaintext}?apiKey={plaintext}", headers={"Authorization": f"Bearer {plaintext}"})
    assert stray.status_code == 404
    refused = client.get(f"/v1/contacts/?apiKey={plaintext}")
    assert refused.status_code == 401

    lines = request_lines(capsys)
    assert len(lines) == 3, lines
    assert all(plaintext not in line and plaintext[:20] not in line for line in lines)
    first, second, third = lines
    assert re.search(
        rf" INFO request request_id={answer.headers['X-Request-Id']} method=GET path=/v1/contacts/ status=200 "
        rf"duration_ms=[\d.]+ ip=127\.0\.0\.1 key_id={api_key.id}$",
        first,
    )
    assert f"request_id={stray.headers['X-Request-Id']} method=GET path=/v1/contacts/[key] status=404 " in second
    assert f"key_id={api_key.id}" in second
    assert "path=/v1/contacts/ status=401 " in third and third.endswith("key_id=-")


def test_json_lines_by_setting(app, key, capsys):
    app.config["LOG_FORMAT"] = "json"
    observe.configure_logging("json")
    try:
        api_key, plaintext = key
        capsys.readouterr()
        answer = app.test_client().get(f"/v1/contacts/{plaintext}", headers={"Authorization": f"Bearer {plaintext}"})
        (line,) = request_lines(capsys)
    finally:
        observe.configure_logging("text")
    record = json.loads(line)
    assert plaintext not in line
    assert {name: record[name] for name in ("event", "level", "request_id", "method", "path", "status", "key_id")} == {
        "event": "request", "level": "info", "request_id": answer.headers["X-Request-Id"], "method": "GET",
        "path": "/v1/contacts/[key]", "status": 404, "key_id": api_key.id,
    }
    assert isinstance(record["duration_ms"], float) and record["time"].endswith("+00:00")


def test_a_proxy_may_hand_over_its_request_id_but_a_client_may_not(app, client):
    sent = {"X-Request-Id": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"}
    assert client.get("/healthz", headers=sent).headers["X-Request-Id"] != sent["X-Request-Id"]
    app.config["TRUSTED_PROXY_COUNT"] = 1
    assert client.get("/healthz", headers=sent).headers["X-Request-Id"] == sent["X-Request-Id"]
    for unfit in ("short", "has spaces in it", "khl_" + "A" * 38):
        assert client.get("/healthz", headers={"X-Request-Id": unfit}).headers["X-Request-Id"] != unfit


def test_log_format_is_checked_at_start_up(monkeypatch):
    from keyhouse import config

    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(config.ConfigError, match="LOG_FORMAT must be one of text, json, not 'xml'"):
        config.from_environment()
