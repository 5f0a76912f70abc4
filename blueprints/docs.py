"""Developer documentation, served by the app at /docs.

Open to everyone, signed in or not: it holds no secret and no tenant data (the
OpenAPI documents are public too), and the people who write integrations often
hold a key but no dashboard account. Every number in it (limits, the
inactivity rule, the key format, scopes) is read from the module or setting
that owns it, and the examples use this server's own base URL.
"""

from flask import Blueprint, abort, current_app, render_template

from blueprints.api import AUTH_MESSAGES, ROUTES, VERSIONS, openapi
from keyhouse.crm import inputs
from keyhouse.keys import allowlist, apikeys, leaks, tokens
from keyhouse.keys.scopes import KIND_SCOPES, OPT_IN
from keyhouse.web.params import public_base_url

bp = Blueprint("docs", __name__, url_prefix="/docs")

PAGES = [
    ("index", "Overview"),
    ("authentication", "Keys, scopes and errors"),
    ("guides", "Workflows, links, forms, custom fields"),
    ("best_practices", "Keeping keys safe"),
    ("sdks", "Using HighLevel's SDKs"),
    ("webhooks", "Webhooks"),
    ("reference", "API reference"),
]


def _context(**extra):
    config = current_app.config
    return {
        "pages": PAGES,
        "base_url": public_base_url(),
        "versions": VERSIONS,
        "limits": {
            "burst": config["RATE_LIMIT_BURST"],
            "burst_seconds": config["RATE_LIMIT_BURST_SECONDS"],
            "daily": config["RATE_LIMIT_DAILY"],
        },
        "inactivity_days": config["INACTIVITY_DAYS"],
        "warn_days": config["WARN_DAYS"],
        **extra,
    }


@bp.route("/")
def index():
    return render_template("docs/index.html", **_context())


@bp.route("/authentication")
def authentication():
    by_scope = {}
    for route in sorted(ROUTES.values(), key=lambda r: (r.version, r.rule)):
        by_scope.setdefault(route.scope, []).append(route)
    return render_template(
        "docs/authentication.html",
        **_context(
            scopes=KIND_SCOPES,
            opt_in=OPT_IN,
            by_scope=by_scope,
            scanner_regex=tokens.SCANNER_REGEX,
            prefixes=tokens.PREFIXES,
            auth_messages=AUTH_MESSAGES,
            allowlist_message=allowlist.REFUSED_MESSAGE,
            leak_max=leaks.MAX_TOKENS,
            leak_limit=current_app.config["LEAK_REPORT_LIMIT"],
        ),
    )


@bp.route("/guides")
def guides():
    return render_template("docs/guides.html", **_context(custom_field_types=inputs.CUSTOM_FIELD_TYPES))


@bp.route("/best-practices")
def best_practices():
    grace_choices = [(code, label) for code, (_, label) in apikeys.ROLL_GRACE.items()]
    return render_template(
        "docs/best_practices.html",
        **_context(grace_choices=grace_choices, default_grace=apikeys.DEFAULT_GRACE),
    )


@bp.route("/sdks")
def sdks():
    return render_template("docs/sdks.html", **_context())


@bp.route("/webhooks")
def webhooks():
    from jobs.outbound import WEBHOOK_RETRY_DELAYS
    from keyhouse.outbound.events import EVENT_TYPES

    return render_template("docs/webhooks.html", **_context(event_types=EVENT_TYPES, retry_delays=WEBHOOK_RETRY_DELAYS))


@bp.route("/reference", defaults={"version": "v2"})
@bp.route("/reference/<version>")
def reference(version):
    if version not in openapi.TITLES:
        abort(404)
    document = openapi.build(version, current_app.config["PUBLIC_URL"] or "")
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    return render_template(
        "docs/reference.html",
        **_context(version=version, document=document, operations=operations, describe=describe),
    )


def describe(schema):
    """A schema in a few words: "string (email)", "array of Contact", "object {tags, contact}"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "oneOf" in schema:
        return " or ".join(describe(option) for option in schema["oneOf"])
    if "anyOf" in schema and "type" not in schema:  # a query parameter's value, or "" (not given)
        return describe(schema["anyOf"][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        return f"array of {describe(schema.get('items', {}))}"
    if kind == "object" and schema.get("properties"):
        return "{" + ", ".join(f"{name}: {describe(value)}" for name, value in schema["properties"].items()) + "}"
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    formats = [schema.get("format")] + [option.get("format") for option in schema.get("anyOf", ())]
    detail = next(filter(None, formats), None) or ("max " + str(schema["maxLength"]) if "maxLength" in schema else "")
    if "minimum" in schema and "maximum" in schema:
        detail = f"{schema['minimum']}-{schema['maximum']}"
    return f"{kind or 'any'}" + (f" ({detail})" if detail else "")
