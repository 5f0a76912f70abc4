"""Configuration, read only from the environment (and an optional `.env`).

Every setting Keyhouse reads is listed here, with its default; docs/configuration.md
describes each one. A bad value stops start-up with a `ConfigError` that names the
setting, never with a traceback.
"""

import os

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
        # The API: per-key rate limits, failed-authentication bursts, proxies in front.
        "RATE_LIMIT_BURST": _int("RATE_LIMIT_BURST", 100),
        "RATE_LIMIT_BURST_SECONDS": _int("RATE_LIMIT_BURST_SECONDS", 10),
        "RATE_LIMIT_DAILY": _int("RATE_LIMIT_DAILY", 200_000),
        "AUTH_FAILURE_BURST": _int("AUTH_FAILURE_BURST", 20),
        "LOGIN_FAILURE_LIMIT": _int("LOGIN_FAILURE_LIMIT", 10),
        "LOGIN_ACCOUNT_FAILURE_LIMIT": _int("LOGIN_ACCOUNT_FAILURE_LIMIT", 20),
        "FORM_POST_LIMIT": _int("FORM_POST_LIMIT", 30),
        "TRUSTED_PROXY_COUNT": _int("TRUSTED_PROXY_COUNT", 0, minimum=0),
        "PUBLIC_URL": _public_url(),
    }


def _public_url():
    value = _env("PUBLIC_URL")
    if value is None:
        return None
    if not value.startswith(("http://", "https://")) or any(char.isspace() for char in value):
        raise ConfigError(f"PUBLIC_URL must be an http:// or https:// URL, not {value!r}")
    return value.rstrip("/")


def unsigned_process_settings():
    """Overrides for a process that signs nothing (the CLI, workers, cron): a SECRET_KEY when none is set.

    Only the web process signs (sessions, CSRF tokens) and requires SECRET_KEY.
    The others use the one `keyhouse dev` keeps in the instance folder, or a
    throwaway one, so that `keyhouse worker`, `keyhouse cron` and a bare
    `rq worker` run without it.
    """
    import secrets

    settings = from_environment()
    if settings["SECRET_KEY"]:
        return {}
    path = os.path.join(settings["INSTANCE_PATH"], "secret_key")
    if os.path.exists(path):
        with open(path) as handle:
            return {"SECRET_KEY": handle.read().strip()}
    return {"SECRET_KEY": secrets.token_urlsafe(32)}
