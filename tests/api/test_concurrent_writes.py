"""Concurrent writes through the API, from real threads against the real database (SQLite or PostgreSQL):
none fails, upserts make one contact per email and per phone, enrolls make one enrollment."""

import random
import threading

from keyhouse.models import Contact, Enrollment, db
from tests.api.conftest import Api

THREADS = 6


def in_threads(app, work, count=THREADS):
    """Run work(api, number) in `count` threads started together; returns every response status."""
    app.config["RATE_LIMIT_BURST"] = 100_000  # the load is the point here, not the per-key limit
    start = threading.Barrier(count)
    statuses, errors = [], []

    def run(number):
        api = Api(app.test_client())
        start.wait()
        try:
            statuses.extend(work(api, number))
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return statuses


def test_concurrent_writes_from_six_threads_all_succeed(app, keys, crm_data):
    contact_id = crm_data.north_contact.id

    def work(api, number):
        statuses = []
        for step in range(30):
            email = f"writer{number}.{step}@example.com"
            statuses.append(api("POST", "/v2/contacts/upsert", keys.north, {"email": email, "firstName": "W"}).status_code)
            statuses.append(api("POST", f"/v1/contacts/{contact_id}/tags/", keys.north, {"tags": [f"t{number}"]}).status_code)
            statuses.append(api("PUT", f"/v2/contacts/{contact_id}", keys.north, {"city": f"City {step}"}).status_code)
        return statuses

    statuses = in_threads(app, work)
    assert len(statuses) == THREADS * 30 * 3
    assert [status for status in statuses if status >= 300] == []
    with db.connection_context():
        assert Contact.select().where(Contact.email.startswith("writer")).count() == THREADS * 30
        assert {f"t{n}" for n in range(THREADS)} <= set(Contact.get_by_id(contact_id).tags)


def test_concurrent_upserts_make_one_contact_per_email_and_per_phone(app, keys, crm_data):
    emails = [f"same{n}@example.com" for n in range(10)]
    phones = [f"+1555000{n:04d}" for n in range(10)]

    def work(api, number):
        order = random.Random(number).sample(range(10), 10)
        statuses = []
        for n in order:
            statuses.append(api("POST", "/v2/contacts/upsert", keys.north, {"email": emails[n], "lastName": f"T{number}"}).status_code)
            statuses.append(api("POST", "/v2/contacts/upsert", keys.north, {"phone": phones[n]}).status_code)
        return statuses

    statuses = in_threads(app, work)
    assert [status for status in statuses if status >= 300] == []
    with db.connection_context():
        north = Contact.location == crm_data.north_contact.location_id
        for email in emails:
            assert Contact.select().where(north & (Contact.email == email)).count() == 1, email
        for phone in phones:
            assert Contact.select().where(north & (Contact.phone == phone)).count() == 1, phone


def test_concurrent_form_posts_of_one_email_make_one_contact(app, crm_data):
    form = crm_data.north_form
    emails = [f"form{n}@example.com" for n in range(5)]

    def work(api, number):
        return [
            api.client.post(f"/f/{form.id}", json={"email": email, "first_name": f"F{number}"}).status_code
            for email in emails
        ]

    statuses = in_threads(app, work)
    assert [status for status in statuses if status >= 300] == []
    with db.connection_context():
        for email in emails:
            assert Contact.select().where(Contact.email == email).count() == 1, email


def test_concurrent_enrolls_of_one_contact_in_one_workflow_make_one_enrollment(app, keys, crm_data):
    contact, workflow = crm_data.north_contact, crm_data.north_workflow
    with db.connection_context():
        Enrollment.delete().where((Enrollment.contact == contact.id) & (Enrollment.workflow == workflow.id)).execute()

    def work(api, number):
        statuses = []
        for step in range(12):
            version = "v1" if step % 2 else "v2"
            path = f"/{version}/contacts/{contact.id}/workflow/{workflow.id}"
            statuses.append(api("POST", path, keys.north, {"eventStartTime": "2027-01-01T10:00:00Z"}).status_code)
        return statuses

    statuses = in_threads(app, work, count=8)
    assert len(statuses) == 96 and [status for status in statuses if status >= 300] == []
    with db.connection_context():
        pair = (Enrollment.contact == contact.id) & (Enrollment.workflow == workflow.id)
        assert Enrollment.select().where(pair).count() == 1
