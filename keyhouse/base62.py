"""The base-62 alphabet of key bodies, key checksums and resource ids."""

import secrets

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def random_text(length):
    """`length` base-62 characters from `secrets` (5.95 bits each)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))
