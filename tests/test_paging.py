"""Long lists page by links that carry where they stopped (keyhouse/web/paging.py): the keys
screen and the audit log walk forward and back, keep their filters, do not shift when rows
are added, and count no further than "1,000+"."""

import datetime
import html
import re

import pytest

from keyhouse.keys import apikeys, tokens
from keyhouse.models import COUNT_CAP, ApiKey, AuditEvent, db

NOW = datetime.datetime(2026, 11, 1, 12, 0)


def keys(tenants, count, *, used, location=None, prefix="Key"):
    """`count` keys of acme (location keys of `location`, else agency keys), used or never used;
    key n is newer (and, if used, used later) than key n-1."""
    rows = []
    for n in range(count):
        owner = f"location:{location.id}" if location else f"agency:{tenants.acme.id}"
        kind = tokens.LOCATION if location else tokens.AGENCY
        moment = NOW + datetime.timedelta(minutes=n)
        rows.append({
            "agency": tenants.acme.id, "location": location.id if location else None, "kind": kind,
            "name": f"{prefix} {n:03d}", "unique_name": f"{owner}/{prefix.lower()} {n:03d}",
            "digest": f"{prefix}{n}".encode().hex().ljust(64, "0"), "hint": f"{kind}_x…", "scopes": "contacts.readonly",
            "created_at": moment, "activity_at": moment, "last_used_at": moment if used else None,
        })
    with db.atomic():
        ApiKey.insert_many(rows).execute()


def names(page):
    return re.findall(r'class="key-name"[^>]*><strong>([^<]+)</strong>', page)


def link(page, rel):
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


def get(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.fixture
def admin(client, auth, tenants):
    auth.login("admin@acme.test")
    return client


def test_keys_next_and_previous_walk_the_whole_list_in_order_across_used_and_never_used_keys(admin, tenants):
    keys(tenants, 70, used=True, prefix="Used")
    keys(tenants, 40, used=False, prefix="Idle")
    first = get(admin, "/settings/api-keys")
    assert names(first) == [f"Used {n:03d}" for n in range(69, 19, -1)]  # most recently used first
    assert "Page 1 of 3 · 110 keys" in first and link(first, "prev") is None

    second = get(admin, link(first, "next"))
    assert names(second) == [f"Used {n:03d}" for n in range(19, -1, -1)] + [f"Idle {n:03d}" for n in range(39, 9, -1)]
    assert "Page 2 of 3 · 110 keys" in second
    third = get(admin, link(second, "next"))
    assert names(third) == [f"Idle {n:03d}" for n in range(9, -1, -1)]
    assert "Page 3 of 3" in third and link(third, "next") is None

    assert names(get(admin, link(third, "prev"))) == names(second)
    back = get(admin, link(second, "prev"))
    assert names(back) == names(first) and link(back, "prev") is None


def test_a_new_key_does_not_shift_the_next_page(admin, tenants):
    keys(tenants, 60, used=True)
    first = get(admin, "/settings/api-keys")
    following = link(first, "next")
    apikeys.create(agency_id=tenants.acme.id, name="Brand new")
    ApiKey.update(last_used_at=NOW + datetime.timedelta(days=1)).where(ApiKey.name == "Brand new").execute()  # used last
    assert names(get(admin, "/settings/api-keys"))[0] == "Brand new"  # the top of the list moved ...
    assert names(get(admin, following)) == [f"Key {n:03d}" for n in range(9, -1, -1)]  # ... page 2 did not


def test_the_pages_keep_the_name_and_location_filters(admin, tenants):
    keys(tenants, 60, used=True, location=tenants.south, prefix="South match")
    keys(tenants, 60, used=True, location=tenants.north, prefix="North match")
    keys(tenants, 5, used=True, location=tenants.south, prefix="Other")
    first = get(admin, f"/settings/api-keys?q=match&location={tenants.south.id}")
    following = link(first, "next")
    assert "q=match" in following and f"location={tenants.south.id}" in following
    second = get(admin, following)
    assert names(second) == [f"South match {n:03d}" for n in range(9, -1, -1)]
    assert "Page 2 of 2 · 60 keys" in second


def test_a_linked_key_far_down_a_long_list_opens_on_its_own_page(admin, tenants, monkeypatch):
    monkeypatch.setattr("keyhouse.web.paging.COUNT_CAP", 100)  # beyond the cap the position is not counted
    keys(tenants, 250, used=True, location=tenants.south)
    needle = ApiKey.get(ApiKey.name == "Key 010")
    page = get(admin, f"/settings/api-keys?key={needle.id}")
    assert f'id="key-{needle.id}" class="key-row status-active linked"' in page
    assert names(page)[0] == "Key 010"  # the page starts at the key
    assert names(get(admin, link(page, "prev")))[-1] == "Key 011"


def test_bad_cursors_show_the_first_page(admin, tenants):
    keys(tenants, 55, used=True)
    for query in ("agency_after=garbage", "agency_after=0~not-a-date~2026-11-01T12:00:00~1",
                  "agency_before=7~1~2~3", "agency_after=0~2026-11-01T12:00:00%2B01:00~2026-11-01T12:00:00~1",
                  "agency_after=1~2026-11-01T12:00:00~99999999999999999999", "agency_page=-3"):
        page = get(admin, f"/settings/api-keys?{query}")
        assert names(page)[0] == "Key 054" and "Page 1 of 2" in page, query


def test_the_audit_log_pages_by_links_and_reaches_its_oldest_events_directly(admin, tenants):
    events = [{"agency": tenants.acme.id, "actor_label": "system", "action": "warn", "detail": f"event {n}"}
              for n in range(120)]
    AuditEvent.insert_many(events).execute()
    first = get(admin, "/settings/audit-log")
    assert "event 119" in first and "event 70" in first and "event 69" not in first
    assert "Page 1 of 3 · 120 events" in first
    oldest = get(admin, html.unescape(re.search(r'<a href="([^"]+)"[^>]*>Oldest', first).group(1)))
    assert "event 19" in oldest and "event 0<" in oldest and "event 20" not in oldest
    assert "Page 3 of 3" in oldest and link(oldest, "next") is None
    middle = get(admin, link(oldest, "prev"))
    assert "event 69" in middle and "event 20" in middle and "event 70" not in middle
    assert "event 119" in get(admin, link(middle, "prev"))


def test_the_audit_log_pages_keep_the_action_filter(admin, tenants):
    AuditEvent.insert_many([{"agency": tenants.acme.id, "actor_label": "system", "action": action,
                             "detail": f"{action} {n}"} for n in range(60) for action in ("warn", "rename")]).execute()
    following = link(get(admin, "/settings/audit-log?action=rename"), "next")
    assert "action=rename" in following
    second = get(admin, following)
    assert "rename 9" in second and "warn" not in second.split('<tbody>')[1]


def test_counts_stop_at_the_cap_and_say_so(admin, tenants):
    AuditEvent.insert_many([{"agency": tenants.acme.id, "actor_label": "system", "action": "warn", "detail": f"event {n}"}
                            for n in range(COUNT_CAP + 1)]).execute()
    first = get(admin, "/settings/audit-log")
    assert f"Page 1 · {COUNT_CAP:,}+ events" in first
    assert " of " not in re.search(r'<nav class="pager".*?</nav>', first, re.S).group(0)
    assert "Page 2 ·" in get(admin, link(first, "next"))
    oldest = get(admin, html.unescape(re.search(r'<a href="([^"]+)"[^>]*>Oldest', first).group(1)))
    assert "<td>event 0</td>" in oldest and "<td>event 49</td>" in oldest and "<td>event 50</td>" not in oldest
    assert "<td>event 50</td>" in get(admin, link(oldest, "prev"))


def test_the_banner_names_the_ten_soonest_deletions_and_counts_the_rest(admin, tenants):
    from keyhouse.models import utcnow

    now = utcnow()
    rows = []
    for n in range(12):  # clocks 76..87 days ago: key 11 is deleted soonest
        clock = now - datetime.timedelta(days=76 + n)
        rows.append({"agency": tenants.acme.id, "kind": tokens.AGENCY, "name": f"Idle {n:02d}",
                     "unique_name": f"agency:{tenants.acme.id}/idle {n:02d}", "digest": f"{n:064x}",
                     "hint": "kha_x…", "scopes": "contacts.readonly", "created_at": clock, "activity_at": clock,
                     "warned_period": None, "delete_after": None})
    # The oldest clock, but its deletion was put off for 20 days: after every other key's.
    rows[-1].update(activity_at=now - datetime.timedelta(days=95), warned_period=now - datetime.timedelta(days=95),
                    delete_after=now + datetime.timedelta(days=20), name="Postponed",
                    unique_name=f"agency:{tenants.acme.id}/postponed")
    with db.atomic():
        ApiKey.insert_many(rows).execute()
    banner = get(admin, "/notifications/pending-banner")
    listed = re.findall(r'/settings/api-keys/\d+/page">([^<]+)</a>', banner)
    assert listed == [f"Idle {n:02d}" for n in range(10, 0, -1)]  # soonest first; "Postponed" comes later
    assert "12 keys pending deletion" in banner and "and 2 more" in banner
