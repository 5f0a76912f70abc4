"""What every API route of both versions shares: authentication, scopes and key
kinds, rate limits, errors and query parameters (the route table is routes.py).

One request goes: Version header (API 2.0) → bearer key (401) → rate limit (429)
→ key kind and scope of the route (403) → the view (404, 422, ...). The verified
key is kept in `g.api_key` for the rest of the request. A successful answer
moves the key's activity clock (apikeys.record_use).
"""

import logging
import re

from flask import g, request

from keyhouse import audit, metrics, ratelimit
from keyhouse.crm import inputs
from keyhouse.keys import apikeys, tokens
from keyhouse.models import Location
from keyhouse.web import security
from keyhouse.web.jsonio import ApiError, error_response, not_found
from keyhouse.web.params import client_ip

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


def _refuse(problem, key):
    """Log a failed authentication (never the token), count well-formed ones per IP, answer 401."""
    ip = client_ip()
    metrics.record_auth_failure(problem)
    log.warning(
        "API authentication failed: %s, %s %s from %s%s",
        problem, request.method, tokens.redact(request.path), ip, f" (key {key.hint})" if key else "",
    )
    if problem == apikeys.Authentication.MALFORMED:
        # Refused without touching the database or Redis: a malformed token cannot
        # match a key, so it is no guess worth counting.
        raise ApiError(401, AUTH_MESSAGES[problem])
    failures, _ = ratelimit.API_AUTH_FAILURES.count(ip)
    if failures == ratelimit.API_AUTH_FAILURES.limit:  # once per window and IP
        log.warning("Burst of %d failed API authentications from %s", failures, ip)
        if key is not None:
            audit.record(
                "auth_failures", agency_id=key.agency_id, key=key, ip=ip,
                detail=f"{failures} failed API requests from {ip} in {ratelimit.API_AUTH_FAILURES.seconds // 60} minutes",
            )
    raise ApiError(401, AUTH_MESSAGES[problem])


def authenticate():
    """The verified key of this request (g.api_key), or ApiError 401."""
    token = _bearer_token()
    result = apikeys.authenticate(token) if token else apikeys.Authentication(None, apikeys.Authentication.MALFORMED)
    if result.problem:
        _refuse(result.problem, result.key)
    g.api_key = result.key
    return result.key


def check_version():
    version = request.headers.get("Version")
    allowed = ", ".join(VERSIONS)
    if not version:
        raise ApiError(400, f"The Version header is required on API 2.0 (one of {allowed})")
    if version.strip() not in VERSIONS:
        raise ApiError(400, f"The Version header must be one of {allowed}")


def guard():
    """before_request of both API blueprints: everything a route needs before its view runs."""
    route_ = ROUTES.get(request.endpoint)
    if route_ is None:  # the OpenAPI document: public
        return
    if route_.version == "v2":
        check_version()
    key = authenticate()
    usage = ratelimit.hit(key.id)
    g.api_usage = usage
    if usage.limited:
        metrics.record_rate_limited()
        raise ApiError(429, f"Rate limit exceeded; retry after {usage.retry_after} seconds")
    if route_.kind and key.kind != route_.kind:
        if route_.kind == tokens.LOCATION:
            raise ApiError(403, "This route needs a location key (on API 1.0 agency keys cannot act on location resources)")
        raise ApiError(403, "This route needs an agency key")
    if route_.scope not in key.scope_list:
        raise ApiError(403, f"This key is not authorized for {route_.scope}")


def limit_headers(response):
    """The X-RateLimit-* headers of an API response.

    Remaining counts are those of the request's key; without a key (401, unknown
    paths, the OpenAPI documents) only the configured limits are sent.
    """
    usage = g.get("api_usage") or ratelimit.limits()
    security.add_missing(response, usage.headers())
    return response


def record_use(response):
    """after_request of both API blueprints: a successful answer moves the key's activity clock."""
    key = g.get("api_key")
    if key is not None and response.status_code < 400:
        apikeys.record_use(key, client_ip(), request.user_agent.string)
    return response


def init_blueprint(bp):
    """Authentication, limits and errors for one version's blueprint."""
    bp.before_request(guard)
    bp.after_request(record_use)

    @bp.errorhandler(ApiError)
    def api_error(error):
        return error_response(error.status, error.message)

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
