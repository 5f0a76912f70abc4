"""Expiry dates chosen at creation, and the agency's policy for the longest lifetime of new keys.

A key created with an expiry (30, 60, 90 or 365 days, or a date) stops working
at that moment (`ApiKey.valid_until`); the lifecycle warns about it like about
inactivity and then deletes it (keyhouse/keys/lifecycle.py). An agency admin
may set the longest lifetime new keys of the agency may have
(`Agency.max_key_lifetime_days`); creating a key beyond it, or without an
expiry while a policy is set, is refused. Existing keys keep their dates.
"""

import datetime

from keyhouse import audit
from keyhouse.models import Agency, db

NEVER = "never"
DATE = "date"
# The choices of the create form: code -> (days or None, label).
CHOICES = {
    NEVER: (None, "No expiry"),
    "30": (30, "30 days"),
    "60": (60, "60 days"),
    "90": (90, "90 days"),
    "365": (365, "365 days"),
    DATE: (None, "On a date…"),
}
MAX_POLICY_DAYS = 3650  # the longest lifetime a policy may name (ten years)


def valid_until(choice, date_text, now):
    """The moment a key created at `now` stops working, for a form's choice; None for no expiry.

    Raises ValueError with a message for the form. A date means 00:00 UTC of that day.
    """
    if choice not in CHOICES:
        raise ValueError("Choose when the key expires.")
    if choice == NEVER:
        return None
    if choice != DATE:
        return now + datetime.timedelta(days=CHOICES[choice][0])
    try:
        day = datetime.date.fromisoformat((date_text or "").strip())
    except ValueError:
        raise ValueError("Give the expiry date as YYYY-MM-DD.") from None
    moment = datetime.datetime.combine(day, datetime.time())
    if moment <= now:
        raise ValueError("Choose an expiry date after today.")
    return moment


def policy_problem(until, max_days, now):
    """Why a key expiring at `until` (None: never) breaks a policy of `max_days` (None: none), else None."""
    if max_days is None:
        return None
    latest = now + datetime.timedelta(days=max_days)
    if until is None or until > latest:
        return (f"Your agency allows new keys to live at most {max_days} days: "
                f"choose an expiry on or before {latest:%Y-%m-%d}.")
    return None


def clean_policy(text):
    """The policy as stored (whole days, or None for no limit) from a form value; ValueError with a message."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdecimal() or not 1 <= int(text) <= MAX_POLICY_DAYS:
        raise ValueError(f"Give the longest lifetime as a whole number of days from 1 to {MAX_POLICY_DAYS}, or leave it empty for no limit.")
    return int(text)


def max_days(agency_id):
    """The agency's longest lifetime for new keys, in days (None: no limit)."""
    return Agency.select(Agency.max_key_lifetime_days).where(Agency.id == agency_id).scalar()


def allowed_choices(max_days):
    """The create form's choices under a policy: those within it (a date is checked when given)."""
    return [
        (code, label) for code, (days, label) in CHOICES.items()
        if max_days is None or code == DATE or (days is not None and days <= max_days)
    ]


def set_policy(agency_id, text, *, actor=None, ip=None):
    """Set the agency's longest lifetime for new keys from a form value; returns the days (None: no limit)."""
    days = clean_policy(text)
    with db.atomic():
        Agency.update(max_key_lifetime_days=days).where(Agency.id == agency_id).execute()
        audit.record("lifetime_policy", agency_id=agency_id, actor=actor, ip=ip,
                     detail=f"at most {days} days" if days else "no limit")
    return days
