"""Which key is this? Look up a key someone pasted, without ever echoing it back."""

import re

from keyhouse import audit, permissions
from keyhouse.models import ApiKey

from . import tokens
from .apikeys import KeyProblem


def pasted_key(text):
    """The key in what was pasted: surrounding space, quotes and an "Authorization: Bearer" go."""
    text = (text or "").strip().strip("'\"").strip()
    text = re.sub(r"^(authorization\s*:\s*)?(bearer\s+)?", "", text, flags=re.IGNORECASE)
    return text.strip()


def identify(text, user, ip=None):
    """The key `user` can see that `text` holds (an audit event records the look-up), else KeyProblem."""
    pasted = pasted_key(text)
    if not pasted:
        raise KeyProblem("Paste a key to look it up.", "key")
    if tokens.kind_of(pasted) is None:
        if tokens.looks_like(pasted):
            raise KeyProblem(
                "This looks like a Keyhouse key, but its checksum does not match: a character is mistyped or missing.",
                "key",
            )
        raise KeyProblem(
            "That is not a Keyhouse key: keys start with kha_ or khl_ and are 42 characters long.", "key"
        )
    key = ApiKey.get_or_none(ApiKey.digest == tokens.digest(pasted))
    if key is None or not permissions.sees_key(user, key):
        raise KeyProblem("No live key in your reach matches. It may have been deleted or rolled.", "key")
    audit.record("identify", agency_id=key.agency_id, key=key, actor=user, ip=ip)
    return key
