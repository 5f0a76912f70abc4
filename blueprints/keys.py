"""Settings → API keys: list, create and reveal once, rename, (de)activate, roll, delete, identify.

Each view answers a whole page to a browser and only the changed fragment to
htmx (views.render). Row actions swap their row and announce themselves with a
toast; create and roll reveal the new key in the panel above the lists and
tell the lists to refresh (`keys-changed`).
"""

import math
import re

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from keyhouse import audit, permissions
from keyhouse.keys import apikeys, lifecycle, tokens
from keyhouse.keys.scopes import KIND_SCOPES, LABELS
from keyhouse.models import ApiKey, KeyStatus, utcnow
from keyhouse.web.htmx import render, toast, trigger, wants_fragment
from keyhouse.web.layout import current_location
from keyhouse.web.params import client_ip, small_int

bp = Blueprint("keys", __name__, url_prefix="/settings/api-keys")

PAGE_SIZE = 50
SCOPE_LABELS = LABELS  # the one scope table (keyhouse/keys/scopes.py)
GRACE_CHOICES = [
    ("none", "Stop the old key now"),
    ("1h", "Keep the old key working for 1 hour"),
    ("24h", "Keep the old key working for 24 hours"),
    ("7d", "Keep the old key working for 7 days"),
]


@bp.before_request
@login_required
def require_login():
    """Every keys screen needs a signed-in staff member."""


@bp.context_processor
def limits():
    return {"name_max": apikeys.NAME_MAX}


# ---------------------------------------------------------------- helpers


def _int_arg(name, default=None):
    value = small_int(request.values.get(name))
    return default if value is None else value


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


def _row(key, **extra):
    return render(
        "keys/page.html", "keys/_row.html", key=key, now=utcnow(),
        can_manage=True, days_left=lifecycle.days_until_deletion(key, utcnow()), **extra,
    )


# ---------------------------------------------------------------- the screen


def _filters():
    """The list's filters; `?key=<id>` (links from the bell and the banner) shows that key's row."""
    key_id = _int_arg("key")
    key = ApiKey.get_or_none(ApiKey.id == key_id) if key_id else None
    if key is not None and key.is_live and permissions.sees_key(current_user, key):
        return {"q": key.name, "location": key.location_id}
    location = current_location()
    return {
        "q": request.args.get("q", "").strip()[:100],
        "location": _int_arg("location", location.id if location else None),
    }


def _section(kind, filters, page, locations, managed):
    """One list (agency or location keys) as the screen shows it; None if not for this user."""
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
    total = query.count()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    keys = list(query.paginate(page, PAGE_SIZE))
    now = utcnow()
    rows = [
        {
            "key": key,
            "can_manage": permissions.manages_key(user, key, managed),
            "days_left": lifecycle.days_until_deletion(key, now),
        }
        for key in keys
    ]
    can_create = (
        permissions.manages_agency_keys(user) if kind == tokens.AGENCY else bool(managed)
    )
    return {
        "kind": kind, "rows": rows, "total": total, "page": page, "pages": pages,
        "can_create": can_create,
    }


@bp.route("")
def index():
    filters = _filters()
    locations = list(permissions.visible_locations(current_user))
    managed = permissions.managed_location_ids(current_user)
    return render(
        "keys/api_keys.html",
        "keys/_keys.html",
        filters=filters,
        locations=locations,
        agency=_section(tokens.AGENCY, filters, _int_arg("agency_page", 1), locations, managed),
        location=_section(tokens.LOCATION, filters, _int_arg("location_page", 1), locations, managed),
        now=utcnow(),
    )


# ---------------------------------------------------------------- create + reveal once


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class KeyForm(FlaskForm):
    kind = HiddenField()
    name = StringField("Name", render_kw={"maxlength": apikeys.NAME_MAX, "autocomplete": "off",
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
    form.scopes.choices = [(scope, SCOPE_LABELS[scope]) for scope in KIND_SCOPES[kind]]
    if not form.is_submitted():
        form.scopes.data = list(KIND_SCOPES[kind])
        view = current_location()
        if view is not None and any(loc.id == view.id for loc in locations):
            form.location.data = view.id
    return form


def _form_response(form, status=200):
    return render("keys/page.html", "keys/_create_form.html", status=status, form=form)


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
    return _reveal(key, plaintext, f"Key “{key.name}” created. Copy it now: it will not be shown again.")


def _reveal(key, plaintext, message, old_key=None):
    """The one response that ever holds the plaintext of `key`."""
    response = make_response(
        render("keys/page.html", "keys/_reveal.html", status=201,
               key=key, plaintext=plaintext, old_key=old_key)
    )
    if wants_fragment():
        trigger(response, "keys-changed")
        toast(response, message)
    return response


# ---------------------------------------------------------------- row actions


@bp.route("/<int(max=2147483647):key_id>")
def row(key_id):
    """One row as it is now (also: cancel an inline edit)."""
    key = _key_or_404(key_id, manage=False)
    managed = permissions.manages_key(current_user, key)
    return render("keys/page.html", "keys/_row.html", key=key, now=utcnow(),
                  can_manage=managed, days_left=lifecycle.days_until_deletion(key, utcnow()))


@bp.route("/<int(max=2147483647):key_id>/rename", methods=["GET", "POST"])
def rename(key_id):
    key = _key_or_404(key_id)
    if request.method == "GET":
        return render("keys/page.html", "keys/_row_rename.html", key=key, value=key.name, error=None)
    value = request.form.get("name", "")
    old = key.name
    try:
        apikeys.rename(key, value, actor=current_user, ip=client_ip())
    except apikeys.KeyGone:
        abort(404)
    except apikeys.KeyProblem as problem:
        return render("keys/page.html", "keys/_row_rename.html", status=422,
                      key=key, value=value, error=problem.message)
    message = f"Renamed “{old}” to “{key.name}”." if old != key.name else "The name is unchanged."
    return _done(_row(key), message)


@bp.route("/<int(max=2147483647):key_id>/deactivate", methods=["POST"])
def deactivate(key_id):
    return _status_change(key_id, apikeys.deactivate, "Deactivated “{name}”: requests with it now get 401.")


@bp.route("/<int(max=2147483647):key_id>/reactivate", methods=["POST"])
def reactivate(key_id):
    return _status_change(key_id, apikeys.reactivate, "Reactivated “{name}”.")


def _status_change(key_id, change, message):
    key = _key_or_404(key_id)
    level = "success"
    try:
        change(key, actor=current_user, ip=client_ip())
    except apikeys.KeyProblem as problem:  # changed meanwhile: show it as it is now
        message, level = problem.message, "error"
        key = ApiKey.get_by_id(key.id)
        if not key.is_live:
            return _done("", "This key has been deleted.", level)
    message = message.format(name=key.name)
    if request.headers.get("HX-Target") == "identify-result":
        return _done(_identified(key), message, level)
    return _done(_row(key), message, level)


@bp.route("/<int(max=2147483647):key_id>/roll", methods=["GET", "POST"])
def roll(key_id):
    key = _key_or_404(key_id)
    if key.expires_at is not None:
        abort(404)  # already on its way out: roll its replacement
    if request.method == "GET":
        fragment = "keys/_roll_form.html"
        if request.headers.get("HX-Target") == f"key-{key.id}":
            fragment = "keys/_row_roll.html"
        return render("keys/page.html", fragment, key=key, choices=GRACE_CHOICES, roll_form=True)
    grace = request.form.get("grace", "")
    try:
        new_key, plaintext = apikeys.roll(key, grace, actor=current_user, ip=client_ip())
    except apikeys.KeyProblem as problem:
        return render("keys/page.html", "keys/_roll_form.html", status=422,
                      key=key, choices=GRACE_CHOICES, roll_form=True, error=problem.message)
    return _reveal(new_key, plaintext, f"Rolled “{key.name}”. Copy the new key now.", old_key=key)


@bp.route("/<int(max=2147483647):key_id>/delete", methods=["GET", "POST"])
@bp.route("/<int(max=2147483647):key_id>", methods=["DELETE"])
def delete(key_id):
    key = _key_or_404(key_id)
    if request.method == "GET":  # the confirmation step for browsers without htmx
        return render("keys/page.html", "keys/_delete_confirm.html", key=key, confirm=True)
    if not apikeys.delete(key, actor=current_user, ip=client_ip()):
        abort(404)  # deleted meanwhile
    return _done("", f"Deleted “{key.name}”. Requests with it now get 401.")


# ---------------------------------------------------------------- identify a pasted key


def _identified(key):
    return render(
        "keys/page.html", "keys/_identify_result.html",
        key=key, now=utcnow(), can_manage=permissions.manages_key(current_user, key),
        days_left=lifecycle.days_until_deletion(key, utcnow()),
    )


def _pasted_key(text):
    """The key in what was pasted: surrounding space, quotes and an "Authorization: Bearer" go."""
    text = text.strip().strip("'\"").strip()
    text = re.sub(r"^(authorization\s*:\s*)?(bearer\s+)?", "", text, flags=re.IGNORECASE)
    return text.strip()


@bp.route("/identify", methods=["GET", "POST"])
def identify():
    """Which key is this? The pasted secret is never echoed back."""
    if request.method == "GET":
        return render("keys/page.html", "keys/_identify_form.html", key=None, message=None)
    pasted = _pasted_key(request.form.get("key", ""))
    message = None
    if not pasted:
        message = "Paste a key to look it up."
    elif tokens.kind_of(pasted) is None:
        message = (
            "This looks like a Keyhouse key, but its checksum does not match: a character is mistyped or missing."
            if tokens.looks_like(pasted)
            else "That is not a Keyhouse key: keys start with kha_ or khl_ and are 42 characters long."
        )
    else:
        key = ApiKey.get_or_none(ApiKey.digest == tokens.digest(pasted))
        if key is None or not permissions.sees_key(current_user, key):
            message = "No live key in your reach matches. It may have been deleted or rolled."
        else:
            audit.record("identify", agency_id=key.agency_id, key=key, actor=current_user, ip=client_ip())
            return _identified(key)
    return render("keys/page.html", "keys/_identify_result.html", status=422, key=None, message=message)
