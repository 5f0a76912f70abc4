"""The inactivity rule: when a key is warned and when it is deleted.

A key's activity clock (`ApiKey.activity_at`) starts at creation and moves to
each successful use. With INACTIVITY_DAYS=90 and WARN_DAYS=15,7,1 a key is
warned at clock+75, +83 and +89 days and deleted at clock+90 days — but never
before its final warning was delivered and had SEEN_FOR (24 h) to be seen: a
sweep that runs late sends only the most urgent warning that applies, and the
deletion moves to 24 h after it. The jobs, the keys list, the bell and the
banner all ask this module; docs/lifecycle.md explains the guarantees.

`Rule` is the rule itself, pure and app-free; `rule()` is the one the settings
configure. A rolled key (one with `expires_at`) leaves this rule: it is deleted
when its grace period ends (jobs.sweep.finish_roll).

A key with an expiry date (`valid_until`, keyhouse/keys/expiry.py) has two
possible ends. While its expiry comes no later than its inactivity deletion,
the expiry governs: it is warned WARN_DAYS before the expiry (once each, as
EXPIRY_WARNING notifications that a use does not resolve) and deleted at it
(jobs.sweep.lapse); otherwise the inactivity rule governs as for any key.
`known_end(key)` answers "when does this key stop working whatever happens".
"""

import dataclasses
import datetime

from flask import current_app

from keyhouse import permissions
from keyhouse.models import ApiKey, KeyStatus, Location, User, bounded_count

DAY = datetime.timedelta(days=1)
SEEN_FOR = datetime.timedelta(hours=24)  # the final warning's time to be seen before deletion

WARN = "warn"
EXPIRE = "expire"
FINISH_ROLL = "finish_roll"
LAPSE = "lapse"  # a key reached its expiry date


@dataclasses.dataclass(frozen=True)
class Step:
    action: str | None  # WARN, EXPIRE, FINISH_ROLL, or None: nothing due, look again at `at`
    at: datetime.datetime | None = None


def final_warning_sent(key):
    """True when the final warning of the key's current activity period was delivered."""
    return key.delete_after is not None and key.warned_period == key.activity_at


def in_lifecycle(key):
    return key.status in KeyStatus.LIVE and key.expires_at is None


def known_end(key):
    """When `key` stops working whatever happens (its roll grace or expiry date, the earlier), else None.

    The inactivity deletion is not a known end: a use moves it. The one answer to "when
    does this key stop working": authentication, the API's Sunset header and the self
    endpoints ask it. It reads only ApiKey columns in apikeys.VERIFIED_FIELDS, so the
    header costs no query.
    """
    ends = [at for at in (key.expires_at, key.valid_until) if at is not None]
    return min(ends) if ends else None


@dataclasses.dataclass(frozen=True)
class Rule:
    """Deleted after `inactivity_days` without use; warned `warn_days` before (most first)."""

    inactivity_days: int = 90
    warn_days: tuple = (15, 7, 1)

    def deletion_at(self, key):
        """When `key` is due for deletion if nobody uses it (before any postponement)."""
        return key.activity_at + datetime.timedelta(days=self.inactivity_days)

    def warning_times(self, key):
        """[(days before deletion, when that warning is due)], least urgent first."""
        return [(days, self.deletion_at(key) - datetime.timedelta(days=days)) for days in self.warn_days]

    def warning_window_opens_at(self, key):
        """When the first warning for `key` is due."""
        return self.warning_times(key)[0][1]

    def first_warning_cutoff(self, now):
        """Keys whose clock is at or before this have their first warning due at `now`."""
        return now - datetime.timedelta(days=self.inactivity_days - self.warn_days[0])

    def is_final(self, days):
        return days == self.warn_days[-1]

    def delete_after_final_warning(self, key, sent_at):
        """The earliest deletion once the final warning was delivered at `sent_at`."""
        return max(self.deletion_at(key), sent_at + SEEN_FOR)

    def expiry_governs(self, key):
        """True when `key` has an expiry date no later than its inactivity deletion: its warnings are the expiry's."""
        return key.valid_until is not None and key.valid_until <= self.deletion_at(key)

    def expiry_warning_times(self, key):
        """[(days before expiry, when that warning is due)], least urgent first."""
        return [(days, key.valid_until - datetime.timedelta(days=days)) for days in self.warn_days]

    def due_expiry_warning(self, key, now):
        """The most urgent expiry warning (days before expiry) whose time has come, or None."""
        passed = [days for days, at in self.expiry_warning_times(key) if at <= now]
        return passed[-1] if passed else None

    def first_end(self, key, now):
        """Which end comes first for a live key if nobody uses it: ("expiry", its expiry date) when
        that governs, else ("inactivity", its deletion), as things stand at `now`."""
        if self.expiry_governs(key):
            return "expiry", key.valid_until
        return "inactivity", self.deletion_due_at(key, now)

    def end_due_at(self, key, now):
        """When `key` ends if nobody uses it (first_end's time)."""
        return self.first_end(key, now)[1]

    def deletion_due_at(self, key, now):
        """When `key` will be deleted if nobody uses it, as things stand at `now`.

        Before the final warning is delivered, the earliest it can still be delivered
        is `now` (or its due time), and deletion follows it by at least SEEN_FOR.
        """
        if final_warning_sent(key):
            return max(self.deletion_at(key), key.delete_after)
        final_due = self.warning_times(key)[-1][1]
        return self.delete_after_final_warning(key, max(now, final_due))

    def days_until_deletion(self, key, now):
        """Whole days (rounded up) until `key` is deleted (for inactivity or at its expiry date), or None
        outside the warning window."""
        if not in_lifecycle(key):
            return None
        if self.expiry_governs(key):
            if now < self.expiry_warning_times(key)[0][1]:
                return None
        elif now < self.warning_window_opens_at(key):
            return None
        remaining = self.end_due_at(key, now) - now
        return max(0, -(-remaining // DAY))

    def due_warning(self, key, now):
        """The most urgent warning (days before deletion) whose time has come, or None."""
        passed = [days for days, at in self.warning_times(key) if at <= now]
        return passed[-1] if passed else None

    def next_look_at(self, key, now):
        """When the sweep should next look at `key`, once what is due at `now` was done."""
        expiry = []
        if key.valid_until is not None:
            expiry = [at for _, at in self.expiry_warning_times(key) if at > now] + [key.valid_until]
            if self.expiry_governs(key):
                return min(expiry)
        upcoming = [at for _, at in self.warning_times(key) if at > now]
        # While inactivity governs, a use may hand over to the expiry: look at its times too.
        return min([min(upcoming) if upcoming else self.deletion_due_at(key, now), *expiry])

    def next_step(self, key, now):
        """What is due for `key` at `now`: the one decision the sweep and the jobs share."""
        if key.status not in KeyStatus.LIVE:
            return Step(None)
        if key.expires_at is not None:
            return Step(FINISH_ROLL) if key.expires_at <= now else Step(None, key.expires_at)
        if key.valid_until is not None and key.valid_until <= now:
            return Step(LAPSE)
        if self.expiry_governs(key):
            if self.due_expiry_warning(key, now) is not None:
                return Step(WARN)
            return Step(None, self.next_look_at(key, now))
        if final_warning_sent(key) and self.deletion_due_at(key, now) <= now:
            return Step(EXPIRE)
        if self.due_warning(key, now) is not None and not final_warning_sent(key):
            return Step(WARN)
        return Step(None, self.next_look_at(key, now))

    def warning_message(self, key, days, now):
        idle = (now - key.activity_at) // DAY
        when = self.deletion_due_at(key, now)
        return (
            f"{describe(key)} has not been used for {idle} days. It will be deleted on "
            f"{when:%Y-%m-%d %H:%M} UTC unless it is used before then."
        )

    def expiry_warning_message(self, key):
        return (
            f"{describe(key)} expires on {key.valid_until:%Y-%m-%d %H:%M} UTC: it stops working then and is "
            f"deleted. Create a new key before then and move your integration to it."
        )


def rule():
    """The rule as INACTIVITY_DAYS and WARN_DAYS configure it for the current app."""
    return Rule(current_app.config["INACTIVITY_DAYS"], current_app.config["WARN_DAYS"])


def days_until_deletion(key, now):
    """`Rule.days_until_deletion` under the configured rule (what the dashboard shows)."""
    return rule().days_until_deletion(key, now)


def recipients(key):
    """Who is told about `key`: its creator while still a member, and everyone with full rights."""
    users = {user.id: user for user in permissions.key_managers(key)}
    if key.created_by_id and key.created_by_id not in users:
        creator = User.get_or_none((User.id == key.created_by_id) & User.is_member)
        if creator is not None:
            users[creator.id] = creator
    return sorted(users.values(), key=lambda user: user.id)


def describe(key):
    """“Name” (Location) — how notifications name a key; says when it is deactivated."""
    where = f" ({key.location.name})" if key.location_id else " (agency key)"
    state = "Deactivated key" if key.status == KeyStatus.INACTIVE else "Key"
    return f"{state} “{key.name}”{where}"


def lapsed_message(key, now):
    return f"{describe(key)} reached its expiry date and was deleted on {now:%Y-%m-%d %H:%M} UTC."


def deleted_message(key, now):
    idle = (now - key.activity_at) // DAY
    return f"{describe(key)} was deleted on {now:%Y-%m-%d %H:%M} UTC after {idle} days without use."


BANNER_KEYS = 10  # keys the pending-deletion banner names; it counts the rest


def _in_warning_window(user, activity_before=None, valid_before=None):
    """Live keys `user` can see whose clock is older than `activity_before` or whose expiry
    date is before `valid_before` (one or both)."""
    return ApiKey.in_warning_window(
        user.agency_id,
        permissions.visible_locations(user).select(Location.id).order_by(),
        permissions.sees_agency_keys(user),
        activity_before=activity_before,
        valid_before=valid_before,
    )


def _expiry_horizon(current, now):
    return now + datetime.timedelta(days=current.warn_days[0])


def pending_deletions(user, now, limit=BANNER_KEYS):
    """The `limit` keys `user` can see that will be deleted soonest: [(key, days left, "expiry"
    or "inactivity")], soonest first.

    Inactivity: a key is never deleted before its clock + INACTIVITY_DAYS, so keys are read in
    clock order, a batch at a time, until the next one could not come sooner than the
    `limit`-th found. Expiry: the `limit` soonest expiry dates in the window. A few dozen
    rows, not every key in the window.
    """
    current = rule()
    query = _in_warning_window(user, current.first_warning_cutoff(now)).order_by(ApiKey.activity_at, ApiKey.id)
    soonest = []  # [(deletion time, id, key)], at most `limit`
    batch, number = max(limit, 1) * 2, 1
    while True:
        keys = list(query.paginate(number, batch))
        soonest = sorted(soonest + [(current.deletion_due_at(key, now), key.id, key) for key in keys])[:limit]
        if len(keys) < batch or (len(soonest) == limit and current.deletion_at(keys[-1]) > soonest[-1][0]):
            break
        number += 1
    candidates = {key.id: key for _, _, key in soonest}
    expiring = (_in_warning_window(user, valid_before=_expiry_horizon(current, now))
                .order_by(ApiKey.valid_until, ApiKey.id).limit(limit))
    candidates.update((key.id, key) for key in expiring)
    pending = [(key, current.days_until_deletion(key, now), current.first_end(key, now)[0])
               for key in candidates.values()]
    pending = [item for item in pending if item[1] is not None]
    return sorted(pending, key=lambda item: (current.end_due_at(item[0], now), item[0].id))[:limit]


def pending_count(user, now):
    """How many keys `user` can see are in their warning window, counted up to COUNT_CAP + 1 (models.base)."""
    current = rule()
    return bounded_count(_in_warning_window(user, current.first_warning_cutoff(now), _expiry_horizon(current, now)))


def pending_banner(user, now):
    """What the pending-deletion banner shows `user`: the soonest deletions and how many keys in all."""
    return {
        "pending": pending_deletions(user, now),
        "pending_total": pending_count(user, now),
        "inactivity_days": rule().inactivity_days,
    }
