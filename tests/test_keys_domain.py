"""The key format and what can happen to a key (keyhouse/keys/tokens.py, keyhouse/keys/apikeys.py)."""

import datetime
import math
import re
import zlib

import pytest
from peewee import SqliteDatabase

from keyhouse.keys import apikeys, tokens
from keyhouse.keys.apikeys import Authentication, KeyProblem
from keyhouse.keys.scopes import DEFAULT_SCOPES
from keyhouse.models import ApiKey, AuditEvent, KeyStatus, Notification, db, utcnow
from tests.helpers import all_stored_text


def test_generated_keys_have_the_documented_shape_and_entropy():
    for kind, prefix in (("agency", "kha_"), ("location", "khl_")):
        key = tokens.generate(kind)
        assert key.startswith(prefix) and len(key) == 42
        assert re.fullmatch(tokens.SCANNER_REGEX, key)
        assert tokens.kind_of(key) == kind
    assert tokens.BODY_LENGTH * math.log2(62) >= 190
    assert len({tokens.generate("agency") for _ in range(1000)}) == 1000


def test_any_single_character_change_fails_the_checksum():
    key = tokens.generate("location")
    for position in range(4, len(key)):
        replacement = "A" if key[position] != "A" else "B"
        assert tokens.kind_of(key[:position] + replacement + key[position + 1:]) is None


def test_the_checksum_is_the_crc32_in_six_base62_digits():
    # Keys already issued must keep verifying, whatever the code that computes it.
    from keyhouse.base62 import ALPHABET

    for head in ("kha_" + "0" * 32, "khl_" + "z" * 32, "khl_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345"):
        number, digits = zlib.crc32(head.encode()), ""
        for _ in range(6):
            number, remainder = divmod(number, 62)
            digits = ALPHABET[remainder] + digits
        assert tokens.kind_of(head + digits) == tokens.KINDS[head[:4]]


@pytest.mark.parametrize("token", [
    "", "kha_", "khx_" + "a" * 38, "kha_" + "a" * 37, "kha_" + "a" * 39, "kha_" + "!" * 38,
    None, 12345, "Bearer kha_abc", "kha_" + "é" * 38,
])
def test_malformed_tokens_are_rejected(token):
    assert tokens.kind_of(token) is None


def test_hint_shows_prefix_and_ends_only():
    key = tokens.generate("agency")
    assert tokens.hint(key) == f"{key[:8]}…{key[-4:]}"


def test_malformed_token_is_refused_without_touching_the_database(app):
    unreachable = SqliteDatabase("/nonexistent/dir/keyhouse.db")
    real = db.obj
    db.initialize(unreachable)
    try:
        good = tokens.generate("agency")
        bad_checksum = good[:-1] + ("1" if good[-1] == "0" else "0")
        assert apikeys.authenticate(bad_checksum).problem == Authentication.MALFORMED
        assert apikeys.authenticate("kha_short").problem == Authentication.MALFORMED
        with pytest.raises(Exception):  # a well-formed one does go to the database
            apikeys.authenticate(tokens.generate("agency"))
    finally:
        db.initialize(real)


def test_create_stores_only_digest_and_hint(app, tenants):
    key, plaintext = apikeys.create(
        agency_id=tenants.acme.id, location_id=tenants.north.id, name="  Zapier   sync ",
        actor=tenants.admin, ip="203.0.113.9",
    )
    stored = ApiKey.get_by_id(key.id)
    assert plaintext.startswith("khl_")
    assert stored.name == "Zapier sync"
    assert stored.digest == tokens.digest(plaintext)
    assert stored.hint == tokens.hint(plaintext)
    assert stored.kind == "location"
    assert stored.scope_list == list(DEFAULT_SCOPES["location"])  # all but the opt-in ones
    assert plaintext not in all_stored_text()
    assert plaintext[4:-4] not in all_stored_text()
    event = AuditEvent.get(AuditEvent.key == key.id)
    assert (event.action, event.actor_label, event.ip) == ("create", "admin@acme.test", "203.0.113.9")


@pytest.mark.parametrize("name,message", [
    ("", "Give the key a name"),
    ("   ", "Give the key a name"),
    ("x" * 101, "100 characters or fewer"),
])
def test_bad_names_are_refused(app, tenants, name, message):
    with pytest.raises(KeyProblem) as problem:
        apikeys.create(agency_id=tenants.acme.id, name=name)
    assert message in problem.value.message and problem.value.field == "name"
    assert ApiKey.select().count() == 0


def test_names_are_unique_per_owner_among_live_keys(app, tenants):
    first, _ = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Zapier")
    with pytest.raises(KeyProblem) as problem:
        apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="zapier ")
    assert problem.value.field == "name"
    # Another owner may use the name; so may the same owner once the key is deleted.
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.south.id, name="Zapier")
    apikeys.create(agency_id=tenants.acme.id, name="Zapier")
    apikeys.delete(first)
    apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="Zapier")


def test_scopes_default_to_all_and_must_fit_the_kind(app, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Agency", scopes=None)
    assert "locations.write" in key.scope_list
    narrow, _ = apikeys.create(agency_id=tenants.acme.id, name="Narrow", scopes=["links.write", "contacts.readonly"])
    assert narrow.scopes == "contacts.readonly links.write"
    with pytest.raises(KeyProblem) as problem:
        apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="L", scopes=["locations.write"])
    assert problem.value.field == "scopes"


def test_authenticate_by_state(app, tenants):
    key, plaintext = apikeys.create(agency_id=tenants.acme.id, name="K")
    result = apikeys.authenticate(plaintext)
    assert result.problem is None and result.key.id == key.id
    assert apikeys.authenticate(tokens.generate("agency")).problem == Authentication.INVALID
    apikeys.deactivate(key)
    assert apikeys.authenticate(plaintext).problem == Authentication.DEACTIVATED
    apikeys.reactivate(key)
    assert apikeys.authenticate(plaintext).problem is None
    apikeys.delete(key)
    assert apikeys.authenticate(plaintext).problem == Authentication.INVALID
    assert ApiKey.get_by_id(key.id).digest is None  # the tombstone keeps no digest


def test_record_use_writes_at_most_once_a_minute_and_resolves_warnings(app, tenants):
    key, plaintext = apikeys.create(agency_id=tenants.acme.id, name="K")
    Notification.create(user=tenants.admin, key=key, kind="warning", threshold_days=15, message="w")
    start = utcnow()
    assert apikeys.record_use(key, "198.51.100.1", "curl/8", now=start)
    assert not apikeys.record_use(apikeys.authenticate(plaintext).key, "198.51.100.2", now=start + datetime.timedelta(seconds=59))
    stored = ApiKey.get_by_id(key.id)
    assert (stored.last_used_at, stored.activity_at, stored.last_used_ip) == (start, start, "198.51.100.1")
    assert Notification.get().resolved_at == start
    assert AuditEvent.select().where(AuditEvent.action == "use_after_warning").count() == 1
    later = start + datetime.timedelta(seconds=61)
    assert apikeys.record_use(stored, "198.51.100.3", now=later)
    assert ApiKey.get_by_id(key.id).activity_at == later


def test_roll_without_grace_deletes_the_old_key_at_once(app, tenants):
    old, old_plain = apikeys.create(agency_id=tenants.acme.id, location_id=tenants.north.id, name="CRM", scopes=["contacts.readonly"])
    new, new_plain = apikeys.roll(old, "none", actor=tenants.admin)
    assert (new.name, new.kind, new.scopes, new.location_id) == ("CRM", "location", "contacts.readonly", tenants.north.id)
    assert apikeys.authenticate(old_plain).problem == Authentication.INVALID
    assert apikeys.authenticate(new_plain).key.id == new.id
    assert ApiKey.get_by_id(old.id).status == KeyStatus.DELETED
    assert ApiKey.get_by_id(old.id).replaced_by_id == new.id


def test_roll_with_grace_keeps_the_old_key_working_until_it_ends(app, tenants):
    old, old_plain = apikeys.create(agency_id=tenants.acme.id, name="CRM")
    new, _ = apikeys.roll(old, "24h")
    stored = ApiKey.get_by_id(old.id)
    assert stored.status == KeyStatus.ACTIVE
    assert stored.expires_at - utcnow() > datetime.timedelta(hours=23, minutes=59)
    assert apikeys.authenticate(old_plain).problem is None
    assert apikeys.authenticate(old_plain, now=stored.expires_at).problem == Authentication.INVALID
    with pytest.raises(KeyProblem):
        apikeys.roll(stored, "1h")
    # The replacement owns the name now; a new key cannot take it.
    with pytest.raises(KeyProblem):
        apikeys.create(agency_id=tenants.acme.id, name="CRM")


def test_a_rename_racing_a_delete_never_brings_the_key_back(app, tenants):
    key, plaintext = apikeys.create(agency_id=tenants.acme.id, name="Racing")
    stale = ApiKey.get_by_id(key.id)  # the rename request read the key ...
    apikeys.delete(ApiKey.get_by_id(key.id))  # ... then someone deleted it
    with pytest.raises(apikeys.KeyGone):
        apikeys.rename(stale, "Renamed")
    stored = ApiKey.get_by_id(key.id)
    assert (stored.status, stored.digest, stored.name) == (KeyStatus.DELETED, None, "Racing")
    assert apikeys.authenticate(plaintext).problem == Authentication.INVALID


def test_a_rename_racing_a_use_keeps_the_use(app, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Busy")
    stale = ApiKey.get_by_id(key.id)
    used_at = utcnow() + datetime.timedelta(minutes=5)
    apikeys.record_use(ApiKey.get_by_id(key.id), "192.0.2.1", now=used_at)
    apikeys.rename(stale, "Busy, renamed")
    stored = ApiKey.get_by_id(key.id)
    assert (stored.name, stored.activity_at, stored.last_used_at) == ("Busy, renamed", used_at, used_at)


def test_status_changes_on_a_stale_key_change_nothing(app, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Stale")
    stale = ApiKey.get_by_id(key.id)
    apikeys.delete(ApiKey.get_by_id(key.id))
    with pytest.raises(KeyProblem):
        apikeys.deactivate(stale)
    assert ApiKey.get_by_id(key.id).status == KeyStatus.DELETED


def test_rolling_twice_or_after_a_delete_is_refused_not_an_error(app, tenants):
    key, _ = apikeys.create(agency_id=tenants.acme.id, name="Twice")
    first, second = ApiKey.get_by_id(key.id), ApiKey.get_by_id(key.id)  # a double submit
    apikeys.roll(first, "24h")
    with pytest.raises(KeyProblem):
        apikeys.roll(second, "24h")
    assert ApiKey.select().where(ApiKey.name == "Twice").count() == 2  # the old one and one replacement
    gone, _ = apikeys.create(agency_id=tenants.acme.id, name="Gone")
    stale = ApiKey.get_by_id(gone.id)
    apikeys.delete(ApiKey.get_by_id(gone.id))
    with pytest.raises(KeyProblem):
        apikeys.roll(stale, "none")
    assert ApiKey.select().where(ApiKey.name == "Gone").count() == 1
