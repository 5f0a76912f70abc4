"""Page or fragment: how every dashboard view answers a browser and htmx alike."""

import json

from flask import make_response, render_template, request


def wants_fragment():
    """True when htmx asked for a piece of a page (not a boosted navigation)."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render(page_template, fragment, status=200, **context):
    """The whole `page_template` for a browser, only `fragment` for an htmx request.

    The fragment is the same template the page includes, so one markup serves both.
    """
    template = fragment if wants_fragment() else page_template
    return make_response(render_template(template, fragment=fragment, **context), status)


def trigger(response, event, detail=None):
    """Add an htmx event to the response's HX-Trigger header (listeners use `from:body`)."""
    events = json.loads(response.headers.get("HX-Trigger") or "{}")
    events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def toast(response, message, level="success"):
    """Have the dashboard show `message` as a toast after an htmx response."""
    return trigger(response, "toast", {"message": message, "level": level})
