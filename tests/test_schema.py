"""The migration path: a new database is created whole, an old one is moved forward."""

from peewee import TextField
from playhouse.migrate import migrate

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


def test_a_version_1_database_gains_the_sign_in_table(app):
    from keyhouse.models import SignIn

    with db.connection_context():
        db.drop_tables([SignIn])
        schema.SchemaVersion.update(version=1).execute()
        assert "applied 2: sign-ins table" in schema.upgrade()
        assert SignIn.table_exists()
        assert schema.current_version() == schema.LATEST
