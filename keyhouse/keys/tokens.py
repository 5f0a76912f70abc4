"""The key format: what a key looks like, how it is made, checked and digested.

    kha_<32 base62 random><6 base62 CRC32>   agency key
    khl_<32 base62 random><6 base62 CRC32>   location key

32 base62 characters carry 190.5 bits from `secrets`; the 6-character checksum is
the CRC32 of everything before it, so a mistyped or truncated key is rejected
without touching the database or Redis. Only the SHA-256 digest is stored: keys
are high-entropy, so a slow password hash would buy nothing and cost every
request milliseconds.
"""

import hashlib
import re
import secrets
import zlib

from keyhouse.base62 import ALPHABET, random_text

AGENCY = "agency"
LOCATION = "location"
PREFIXES = {AGENCY: "kha_", LOCATION: "khl_"}
KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}

BODY_LENGTH = 32
CHECKSUM_LENGTH = 6
KEY_LENGTH = 4 + BODY_LENGTH + CHECKSUM_LENGTH

# For secret scanners (published in the developer docs).
SCANNER_REGEX = r"\bkh[al]_[0-9A-Za-z]{38}\b"
_SHAPE = re.compile(r"kh[al]_[0-9A-Za-z]{38}")
# What log lines hide: anything that starts like a key, whole or not (a truncated or
# mistyped key is still most of a secret).
_LOOKALIKE = re.compile(r"kh[al]_[0-9A-Za-z]{8,}")


_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]  # two base62 digits, by value 0..3843


def _checksum(text):
    """The CRC32 of `text` as 6 base62 digits, most significant first (two at a time: every key check runs it)."""
    number = zlib.crc32(text.encode("ascii"))  # < 2**32 < 62**6
    number, low = divmod(number, 3844)
    high, middle = divmod(number, 3844)
    return _PAIRS[high] + _PAIRS[middle] + _PAIRS[low]


def generate(kind):
    """A new plaintext key of `kind`."""
    head = PREFIXES[kind] + random_text(BODY_LENGTH)
    return head + _checksum(head)


def kind_of(token):
    """The kind of a well-formed key with a valid checksum, else None."""
    if not isinstance(token, str) or len(token) != KEY_LENGTH or not _SHAPE.fullmatch(token):
        return None
    head, checksum = token[:-CHECKSUM_LENGTH], token[-CHECKSUM_LENGTH:]
    if not secrets.compare_digest(_checksum(head), checksum):
        return None
    return KINDS[token[:4]]


def looks_like(token):
    """True for a key's shape (prefix, length, alphabet) whatever its checksum."""
    return isinstance(token, str) and _SHAPE.fullmatch(token) is not None


def redact(text):
    """`text` with everything that looks like a key replaced by "[key]" (for log lines)."""
    return _LOOKALIKE.sub("[key]", text)


def digest(token):
    """The stored form of a key."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def hint(token):
    """What the dashboard shows of a key: its prefix, first and last four characters."""
    return f"{token[:8]}…{token[-4:]}"
