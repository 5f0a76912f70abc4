"""The base layout every screen uses: view switcher, bell, settings navigation."""

from keyhouse.models import Notification
from tests.helpers import csrf_token


def page(client, path="/settings/api-keys"):
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_agency_admin_sees_agency_view_and_every_location_in_the_switcher(client, auth, tenants):
    auth.login("admin@acme.test")
    html = page(client)
    assert "Agency View" in html
    assert "North Clinic" in html and "South Gym" in html
    assert "Elsewhere Spa" not in html  # another agency's location
    assert ">API keys</a>" in html


def test_location_level_user_sees_only_their_location_and_no_agency_section(client, auth, tenants):
    auth.login("south.user@acme.test")
    html = page(client)
    assert "South Gym" in html
    assert "North Clinic" not in html
    assert 'value="agency"' not in html
    assert "Agency keys" not in html


def test_switching_to_a_location_and_back(client, auth, tenants):
    auth.login("admin@acme.test")
    token = csrf_token(client, "/settings/api-keys")
    response = client.post("/view", data={"location": str(tenants.north.id), "csrf_token": token})
    assert response.status_code == 303
    assert "<summary>North Clinic</summary>" in page(client)
    client.post("/view", data={"location": "agency", "csrf_token": token})
    assert "<summary>Agency View</summary>" in page(client)


def test_switching_to_a_location_outside_reach_is_404(client, auth, tenants):
    auth.login("south.user@acme.test")
    token = csrf_token(client, "/settings/api-keys")
    for target in (str(tenants.north.id), str(tenants.elsewhere.id), "agency", "999999", "x"):
        response = client.post("/view", data={"location": target, "csrf_token": token})
        assert response.status_code == 404, target
    assert "<summary>South Gym</summary>" in page(client)


def test_bell_shows_the_real_unread_count(client, auth, tenants, app):
    for number in range(3):
        Notification.create(user=tenants.admin, kind="warning", message=f"warning {number}")
    Notification.create(user=tenants.staff, kind="warning", message="someone else's")
    auth.login("admin@acme.test")
    assert 'data-testid="bell-count">3<' in page(client)
    bell = client.get("/notifications/bell", headers={"HX-Request": "true"})
    html = bell.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="bell"')  # the fragment alone
    assert "<html" not in html
    assert "3 unread" in html


def test_pages_for_people_404_as_html_and_say_so(client, auth, tenants):
    auth.login("admin@acme.test")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "outside your reach" in response.get_data(as_text=True)


def test_fragment_and_page_vary_on_hx_request(client, auth, tenants):
    auth.login("admin@acme.test")
    response = client.get("/settings/api-keys")
    assert "HX-Request" in response.headers["Vary"]
    fragment = client.get("/settings/api-keys", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="keys" ')


def test_static_assets_are_served_locally(client):
    assert client.get("/static/htmx-2.0.11.min.js").status_code == 200
    assert client.get("/static/app.js").status_code == 200
