"""What every API route of both versions shares: authentication, scopes and key
kinds, rate limits, errors and query parameters (the route table is routes.py).

One request goes: Version header (API 2.0) → bearer key (401) → rate limit (429)
→ key kind and scope of the route (403, with RFC 6750's WWW-Authenticate when
the scope is missing) → the view (404, 422, ...). The verified key is kept in
`g.api_key` for the rest of the request. A successful answer moves the key's
activity clock (apikeys.record_use) and, while the key has a known end
(lifecycle.known_end), carries RFC 8594's Sunset and its Link.
"""

import datetime
import logging
import re

from flask import g, request, url_for
from werkzeug.http import http_date

from keyhouse import audit, metrics, ratelimit
from keyhouse.crm import inputs
from keyhouse.keys import allowlist, apikeys, callers, lifecycle, tokens
from keyhouse.keys import usage as key_usage
from keyhouse.models import Location
from keyhouse.web import security
from keyhouse.web.jsonio import ApiError, error_response, not_found
from keyhouse.web.params import client_ip, public_base_url

from .routes import ROUTES, VERSIONS

log = logging.getLogger("keyhouse.api")

AUTH_MESSAGES = {
    apikeys.Authentication.MALFORMED: "Missing or malformed API key",
    apikeys.Authentication.INVALID: "Invalid API key",
    apikeys.Authentication.DEACTIVATED: "API key is deactivated",
}


# --- per request ---------------------------------------------------------------------


def _bearer_token():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _unauthorized(problem, token):
    """401 with the contract's body and RFC 6750's challenge (error="invalid_token" for a key that was sent)."""
    challenge = 'Bearer realm="Keyhouse"'
    if problem != apikeys.Authentication.MALFORMED or token:
        challenge += ', error="invalid_token"'
    return ApiError(401, AUTH_MESSAGES[problem], {"WWW-Authenticate": challenge})


def _refuse(problem, key, token):
    """Count a failed authentication; log and count per IP a well-formed one (never the token); answer 401."""
    metrics.record_auth_failure(problem)
    if problem == apikeys.Authentication.MALFORMED:
        # Refused without touching the database or Redis, and with no line of its own
        # (the request's line says 401): a malformed token cannot match a key, so it
        # is no guess worth counting.
        raise _unauthorized(problem, token)
    ip = client_ip()
    log.warning(
        "API authentication failed: %s, %s %s from %s%s",
        problem, request.method, tokens.redact(request.path), ip, f" (key {key.hint})" if key else "",
    )
    if key is not None:  # a deactivated key: its usage counts the refused request (no limiter call was made)
        key_usage.defer(key.id, "requests", "refused")
    failures, _ = ratelimit.API_AUTH_FAILURES.count(ip)
    if failures == ratelimit.API_AUTH_FAILURES.limit:  # once per window and IP
        log.warning("Burst of %d failed API authentications from %s", failures, ip)
        if key is not None:
            audit.record(
                "auth_failures", agency_id=key.agency_id, key=key, ip=ip,
                detail=f"{failures} failed API requests from {ip} in {ratelimit.API_AUTH_FAILURES.seconds // 60} minutes",
            )
    raise _unauthorized(problem, token)


def authenticate():
    """The verified key of this request (g.api_key), or ApiError 401."""
    token = _bearer_token()
    result = apikeys.authenticate(token) if token else apikeys.Authentication(None, apikeys.Authentication.MALFORMED)
    if result.problem:
        _refuse(result.problem, result.key, token)
    g.api_key = result.key
    return result.key


# Audit events for refusals by the IP allowlist: per key and window, at the 1st, 10th,
# 100th ... refusal, so a flood from elsewhere adds a handful of rows, not one per request.
ALLOWLIST_WINDOW_SECONDS = 600


def check_allowlist(key):
    """ApiError 403 when the key has an IP allowlist and the client's address is not on it (never naming the list)."""
    ip = client_ip()
    if allowlist.allows(key.allowed_ips, ip):
        return
    metrics.record_auth_failure("ip_not_allowed")
    key_usage.defer(key.id, "requests", "refused")  # the key's usage counts it (no limiter call is made)
    log.warning("API request refused by the IP allowlist of key %s: %s %s from %s",
                key.hint, request.method, tokens.redact(request.path), ip)
    refused, _ = ratelimit.count_window(f"iprefused:{key.id}", ALLOWLIST_WINDOW_SECONDS)
    if refused is not None and str(refused) == "1" + "0" * (len(str(refused)) - 1):
        audit.record(
            "ip_refused", agency_id=key.agency_id, key=key, ip=ip,
            detail=f"{refused} request(s) from outside the IP allowlist in {ALLOWLIST_WINDOW_SECONDS // 60} minutes (latest from {ip})",
        )
    raise ApiError(403, allowlist.REFUSED_MESSAGE)


def check_version():
    version = request.headers.get("Version")
    allowed = ", ".join(VERSIONS)
    if not version:
        raise ApiError(400, f"The Version header is required on API 2.0 (one of {allowed})")
    if version.strip() not in VERSIONS:
        raise ApiError(400, f"The Version header must be one of {allowed}")


def _denial(route_, key):
    """Why the key may not use the route (its kind or scopes), as an ApiError 403; None if it may."""
    if route_.kind and key.kind != route_.kind:
        if route_.kind == tokens.LOCATION:
            return ApiError(403, "This route needs a location key (on API 1.0 agency keys cannot act on location resources)")
        return ApiError(403, "This route needs an agency key")
    if route_.scope is not None and route_.scope not in key.scope_list:
        return insufficient_scope(route_.scope)
    return None


def insufficient_scope(scope):
    """403 for a key without `scope`: the contract's body, and the RFC 6750 challenge naming the scope."""
    challenge = f'Bearer error="insufficient_scope", scope="{scope}"'
    return ApiError(403, f"This key is not authorized for {scope}", {"WWW-Authenticate": challenge})


def guard():
    """before_request of both API blueprints: everything a route needs before its view runs.

    The kind and scope are decided before the rate limiter's call so that its one
    round trip counts the request's outcome too (keyhouse/keys/usage.py); a
    rate-limited request still gets its 429 first.
    """
    route_ = ROUTES.get(request.endpoint)
    if route_ is None:  # the OpenAPI document: public
        return
    if route_.version == "v2":
        check_version()
    key = authenticate()
    check_allowlist(key)
    denial = _denial(route_, key)
    usage = ratelimit.hit(key.id, caller=callers.caller(client_ip(), request.user_agent.string),
                          refused=denial is not None)
    g.api_usage = usage
    g.api_outcome_counted = usage.limited or denial is not None
    if usage.limited:
        metrics.record_rate_limited()
        raise ApiError(429, f"Rate limit exceeded; retry after {usage.retry_after} seconds")
    if denial is not None:
        raise denial


def limit_headers(response):
    """The X-RateLimit-* headers of an API response.

    Remaining counts are those of the request's key; without a key (401, unknown
    paths, the OpenAPI documents) only the configured limits are sent.
    """
    usage = g.get("api_usage") or ratelimit.limits()
    security.add_missing(response, usage.headers())
    return response


def record_use(response):
    """after_request of both API blueprints: a successful answer moves the key's activity clock;
    a refusal the limiter's call did not know of yet (a view's 404 or 422) is counted with the next one."""
    key = g.get("api_key")
    if key is None:
        return response
    if response.status_code < 400:
        apikeys.record_use(key, client_ip(), request.user_agent.string)
    elif response.status_code < 500 and not g.get("api_outcome_counted"):
        key_usage.defer(key.id, "refused")
    return response


SUNSET_DOCS = ("docs.best_practices", "sunset")  # the /docs page and anchor that explain the Sunset header


def sunset_headers(response):
    """after_request of both API blueprints: while the key has a known end, successful answers say when (RFC 8594).

    From the key row the request loaded already (no query); error answers carry
    no Sunset, as they are no use of the key (docs/api.md).
    """
    key = g.get("api_key")
    end = lifecycle.known_end(key) if key is not None and response.status_code < 400 else None
    if end is not None:
        page, anchor = SUNSET_DOCS
        response.headers["Sunset"] = http_date(end.replace(tzinfo=datetime.UTC))
        response.headers["Link"] = f'<{public_base_url()}{url_for(page, _anchor=anchor)}>; rel="sunset"'
    return response


def init_blueprint(bp):
    """Authentication, limits and errors for one version's blueprint."""
    bp.before_request(guard)
    bp.after_request(record_use)
    bp.after_request(sunset_headers)

    @bp.errorhandler(ApiError)
    def api_error(error):
        return error_response(error.status, error.message, error.headers)

    @bp.errorhandler(inputs.Invalid)
    def invalid(error):
        return error_response(422, str(error))


# --- inputs --------------------------------------------------------------------------


def int_arg(field, default, source=None):
    """A whole-number query parameter (or body field, from `source`) within the bounds of `field`
    (routes.param). Integral decimals (`20.0`) count as whole numbers: HighLevel's
    spec types these parameters as `number` and its clients send them so."""
    name, minimum, maximum = field.name, field.minimum, field.maximum
    value = request.args.get(name) if source is None else source.get(name)
    if value is None or value == "":
        return default
    if source is None and re.fullmatch(r"-?\d{1,15}(\.0*)?", value.strip()):  # query strings are text
        value = int(value.strip().partition(".")[0])
    elif isinstance(value, float) and value.is_integer() and abs(value) < 10**15:  # bodies are typed
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ApiError(422, f"{name} must be a whole number from {minimum} to {maximum}")
    return value


def str_arg(name, source=None, max_length=255):
    value = request.args.get(name) if source is None else source.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length or inputs.has_nul(value):
        raise ApiError(422, f"{name} must be a string of at most {max_length} characters, without NUL")
    return value.strip() or None


def choice_arg(field):
    """A query parameter that is one of `field.choices` (routes.param), the first when not given."""
    value = request.args.get(field.name) or field.choices[0]
    if value not in field.choices:
        raise ApiError(422, f"{field.name} must be one of {', '.join(field.choices)}")
    return value


def date_arg(name):
    """A YYYY-MM-DD (or ISO 8601 date-time) query parameter as a naive UTC datetime."""
    value = request.args.get(name)
    if not value:
        return None
    try:
        return inputs.parse_time(value, name)
    except inputs.Invalid:
        raise ApiError(422, f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None


# --- whose resources -----------------------------------------------------------------


def acting_location(body=None):
    """The location this request acts for.

    A location key acts for its own location; a `locationId` it names must be
    that one. An agency key (API 2.0 only) must name one of its agency's
    locations. Anything else is "Location not found".
    """
    key = g.api_key
    requested = body.get("locationId") if body and "locationId" in body else request.args.get("locationId")
    if requested is not None and not isinstance(requested, str):
        raise ApiError(422, "locationId must be a string")
    if key.kind == tokens.LOCATION:
        location = key.location
        if requested and requested != location.api_id:
            raise not_found("Location")
        return location
    if not requested:
        raise ApiError(422, "locationId is required with an agency key")
    location = Location.by_api_id(requested)
    if location is None or location.agency_id != key.agency_id:
        raise not_found("Location")
    return location


def reachable_location(location_id):
    """The location named in the path: a location key's own, or one of an agency key's agency's; else 404."""
    key = g.api_key
    location = Location.by_api_id(location_id)
    if location is None or location.agency_id != key.agency_id or (key.location_id and key.location_id != location.id):
        raise not_found("Location")
    return location


def agency_location(location_id):
    """A location of the calling agency key's agency, or 404."""
    location = Location.by_api_id(location_id)
    if location is None or location.agency_id != g.api_key.agency_id:
        raise not_found("Location")
    return location


def find(model, location, resource_id, thing):
    """The `model` row `resource_id` of `location`, or 404 "<thing> not found"."""
    found = model.find(location, resource_id)
    if found is None:
        raise not_found(thing)
    return found
