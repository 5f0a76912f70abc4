"""The migration path: a new database is created whole, an old one is moved forward."""

from peewee import TextField
from playhouse.migrate import SqliteMigrator, migrate

from keyhouse.models import db, schema


def test_a_fresh_database_is_created_at_the_latest_version(settings):
    from app import create_app

    create_app(settings)
    with db.connection_context():
        assert schema.current_version() is None
        assert schema.upgrade() == [f"created schema version {schema.LATEST}"]
        assert schema.current_version() == schema.LATEST
        assert schema.upgrade() == []


def test_an_existing_database_runs_only_the_newer_migrations(app, monkeypatch):
    def add_note(migrator):
        migrate(migrator.add_column("agency", "note", TextField(null=True)))

    newer = schema.LATEST + 1
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, (newer, "agency notes", add_note)])
    with db.connection_context():
        assert schema.upgrade() == [f"applied {newer}: agency notes"]
        assert "note" in [column.name for column in db.get_columns("agency")]
        assert schema.current_version() == newer
        assert schema.upgrade() == []  # nothing twice


def _undo_5():  # key usage and callers
    from keyhouse.models import KeyCaller, KeyUsageDay

    db.drop_tables([KeyCaller, KeyUsageDay])


def _undo_6():  # expiry dates, allowlists, the agency's lifetime policy
    migrator = schema._migrator()
    migrate(migrator.drop_column("api_key", "valid_until"), migrator.drop_column("api_key", "allowed_ips"),
            migrator.drop_column("agency", "max_key_lifetime_days"))


def _undo_7():  # e-mail and webhook tables, the audit outbox column
    from keyhouse.models import EmailChoice, EmailDelivery, WebhookAttempt, WebhookDelivery, WebhookEndpoint

    db.drop_tables([WebhookAttempt, WebhookDelivery, WebhookEndpoint, EmailDelivery, EmailChoice])
    migrator = schema._migrator()
    migrate(migrator.drop_index("audit_event", "audit_event_outbox_at"), migrator.drop_column("audit_event", "outbox_at"))


def _undo_9():  # the dashboard's indexes: migration 9 creates those missing and drops the obsolete ones
    pass


def _undo_10():  # the expiry dates' partial index
    db.execute_sql('DROP INDEX IF EXISTS "api_key_expiry_dates"')


def _undo_11():  # the copied location of clicks and enrollments, with its indexes
    migrator = schema._migrator()
    # SQLite's own DROP COLUMN refuses a column a foreign key names: peewee's legacy way copies the table.
    legacy = {"legacy": True} if isinstance(migrator, SqliteMigrator) else {}
    for table in ("link_click", "enrollment"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{table}_location_id_created_at_id"')
        migrate(migrator.drop_column(table, "location_id", **legacy))


# What each migration after 4 adds, taken away again: a database as version 4 left it.
UNDO = {5: _undo_5, 6: _undo_6, 7: _undo_7, 9: _undo_9, 10: _undo_10, 11: _undo_11}


def _as_version_4():
    assert sorted(UNDO) == [number for number, _, _ in schema.MIGRATIONS if number > 4]
    for number in sorted(UNDO, reverse=True):
        UNDO[number]()


def test_a_version_4_database_gains_every_later_migration(app):
    from keyhouse.models import AuditEvent, KeyUsageDay, WebhookEndpoint

    with db.connection_context():
        _as_version_4()
        schema.SchemaVersion.update(version=4).execute()
        assert schema.upgrade() == [f"applied {number}: {description}"
                                    for number, description, _ in schema.MIGRATIONS if number > 4]
        assert KeyUsageDay.table_exists() and WebhookEndpoint.table_exists()
        assert {"valid_until", "allowed_ips"} <= {c.name for c in db.get_columns("api_key")}
        assert "outbox_at" in {c.name for c in db.get_columns("audit_event")}
        assert AuditEvent.select().where(AuditEvent.outbox_at.is_null(False)).count() == 0
        assert schema.current_version() == schema.LATEST


def test_a_version_1_database_gains_the_contact_fields_custom_fields_notes_and_tasks(app):
    """Migrations 2 and 3 on a database as version 1 left it (their columns and tables absent)."""
    from keyhouse.crm import shapes
    from keyhouse.models import Agency, Contact, CustomField, Location, Note, Task

    with db.connection_context():
        _as_version_4()
        db.drop_tables([Task, Note, CustomField])
        migrator = schema._migrator()
        migrate(*(migrator.drop_column("contact", name) for name in ("dnd_settings", "inbound_dnd_settings", "gender")))
        schema.SchemaVersion.update(version=1).execute()
        location = Location.create(agency=Agency.create(name="Old agency"), name="Old")
        Contact.insert(id="A" * 20, location=location, tags=[],
                       custom_fields=[{"key": "plan", "field_value": "gold"}]).execute()
        assert schema.upgrade()[:2] == ["applied 2: contact gender, dndSettings and inboundDndSettings",
                                        "applied 3: custom fields, notes and tasks"]
        assert {"gender", "dnd_settings", "inbound_dnd_settings"} <= {c.name for c in db.get_columns("contact")}
        assert all(model.table_exists() for model in (CustomField, Note, Task))
        kept = shapes.contact(Contact.get_by_id("A" * 20))  # stored before custom fields were defined
        assert kept["customFields"] == [{"id": "plan", "value": "gold"}] and kept["dndSettings"] == {}


def test_a_version_3_database_gains_the_sign_in_table(app):
    from keyhouse.models import SignIn

    with db.connection_context():
        _as_version_4()
        db.drop_tables([SignIn])
        schema.SchemaVersion.update(version=3).execute()
        assert "applied 4: sign-ins table" in schema.upgrade()
        assert SignIn.table_exists()
        assert schema.current_version() == schema.LATEST


def test_version_11_gives_the_clicks_and_enrollments_made_before_it_their_location(app, tenants):
    """The activity page lists a location's clicks and enrollments by their own location column:
    rows made before the column existed get it from their link and workflow."""
    from keyhouse.crm import actions
    from keyhouse.models import Contact, Enrollment, LinkClick, TriggerLink, Workflow

    with db.connection_context():
        link = TriggerLink.create(location=tenants.north.id, name="Spring offer", redirect_to="https://example.com/")
        workflow = Workflow.create(location=tenants.north.id, name="Welcome")
        contact = Contact.create(location=tenants.north.id, name="Ana Lima")
        click = actions.record_click(link, contact.id)
        enrollment = actions.enroll(contact, workflow)
        elsewhere = TriggerLink.create(location=tenants.south.id, name="Gym day", redirect_to="https://example.com/")
        actions.record_click(elsewhere)
        _undo_11()
        schema.SchemaVersion.update(version=10).execute()

        assert schema.upgrade() == [f"applied 11: {schema.MIGRATIONS[-1][1]}"]
        assert [row.id for row in LinkClick.recent(tenants.north)] == [click.id]
        assert [row.id for row in Enrollment.recent(tenants.north)] == [enrollment.id]
        assert LinkClick.select().where(LinkClick.location.is_null()).count() == 0
