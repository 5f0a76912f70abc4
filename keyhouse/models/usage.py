"""What each key's callers did: requests per UTC day and the distinct callers.

The API counts in Redis (keyhouse/keys/usage.py); the `rollup` job adds what
Redis holds to these tables, so the history survives a Redis flush.
"""

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField

from .base import BaseModel
from .keys import ApiKey

PRODUCT_MAX = 100  # characters of a caller's user-agent product
NETWORK_MAX = 50  # "2001:db8:1:2::/64" and the like
CALLER_NAME_MAX = 100


class KeyUsageDay(BaseModel):
    """One key's requests on one UTC day: all of them, and those refused (4xx) or rate-limited (429)."""

    key = ForeignKeyField(ApiKey, backref="usage_days", on_delete="CASCADE")
    day = DateField()
    requests = IntegerField(default=0)
    refused = IntegerField(default=0)
    limited = IntegerField(default=0)

    class Meta:
        indexes = ((("key", "day"), True),)

    @property
    def ok(self):
        return max(0, self.requests - self.refused - self.limited)


class KeyCaller(BaseModel):
    """A distinct caller of a key: its user-agent product and network (IPv4 /24, IPv6 /64)."""

    key = ForeignKeyField(ApiKey, backref="callers", on_delete="CASCADE")
    product = CharField(max_length=PRODUCT_MAX)
    network = CharField(max_length=NETWORK_MAX)
    name = CharField(max_length=CALLER_NAME_MAX, null=True)  # given by staff, e.g. "Acme lead sync"
    first_seen = DateTimeField()
    last_seen = DateTimeField()
    requests = IntegerField(default=0)

    class Meta:
        indexes = (
            (("key", "network", "product"), True),
            (("key", "last_seen"), False),
        )
