"""The IP allowlist of a key: addresses and CIDR ranges (IPv4 and IPv6) it may be used from.

Stored on the key row (`ApiKey.allowed_ips`) as canonical networks separated
by spaces, so the request that authenticated the key has the list already; the
parsed networks are cached per distinct text, so the hot path does no parsing
and no query. The client address is the one `keyhouse.web.params.client_ip`
reports (behind TRUSTED_PROXY_COUNT proxies, the address they forwarded).
"""

import functools
import ipaddress

MAX_ENTRIES = 100  # networks per key
REFUSED_MESSAGE = "This key may not be used from this IP address (the key has an IP allowlist)"


def clean(text):
    """The stored form of an allowlist typed as addresses/ranges separated by commas, spaces or lines.

    None for an empty list (every address allowed); ValueError naming each bad entry.
    """
    entries = [part for part in (text or "").replace(",", " ").split() if part]
    if not entries:
        return None
    networks, bad = [], []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            bad.append(entry)
    if bad:
        shown = ", ".join(f"“{entry[:60]}”" for entry in bad[:5])
        raise ValueError(f"Not an IP address or CIDR range: {shown}. Use e.g. 203.0.113.7, 198.51.100.0/24 or 2001:db8::/32.")
    if len(set(networks)) > MAX_ENTRIES:
        raise ValueError(f"Keep the allowlist to {MAX_ENTRIES} addresses or ranges.")
    unique = sorted(set(networks), key=lambda network: (network.version, network))
    # A single address is kept without its /32 or /128.
    return " ".join(str(n.network_address) if n.num_addresses == 1 else str(n) for n in unique)


def entries(stored):
    """The stored allowlist as a list of strings (for showing and editing)."""
    return (stored or "").split()


@functools.lru_cache(maxsize=4096)
def _networks(stored):
    return tuple(ipaddress.ip_network(entry) for entry in stored.split())


def allows(stored, address):
    """Whether `address` (text) may use a key with allowlist `stored` (None: any address)."""
    if not stored:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:203.0.113.7 is 203.0.113.7
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(stored))
