"""One authentication path for both versions: every route answers the contract's 400/401/403/404."""

import logging
import re

import pytest

from blueprints.api.common import ROUTES
from keyhouse.keys import apikeys, tokens
from keyhouse.keys.scopes import KIND_SCOPES
from keyhouse.models import ApiKey, AuditEvent, db
from tests.helpers import VERSION, error_body

ALL_ROUTES = sorted(ROUTES.values(), key=lambda route: (route.version, route.rule, route.method))


def sample_path(route, data, tenants, where="north"):
    """The route's path with real ids of `where`'s resources (and its locationId for API 2.0)."""
    location = getattr(tenants, where)
    values = {
        "contactId": getattr(data, f"{where}_contact").id,
        "workflowId": getattr(data, f"{where}_workflow").id,
        "linkId": getattr(data, f"{where}_link").id,
        "locationId": location.api_id,
        "noteId": getattr(data, f"{where}_note").id,
        "taskId": getattr(data, f"{where}_task").id,
        "customFieldId": getattr(data, f"{where}_custom_field").id,
        "id": getattr(data, f"{where}_custom_field" if "customFields" in route.rule else f"{where}_note").id,
    }
    path = route.path.format(**values)
    if route.version == "v2" and any(field.name == "locationId" for field in route.query):
        path += f"?locationId={location.api_id}"
    return path


def body_for(route):
    return {"tags": ["x"]} if route.body else None


def test_every_api_route_is_in_the_table(app):
    api_rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(("/v1/", "/v2/"))]
    # Outside the table: the OpenAPI documents and the public leak report (none needs a key).
    assert {rule.endpoint for rule in api_rules} - set(ROUTES) == {
        "v1.openapi_document", "v2.openapi_document", "v1.revoke_credentials"}


def test_every_route_refuses_missing_malformed_invalid_deactivated_and_deleted_keys(api, keys, crm_data, tenants):
    for route in ALL_ROUTES:
        refuses_bad_keys(route, api, keys, crm_data, tenants)


def refuses_bad_keys(route, api, keys, crm_data, tenants):
    path = sample_path(route, crm_data, tenants)
    forged = tokens.generate("location")  # well-formed, valid checksum, never issued
    cases = [
        (None, "Missing or malformed API key"),
        ("not-a-key", "Missing or malformed API key"),
        (keys.north[:-1] + ("A" if keys.north[-1] != "A" else "B"), "Missing or malformed API key"),
        (forged, "Invalid API key"),
        (keys.deleted, "Invalid API key"),
        (keys.deactivated, "API key is deactivated"),
    ]
    for key, message in cases:
        response = api(route.method, path, key, body=body_for(route))
        assert response.status_code == 401, (route.path, key, response.get_json())
        assert error_body(response) == {"statusCode": 401, "error": "Unauthorized", "message": message}
        assert response.headers["X-RateLimit-Max"] == "100"


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "bearer  ", "Token kha_x", ""])
def test_a_malformed_authorization_header_is_401(api, keys, header):
    response = api("GET", "/v1/contacts/", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["message"] == "Missing or malformed API key"


def test_the_scheme_is_case_insensitive(api, keys, crm_data):
    response = api("GET", "/v1/contacts/", headers={"Authorization": f"bearer {keys.north}"})
    assert response.status_code == 200


def test_every_route_needs_its_scope(api, tenants, crm_data):
    """A key with every scope of its kind but the route's own gets 403 naming the scope."""
    tokens_by_scope = {}
    with db.connection_context():
        for kind in KIND_SCOPES:
            for scope in KIND_SCOPES[kind]:
                others = [other for other in KIND_SCOPES[kind] if other != scope]
                _, tokens_by_scope[kind, scope] = apikeys.create(
                    agency_id=tenants.acme.id, location_id=tenants.north.id if kind == tokens.LOCATION else None,
                    name=f"without {scope}", scopes=others,
                )
    scoped = [route for route in ALL_ROUTES if route.scope is not None]
    assert {route.path for route in ALL_ROUTES if route.scope is None} == {"/v1/keys/self", "/v2/keys/self"}
    for route in scoped:
        token = tokens_by_scope[route.kind or tokens.LOCATION, route.scope]
        response = api(route.method, sample_path(route, crm_data, tenants), token, body=body_for(route))
        assert response.status_code == 403, route.path
        assert error_body(response) == {
            "statusCode": 403, "error": "Forbidden", "message": f"This key is not authorized for {route.scope}",
        }
        # RFC 6750: the challenge names the missing scope, so a client can tell what to ask for.
        assert response.headers["WWW-Authenticate"] == f'Bearer error="insufficient_scope", scope="{route.scope}"'


V2_ROUTES = [route for route in ALL_ROUTES if route.version == "v2"]


def test_api_2_needs_a_known_version_header(api, keys, crm_data, tenants):
    for route in V2_ROUTES:
        path = sample_path(route, crm_data, tenants)
        for version in (None, "", "2020-01-01", "v2"):
            response = api(route.method, path, keys.north, body=body_for(route), version=version)
            assert response.status_code == 400, (route.path, version)
            body = response.get_json()
            assert body["error"] == "Bad Request" and "Version header" in body["message"]
    for version in ("2021-07-28", "2021-04-15", "2023-02-21", "v3"):  # every value HighLevel documents
        assert api("GET", "/v2/workflows/", keys.north, version=version).status_code == 200


def test_api_1_ignores_the_version_header(api, keys, crm_data):
    assert api("GET", "/v1/workflows/", keys.north, headers={"Version": "nonsense"}).status_code == 200
    assert api("GET", "/v1/workflows/", keys.north).status_code == 200


V1_LOCATION_ROUTES = [r for r in ALL_ROUTES if r.version == "v1" and r.kind == tokens.LOCATION]
AGENCY_ROUTES = [r for r in ALL_ROUTES if r.kind == tokens.AGENCY]


def test_api_1_location_resources_refuse_agency_keys(api, keys, crm_data, tenants):
    for route in V1_LOCATION_ROUTES:
        response = api(route.method, sample_path(route, crm_data, tenants), keys.agency, body=body_for(route))
        assert response.status_code == 403, route.path
        assert "needs a location key" in response.get_json()["message"]


def test_agency_routes_refuse_location_keys(api, keys, crm_data, tenants):
    assert AGENCY_ROUTES
    for route in AGENCY_ROUTES:
        response = api(route.method, sample_path(route, crm_data, tenants), keys.north, body=body_for(route))
        assert response.status_code == 403, route.path
        assert response.get_json()["message"] == "This route needs an agency key"


ID_ROUTES = [r for r in ALL_ROUTES if r.path_params and r.kind != tokens.AGENCY]


def test_another_tenants_resources_are_not_found(api, keys, crm_data, tenants):
    """North's key (and Acme's agency key on API 2.0) asking for Elsewhere's or South's ids: 404."""
    for route in ID_ROUTES:
        not_found_elsewhere(route, api, keys, crm_data, tenants)


def not_found_elsewhere(route, api, keys, crm_data, tenants):
    callers = [(keys.north, "elsewhere"), (keys.north, "south")]
    if route.version == "v2":
        callers.append((keys.agency, "elsewhere"))
        if "locationId" not in route.path_params:  # the agency's own South, while naming North
            callers.append((keys.agency, "south"))
    for key, where in callers:
        path = sample_path(route, crm_data, tenants, where=where)
        if "?" in path:  # name the caller's own location, ask for the other's resource
            path = path.split("?")[0] + f"?locationId={tenants.north.api_id}"
        response = api(route.method, path, key, body=body_for(route) if route.method != "DELETE" else None)
        assert response.status_code == 404, (path, response.get_json())
        body = response.get_json()
        assert body["statusCode"] == 404 and body["error"] == "Not Found"
        assert re.fullmatch(r"(Contact|Workflow|Link|Location|Note|Task|Custom field) not found", body["message"])


def test_a_location_key_naming_another_location_is_not_found(api, keys, crm_data, tenants):
    for other in (tenants.south, tenants.elsewhere):
        response = api("GET", f"/v2/contacts/?locationId={other.api_id}", keys.north)
        assert response.status_code == 404
        assert response.get_json()["message"] == "Location not found"


def test_an_agency_key_needs_a_location_id_on_location_resources(api, keys, crm_data, tenants):
    response = api("GET", "/v2/contacts/", keys.agency)
    assert response.status_code == 422
    assert "locationId" in response.get_json()["message"]
    response = api("GET", f"/v2/contacts/?locationId={tenants.elsewhere.api_id}", keys.agency)
    assert response.status_code == 404
    assert api("GET", f"/v2/contacts/?locationId={tenants.south.api_id}", keys.agency).status_code == 200


def test_a_successful_request_moves_the_keys_activity_clock(api, keys, crm_data):
    with db.connection_context():
        before = ApiKey.get_by_id(keys.north_key.id)
    assert before.last_used_at is None
    response = api("GET", "/v1/contacts/", keys.north, headers={"User-Agent": "integration/1.0"},
                   environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200
    with db.connection_context():
        after = ApiKey.get_by_id(keys.north_key.id)
    assert after.last_used_at is not None and after.activity_at >= before.activity_at
    assert after.last_used_ip == "203.0.113.9"
    assert after.last_used_user_agent == "integration/1.0"


def test_a_failed_request_does_not_count_as_use(api, keys, crm_data):
    assert api("GET", "/v1/contacts/NOPE", keys.north).status_code == 404
    assert api("GET", "/v1/locations/", keys.north).status_code == 403
    with db.connection_context():
        assert ApiKey.get_by_id(keys.north_key.id).last_used_at is None


def test_a_trusted_proxys_client_ip_is_recorded(settings, keys, crm_data):
    from app import create_app

    proxied = create_app({**settings, "TRUSTED_PROXY_COUNT": 1}).test_client()
    response = proxied.get(
        "/v1/workflows/",
        headers={"Authorization": f"Bearer {keys.north}", "X-Forwarded-For": "198.51.100.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.status_code == 200
    with db.connection_context():
        assert ApiKey.get_by_id(keys.north_key.id).last_used_ip == "198.51.100.7"


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(api, keys, crm_data):
    api("GET", "/v1/workflows/", keys.north, headers={"X-Forwarded-For": "198.51.100.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"})
    with db.connection_context():
        assert ApiKey.get_by_id(keys.north_key.id).last_used_ip == "10.0.0.2"


def test_failures_are_logged_without_the_key(api, keys, crm_data, caplog):
    caplog.set_level(logging.DEBUG)
    tampered = keys.north[:-1] + ("1" if keys.north.endswith("0") else "0")
    secrets = [keys.deactivated, keys.deleted, tampered, tokens.generate("agency")]
    for secret in secrets:
        assert api("GET", "/v1/contacts/", secret).status_code == 401
        assert api("GET", f"/v1/contacts/{secret}", secret).status_code == 401  # a key pasted into the path
        assert api("GET", "/v2/contacts/", secret, version="bad").status_code == 400
    assert "API authentication failed" in caplog.text
    for secret in secrets + [keys.north]:
        assert secret not in caplog.text
        assert secret[4:-4] not in caplog.text  # not even partially (beyond the hint's first and last four)


def test_a_401_carries_the_bearer_challenge(api, keys, crm_data):
    # RFC 6750: no key at all gets the bare challenge; a key that was sent, invalid_token.
    assert api("GET", "/v1/contacts/", None).headers["WWW-Authenticate"] == 'Bearer realm="Keyhouse"'
    for token in ("nope", keys.deactivated, tokens.generate("agency")):
        answer = api("GET", "/v1/contacts/", token)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="Keyhouse", error="invalid_token"'


def test_a_malformed_key_gets_the_request_line_only(api, caplog):
    # A malformed token cannot match a key: no warning of its own, so junk traffic
    # costs one log line per request, the request line with its 401.
    caplog.set_level(logging.DEBUG)
    for token in ("nope", "khl_" + "A" * 20):
        assert api("GET", "/v1/contacts/", token).status_code == 401
    assert [record for record in caplog.records if record.name == "keyhouse.api"] == []
    statuses = [record.request_fields["status"] for record in caplog.records if record.name == "keyhouse.requests"]
    assert statuses == [401, 401]


def test_a_burst_of_failures_is_logged_and_audited_once(app, api, keys, crm_data, caplog):
    app.config["AUTH_FAILURE_BURST"] = 3
    caplog.set_level(logging.WARNING)
    for _ in range(5):
        assert api("GET", "/v1/contacts/", keys.deactivated, environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 401
    assert caplog.text.count("Burst of 3 failed API authentications from 192.0.2.1") == 1
    with db.connection_context():
        events = list(AuditEvent.select().where(AuditEvent.action == "auth_failures"))
    assert len(events) == 1 and events[0].ip == "192.0.2.1"
    assert keys.deactivated not in events[0].detail


def test_malformed_tokens_are_refused_without_touching_redis(app, api, redis, crm_data):
    redis.flushdb()
    for token in ("kha_short", "khl_" + "A" * 38, "not-a-key"):
        assert api("GET", "/v1/contacts/", token).status_code == 401
    assert list(redis.scan_iter()) == []


def test_responses_never_echo_the_key(api, keys, crm_data, tenants):
    for key in (keys.north, keys.deactivated, keys.deleted):
        for method, path in (("GET", "/v1/contacts/"), ("GET", "/v2/contacts/"), ("POST", "/v2/links/")):
            response = api(method, path, key, body={"name": key} if method == "POST" else None)
            assert key not in response.get_data(as_text=True)
            assert all(key not in value for value in response.headers.values())


def test_version_is_checked_before_the_key(api):
    response = api("GET", "/v2/workflows/", None, version=None)
    assert response.status_code == 400
    assert VERSION in response.get_json()["message"]


def test_a_rolled_key_works_during_its_grace_period_and_not_after(api, keys, crm_data):
    with db.connection_context():
        old = ApiKey.get_by_id(keys.north_key.id)
        _, new_token = apikeys.roll(old, grace="1h")
    assert api("GET", "/v1/workflows/", keys.north).status_code == 200  # grace period
    assert api("GET", "/v1/workflows/", new_token).status_code == 200
    with db.connection_context():
        ApiKey.update(expires_at=ApiKey.created_at).where(ApiKey.id == old.id).execute()
    expired = api("GET", "/v1/workflows/", keys.north)
    assert expired.status_code == 401 and expired.get_json()["message"] == "Invalid API key"


def test_a_key_rolled_without_grace_stops_at_once(api, keys, crm_data):
    with db.connection_context():
        _, new_token = apikeys.roll(ApiKey.get_by_id(keys.north_key.id), grace="none")
    assert api("GET", "/v1/workflows/", keys.north).get_json()["message"] == "Invalid API key"
    assert api("GET", "/v1/workflows/", new_token).status_code == 200


def test_a_dashboard_session_neither_authenticates_nor_follows_api_calls(app, client, auth, keys, crm_data, tenants):
    from tests.api.conftest import Api

    api = Api(client)
    assert auth.login("admin@acme.test").status_code == 302  # the browser now carries a session cookie
    path = f"/v2/locations/{tenants.north.api_id}"
    refused = api("GET", path)
    assert refused.status_code == 401
    assert refused.get_json()["message"] == "Missing or malformed API key"
    answered = api("GET", path, keys.north)
    assert answered.status_code == 200
    for response in (refused, answered):
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
    assert client.get("/settings/api-keys").status_code == 200  # still signed in on the dashboard
