"""Column helpers of the CRM tables: opaque resource ids and JSON columns."""

import json

from peewee import TextField

from keyhouse.base62 import ALPHABET, random_text

ID_LENGTH = 20


def new_id():
    """An opaque resource id: 20 characters of [A-Za-z0-9] from `secrets`."""
    return random_text(ID_LENGTH)


def is_id(value):
    """True when `value` has the shape of a resource id (checked before any query)."""
    return (
        isinstance(value, str)
        and len(value) == ID_LENGTH
        and all(char in ALPHABET for char in value)
    )


class JSONField(TextField):
    """A JSON value stored as text (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)
