"""Where a contact or a location is: the address columns both have.

They are made from the API's field table (inputs.PLACE_FIELDS), so the columns,
the input rules, the answers and the OpenAPI documents share one list.
"""

from peewee import CharField

from keyhouse.crm.inputs import PLACE_FIELDS

from .base import BaseModel


class Place(BaseModel):
    """Not a table of its own: Contact and Location inherit its columns."""


for _field in PLACE_FIELDS:
    Place._meta.add_field(_field.column, CharField(max_length=_field.max_length, null=True))
