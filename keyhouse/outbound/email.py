"""E-mail about keys: each user's choices, the message, and sending it over SMTP.

E-mail goes to the recipients of the bell (one EmailDelivery per bell
notification, so once each) when the user's choice for that event is on.
The events are the inactivity warnings (one per WARN_DAYS threshold; the first
is on by default, the others off) and the deletion notice (on by default).
"""

import datetime
import email.message
import email.utils
import smtplib
import ssl
import urllib.parse

from flask import current_app

from keyhouse.keys import lifecycle
from keyhouse.models import EmailChoice, Notification, db

DELETED = "deleted"
LEAK_REPORTED = Notification.LEAK_REPORT


def warning_event(days):
    return f"warning_{days}"


def events():
    """[(event, label, on by default)] in the order the preferences page lists them."""
    warn_days = current_app.config["WARN_DAYS"]
    choices = [
        (warning_event(days), f"Warning, {days} day{'' if days == 1 else 's'} before a key is deleted (inactivity or expiry date)",
         days == warn_days[0])
        for days in warn_days
    ]
    choices.append((DELETED, "A key was deleted for inactivity or at its expiry date", True))
    return choices


def event_of(notification):
    """The e-mail event a bell notification belongs to."""
    if notification.kind in (Notification.WARNING, Notification.EXPIRY_WARNING):
        return warning_event(notification.threshold_days)
    return notification.kind


def choices(user):
    """{event: on} for `user`: their saved choices over the defaults."""
    chosen = {row.event: row.enabled for row in EmailChoice.select().where(EmailChoice.user == user.id)}
    return {event: chosen.get(event, default) for event, _, default in events()}


def wanted(notifications):
    """Ids of the `notifications` whose users want them by e-mail (their choices over the
    defaults; an event with no choice on the page, e.g. a leak report, is wanted): one query."""
    defaults = {name: default for name, _, default in events()}
    saved = {
        (row.user_id, row.event): row.enabled
        for row in EmailChoice.select().where(EmailChoice.user.in_({n.user_id for n in notifications}))
    }
    return {
        n.id for n in notifications
        if saved.get((n.user_id, event_of(n)), defaults.get(event_of(n), True))
    }


def save_choices(user, enabled):
    """Store `user`'s choice for every event: on for those in `enabled`, off for the others."""
    rows = [{"user": user.id, "event": event, "enabled": event in enabled} for event, _, _ in events()]
    with db.atomic():
        EmailChoice.delete().where(EmailChoice.user == user.id).execute()
        EmailChoice.insert_many(rows).execute()


def enabled():
    """True when SMTP is configured (SMTP_HOST set)."""
    return bool(current_app.config["SMTP_HOST"])


def key_link(key):
    """An absolute link to `key`'s page, under PUBLIC_URL (built as url_for would, without a request)."""
    base = urllib.parse.urlsplit(current_app.config["PUBLIC_URL"] or "http://localhost")
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build("keys.key_page", {"key_id": key.id}, force_external=True)


SUBJECTS = {
    Notification.WARNING: "Keyhouse: “{name}” is deleted {when} unless used",
    Notification.EXPIRY_WARNING: "Keyhouse: “{name}” expires {when}",
    Notification.DELETED: "Keyhouse: “{name}” was deleted",
    LEAK_REPORTED: "Keyhouse: “{name}” was reported as leaked",
}


def _when(key, notification):
    """"in 10 days", "tomorrow", "today": the days left when the warning was written (a late
    sweep sends the 15-day warning with fewer left), else the warning's own threshold."""
    days = lifecycle.rule().days_until_deletion(key, notification.created_at)
    days = notification.threshold_days if days is None else days
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


def compose(notification):
    """The message for one bell notification; its Message-ID is the same on every attempt."""
    key = notification.key
    config = current_app.config
    message = email.message.EmailMessage()
    template = SUBJECTS.get(notification.kind, "Keyhouse: about “{name}”")
    message["Subject"] = template.format(when=_when(key, notification), name=key.name)
    message["From"] = config["SMTP_FROM"]
    message["To"] = notification.user.email
    message["Date"] = email.utils.format_datetime(notification.created_at.replace(tzinfo=datetime.UTC))
    domain = config["SMTP_FROM"].rpartition("@")[2].strip("> ") or "keyhouse.local"
    message["Message-ID"] = f"<notification-{notification.id}@{domain}>"
    location = key.location.name if key.location_id else "Agency key (all locations)"
    message.set_content(
        f"Hello {notification.user.name},\n\n"
        f"{notification.message}\n\n"
        f"Key: {key.name}\n"
        f"Location: {location}\n"
        f"Last caller: {last_caller(key)}\n"
        f"Open it: {key_link(key)}\n\n"
        f"You get this e-mail because of your choices in Keyhouse ({lifecycle_hint()}).\n"
    )
    return message


def last_caller(key):
    """The key's last successful use as the key row keeps it (its callers are on the key's page, linked)."""
    if key.last_used_at is None:
        return "never used"
    caller = f"{key.last_used_at:%Y-%m-%d %H:%M} UTC"
    if key.last_used_ip:
        caller += f" from {key.last_used_ip}"
    if key.last_used_user_agent:
        caller += f" ({key.last_used_user_agent[:100]})"
    return caller


def lifecycle_hint():
    return f"keys unused for {lifecycle.rule().inactivity_days} days are deleted; change what reaches you by e-mail under Settings → E-mail"


def send(message):
    """Send `message` with the SMTP settings; smtplib's errors (and OSError) reach the caller."""
    config = current_app.config
    timeout = config["SMTP_TIMEOUT_SECONDS"]
    tls = ssl.create_default_context()  # the server's certificate is checked (smtplib's default checks none)
    if config["SMTP_TLS"] == "ssl":
        server = smtplib.SMTP_SSL(config["SMTP_HOST"], config["SMTP_PORT"], timeout=timeout, context=tls)
    else:
        server = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=timeout)
    with server:
        if config["SMTP_TLS"] == "starttls":
            server.starttls(context=tls)
        if config["SMTP_USER"]:
            server.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        server.send_message(message)
