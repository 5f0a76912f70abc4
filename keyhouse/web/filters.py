"""Template filters: times (`ago`: "3 minutes ago", `utc`), a key's `blast_radius`, and bounded counts (`count_label`: "1,000+")."""

from keyhouse.models import COUNT_CAP, utcnow

from .paging import count_label


def ago(moment, now=None):
    """'3 minutes ago', 'in 2 days', 'just now' for a naive-UTC datetime."""
    if moment is None:
        return "never"
    now = now or utcnow()
    seconds = int((now - moment).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 45:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size or unit == "minute":
            count = max(1, round(seconds / size))
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"


def utc(moment):
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def blast_radius(radius, now=None):
    """What stopping a key breaks (keys.usage.Radius): "3 callers, last call 4 minutes ago"."""
    return radius.describe(lambda moment: ago(moment, now))


def init_app(app):
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["utc"] = utc
    app.jinja_env.filters["blast_radius"] = blast_radius
    app.jinja_env.filters["count_label"] = count_label  # a bounded count: "1,000+" beyond COUNT_CAP
    app.jinja_env.globals["count_cap"] = COUNT_CAP
