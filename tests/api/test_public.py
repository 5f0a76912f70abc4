"""The public side: trigger links and form posts, without a key or a CSRF token."""

import json

from keyhouse.models import Contact, FormSubmission, LinkClick, db


def test_a_trigger_link_records_the_click_and_redirects(client, crm_data):
    link = crm_data.north_link
    response = client.get(f"/l/{link.id}?contact_id={crm_data.north_contact.id}",
                          environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert response.status_code == 302 and response.headers["Location"] == link.redirect_to
    assert client.get(f"/l/{link.id}").status_code == 302
    assert client.get(f"/l/{link.id}?contact_id={crm_data.elsewhere_contact.id}").status_code == 302
    with db.connection_context():
        clicks = list(LinkClick.select().where(LinkClick.link == link.id).order_by(LinkClick.id))
    assert [c.contact_id for c in clicks] == [crm_data.north_contact.id, None, None]
    assert clicks[0].ip == "198.51.100.4"


def test_an_unknown_link_is_404(client, crm_data):
    assert client.get("/l/" + "Q" * 20).status_code == 404
    assert client.get("/l/nope").status_code == 404


def submissions(form):
    with db.connection_context():
        return list(FormSubmission.select().where(FormSubmission.form == form.id).order_by(FormSubmission.created_at))


def test_a_json_post_stores_the_submission_and_creates_the_contact(client, crm_data, tenants):
    form = crm_data.north_form
    before = len(submissions(form))
    response = client.post(f"/f/{form.id}", json={"first_name": "Fay", "email": "fay@example.com", "plan": "pro"})
    assert response.status_code == 201
    answer = response.get_json()["submission"]
    assert set(answer) == {"id", "formId", "createdAt"}  # never says which contact matched
    stored = submissions(form)
    assert len(stored) == before + 1
    with db.connection_context():
        contact = Contact.by_email(form.location_id, "fay@example.com")
    assert contact.location_id == tenants.north.id and contact.first_name == "Fay"
    assert stored[-1].contact_id == contact.id and stored[-1].others["plan"] == "pro"


def test_a_form_post_updates_the_contact_with_that_email_then_phone(client, crm_data):
    form = crm_data.north_form
    with db.connection_context():
        count = Contact.select().count()
    client.post(f"/f/{form.id}", data={"email": "ALICE@example.com", "company_name": "Moreau SA"})
    client.post(f"/f/{form.id}", data={"phone": "+1 (555) 0102", "last_name": "Wei-Li"})
    with db.connection_context():
        assert Contact.select().count() == count
        assert Contact.by_email(form.location_id, "alice@example.com").company_name == "Moreau SA"
        assert Contact.by_phone(form.location_id, "+15550102").last_name == "Wei-Li"


def test_a_browser_form_post_is_redirected_to_a_thank_you_page(client, crm_data):
    form = crm_data.north_form
    response = client.post(f"/f/{form.id}", data={"email": "web@example.com"},
                           headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "Thank you" in page.get_data(as_text=True)


def test_bad_form_posts_are_refused_clearly(app, client, crm_data):
    form = crm_data.north_form
    before = len(submissions(form))
    cases = [
        (dict(json={"message": "no way to reach me"}), 422, "email"),
        (dict(data="{broken", content_type="application/json"), 400, "JSON"),
        (dict(json=["a"]), 422, "object"),
        (dict(json={"email": "a@b.co", "n": {"nested": 1}}), 422, "n must be a string"),
        (dict(json={"email": "a@b.co", "x": "y" * 6000}), 422, "at most 5000"),
        (dict(json={"email": "a@b.co", **{f"f{i}": "v" for i in range(60)}}), 422, "at most 50 fields"),
        (dict(data="email=a@b.co", content_type="text/plain"), 400, "Send the form"),
        (dict(json={"email": "not-an-email"}), 422, "email"),
    ]
    for kwargs, status, words in cases:
        response = client.post(f"/f/{form.id}", **kwargs)
        assert response.status_code == status, kwargs
        assert response.is_json and words in response.get_json()["message"], response.get_json()
    app.config["MAX_CONTENT_LENGTH"] = 2000
    huge = client.post(f"/f/{form.id}", data=json.dumps({"email": "a@b.co", "x": "y" * 5000}),
                       content_type="application/json")
    assert huge.status_code == 413 and huge.is_json and "larger than 2000 bytes" in huge.get_json()["message"]
    html = client.post(f"/f/{form.id}", data={"message": "hi"}, headers={"Accept": "text/html"})
    assert html.status_code == 422 and "<html" in html.get_data(as_text=True)
    assert client.post("/f/" + "Q" * 20, json={"email": "a@b.co"}).status_code == 404
    assert len(submissions(form)) == before


def test_public_posts_need_no_csrf_token_but_the_dashboard_still_does(settings, crm_data):
    from app import create_app

    strict = create_app({**settings, "WTF_CSRF_ENABLED": True}).test_client()
    assert strict.post(f"/f/{crm_data.north_form.id}", json={"email": "c@example.com"}).status_code == 201
    assert strict.post("/view", data={"location": "agency"}).status_code == 400


def test_form_posts_from_one_address_are_limited_per_minute(app, client, crm_data):
    app.config["FORM_POST_LIMIT"] = 2
    path = f"/f/{crm_data.north_form.id}"
    for number in range(2):
        assert client.post(path, json={"email": f"p{number}@example.com"}).status_code == 201
    response = client.post(path, json={"email": "p3@example.com"})
    assert response.status_code == 429 and response.is_json
    assert response.get_json()["statusCode"] == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    with db.connection_context():
        assert not FormSubmission.select().where(FormSubmission.email == "p3@example.com").exists()
