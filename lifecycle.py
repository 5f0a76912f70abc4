"""The inactivity rule: when a key is warned and when it is deleted.

A key's activity clock (`ApiKey.activity_at`) starts at creation and moves to
each successful use. With INACTIVITY_DAYS=90 and WARN_DAYS=15,7,1 a key is
warned at clock+75, +83 and +89 days and deleted at clock+90 days. The jobs,
the keys list and the banner all ask this module.
"""

import datetime

from flask import current_app


def settings():
    return current_app.config["INACTIVITY_DAYS"], current_app.config["WARN_DAYS"]


def deletion_at(key):
    """When `key` is due for deletion if nobody uses it."""
    inactivity_days, _ = settings()
    return key.activity_at + datetime.timedelta(days=inactivity_days)


def warning_window_opens_at(key):
    """When the first warning for `key` is due."""
    _, warn_days = settings()
    return deletion_at(key) - datetime.timedelta(days=warn_days[0])


def days_until_deletion(key, now):
    """Whole days (rounded up) until `key` is deleted, or None outside the warning window."""
    if key.status == "deleted" or now < warning_window_opens_at(key):
        return None
    remaining = deletion_at(key) - now
    return max(0, -(-remaining // datetime.timedelta(days=1)))
