"""What the API tells a key about itself, on both versions: Sunset while it has a known end,
GET /keys/self, POST /keys/self/roll (opt-in scope) and RFC 6750's insufficient_scope."""

import datetime
import logging

import pytest
from jsonschema import Draft202012Validator
from werkzeug.http import http_date, parse_date

from keyhouse.keys import apikeys, tokens
from keyhouse.keys.scopes import DEFAULT_SCOPES, SELF_ROLL
from keyhouse.models import ApiKey, AuditEvent, KeyStatus, Notification, db, utcnow
from tests.helpers import Auth, all_stored_text, error_body
from tests.test_lifecycle import sweep_on  # noqa: F401  (a fixture: one sweep, then a real worker)

VERSIONS = ("v1", "v2")
SUNSET_LINK = '<http://localhost/docs/best-practices#sunset>; rel="sunset"'
CHALLENGE = f'Bearer error="insufficient_scope", scope="{SELF_ROLL}"'


def make_key(tenants, name="Rotating", location=True, scopes=None):
    with db.connection_context():
        return apikeys.create(
            agency_id=tenants.acme.id, location_id=tenants.north.id if location else None, name=name,
            scopes=scopes, actor=tenants.admin,
        )


def rotating_key(tenants, name="Rotating", location=True):
    kind = tokens.LOCATION if location else tokens.AGENCY
    return make_key(tenants, name, location, [*DEFAULT_SCOPES[kind], SELF_ROLL])


def schema_of(client, version, path, method, status):
    document = client.get(f"/{version}/openapi.json").get_json()
    schema = document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


# ------------------------------------------------------------------ Sunset and Link


@pytest.mark.parametrize("version", VERSIONS)
def test_a_key_without_a_known_end_gets_no_sunset(api, keys, crm_data, version):
    response = api("GET", f"/{version}/workflows/", keys.north)
    assert response.status_code == 200
    assert "Sunset" not in response.headers and "Link" not in response.headers


@pytest.mark.parametrize("version", VERSIONS)
def test_a_rolled_key_says_when_it_stops_on_every_successful_answer(api, client, tenants, crm_data, version):
    key, old = make_key(tenants)
    with db.connection_context():
        new_key, new = apikeys.roll(key, "24h", actor=tenants.admin)
        ends = ApiKey.get_by_id(key.id).expires_at
    for method, path in (("GET", f"/{version}/workflows/"), ("GET", f"/{version}/keys/self"),
                         ("GET", f"/{version}/contacts/{crm_data.north_contact.id}")):
        response = api(method, path, old)
        assert response.status_code == 200, path
        assert response.headers["Sunset"] == http_date(ends.replace(tzinfo=datetime.UTC))
        assert parse_date(response.headers["Sunset"]) == ends.replace(microsecond=0, tzinfo=datetime.UTC)
        assert response.headers["Link"] == SUNSET_LINK
    # The new key has no end; an error answer to the old one is no use of it and carries none.
    assert "Sunset" not in api("GET", f"/{version}/workflows/", new).headers
    missing = api("GET", f"/{version}/contacts/{'A' * 20}", old)
    assert missing.status_code == 404 and "Sunset" not in missing.headers and "Link" not in missing.headers
    # The Link leads to the docs section that explains it.
    assert 'id="sunset"' in client.get("/docs/best-practices").get_data(as_text=True)


def test_the_sunset_link_uses_the_configured_public_url(app, api, tenants, crm_data):
    key, old = make_key(tenants)
    with db.connection_context():
        apikeys.roll(key, "1h", actor=tenants.admin)
    app.config["PUBLIC_URL"] = "https://crm.example.org"
    response = api("GET", "/v1/workflows/", old)
    assert response.headers["Link"] == '<https://crm.example.org/docs/best-practices#sunset>; rel="sunset"'


def test_the_sunset_header_costs_no_query(api, tenants, crm_data, caplog):
    """The header comes from the key row authentication loaded: a rolled key's request runs the same SQL."""
    _, steady = make_key(tenants, "Steady")
    key, ending = make_key(tenants, "Ending")
    with db.connection_context():
        apikeys.roll(key, "24h", actor=tenants.admin)

    def queries(token):
        api("GET", "/v1/workflows/", token)  # the first use writes the activity clock; the next one does not
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            response = api("GET", "/v1/workflows/", token)
        return response, [r for r in caplog.records if r.name == "peewee"]

    plain, plain_queries = queries(steady)
    sunset, sunset_queries = queries(ending)
    assert "Sunset" not in plain.headers and "Sunset" in sunset.headers
    assert plain_queries and len(sunset_queries) == len(plain_queries)


# ------------------------------------------------------------------ GET /keys/self


@pytest.mark.parametrize("version", VERSIONS)
def test_a_key_describes_itself_without_any_scope(api, client, tenants, version):
    key, token = make_key(tenants, "Narrow", scopes=["contacts.readonly"])
    before = utcnow()
    response = api("GET", f"/{version}/keys/self", token)
    assert response.status_code == 200, response.get_json()
    schema_of(client, version, f"/{version}/keys/self", "get", 200).validate(response.get_json())
    answer = response.get_json()["key"]
    assert answer == {
        "id": str(key.id), "name": "Narrow", "kind": "location", "hint": tokens.hint(token),
        "scopes": ["contacts.readonly"], "locationId": tenants.north.api_id, "companyId": str(tenants.acme.id),
        "createdAt": answer["createdAt"], "lastUsedAt": None, "expiresAt": None, "deletionAt": answer["deletionAt"],
    }
    assert token not in response.get_data(as_text=True)
    deletion = datetime.datetime.fromisoformat(answer["deletionAt"].rstrip("Z"))
    assert deletion - before >= datetime.timedelta(days=90) - datetime.timedelta(seconds=1)
    # The first call was a use: the next one reports it.
    assert api("GET", f"/{version}/keys/self", token).get_json()["key"]["lastUsedAt"] is not None


def test_an_agency_key_has_no_location_and_api_2_needs_the_version_header(api, tenants):
    _, token = make_key(tenants, "Agency-wide", location=False)
    answer = api("GET", "/v2/keys/self", token).get_json()["key"]
    assert (answer["kind"], answer["locationId"]) == ("agency", None)
    missing = api("GET", "/v2/keys/self", token, version=None)
    assert missing.status_code == 400 and "Version header" in missing.get_json()["message"]
    assert api("GET", "/v1/keys/self", "not-a-key").status_code == 401


@pytest.mark.parametrize("version", VERSIONS)
def test_a_rolled_key_sees_its_end(api, tenants, version):
    key, old = make_key(tenants)
    with db.connection_context():
        apikeys.roll(key, "7d", actor=tenants.admin)
        ends = ApiKey.get_by_id(key.id).expires_at
    answer = api("GET", f"/{version}/keys/self", old).get_json()["key"]
    assert answer["expiresAt"] == answer["deletionAt"] == ends.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ends.microsecond // 1000:03d}Z"


# ------------------------------------------------------------------ POST /keys/self/roll


@pytest.mark.parametrize("version", VERSIONS)
def test_a_key_with_the_scope_rolls_itself_and_the_old_one_works_until_its_grace_ends(
    api, client, tenants, crm_data, version, sweep_on, caplog,  # noqa: F811
):
    caplog.set_level(logging.DEBUG)
    key, old = rotating_key(tenants)
    path = f"/{version}/keys/self/roll"
    response = api("POST", path, old, body={"grace": "1h"})
    status = 201 if version == "v2" else 200
    assert response.status_code == status, response.get_json()
    schema_of(client, version, path, "post", status).validate(response.get_json())
    answer = response.get_json()
    new = answer["key"]["apiKey"]
    assert tokens.kind_of(new) == tokens.LOCATION and new != old
    with db.connection_context():
        old_row = ApiKey.get_by_id(key.id)
        new_row = ApiKey.get(ApiKey.digest == tokens.digest(new))
    assert (new_row.name, new_row.scopes, new_row.created_by_id) == ("Rotating", key.scopes, tenants.admin.id)
    assert old_row.expires_at - utcnow() > datetime.timedelta(minutes=59)
    assert answer["previousKeyExpiresAt"] is not None and answer["key"]["expiresAt"] is None
    # The roll's own answer already tells the old key when it ends.
    assert response.headers["Sunset"] == http_date(old_row.expires_at.replace(tzinfo=datetime.UTC))

    # Both keys work during the grace period; the old one says it is ending, the new one does not.
    during_old = api("GET", f"/{version}/workflows/", old)
    assert during_old.status_code == 200 and "Sunset" in during_old.headers
    assert api("GET", f"/{version}/keys/self", new).get_json()["key"]["expiresAt"] is None

    # The audit log names the key as the actor; the key's managers find it in the bell.
    with db.connection_context():
        event = AuditEvent.get((AuditEvent.key == key.id) & (AuditEvent.action == "self_roll"))
        assert event.actor_id is None and event.actor_label == f"API key “Rotating” ({key.hint})"
        told = {n.user_id for n in Notification.select().where(Notification.kind == Notification.SELF_ROLLED)}
        assert told == {tenants.admin.id, tenants.staff.id, tenants.location_admin.id}
        message = Notification.get(Notification.user == tenants.admin.id).message
        assert "rolled itself through the API" in message and "North Clinic" in message
    bell, audit_log = _seen_by_admin(client, tenants)
    assert "rolled itself through the API" in bell
    assert "Rolled itself through the API" in audit_log and "API key “Rotating”" in audit_log

    # The new key was in that one answer only: no log line, no stored row holds it.
    assert not [r for r in caplog.records if new in r.getMessage() or new in str(r.__dict__)]
    with db.connection_context():
        assert new not in all_stored_text()

    # When the grace period ends, the sweep's worker deletes the old key; the new one goes on.
    sweep_on(old_row.expires_at)
    assert api("GET", f"/{version}/workflows/", old).status_code == 401
    assert api("GET", f"/{version}/workflows/", new).status_code == 200


def _seen_by_admin(client, tenants):
    """The admin's bell dropdown and audit log, as the dashboard shows them."""
    Auth(client).login(tenants.admin.email)
    return (client.get("/notifications/dropdown").get_data(as_text=True),
            client.get("/settings/audit-log?action=self_roll").get_data(as_text=True))


@pytest.mark.parametrize("version", VERSIONS)
def test_without_the_scope_a_key_may_not_roll_itself(api, keys, version):
    response = api("POST", f"/{version}/keys/self/roll", keys.north, body={"grace": "1h"})
    assert response.status_code == 403
    assert error_body(response) == {"statusCode": 403, "error": "Forbidden",
                                    "message": f"This key is not authorized for {SELF_ROLL}"}
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    with db.connection_context():
        assert ApiKey.get_by_id(keys.north_key.id).expires_at is None
    assert api("GET", f"/{version}/workflows/", keys.north).status_code == 200


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("body,status,message", [
    ({"grace": "forever"}, 422, "grace must be one of none, 1h, 24h, 7d"),
    ({"grace": 3600}, 422, "grace must be one of none, 1h, 24h, 7d"),
    ({"grace": ["1h"]}, 422, "grace must be one of none, 1h, 24h, 7d"),
    ("[1, 2]", 422, "The body must be a JSON object"),
    ("{not json", 400, "The body is not valid JSON"),
])
def test_bad_input_to_a_self_roll_is_named_and_changes_nothing(api, tenants, version, body, status, message):
    key, token = rotating_key(tenants)
    response = api("POST", f"/{version}/keys/self/roll", token, body=body)
    assert response.status_code == status
    assert error_body(response)["message"] == message
    with db.connection_context():
        assert ApiKey.get_by_id(key.id).expires_at is None and ApiKey.select().count() == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_a_self_roll_without_grace_stops_the_old_key_at_once_and_a_rolled_key_cannot_roll_again(api, tenants, version):
    _, first = rotating_key(tenants, "Now")
    response = api("POST", f"/{version}/keys/self/roll", first, body={"grace": "none"})
    assert response.status_code in (200, 201)
    assert api("GET", f"/{version}/keys/self", first).status_code == 401
    new = response.get_json()["key"]["apiKey"]

    _, second = rotating_key(tenants, "Later")
    defaulted = api("POST", f"/{version}/keys/self/roll", second)  # no body: the dashboard's default, 24 hours
    ends = datetime.datetime.fromisoformat(defaulted.get_json()["previousKeyExpiresAt"].rstrip("Z"))
    assert datetime.timedelta(hours=23, minutes=59) < ends - utcnow() <= datetime.timedelta(hours=24)
    again = api("POST", f"/{version}/keys/self/roll", second, body={"grace": "1h"})
    assert again.status_code == 409
    assert error_body(again)["message"] == "This key was rolled already; roll its replacement instead."
    # The replacement keeps the scope, so the integration can roll again on its next schedule.
    assert api("POST", f"/{version}/keys/self/roll", new, body={"grace": "1h"}).status_code in (200, 201)


def test_self_rolls_are_rate_limited_like_every_route(app, api, tenants):
    app.config["RATE_LIMIT_BURST"] = 1
    app.config["RATE_LIMIT_BURST_SECONDS"] = 3600  # one window for the whole test
    key, token = rotating_key(tenants)
    assert api("GET", "/v2/keys/self", token).status_code == 200
    limited = api("POST", "/v2/keys/self/roll", token, body={"grace": "1h"})
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    with db.connection_context():
        assert ApiKey.get_by_id(key.id).expires_at is None


# ------------------------------------------------------------------ insufficient_scope


@pytest.mark.parametrize("version", VERSIONS)
def test_a_missing_scope_is_challenged_but_a_wrong_key_kind_is_not(api, keys, crm_data, tenants, version):
    path = f"/{version}/contacts/{crm_data.north_contact.id}"
    refused = api("DELETE", path, keys.readonly)
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="contacts.write"'
    wrong_kind = api("GET", "/v1/locations/", keys.north)
    assert wrong_kind.status_code == 403 and "WWW-Authenticate" not in wrong_kind.headers
