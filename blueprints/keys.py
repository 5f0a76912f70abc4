"""Settings → API keys: list, create and reveal once, rename, (de)activate, roll, delete, identify.

Each view answers a whole page to a browser and only the changed fragment to
htmx (keyhouse.web.htmx.render). Row actions swap their row and announce
themselves with a toast; create and roll reveal the new key in the panel above
the lists and tell the lists to refresh (`keys-changed`). The identify panel
has endpoints of its own, so no view guesses from which element htmx asked.
"""

import dataclasses
import datetime

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from keyhouse import permissions
from keyhouse.keys import apikeys, lifecycle, tokens
from keyhouse.keys import identify as identifying
from keyhouse.keys.scopes import KIND_SCOPES, LABELS
from keyhouse.models import ApiKey, KeyStatus, utcnow
from keyhouse.models.keys import NAME_MAX
from keyhouse.web.htmx import render, toast, trigger, wants_fragment
from keyhouse.web.layout import current_location
from keyhouse.web.paging import Pager
from keyhouse.web.params import client_ip, int_arg

bp = Blueprint("keys", __name__, url_prefix="/settings/api-keys")

PAGE_SIZE = 50
GRACE_CHOICES = [(code, label) for code, (_, label) in apikeys.ROLL_GRACE.items()]
DEFAULT_GRACE = "24h"  # the safe choice: the old key keeps working while the new one is deployed
ROW_PAGE = "keys/row_page.html"  # a row fragment as a page of its own (no htmx)
PANEL_PAGE = "keys/panel_page.html"  # a panel fragment as a page of its own


@bp.before_request
@login_required
def require_login():
    """Every keys screen needs a signed-in staff member."""


# ---------------------------------------------------------------- one key as the screen shows it


@dataclasses.dataclass(frozen=True)
class Row:
    """A key with what its row shows: whether the user may change it and its inactivity countdown."""

    key: ApiKey
    can_manage: bool
    days_left: int | None  # None outside the warning window
    now: datetime.datetime
    inactivity_days: int
    linked: bool = False  # the key a link pointed at: its row is marked and scrolled to


def row_of(key, managed=None, now=None, linked=False):
    """The Row of `key` for the signed-in user; pass `managed` (managed_location_ids) for many keys."""
    now = now or utcnow()
    rule = lifecycle.rule()
    return Row(
        key=key,
        can_manage=permissions.manages_key(current_user, key, managed),
        days_left=rule.days_until_deletion(key, now),
        now=now,
        inactivity_days=rule.inactivity_days,
        linked=linked,
    )


def _key_or_404(key_id, manage=True):
    """A live key in the user's reach (full rights when `manage`), else 404."""
    key = ApiKey.get_or_none((ApiKey.id == key_id) & ApiKey.status.in_(KeyStatus.LIVE))
    allowed = permissions.manages_key if manage else permissions.sees_key
    if key is None or not allowed(current_user, key):
        abort(404)
    return key


def _done(response_or_fragment, message, level="success"):
    """Finish a change: the fragment and a toast for htmx, a redirect and a flash for pages."""
    if not wants_fragment():
        flash(message, level)
        return redirect(url_for("keys.index"), code=303)
    return toast(make_response(response_or_fragment), message, level)


def _row(key, status=200):
    return render(ROW_PAGE, "keys/_row.html", status=status, row=row_of(key))


# ---------------------------------------------------------------- the screen


def _linked_key():
    """The key a link names (`?key=<id>`, from the bell, the banner, the audit log) if the user sees it."""
    key_id = int_arg("key")
    key = ApiKey.get_or_none(ApiKey.id == key_id) if key_id else None
    if key is not None and key.is_live and permissions.sees_key(current_user, key):
        return key
    return None


def _filters(linked):
    """The list's filters: none around a linked key, else the name filter and the location shown."""
    if linked is not None:
        return {"q": "", "location": None, "clearable": False}
    location = current_location()
    q = request.args.get("q", "").strip()[:NAME_MAX]
    return {
        "q": q,
        "location": int_arg("location", location.id if location else None),
        "clearable": bool(q) or bool(request.args.get("location")),
    }


def _section(kind, filters, locations, managed, linked=None):
    """One list (agency or location keys) as the screen shows it; None if not for this user.

    Its page is the one the request's `<kind>_page`, `_after`, `_before` ask for
    (keyhouse.web.paging); with a `linked` key of this list, the one that holds its row.
    """
    user = current_user
    if kind == tokens.AGENCY:
        if not permissions.sees_agency_keys(user):
            return None
        location_ids = None
    else:
        location_ids = [location.id for location in locations]
        if filters["location"] is not None:
            location_ids = [i for i in location_ids if i == filters["location"]]
    query = ApiKey.listing(user.agency_id, location_ids, filters["q"])
    linked_here = linked is not None and (linked.location_id is None) == (kind == tokens.AGENCY)
    page = Pager(query, ApiKey.listing_order(), PAGE_SIZE, prefix=f"{kind}_").page(linked if linked_here else None)
    now = utcnow()
    can_create = permissions.manages_agency_keys(user) if kind == tokens.AGENCY else bool(managed)
    return {
        "kind": kind,
        "rows": [row_of(key, managed, now, linked=linked_here and key.id == linked.id) for key in page.rows],
        "page": page,
        "can_create": can_create,
        "page_url": lambda params: url_for("keys.index", q=filters["q"] or None, location=filters["location"], **params),
    }


@bp.route("")
def index():
    linked = _linked_key()
    filters = _filters(linked)
    locations = list(permissions.visible_locations(current_user))
    managed = permissions.managed_location_ids(current_user)
    context = {
        "filters": filters,
        "locations": locations,
        "agency": _section(tokens.AGENCY, filters, locations, managed, linked),
        "location": _section(tokens.LOCATION, filters, locations, managed, linked),
        "name_max": NAME_MAX,
    }
    if not wants_fragment():  # the whole page also shows the pending-deletion banner
        context.update(lifecycle.pending_banner(current_user, utcnow()))
    return render("keys/api_keys.html", "keys/_keys.html", **context)


# ---------------------------------------------------------------- create + reveal once


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class KeyForm(FlaskForm):
    kind = HiddenField()
    name = StringField("Name", render_kw={"data-count-max": NAME_MAX, "autocomplete": "off",
                                          "placeholder": "e.g. Marketing Automation"})
    location = SelectField("Location", coerce=int, validate_choice=False)
    scopes = MultiCheckboxField("Scopes")


def _key_form(kind):
    """The create form for `kind`, limited to what the user may create; 404 otherwise."""
    if kind == tokens.AGENCY and permissions.manages_agency_keys(current_user):
        locations = []
    elif kind == tokens.LOCATION:
        managed = permissions.managed_location_ids(current_user)
        locations = [loc for loc in permissions.visible_locations(current_user) if loc.id in managed]
        if not locations:
            abort(404)
    else:
        abort(404)
    form = KeyForm()
    form.kind.data = kind
    form.location.choices = [(loc.id, loc.name) for loc in locations]
    form.scopes.choices = [(scope, LABELS[scope]) for scope in KIND_SCOPES[kind]]
    if not form.is_submitted():
        form.scopes.data = list(KIND_SCOPES[kind])
        view = current_location()
        if view is not None and any(loc.id == view.id for loc in locations):
            form.location.data = view.id
    return form


def _form_response(form, status=200):
    return render(PANEL_PAGE, "keys/_create_form.html", status=status, form=form)


@bp.route("/new")
def new():
    return _form_response(_key_form(request.args.get("kind", "")))


@bp.route("", methods=["POST"])
def create():
    form = _key_form(request.form.get("kind", ""))
    location_id = None
    if form.kind.data == tokens.LOCATION:
        location_id = form.location.data
        if location_id not in {choice for choice, _ in form.location.choices}:
            abort(404)  # a forged or foreign location: outside the user's reach
    if not form.validate():
        return _form_response(form, 422)
    try:
        key, plaintext = apikeys.create(
            agency_id=current_user.agency_id, location_id=location_id, name=form.name.data,
            scopes=form.scopes.data or [], actor=current_user, ip=client_ip(),
        )
    except apikeys.KeyProblem as problem:
        getattr(form, problem.field or "name").errors.append(problem.message)
        return _form_response(form, 422)
    return _reveal(key, plaintext)


def _reveal(key, plaintext, old_key=None):
    """The one response that ever holds the plaintext of `key` (its dialog says what to do; no toast)."""
    response = render(PANEL_PAGE, "keys/_reveal.html", status=201, key=key, plaintext=plaintext, old_key=old_key)
    if wants_fragment():
        trigger(response, "keys-changed")
    return response


# ---------------------------------------------------------------- row actions


@bp.route("/<int(max=2147483647):key_id>")
def row(key_id):
    """One row as it is now (also: cancel an inline edit)."""
    return _row(_key_or_404(key_id, manage=False))


def _rename_form(key, value, error=None, status=200):
    return render(ROW_PAGE, "keys/_row_rename.html", status=status,
                  key=key, value=value, error=error, name_max=NAME_MAX)


@bp.route("/<int(max=2147483647):key_id>/rename", methods=["GET", "POST"])
def rename(key_id):
    key = _key_or_404(key_id)
    if request.method == "GET":
        return _rename_form(key, key.name)
    value = request.form.get("name", "")
    old = key.name
    try:
        apikeys.rename(key, value, actor=current_user, ip=client_ip())
    except apikeys.KeyGone:
        abort(404)
    except apikeys.KeyProblem as problem:
        return _rename_form(key, value, problem.message, 422)
    message = f"Renamed “{old}” to “{key.name}”." if old != key.name else "The name is unchanged."
    return _done(_row(key), message)


STATUS_CHANGES = {
    "deactivate": (apikeys.deactivate, "Deactivated “{name}”: requests with it now get 401."),
    "reactivate": (apikeys.reactivate, "Reactivated “{name}”."),
}


def _change_status(key_id, change):
    """Apply a STATUS_CHANGES entry: (the key as it is now, the message, its level); None if deleted meanwhile."""
    key = _key_or_404(key_id)
    apply, message = STATUS_CHANGES[change]
    try:
        apply(key, actor=current_user, ip=client_ip())
    except apikeys.KeyProblem as problem:  # changed meanwhile: show it as it is now
        key = ApiKey.get_by_id(key.id)
        return (key if key.is_live else None), problem.message, "error"
    return key, message.format(name=key.name), "success"


@bp.route("/<int(max=2147483647):key_id>/<any(deactivate, reactivate):change>", methods=["POST"])
def change_status(key_id, change):
    key, message, level = _change_status(key_id, change)
    if key is None:
        return _done("", "This key has been deleted.", "error")
    return _done(_row(key), message, level)


@bp.route("/<int(max=2147483647):key_id>/roll", methods=["GET", "POST"])
def roll(key_id):
    """The roll form in the panel (GET), or roll the key and reveal the new one (POST)."""
    key = _rollable_or_404(key_id)
    if request.method == "GET":
        return render(PANEL_PAGE, "keys/_roll_form.html", key=key, choices=GRACE_CHOICES, default=DEFAULT_GRACE)
    try:
        new_key, plaintext = apikeys.roll(key, request.form.get("grace", ""), actor=current_user, ip=client_ip())
    except apikeys.KeyProblem as problem:
        return render(PANEL_PAGE, "keys/_roll_form.html", status=422,
                      key=key, choices=GRACE_CHOICES, default=DEFAULT_GRACE, error=problem.message)
    return _reveal(new_key, plaintext, old_key=key)


@bp.route("/<int(max=2147483647):key_id>/roll/in-row")
def roll_in_row(key_id):
    """The roll form in place of the key's row."""
    return render(ROW_PAGE, "keys/_row_roll.html", key=_rollable_or_404(key_id), choices=GRACE_CHOICES, default=DEFAULT_GRACE)


def _rollable_or_404(key_id):
    key = _key_or_404(key_id)
    if key.expires_at is not None:
        abort(404)  # already on its way out: roll its replacement
    return key


@bp.route("/<int(max=2147483647):key_id>/delete", methods=["GET", "POST"])
@bp.route("/<int(max=2147483647):key_id>", methods=["DELETE"])
def delete(key_id):
    key = _key_or_404(key_id)
    if request.method == "GET":  # the confirmation step for browsers without htmx
        return render(PANEL_PAGE, "keys/_delete_confirm.html", key=key)
    if not apikeys.delete(key, actor=current_user, ip=client_ip()):
        abort(404)  # deleted meanwhile
    return _done("", f"Deleted “{key.name}”. Requests with it now get 401.")


# ---------------------------------------------------------------- identify a pasted key


def _identified(row=None, message=None, status=200):
    return render(PANEL_PAGE, "keys/_identify_result.html", status=status, row=row, message=message)


@bp.route("/identify", methods=["GET", "POST"])
def identify():
    """Which key is this? The pasted secret is never echoed back."""
    if request.method == "GET":
        return render(PANEL_PAGE, "keys/_identify_form.html", row=None, message=None)
    try:
        key = identifying.identify(request.form.get("key", ""), current_user, client_ip())
    except apikeys.KeyProblem as problem:
        return _identified(message=problem.message, status=422)
    return _identified(row_of(key))


@bp.route("/identify/<int(max=2147483647):key_id>/<any(deactivate, reactivate):change>", methods=["POST"])
def identified_change_status(key_id, change):
    """(De)activate the key the identify panel shows; the panel shows it as it is now."""
    key, message, level = _change_status(key_id, change)
    if key is None:
        return _done("", "This key has been deleted.", "error")
    return _done(_identified(row_of(key)), message, level)
