"""The bell, its dropdown, the notifications page and the pending-deletion banner, over HTTP."""

import datetime
import logging

from keyhouse.models import Notification, db, utcnow
from tests.helpers import aged_key, csrf_token

HTMX = {"HX-Request": "true"}


def notify(user, count, key=None):
    return [
        Notification.create(user=user, key=key, kind="warning", message=f"warning {number}")
        for number in range(count)
    ]


def text(response):
    return response.get_data(as_text=True)


def test_a_poll_of_the_bell_costs_one_query_besides_the_signed_in_user(client, auth, tenants, caplog):
    notify(tenants.admin, 2)
    auth.login("admin@acme.test")
    caplog.set_level(logging.DEBUG, logger="peewee")
    response = client.get("/notifications/bell", headers=HTMX)
    queries = [record.getMessage() for record in caplog.records if record.name == "peewee"]
    assert 'data-testid="bell-count">2<' in text(response)
    assert len(queries) == 2, queries  # Flask-Login's user by id, then the unread count
    assert '"notification"' in queries[1] and "LIMIT" in queries[1]


def test_the_dropdown_lists_the_newest_first_in_pages(client, auth, tenants):
    with db.connection_context():
        key = aged_key("Linked", agency=tenants.acme, actor=tenants.admin)
    notes = notify(tenants.admin, 10, key=key)
    notify(tenants.staff, 1)
    auth.login("admin@acme.test")
    html = text(client.get("/notifications/dropdown", headers=HTMX))
    assert html.lstrip().startswith('<div id="bell-list"')
    assert html.count('data-testid="notification"') == 8
    assert html.index("warning 9") < html.index("warning 2")
    assert f'href="/settings/api-keys/{key.id}/page"' in html  # each entry links to its key's page
    assert f"/notifications/items?before={notes[2].id}&amp;bell=1" in html

    older = text(client.get(f"/notifications/items?before={notes[2].id}&bell=1", headers=HTMX))
    assert older.count('data-testid="notification"') == 2
    assert "Older notifications" not in older


def test_mark_one_and_all_read_with_htmx_and_with_plain_forms(client, auth, tenants):
    mine = notify(tenants.admin, 3)
    (theirs,) = notify(tenants.staff, 1)
    auth.login("admin@acme.test")
    token = csrf_token(client, "/notifications/")

    response = client.post(f"/notifications/{mine[0].id}/read", headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 204
    assert response.headers["HX-Trigger"] == "notifications-changed"
    assert Notification.unread_count(tenants.admin.id) == 2

    assert client.post(f"/notifications/{theirs.id}/read", headers={**HTMX, "X-CSRFToken": token}).status_code == 404
    assert client.post(f"/notifications/{mine[1].id}/read", headers=HTMX).status_code == 400  # no CSRF token

    response = client.post("/notifications/read", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/notifications/"
    assert Notification.unread_count(tenants.admin.id) == 0
    assert Notification.unread_count(tenants.staff.id) == 1


def test_the_notifications_page_works_as_a_plain_page(client, auth, tenants):
    notify(tenants.admin, 25)
    auth.login("admin@acme.test")
    html = text(client.get("/notifications/"))
    assert "<html" in html and 'id="notification-list"' in html
    assert html.count('data-testid="notification"') == 20
    assert "Older notifications" in html and 'action="/notifications/read"' in html


def test_the_pending_banner_lists_the_keys_each_user_can_see(app, client, auth, tenants):
    long_ago = utcnow() - datetime.timedelta(days=100)
    with db.connection_context():
        aged_key("Agency old", agency=tenants.acme, actor=tenants.admin, clock=long_ago)
        aged_key("North old", agency=tenants.acme, location=tenants.north, actor=tenants.admin, clock=long_ago)
        aged_key("South old", agency=tenants.acme, location=tenants.south, actor=tenants.admin, clock=long_ago)
        aged_key("Fresh", agency=tenants.acme, actor=tenants.admin, clock=utcnow())
        aged_key("Elsewhere old", agency=tenants.other, location=tenants.elsewhere, clock=long_ago)

    def banner(email):
        auth.login(email)
        html = text(client.get("/notifications/pending-banner", headers=HTMX))
        auth.logout()
        assert html.lstrip().startswith('<div id="pending-banner"')
        return html

    everything = banner("admin@acme.test")
    assert "3 keys pending deletion" in everything
    assert "Agency old" in everything and "North old" in everything and "South old" in everything
    assert "Fresh" not in everything and "Elsewhere" not in everything
    assert "deleted in 1 day unless used" in everything  # overdue: 24 h after the final warning still to come
    north = banner("north.admin@acme.test")
    assert "1 key pending deletion" in north and "North old" in north
    south = banner("south.user@acme.test")
    assert "1 key pending deletion" in south and "South old" in south
    other = banner("admin@other.test")
    assert "1 key pending deletion" in other and "Elsewhere old" in other


def test_the_pending_banner_names_the_ten_soonest_and_counts_the_rest(app, client, auth, tenants):
    with db.connection_context():
        for number in range(12):
            clock = utcnow() - datetime.timedelta(days=76 + number // 2)
            aged_key(f"Dormant {number:02d}", agency=tenants.acme, actor=tenants.admin, clock=clock)
    auth.login("admin@acme.test")
    html = text(client.get("/notifications/pending-banner", headers=HTMX))
    assert "12 keys pending deletion" in html
    assert html.count("<li>") == 10
    assert "and 2 more" in html
    assert "Dormant 11" in html and "Dormant 00" not in html  # the oldest clocks are the soonest deletions


def test_out_of_range_paging_and_ids_are_not_errors(app, client, auth, tenants):
    auth.login("admin@acme.test")
    token = csrf_token(client, "/notifications/")
    assert client.get("/notifications/items?before=99999999999999999999999").status_code == 200
    assert client.get("/notifications/?before=-5").status_code == 200
    response = client.post("/notifications/99999999999999999999/read", headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 404
