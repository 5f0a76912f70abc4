"""Signed webhooks: endpoints, Standard Webhooks signatures, and the guarded HTTP request.

Signatures follow the Standard Webhooks specification: the secret is
`whsec_` + base64 of random bytes; each request carries `webhook-id` (the same
for every attempt of one message), `webhook-timestamp` (Unix seconds) and
`webhook-signature: v1,<base64 of HMAC-SHA256(secret, "id.timestamp.body")>`.

An endpoint's host is resolved once per request and every address it has is
checked: private, loopback, link-local, multicast and reserved addresses are
refused unless WEBHOOK_ALLOW_PRIVATE is on, and the request goes to the address
that was checked (a second lookup cannot swap it). Redirects are not followed.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import secrets
import socket
import ssl
import time
import urllib.parse

from keyhouse import audit
from keyhouse.models import WebhookDelivery, WebhookEndpoint, db, utcnow
from keyhouse.models.outbound import URL_MAX
from keyhouse.problems import Problem

from .events import EVENT_TYPES

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
USER_AGENT = "Keyhouse-Webhooks/1"


class EndpointProblem(Problem):
    """An endpoint's settings were refused; `field` names the input at fault."""


class DeliveryError(Exception):
    """A request could not be made or had no answer; the message is safe to show (no secret)."""


def new_secret():
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret, msg_id, timestamp, body):
    """The `webhook-signature` header value for `body` (bytes)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secret, msg_id, body, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def clean_url(url):
    """The endpoint URL trimmed, or EndpointProblem saying what is wrong with it."""
    url = (url or "").strip()
    if not url:
        raise EndpointProblem("Enter the URL that receives the events, e.g. https://hooks.example.com/keyhouse.", "url")
    if len(url) > URL_MAX:
        raise EndpointProblem(f"Keep the URL to {URL_MAX} characters or fewer.", "url")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 — raises on a malformed port
    except ValueError:
        raise EndpointProblem("This is not a valid URL.", "url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointProblem("The URL must start with https:// (or http://) and name a host.", "url")
    if parts.username or parts.password:
        raise EndpointProblem("Put no user name or password in the URL.", "url")
    if any(char.isspace() for char in url):
        raise EndpointProblem("The URL must not contain spaces.", "url")
    return url


def clean_events(events):
    chosen = [event for event in EVENT_TYPES if event in set(events or ())]
    unknown = sorted(set(events or ()) - set(EVENT_TYPES))
    if unknown:
        raise EndpointProblem(f"Unknown event: {', '.join(unknown)}.", "events")
    if not chosen:
        raise EndpointProblem("Choose at least one event.", "events")
    return " ".join(chosen)


def _is_public(address):
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host, port, allow_private=False):
    """The address to connect to for `host`, after checking every address it resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise DeliveryError(f"the host {host!r} could not be resolved") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise DeliveryError(f"the host {host!r} has no address")
    if not allow_private:
        refused = [address for address in addresses if not _is_public(address)]
        if refused:
            raise DeliveryError(f"refused: {host} resolves to a private or local address ({refused[0]})")
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, headers, body, *, allow_private=False, timeout=10):
    """POST `body` to `url`; returns (status code, milliseconds). DeliveryError when there is no answer."""
    parts = urllib.parse.urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = resolve(parts.hostname, port, allow_private)
    connection = (_PinnedHTTPS if https else _PinnedHTTP)(parts.hostname, port, address, timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    started = time.perf_counter()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # the answer's body is not kept
        return response.status, round((time.perf_counter() - started) * 1000)
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryError(f"no answer: {type(error).__name__}: {error}"[:300]) from None
    finally:
        connection.close()


# ---------------------------------------------------------------- endpoints, as agency admins manage them


def endpoints_of(agency_id):
    """The agency's endpoints (not deleted), oldest first."""
    return WebhookEndpoint.live().where(WebhookEndpoint.agency == agency_id).order_by(WebhookEndpoint.id)


def _audit(action, endpoint, actor, ip):
    # Only the host: a receiver's path or query often works as a password (capability URLs).
    parts = urllib.parse.urlsplit(endpoint.url)
    audit.record(action, agency_id=endpoint.agency_id, actor=actor, ip=ip,
                 detail=f"endpoint {endpoint.id} at {parts.scheme}://{parts.netloc}/…")


def create_endpoint(*, agency_id, url, events, location_id=None, description="", actor=None, ip=None):
    """A new endpoint with a new signing secret (read it from `endpoint.secret` once, to show it)."""
    with db.atomic():
        endpoint = WebhookEndpoint.create(
            agency=agency_id,
            url=clean_url(url),
            events=clean_events(events),
            location=location_id,
            description=" ".join((description or "").split())[:200],
            secret=new_secret(),
            created_by=actor.id if actor else None,
        )
        _audit("webhook_add", endpoint, actor, ip)
    return endpoint


def roll_secret(endpoint, actor=None, ip=None):
    """Replace the endpoint's signing secret; returns the new one (shown once). The old one stops at once."""
    endpoint.secret = new_secret()
    with db.atomic():
        WebhookEndpoint.update(secret=endpoint.secret).where(WebhookEndpoint.id == endpoint.id).execute()
        _audit("webhook_roll_secret", endpoint, actor, ip)
    return endpoint.secret


def set_enabled(endpoint, enabled, actor=None, ip=None):
    endpoint.enabled = enabled
    with db.atomic():
        WebhookEndpoint.update(enabled=enabled).where(WebhookEndpoint.id == endpoint.id).execute()
        _audit("webhook_enable" if enabled else "webhook_disable", endpoint, actor, ip)


def delete_endpoint(endpoint, actor=None, ip=None):
    """No more deliveries to it; its log goes with it."""
    with db.atomic():
        WebhookEndpoint.update(deleted_at=utcnow(), enabled=False).where(WebhookEndpoint.id == endpoint.id).execute()
        WebhookDelivery.delete().where(WebhookDelivery.endpoint == endpoint.id).execute()
        _audit("webhook_delete", endpoint, actor, ip)
