"""HighLevel's official SDKs against a running Keyhouse, with only the base URL and the key changed.

The JavaScript SDK (`@gohighlevel/api-client` from npm, run with Debian's Node.js;
installed into tests/sdk/ by `make sdk`, which `make test` and .ci/run call) and the
Python SDK (PyPI `gohighlevel-api-client`, in the `test` extra) each make every call
of the contract they offer, with their default settings: their own Version header
(2023-02-21 and v3), their own HTTP client, their own paths and bodies.
"""

import asyncio
import json
import os
import pathlib
import shutil
import subprocess

import pytest

SDK_DIR = pathlib.Path(__file__).resolve().parent.parent / "sdk"
JS_SDK = SDK_DIR / "node_modules" / "@gohighlevel" / "api-client"
SUCCEEDED = {"succeeded": True, "succeded": True}


@pytest.fixture
def world(live_server, keys, crm_data, tenants):
    return {
        "KEYHOUSE_URL": live_server,
        "KEYHOUSE_KEY": keys.north,
        "KEYHOUSE_AGENCY_KEY": keys.agency,
        "LOCATION_ID": tenants.north.api_id,
        "COMPANY_ID": str(tenants.acme.id),
        "WORKFLOW_ID": crm_data.north_workflow.id,
    }


def check(out, world, listed=True):
    """What each SDK call got: the answers its typed models describe."""
    errors = {name: answer for name, answer in out.items() if isinstance(answer, dict) and "error" in answer}
    assert errors == {}
    field = out["customField"]["customField"]
    assert (field["name"], field["fieldKey"], field["dataType"]) == ("Plan", "contact.plan", "TEXT")
    assert field["id"] in [f["id"] for f in out["customFields"]["customFields"]]
    assert out["customFieldGot"] == {"customField": field}
    assert out["customFieldUpdated"]["customField"]["name"] == "Plan tier"
    contact = out["created"]["contact"]
    assert (contact["firstName"], contact["gender"], contact["dndSettings"]) == ("Ada", "female", {"SMS": {"status": "active"}})
    assert contact["customFields"] == [{"id": field["id"], "value": "gold"}]
    assert out["got"]["contact"]["id"] == contact["id"]
    assert out["updated"]["succeded"] is True and out["updated"]["contact"]["lastName"] == "Lovelace"
    if listed:
        assert contact["id"] in [c["id"] for c in out["listed"]["contacts"]]
    assert [c["id"] for c in out["searched"]["contacts"]] == [contact["id"]]
    assert out["duplicate"]["contact"]["id"] == contact["id"]
    assert out["upserted"]["new"] is False and out["upserted"]["contact"]["city"] == "London"
    assert out["tagsAdded"]["tags"] == ["sdk", "vip"] and out["tagsRemoved"]["tags"] == ["vip"]
    assert out["enrolled"] == SUCCEEDED and out["unenrolled"] == SUCCEEDED
    note = out["note"]["note"]
    assert note["body"] == "Met at the fair" and out["notes"]["notes"] == [note]
    assert out["noteGot"] == {"note": note} and out["noteUpdated"]["note"]["body"] == "Met at the spring fair"
    assert out["noteDeleted"] == SUCCEEDED
    task = out["task"]["task"]
    assert (task["title"], task["dueDate"], task["completed"]) == ("Call back", "2026-12-01T09:00:00.000Z", False)
    assert out["tasks"]["tasks"] == [task] and out["taskGot"] == {"task": task}
    assert out["taskUpdated"]["task"]["title"] == "Call back soon" and out["taskCompleted"]["task"]["completed"] is True
    assert out["taskDeleted"] == SUCCEEDED
    assert world["WORKFLOW_ID"] in [w["id"] for w in out["workflows"]["workflows"]]
    assert out["forms"]["total"] == 2 and out["submissions"]["meta"]["total"] == 2
    link = out["link"]["link"]
    assert link["id"] in [each["id"] for each in out["links"]["links"]] and out["linkGot"] == {"link": link}
    assert out["linkUpdated"]["link"]["name"] == "Spring fair" and out["linkDeleted"] == SUCCEEDED
    assert out["location"]["location"]["id"] == world["LOCATION_ID"]
    assert world["LOCATION_ID"] in [each["id"] for each in out["locations"]["locations"]]
    assert out["customFieldDeleted"] == SUCCEEDED and out["deleted"] == SUCCEEDED


def test_highlevels_javascript_sdk(world):
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is missing: `apt-get install -y nodejs npm`, then `make sdk` (the JavaScript SDK test needs both)")
    if not JS_SDK.is_dir():
        pytest.fail(f"HighLevel's JavaScript SDK is not installed in {SDK_DIR}: run `make sdk` (npm ci there)")
    result = subprocess.run([node, str(SDK_DIR / "highlevel_js.js")], env={**os.environ, **world},
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    check(json.loads(result.stdout), world)


def test_highlevels_python_sdk(world):
    from highlevel import HighLevel

    class Keyhouse(HighLevel):
        BASE_URL = world["KEYHOUSE_URL"] + "/v2"  # the base URL: a class attribute the constructor reads

    check(asyncio.run(python_calls(Keyhouse, world)), world, listed=False)  # it offers no contact list


async def python_calls(client_class, world):
    ghl = client_class(private_integration_token=world["KEYHOUSE_KEY"], log_level="error")
    agency = client_class(private_integration_token=world["KEYHOUSE_AGENCY_KEY"], log_level="error")
    location_id, workflow_id = world["LOCATION_ID"], world["WORKFLOW_ID"]
    out = {}

    async def call(name, coroutine):
        try:
            out[name] = await coroutine
        except Exception as error:  # the SDK raises GHLError on 4xx/5xx: keep it as an answer
            out[name] = {"error": getattr(error, "status_code", None) or repr(error),
                         "body": getattr(error, "response", None)}
        return out[name]

    contacts, locations, links = ghl.contacts, ghl.locations, ghl.links
    field = (await call("customField", locations.create_custom_field(location_id, {"name": "Plan", "dataType": "TEXT"})))["customField"]
    await call("customFields", locations.get_custom_fields(location_id))
    await call("customFieldGot", locations.get_custom_field(location_id, field["id"]))
    await call("customFieldUpdated", locations.update_custom_field(location_id, field["id"], {"name": "Plan tier"}))
    contact = (await call("created", contacts.create_contact({
        "locationId": location_id, "firstName": "Ada", "email": "ada@example.com", "gender": "female", "tags": ["sdk"],
        "dndSettings": {"SMS": {"status": "active"}}, "customFields": [{"key": "plan", "field_value": "gold"}],
    })))["contact"]
    contact_id = contact["id"]
    await call("got", contacts.get_contact(contact_id))
    await call("updated", contacts.update_contact(contact_id, {"lastName": "Lovelace"}))
    await call("searched", contacts.search_contacts_advanced({"locationId": location_id, "query": "ada@example.com",
                                                              "pageLimit": 20}))
    await call("duplicate", contacts.get_duplicate_contact(location_id, email="ada@example.com"))
    await call("upserted", contacts.upsert_contact({"locationId": location_id, "email": "ada@example.com", "city": "London"}))
    await call("tagsAdded", contacts.add_tags(contact_id, {"tags": ["vip"]}))
    await call("tagsRemoved", contacts.remove_tags(contact_id, {"tags": ["sdk"]}))
    await call("enrolled", contacts.add_contact_to_workflow(contact_id, workflow_id, {"eventStartTime": "2026-12-24T10:00:00Z"}))
    await call("unenrolled", contacts.delete_contact_from_workflow(contact_id, workflow_id, {}))
    note = (await call("note", contacts.create_note(contact_id, {"body": "Met at the fair"})))["note"]
    await call("notes", contacts.get_all_notes(contact_id))
    await call("noteGot", contacts.get_note(contact_id, note["id"]))
    await call("noteUpdated", contacts.update_note(contact_id, note["id"], {"body": "Met at the spring fair"}))
    await call("noteDeleted", contacts.delete_note(contact_id, note["id"]))
    task = (await call("task", contacts.create_task(contact_id, {"title": "Call back", "dueDate": "2026-12-01T09:00:00Z",
                                                                 "completed": False})))["task"]
    await call("tasks", contacts.get_all_tasks(contact_id))
    await call("taskGot", contacts.get_task(contact_id, task["id"]))
    await call("taskUpdated", contacts.update_task(contact_id, task["id"], {"title": "Call back soon"}))
    await call("taskCompleted", contacts.update_task_completed(contact_id, task["id"], {"completed": True}))
    await call("taskDeleted", contacts.delete_task(contact_id, task["id"]))
    await call("workflows", ghl.workflows.get_workflow(location_id))
    await call("forms", ghl.forms.get_forms(location_id))
    await call("submissions", ghl.forms.get_forms_submissions(location_id))
    link = (await call("link", links.create_link({"locationId": location_id, "name": "Fair",
                                                  "redirectTo": "https://example.com/fair"})))["link"]
    await call("links", links.get_links(location_id))
    await call("linkGot", links.get_link_by_id(location_id, link["id"]))
    await call("linkUpdated", links.update_link(link["id"], {"name": "Spring fair", "redirectTo": "https://example.com/fair"}))
    await call("linkDeleted", links.delete_link(link["id"]))
    await call("location", locations.get_location(location_id))
    await call("locations", agency.locations.search_locations(company_id=world["COMPANY_ID"]))
    await call("customFieldDeleted", locations.delete_custom_field(location_id, field["id"]))
    await call("deleted", contacts.delete_contact(contact_id))
    for client in (ghl, agency):
        await client.http_client.aclose()
    return out
