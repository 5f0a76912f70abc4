"""Values read from a request: ids and page numbers, the client's address."""

from flask import request

MAX_ID = 2**31 - 1  # ids and page numbers beyond this are nobody's


def small_int(value):
    """`value` as a positive int that fits an id column, else None (never a database error)."""
    value = (value or "").strip()
    if not value.isdecimal() or len(value) > 10 or int(value) > MAX_ID:
        return None
    return int(value)


def int_arg(name, default=None):
    """The query or form value `name` as a small_int, else `default`."""
    value = small_int(request.values.get(name))
    return default if value is None else value


def client_ip():
    """The client's address (behind TRUSTED_PROXY_COUNT proxies, the one they report)."""
    return request.remote_addr
