"""Lookups on the API's request path: a SELECT whose SQL is built once.

Peewee builds a query's SQL anew on every execution (about 130 calls for a
20-column SELECT, most of a fast lookup's cost). A `Lookup` builds it once per
database and turns the row into a model the way Peewee's own cursor wrapper
does, with the timestamps read by `datetime.fromisoformat`.
"""

import datetime
import weakref

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .base import db

_AS_STORED = (AutoField, CharField, IntegerField, TextField)  # the drivers return these as Python wants them
_PLACEHOLDER = "\x00lookup\x00"


def _timestamp(value):
    # SQLite stores text (str(datetime)); PostgreSQL's driver returns datetimes.
    return datetime.datetime.fromisoformat(value) if isinstance(value, str) else value


def _converter(field):
    if isinstance(field, ForeignKeyField) or type(field) in _AS_STORED:
        return None
    if isinstance(field, DateTimeField):
        return _timestamp
    return field.python_value


class Lookup:
    """`query(value)` run as one prepared statement: `Lookup(lambda v: Model.select().where(Model.x == v))`.

    `query` must be a SELECT of one model's own fields whose only parameter is the
    value; `lookup.first(value)` is its first row as a model, or None.
    """

    def __init__(self, query):
        self._query = query
        self._built = weakref.WeakKeyDictionary()  # database -> (sql, params, slot)
        select = query(_PLACEHOLDER)
        self._model = select.model
        fields = select.selected_columns
        self._names = tuple(field.name for field in fields)
        self._converters = tuple((i, c) for i, c in enumerate(map(_converter, fields)) if c is not None)

    def _build(self, database):
        sql, params = self._query(_PLACEHOLDER).limit(1).sql()
        (slot,) = [i for i, param in enumerate(params) if param == _PLACEHOLDER]
        built = self._built[database] = (sql, params, slot)
        return built

    def first(self, value):
        database = db.obj
        sql, params, slot = self._built.get(database) or self._build(database)
        params = list(params)
        params[slot] = value
        row = database.execute_sql(sql, params).fetchone()
        if row is None:
            return None
        if self._converters:
            row = list(row)
            for i, convert in self._converters:
                if row[i] is not None:
                    row[i] = convert(row[i])
        instance = self._model(__no_default__=True, **dict(zip(self._names, row)))
        instance._dirty.clear()
        return instance
