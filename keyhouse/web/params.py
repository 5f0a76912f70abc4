"""Values read from a request: ids and page numbers, the client's address, this server's URL."""

import re

from flask import current_app, request

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


_PLAIN_HOST = re.compile(r"(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](?::[0-9]{1,5})?")


def public_base_url():
    """This server's base URL for the docs' examples: PUBLIC_URL when set; else the request's
    scheme and Host when the Host is a plain host name or address; else "" (relative links)."""
    configured = current_app.config["PUBLIC_URL"]
    if configured:
        return configured
    return request.host_url.rstrip("/") if _PLAIN_HOST.fullmatch(request.host) else ""
