"""What every dashboard page shows around its content: the view switcher's state.

The dashboard shows either Agency View or one location (a sub-account); the
choice lives in the session. Nothing here runs a query until a page's layout
asks for it, so htmx fragments cost none.
"""

from flask import g, session
from flask_login import current_user

from keyhouse import permissions
from keyhouse.models import Location

_SESSION_KEY = "view_location"


def current_location():
    """The location the dashboard is showing, or None in Agency View."""
    if not current_user.is_authenticated:
        return None
    if current_user.location_id:  # location-level users only ever see their own
        return current_user.location
    location_id = session.get(_SESSION_KEY)
    if location_id is None:
        return None
    if "view_location" not in g:
        g.view_location = permissions.visible_locations(current_user).where(Location.id == location_id).first()
        if g.view_location is None:
            session.pop(_SESSION_KEY, None)
    return g.view_location


def show_location(location):
    """Switch the dashboard to `location`, or to Agency View when None."""
    if location is None:
        session.pop(_SESSION_KEY, None)
    else:
        session[_SESSION_KEY] = location.id
    g.pop("view_location", None)


def switcher():
    """The view switcher's content, for templates/_switcher.html."""
    return {
        "current": current_location(),
        "agency_view": permissions.sees_agency_keys(current_user),
        "locations": list(permissions.visible_locations(current_user)),
    }


def init_app(app):
    app.add_template_global(switcher)
    app.add_template_global(permissions.manages_webhooks)  # the Settings menu's Webhooks entry
