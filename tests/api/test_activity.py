"""The location's staff see what integrations did: submissions, clicks and enrollments."""

from keyhouse.crm import actions as crm
from keyhouse.models import Contact, TriggerLink, Workflow, db


def test_staff_see_their_locations_activity(client, auth, tenants, crm_data):
    with db.connection_context():
        link = TriggerLink.get_by_id(crm_data.north_link.id)
        contact = Contact.get_by_id(crm_data.north_contact.id)
        crm.record_click(link, contact.id)
        crm.enroll(contact, Workflow.get_by_id(crm_data.north_workflow.id))
    auth.login("north.admin@acme.test")
    html = client.get(f"/activity/{tenants.north.api_id}").get_data(as_text=True)
    assert "dana@example.com" in html and "Contact us" in html  # the demo submissions
    assert f"<td>{link.name}</td><td>{contact.name}</td>" in html
    assert "New lead follow-up" in html
    index = client.get("/activity/").get_data(as_text=True)
    assert "North Clinic" in index and "South Gym" not in index


def test_other_locations_activity_is_404(client, auth, tenants, crm_data):
    auth.login("south.user@acme.test")
    assert client.get(f"/activity/{tenants.north.api_id}").status_code == 404
    assert client.get(f"/activity/{tenants.elsewhere.api_id}").status_code == 404
    assert client.get("/activity/nope").status_code == 404
    assert client.get(f"/activity/{tenants.south.api_id}").status_code == 200


def test_activity_needs_a_sign_in(client, tenants):
    response = client.get(f"/activity/{tenants.north.api_id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
