"""Configuration, read only from the environment (and an optional `.env`).

Every setting Keyhouse reads is listed here, with its default; docs/configuration.md
describes each one. A bad value stops start-up with a `ConfigError` that names the
setting, never with a traceback.
"""

import os
import secrets

from dotenv import load_dotenv

load_dotenv(os.environ.get("KEYHOUSE_DOTENV") or ".env")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bool(name, default):
    value = _env(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _int(name, default, minimum=1):
    value = _env(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {number}")
    return number


def _choice(name, default, choices):
    value = _env(name, default).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _warn_days(inactivity_days):
    raw = _env("WARN_DAYS", "15,7,1")
    try:
        days = sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise ConfigError(f"WARN_DAYS must be comma-separated whole numbers, not {raw!r}") from None
    if not days or days[-1] < 1 or days[0] >= inactivity_days:
        raise ConfigError(
            f"WARN_DAYS must be whole numbers between 1 and INACTIVITY_DAYS-1 "
            f"({inactivity_days - 1}), not {raw!r}"
        )
    return tuple(days)


def from_environment():
    """The settings as a dict, read from the environment now."""
    instance_path = os.path.abspath(_env("INSTANCE_PATH", os.path.join(os.getcwd(), "instance")))
    inactivity_days = _int("INACTIVITY_DAYS", 90, minimum=2)
    secure_cookies = _bool("SESSION_COOKIE_SECURE", True)
    return {
        "SECRET_KEY": _env("SECRET_KEY"),
        "INSTANCE_PATH": instance_path,
        "DATABASE_URL": _env("DATABASE_URL", "sqlite:///" + os.path.join(instance_path, "keyhouse.db")),
        "REDIS_URL": _env("REDIS_URL"),
        # Pooled database connections, per process (a gunicorn worker uses one per thread at most).
        "DATABASE_POOL_SIZE": _int("DATABASE_POOL_SIZE", 8),
        "DATABASE_POOL_RECYCLE_SECONDS": _int("DATABASE_POOL_RECYCLE_SECONDS", 300),
        "DATABASE_POOL_WAIT_SECONDS": _int("DATABASE_POOL_WAIT_SECONDS", 10),
        "DATABASE_BREAKER_SECONDS": _int("DATABASE_BREAKER_SECONDS", 5),
        "INACTIVITY_DAYS": inactivity_days,
        "WARN_DAYS": _warn_days(inactivity_days),
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * _int("REMEMBER_DAYS", 14),
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * _int("SESSION_HOURS", 12),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_SSL_STRICT": _bool("WTF_CSRF_SSL_STRICT", True),
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1024 * 1024),
        "RQ_QUEUE": _env("RQ_QUEUE", "keyhouse"),
        "SWEEP_INTERVAL_SECONDS": _int("SWEEP_INTERVAL_SECONDS", 300),
        "USAGE_ROLLUP_SECONDS": _int("USAGE_ROLLUP_SECONDS", 60),
        # The API: per-key rate limits, failed-authentication bursts, proxies in front.
        "RATE_LIMIT_BURST": _int("RATE_LIMIT_BURST", 100),
        "RATE_LIMIT_BURST_SECONDS": _int("RATE_LIMIT_BURST_SECONDS", 10),
        "RATE_LIMIT_DAILY": _int("RATE_LIMIT_DAILY", 200_000),
        "AUTH_FAILURE_BURST": _int("AUTH_FAILURE_BURST", 20),
        "LOGIN_FAILURE_LIMIT": _int("LOGIN_FAILURE_LIMIT", 10),
        "LOGIN_ACCOUNT_FAILURE_LIMIT": _int("LOGIN_ACCOUNT_FAILURE_LIMIT", 20),
        "FORM_POST_LIMIT": _int("FORM_POST_LIMIT", 30),
        "LEAK_REPORT_LIMIT": _int("LEAK_REPORT_LIMIT", 10),  # leak reports per IP per minute
        "TRUSTED_PROXY_COUNT": _int("TRUSTED_PROXY_COUNT", 0, minimum=0),
        "METRICS_TOKEN": _env("METRICS_TOKEN"),  # /metrics is off while unset
        "LOG_FORMAT": _choice("LOG_FORMAT", "text", ("text", "json")),
        "PUBLIC_URL": _public_url(),
        # E-mail about keys (off while SMTP_HOST is unset): docs/notifications.md.
        "SMTP_HOST": _env("SMTP_HOST"),
        "SMTP_PORT": _int("SMTP_PORT", 587),
        "SMTP_TLS": _choice("SMTP_TLS", "starttls", ("starttls", "ssl", "none")),
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_FROM": _email_from(),
        "SMTP_TIMEOUT_SECONDS": _int("SMTP_TIMEOUT_SECONDS", 30),
        # Signed webhooks: private and loopback addresses are refused unless allowed (tests, dev server).
        "WEBHOOK_ALLOW_PRIVATE": _bool("WEBHOOK_ALLOW_PRIVATE", False),
        "WEBHOOK_TIMEOUT_SECONDS": _int("WEBHOOK_TIMEOUT_SECONDS", 10),
        # `keyhouse dev` only: the folder its SMTP catcher writes to, shown at /dev/mail.
        "DEV_MAIL_DIR": _env("DEV_MAIL_DIR"),
    }


def _email_from():
    value = _env("SMTP_FROM", "Keyhouse <keyhouse@localhost>")
    if "@" not in value or any(char in value for char in "\r\n"):
        raise ConfigError(f"SMTP_FROM must be an e-mail address, e.g. Keyhouse <keys@agency.example>, not {value!r}")
    return value


def _public_url():
    value = _env("PUBLIC_URL")
    if value is None:
        return None
    if not value.startswith(("http://", "https://")) or any(char.isspace() for char in value):
        raise ConfigError(f"PUBLIC_URL must be an http:// or https:// URL, not {value!r}")
    return value.rstrip("/")


SECRET_KEY_FILE = "secret_key"  # in the instance folder, written by `keyhouse dev`


def instance_secret_key(instance_path, create=False):
    """The SECRET_KEY kept in the instance folder (made, readable by its owner only, when `create`), else None."""
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    if create and not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read().strip()


def unsigned_process_settings():
    """Overrides for a process that signs nothing (the CLI, workers, cron): a SECRET_KEY when none is set.

    Only the web process signs (sessions, CSRF tokens) and requires SECRET_KEY.
    The others use the one `keyhouse dev` keeps in the instance folder, or a
    throwaway one, so that `keyhouse worker`, `keyhouse cron` and a bare
    `rq worker` run without it.
    """
    settings = from_environment()
    if settings["SECRET_KEY"]:
        return {}
    return {"SECRET_KEY": instance_secret_key(settings["INSTANCE_PATH"]) or secrets.token_urlsafe(32)}
