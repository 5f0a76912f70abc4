"""IP allowlists per key: IPv4 and IPv6 addresses and CIDR ranges, behind trusted proxies;
a refusal is a 403 that names the reason but never the list, and is counted in the audit log."""

import pytest

from keyhouse.keys import allowlist, apikeys
from keyhouse.models import ApiKey, AuditEvent, db


def allow(key, text):
    with db.connection_context():
        apikeys.set_allowlist(ApiKey.get_by_id(key.id), text)


def call(api, token, address):
    return api("GET", "/v1/workflows/", token, environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("text, address, allowed", [
    ("203.0.113.7", "203.0.113.7", True),
    ("203.0.113.7", "203.0.113.8", False),
    ("198.51.100.0/24", "198.51.100.255", True),
    ("198.51.100.0/24", "198.51.101.1", False),
    ("2001:db8::/32", "2001:db8:ffff::1", True),
    ("2001:db8::/32", "2001:db9::1", False),
    ("2001:db8::1", "2001:0db8:0000::0001", True),  # any spelling of the same address
    ("203.0.113.0/24", "::ffff:203.0.113.9", True),  # an IPv4 client seen through an IPv6 socket
    ("2001:db8::/32", "203.0.113.7", False),  # versions never mix
    ("203.0.113.7, 2001:db8::/48\n10.1.0.0/16", "10.1.200.3", True),
])
def test_addresses_and_ranges_of_both_versions(api, keys, crm_data, text, address, allowed):
    allow(keys.north_key, text)
    response = call(api, keys.north, address)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        body = response.get_json()
        assert body["message"] == allowlist.REFUSED_MESSAGE
        for entry in allowlist.entries(allowlist.clean(text)):  # the list never shows
            assert entry.split("/")[0] not in response.get_data(as_text=True)


def test_a_key_without_a_list_works_from_anywhere_and_other_keys_are_untouched(api, keys, crm_data):
    allow(keys.north_key, "203.0.113.7")
    assert call(api, keys.south, "192.0.2.1").status_code == 200
    allow(keys.north_key, "")
    assert call(api, keys.north, "192.0.2.1").status_code == 200


def test_a_refused_request_does_not_count_as_use(api, keys, crm_data):
    allow(keys.north_key, "203.0.113.7")
    assert call(api, keys.north, "192.0.2.1").status_code == 403
    with db.connection_context():
        assert ApiKey.get_by_id(keys.north_key.id).last_used_at is None


def test_behind_a_trusted_proxy_the_forwarded_address_decides(settings, keys, crm_data):
    from app import create_app

    allow(keys.north_key, "198.51.100.0/24")
    proxied = create_app({**settings, "TRUSTED_PROXY_COUNT": 1}).test_client()

    def via_proxy(forwarded):
        return proxied.get("/v1/workflows/", headers={"Authorization": f"Bearer {keys.north}", "X-Forwarded-For": forwarded},
                           environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code

    assert via_proxy("198.51.100.7") == 200
    assert via_proxy("192.0.2.1") == 403
    # A client cannot smuggle an allowed address in front of the one the proxy saw.
    assert via_proxy("198.51.100.7, 192.0.2.1") == 403


def test_without_a_trusted_proxy_a_forwarded_header_cannot_pass_the_list(api, keys, crm_data):
    allow(keys.north_key, "198.51.100.0/24")
    response = api("GET", "/v1/workflows/", keys.north, headers={"X-Forwarded-For": "198.51.100.7"},
                   environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert response.status_code == 403


def test_refusals_are_counted_in_the_audit_log_without_a_row_per_request(api, keys, crm_data):
    allow(keys.north_key, "203.0.113.7")
    for _ in range(12):
        assert call(api, keys.north, "192.0.2.1").status_code == 403
    with db.connection_context():
        events = list(AuditEvent.select().where(AuditEvent.action == "ip_refused").order_by(AuditEvent.id))
    # The 1st and the 10th refusal of the window: a flood adds a handful of rows, not one per request.
    assert [e.detail.split(" ")[0] for e in events] == ["1", "10"]
    assert all(e.ip == "192.0.2.1" and e.key_id == keys.north_key.id for e in events)
    assert "203.0.113.7" not in " ".join(e.detail for e in events)


@pytest.mark.parametrize("text, message", [
    ("203.0.113.300", "“203.0.113.300”"),
    ("example.com 10.0.0.0/33", "“example.com”, “10.0.0.0/33”"),
])
def test_bad_entries_are_refused_naming_each(app, tenants, text, message):
    with app.app_context(), db.connection_context():
        key, _ = apikeys.create(agency_id=tenants.acme.id, name="Listed")
        with pytest.raises(apikeys.KeyProblem) as refused:
            apikeys.set_allowlist(key, text)
        assert message in refused.value.message and refused.value.field == "allowlist"
        assert ApiKey.get_by_id(key.id).allowed_ips is None


def test_the_stored_list_is_canonical():
    assert allowlist.clean(" 198.51.100.9/24,2001:DB8::1\n203.0.113.7 203.0.113.7 ") == "198.51.100.0/24 203.0.113.7 2001:db8::1"
    assert allowlist.clean("  ") is None
