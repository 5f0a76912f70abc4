"""Creating the schema and moving an existing one forward (SQLite and PostgreSQL).

A new database gets every table as the models describe them now and is stamped
with the latest version. An existing database runs, in order, each migration
newer than its stamp. A change to a model therefore comes with a migration
appended to MIGRATIONS, written with `playhouse.migrate` so it runs on both
databases.
"""

from peewee import IntegerField, SqliteDatabase
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from . import ALL_MODELS
from .base import BaseModel, db


class SchemaVersion(BaseModel):
    version = IntegerField()


def _initial(migrator):  # version 1: the tables as first released
    raise RuntimeError("version 1 is only ever created fresh")


def _contact_dnd_and_gender(migrator):  # version 2: HighLevel's documented contact fields
    from .crm import Contact

    migrate(*(
        migrator.add_column("contact", name, getattr(Contact, name))
        for name in ("dnd_settings", "inbound_dnd_settings", "gender")
    ))


def _custom_fields_notes_tasks(migrator):  # version 3: a location's custom fields, a contact's notes and tasks
    from .crm import CustomField, Note, Task

    db.create_tables([CustomField, Note, Task])


def _sign_ins(migrator):  # version 4: sign-ins the server can end (sessions and "Remember me")
    from .signins import SignIn

    db.create_tables([SignIn])


def _key_usage_and_callers(migrator):  # version 5: requests per key and day, and each key's callers
    from .usage import KeyCaller, KeyUsageDay

    db.create_tables([KeyUsageDay, KeyCaller])


def _key_rules(migrator):  # version 6: rules per key (expiry date, IP allowlist) and the agency's lifetime policy
    from .keys import ApiKey
    from .tenancy import Agency

    wanted = [("api_key", "valid_until", ApiKey.valid_until), ("api_key", "allowed_ips", ApiKey.allowed_ips),
              ("agency", "max_key_lifetime_days", Agency.max_key_lifetime_days)]
    # Columns only where missing: a database stamped back (the tests do) keeps those it has.
    present = {(table, column.name) for table in ("api_key", "agency") for column in db.get_columns(table)}
    migrate(*(migrator.add_column(table, name, field) for table, name, field in wanted if (table, name) not in present))


def _email_and_webhooks(migrator):  # version 7: e-mail and signed webhooks about keys (issue 10)
    from .activity import AuditEvent
    from .outbound import EmailChoice, EmailDelivery, WebhookAttempt, WebhookDelivery, WebhookEndpoint

    migrate(migrator.add_column("audit_event", "outbox_at", AuditEvent.outbox_at))  # with its index
    db.create_tables([EmailChoice, EmailDelivery, WebhookEndpoint, WebhookDelivery, WebhookAttempt])


def _dashboard_indexes(migrator):  # version 9: the keys screen, the banner and the audit log at scale
    from .activity import AuditEvent
    from .keys import ApiKey

    # The indexes these models declare that the database lacks (CREATE INDEX IF NOT EXISTS):
    # ApiKey's listing and clock order per agency, AuditEvent's log by id with each filter ...
    for model in (ApiKey, AuditEvent):
        model._schema.create_indexes(safe=True)
    # ... and none that they no longer declare: each index is one more write per changed row
    # (the sweep's claim rewrites every index entry of the keys it claims).
    for name in OBSOLETE_INDEXES_9:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


OBSOLETE_INDEXES_9 = (
    "api_key_agency_id",  # led by (agency, …) indexes now
    "api_key_status_activity_at",  # no query left: the sweep uses (status, sweep_at, activity_at) and api_key_never_swept
    "api_key_agency_id_location_id_status",  # (agency, location, last_used_at, created_at, id) leads with the same
    "audit_event_agency_id",  # (agency, id)
    "audit_event_key_id",  # (key, id)
    "audit_event_location_id",  # (location, id)
    "audit_event_agency_id_created_at",  # the log orders by id
    "audit_event_key_id_created_at",  # (key, id)
)


def _expiry_date_index(migrator):  # version 10: the banner's soonest expiry dates at scale
    from .keys import ApiKey

    ApiKey._schema.create_indexes(safe=True)  # api_key_expiry_dates, a partial index (keys with an expiry date)


def _activity_locations(migrator):  # version 11: a location's latest clicks and enrollments from an index
    from .crm import Enrollment, LinkClick

    present = {(table, column.name) for table in ("link_click", "enrollment") for column in db.get_columns(table)}
    migrate(*(migrator.add_column(table, "location_id", model.location)
              for table, model in (("link_click", LinkClick), ("enrollment", Enrollment))
              if (table, "location_id") not in present))
    db.execute_sql('UPDATE "link_click" SET "location_id" = '
                   '(SELECT "location_id" FROM "trigger_link" WHERE "trigger_link"."id" = "link_click"."link_id")')
    db.execute_sql('UPDATE "enrollment" SET "location_id" = '
                   '(SELECT "location_id" FROM "workflow" WHERE "workflow"."id" = "enrollment"."workflow_id")')
    for model in (LinkClick, Enrollment):
        model._schema.create_indexes(safe=True)


# (version, description, function(migrator)); append, never edit or reorder.
MIGRATIONS = [
    (1, "initial schema", _initial),
    (2, "contact gender, dndSettings and inboundDndSettings", _contact_dnd_and_gender),
    (3, "custom fields, notes and tasks", _custom_fields_notes_tasks),
    (4, "sign-ins table", _sign_ins),
    (5, "key usage per day and key callers", _key_usage_and_callers),
    (6, "key expiry dates, IP allowlists and the agency's key lifetime policy", _key_rules),
    (7, "e-mail choices and deliveries, webhook endpoints, deliveries and attempts", _email_and_webhooks),
    (9, "indexes for the keys screen, the pending-deletion banner and the audit log", _dashboard_indexes),
    (10, "an index of the keys' expiry dates for the pending-deletion banner", _expiry_date_index),
    (11, "the location on trigger-link clicks and enrollments, for the activity page", _activity_locations),
]

LATEST = MIGRATIONS[-1][0]


def current_version():
    if not SchemaVersion.table_exists():
        return None
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else None


def _migrator():
    database = db.obj
    if isinstance(database, SqliteDatabase):  # pooled or not
        return SqliteMigrator(database)
    return PostgresqlMigrator(database)


def upgrade():
    """Bring the connected database to the latest schema; returns what was done."""
    done = []
    with db.atomic():
        version = current_version()
        if version is None:
            db.create_tables([SchemaVersion, *ALL_MODELS])
            SchemaVersion.create(version=LATEST)
            return [f"created schema version {LATEST}"]
        if version < LATEST and not isinstance(db.obj, SqliteDatabase):
            # An index built or a column filled over millions of rows outlasts the 30 s a
            # request's statement may take; SET LOCAL ends with this transaction.
            db.execute_sql("SET LOCAL statement_timeout = 0")
        for number, description, migrate in MIGRATIONS:
            if number > version:
                migrate(_migrator())
                SchemaVersion.update(version=number).execute()
                done.append(f"applied {number}: {description}")
    return done
