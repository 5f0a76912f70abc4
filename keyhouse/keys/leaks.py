"""Leak reports: anyone who finds keys in public reports them, and the live ones are deactivated.

`POST /v1/credentials/revoke` (blueprints/api/leaks.py) takes up to MAX_TOKENS
tokens. The request does the same work whatever it holds: it checks each token's
format and checksum, looks all well-formed ones up in one indexed query, and
enqueues one `jobs.leaks.leak_report` job with the ids it found (an empty list
when none matched), so neither the answer nor its timing says whether a token
matched. The job deactivates each key still active (not deleted: the owner may
want to know who called with it), records "leak_report" in the audit log and
tells the key's recipients in the bell; e-mail and webhooks follow the audit
event. Keys already deactivated or deleted are left as they are.
"""

from keyhouse.keys import apikeys, lifecycle, tokens
from keyhouse.models import ApiKey, KeyStatus, Notification, db, utcnow

MAX_TOKENS = 1000  # per report


def clean(body):
    """The tokens of a report body {"tokens": [str, ...]}; ValueError naming what is wrong."""
    reported = body.get("tokens")
    if not isinstance(reported, list) or not reported:
        raise ValueError('Send {"tokens": ["kha_…", "khl_…"]}: a list of 1 to 1000 tokens')
    if len(reported) > MAX_TOKENS:
        raise ValueError(f"tokens holds {len(reported)} items; send at most {MAX_TOKENS} per request")
    bad = [index for index, token in enumerate(reported) if not isinstance(token, str) or len(token) > 200]
    if bad:
        raise ValueError(f"tokens[{bad[0]}] must be a string of at most 200 characters")
    return reported


def matching_ids(reported):
    """Ids of the live keys among `reported` tokens: one indexed query (malformed tokens never reach it)."""
    digests = sorted({tokens.digest(token) for token in reported if tokens.kind_of(token)})
    if not digests:
        return []
    query = ApiKey.select(ApiKey.id).where(ApiKey.digest.in_(digests) & (ApiKey.status == KeyStatus.ACTIVE))
    return [key_id for key_id, in query.tuples()]


def message(key):
    return (f"{lifecycle.describe(key)} was reported as leaked (someone found it where it should not be) and "
            f"has been deactivated: requests with it get 401. Roll it to get a replacement, and find where it leaked.")


def deactivate(key, ip=None, now=None):
    """Deactivate a reported key still active, with its audit event and bell notifications; returns
    whether it changed the key."""
    now = now or utcnow()
    users = lifecycle.recipients(key)
    with db.atomic():
        if not apikeys.deactivate_if_active(key, "leak_report", ip=ip, now=now,
                                            detail="Reported as leaked through /v1/credentials/revoke; deactivated"):
            return False
        Notification.deliver(key, Notification.LEAK_REPORT, users, message(key), now, period_start=now)
    return True
