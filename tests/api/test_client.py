"""A scripted integration that knows only the contract: a base URL and a key, over real HTTP."""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest


@pytest.fixture
def server(live_server):
    return live_server


class Client:
    """What an integration written for HighLevel would do, with only the base URL swapped."""

    def __init__(self, base_url, key, version=None):
        self.base_url, self.key, self.version = base_url, key, version

    def call(self, method, path, body=None):
        request = urllib.request.Request(self.base_url + path, method=method)
        request.add_header("Authorization", f"Bearer {self.key}")
        request.add_header("Accept", "application/json")
        if self.version:
            request.add_header("Version", self.version)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, data=data, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}"), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read()), dict(error.headers)


def find_one(items, **match):
    return next(item for item in items if all(item[k] == v for k, v in match.items()))


def test_api_2_integration(server, keys, crm_data, tenants):
    api = Client(server + "/v2", keys.north, version="2021-07-28")
    location = tenants.north.api_id
    status, body, headers = api.call("POST", "/contacts/", {"locationId": location, "firstName": "Ivy",
                                                            "email": "ivy@example.com"})
    assert status == 201 and "X-RateLimit-Remaining" in headers
    contact_id = body["contact"]["id"]
    status, body, _ = api.call("POST", "/contacts/search", {"locationId": location, "query": "ivy@example.com"})
    assert [c["id"] for c in body["contacts"]] == [contact_id]
    status, body, _ = api.call("POST", f"/contacts/{contact_id}/tags", {"tags": ["webinar"]})
    assert (status, body) == (201, {"tags": ["webinar"]})
    status, body, _ = api.call("GET", f"/workflows/?locationId={location}")
    workflow = find_one(body["workflows"], name="New lead follow-up")
    status, body, _ = api.call("POST", f"/contacts/{contact_id}/workflow/{workflow['id']}",
                               {"eventStartTime": "2026-12-24T10:00:00+01:00"})
    assert (status, body) == (200, {"succeeded": True, "succeded": True})
    status, body, _ = api.call("GET", f"/forms/?locationId={location}")
    form = find_one(body["forms"], name="Contact us")
    status, body, _ = api.call("GET", f"/forms/submissions?locationId={location}&formId={form['id']}")
    assert status == 200 and body["meta"]["total"] == 2
    status, body, _ = api.call("POST", "/links/", {"locationId": location, "name": "Ivy", "redirectTo": "https://example.com/i"})
    assert status == 201
    link_id = body["link"]["id"]
    status, body, _ = api.call("PUT", f"/links/{link_id}", {"name": "Ivy's link"})
    assert (status, body["link"]["name"]) == (201, "Ivy's link")
    status, body, _ = api.call("GET", f"/links/?locationId={location}")
    assert link_id in [link["id"] for link in body["links"]]
    assert api.call("DELETE", f"/links/{link_id}")[:2] == (201, {"succeeded": True, "succeded": True})
    assert api.call("DELETE", f"/contacts/{contact_id}")[:2] == (200, {"succeeded": True, "succeded": True})
    status, body, _ = api.call("GET", f"/contacts/{contact_id}")
    assert (status, body["message"]) == (404, "Contact not found")


def test_api_1_integration(server, keys, crm_data):
    api = Client(server + "/v1", keys.north)
    status, body, _ = api.call("POST", "/contacts/", {"firstName": "Jo", "phone": "+1 555 0199"})
    assert status == 200
    contact_id = body["contact"]["id"]
    status, body, _ = api.call("GET", "/contacts/lookup?phone=%2B15550199")
    assert [c["id"] for c in body["contacts"]] == [contact_id]
    status, body, _ = api.call("POST", f"/contacts/{contact_id}/tags/", {"tags": ["vip"]})
    assert body == {"tags": ["vip"]}
    status, body, _ = api.call("GET", "/workflows/")
    workflow = find_one(body["workflows"], status="published")
    assert api.call("POST", f"/contacts/{contact_id}/workflow/{workflow['id']}", {})[:2] == (200, {})
    status, body, _ = api.call("GET", "/forms/")
    assert len(body["forms"]) == 2
    status, body, _ = api.call("GET", "/forms/submissions?limit=1")
    assert body["meta"]["total"] == 2 and body["meta"]["nextPage"] == 2
    status, body, _ = api.call("GET", "/links/")
    assert len(body["links"]) == 2
    assert api.call("DELETE", f"/contacts/{contact_id}")[:2] == (200, {})
    agency = Client(server + "/v1", keys.agency)
    status, body, _ = agency.call("POST", "/locations/", {"name": "Pop-up Store"})
    assert status == 200
    status, body, _ = agency.call("PUT", f"/locations/{body['id']}", {"city": "York"})
    assert body["city"] == "York"
    assert agency.call("DELETE", f"/locations/{body['id']}")[:2] == (200, {})


def test_the_documents_name_this_server(server):
    document_url = server + "/v2/openapi.json"
    with urllib.request.urlopen(document_url, timeout=10) as response:
        (entry,) = json.loads(response.read())["servers"]
    # Relative to the document (so never taken from the Host header), it resolves to this server.
    assert urllib.parse.urljoin(document_url, entry["url"]) == server + "/"
