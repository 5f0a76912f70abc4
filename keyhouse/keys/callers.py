"""Who calls a key: a caller is a user-agent product on a network (IPv4 /24, IPv6 /64).

Both are derived from the request alone (no lookup), and cached per distinct
value, so naming the caller costs the API request next to nothing.
"""

import functools
import ipaddress
import re

from keyhouse.models.usage import NETWORK_MAX, PRODUCT_MAX

UNKNOWN = "unknown"
# Products known by a word anywhere in their user agent (integration platforms
# often put theirs after a generic HTTP library's), checked in this order.
KNOWN = (
    ("zapier", "Zapier"),
    ("integromat", "Make"),
    ("make.com", "Make"),
    ("n8n", "n8n"),
    ("highlevel-sdk", "HighLevel SDK"),
    ("highlevel sdk", "HighLevel SDK"),
    ("@gohighlevel", "HighLevel SDK"),
    ("postmanruntime", "Postman"),
)
BROWSERS = (("edg/", "Edge"), ("firefox/", "Firefox"), ("chrome/", "Chrome"), ("safari/", "Safari"))
_TOKEN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._@+-]*)(?:/v?(\d+)(?:\.(\d+))?)?")


@functools.lru_cache(maxsize=1024)
def product(user_agent):
    """The product a User-Agent names: "Zapier", "python-requests/2.32", "Browser (Chrome)", "unknown"."""
    text = (user_agent or "").strip()
    if not text:
        return UNKNOWN
    lower = text.lower()
    for word, name in KNOWN:
        if word in lower:
            return name
    if lower.startswith("mozilla/"):
        browser = next((name for word, name in BROWSERS if word in lower), "other")
        return f"Browser ({browser})"
    match = _TOKEN.match(text)
    if match is None:
        return UNKNOWN
    name, major, minor = match.groups()
    version = f"/{major}" + (f".{minor}" if minor is not None else "") if major is not None else ""
    return (name + version)[:PRODUCT_MAX]


@functools.lru_cache(maxsize=4096)
def network(ip):
    """The network of an address: "203.0.113.0/24", "2001:db8:1:2::/64"; "unknown" if it is none."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return UNKNOWN
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))[:NETWORK_MAX]


def caller(ip, user_agent):
    """One caller as one string, "<network>|<product>" (a network never holds "|")."""
    return f"{network(ip)}|{product(user_agent)}"


def split(caller_text):
    """(network, product) of caller()'s string."""
    net, _, name = caller_text.partition("|")
    return net, name
