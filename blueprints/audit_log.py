"""Settings → Audit log: who did what to which key, when and from where."""

from flask import Blueprint, request, url_for
from flask_login import current_user, login_required

from keyhouse import audit, permissions
from keyhouse.models import ApiKey, AuditEvent
from keyhouse.web.htmx import render
from keyhouse.web.paging import Pager
from keyhouse.web.params import small_int

bp = Blueprint("audit_log", __name__, url_prefix="/settings/audit-log")

PAGE_SIZE = 50
AUDIT_ORDER = [(None, (AuditEvent.id,))]  # newest first; keyhouse.web.paging walks the id indexes


@bp.before_request
@login_required
def require_login():
    """The audit log needs a signed-in staff member."""


@bp.route("")
def index():
    query = permissions.visible_audit_events(current_user)
    key_id = small_int(request.args.get("key"))
    action = request.args.get("action", "")
    key = None
    if request.args.get("key"):
        key = ApiKey.get_or_none(ApiKey.id == key_id) if key_id else None
        if key is not None and not permissions.sees_key(current_user, key):
            key = None
        query = query.where(AuditEvent.key == (key.id if key else 0))
    if action in audit.ACTIONS:
        query = query.where(AuditEvent.action == action)
    page = Pager(query, AUDIT_ORDER, PAGE_SIZE).page(with_last=True)
    filters = {"key": key.id if key else "", "action": action if action in audit.ACTIONS else ""}
    return render(
        "audit_log/index.html", "audit_log/_events.html",
        events=page.rows, page=page, actions=audit.ACTIONS, filters=filters, filter_key=key,
        page_url=lambda params: url_for(
            "audit_log.index", key=filters["key"] or None, action=filters["action"] or None, **params
        ),
    )
