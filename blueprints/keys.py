"""Settings → API keys: list, create and reveal once, rename, (de)activate, roll, delete, identify.

Each view answers a whole page to a browser and only the changed fragment to
htmx (keyhouse.web.htmx.render). Row actions swap their row and announce
themselves with a toast; create and roll reveal the new key in the panel above
the lists and tell the lists to refresh (`keys-changed`). The identify panel
has endpoints of its own, so no view guesses from which element htmx asked.
"""

import dataclasses
import datetime

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from keyhouse import permissions
from blueprints.notifications import pending_banner_context
from keyhouse.keys import allowlist, apikeys, bulk, expiry, lifecycle, tokens, usage
from keyhouse.keys import identify as identifying
from keyhouse.keys.scopes import DEFAULT_SCOPES, KIND_SCOPES, LABELS
from keyhouse.models import ApiKey, KeyStatus, utcnow
from keyhouse.models.keys import NAME_MAX
from keyhouse.web.htmx import render, toast, trigger, wants_fragment
from keyhouse.web.layout import current_location
from keyhouse.web.paging import Pager
from keyhouse.web.params import client_ip, int_arg, small_int

bp = Blueprint("keys", __name__, url_prefix="/settings/api-keys")

PAGE_SIZE = 50
GRACE_CHOICES = [(code, label) for code, (_, label) in apikeys.ROLL_GRACE.items()]
DEFAULT_GRACE = apikeys.DEFAULT_GRACE
ROW_PAGE = "keys/row_page.html"  # a row fragment as a page of its own (no htmx)
PANEL_PAGE = "keys/panel_page.html"  # a panel fragment as a page of its own
KEY_PAGE = "keys/key_page.html"  # one key's page


@bp.before_request
@login_required
def require_login():
    """Every keys screen needs a signed-in staff member."""


@bp.context_processor
def row_context():
    return {"usage_days": usage.DAYS_SHOWN, "key_urls": key_urls}


# A key row's links and actions: name in the template → (endpoint, arguments besides the key's id).
ROW_URLS = {
    "page": ("keys.key_page", {}),
    "rules": ("keys.rules", {}),
    "rename": ("keys.rename", {}),
    "deactivate": ("keys.change_status", {"change": "deactivate"}),
    "reactivate": ("keys.change_status", {"change": "reactivate"}),
    "roll": ("keys.roll", {}),
    "roll_in_row": ("keys.roll_in_row", {}),
    "delete": ("keys.delete", {}),
    "row": ("keys.row", {}),
}
_STAND_IN_ID = "9007199254740881"  # no key has this id: url_for builds each row URL once around it


def key_urls(key_id):
    """The URLs of one key's row (ROW_URLS) as url_for builds them, built once a request.

    A page of 100 rows would otherwise call url_for 900 times (about 30 µs each);
    each row's URLs are the request's patterns with its id in place of the stand-in.
    """
    patterns = g.get("key_url_patterns")
    if patterns is None:
        patterns = g.key_url_patterns = {
            name: url_for(endpoint, key_id=int(_STAND_IN_ID), **arguments)
            for name, (endpoint, arguments) in ROW_URLS.items()
        }
    key_id = str(int(key_id))
    return {name: pattern.replace(_STAND_IN_ID, key_id) for name, pattern in patterns.items()}


# ---------------------------------------------------------------- one key as the screen shows it


@dataclasses.dataclass(frozen=True)
class Row:
    """A key with what its row shows: whether the user may change it and its inactivity countdown."""

    key: ApiKey
    can_manage: bool
    days_left: int | None  # None outside the warning window
    now: datetime.datetime
    inactivity_days: int
    radius: usage.Radius  # what stopping the key breaks (its confirmations say it)
    requests: int  # requests in the last usage.DAYS_SHOWN days (rolled up)
    cut_over: usage.CutOver | None = None  # a rolled key in its grace period: who still calls it
    ends_by: str = "inactivity"  # which end `days_left` counts down to: "inactivity" or "expiry"
    linked: bool = False  # the key a link pointed at: its row is marked and scrolled to


def row_of(key, now=None, requests=None):
    """The Row of one key for the signed-in user (see _rows)."""
    return _rows([key], None, now or utcnow(), requests=requests)[0]


def _usage_since(now):
    """The first UTC day of the usage numbers a row shows."""
    return now.date() - datetime.timedelta(days=usage.DAYS_SHOWN - 1)


def _rows(keys, managed, now, linked_id=None, requests=None):
    """The Rows of `keys` for the signed-in user (`managed`: managed_location_ids, or None to look
    it up per key): their blast radius, usage and cut-overs in a few queries for all of them.
    `requests` ({key id: count}) when the caller has read the usage already."""
    keys = list(keys)
    rule = lifecycle.rule()
    radii = usage.blast_radius(keys, now, rule.inactivity_days)
    if requests is None:
        requests = usage.requests_since([key.id for key in keys], _usage_since(now))
    cut_overs = usage.cut_overs(keys, now)
    return [
        Row(
            key=key,
            can_manage=permissions.manages_key(current_user, key, managed),
            days_left=rule.days_until_deletion(key, now),
            now=now,
            inactivity_days=rule.inactivity_days,
            radius=radii[key.id],
            requests=requests.get(key.id, 0),
            cut_over=cut_overs.get(key.id),
            ends_by="expiry" if rule.expiry_governs(key) else "inactivity",
            linked=key.id == linked_id,
        )
        for key in keys
    ]


def _key_or_404(key_id, manage=True):
    """A live key in the user's reach (full rights when `manage`), else 404."""
    key = ApiKey.get_or_none((ApiKey.id == key_id) & ApiKey.status.in_(KeyStatus.LIVE))
    allowed = permissions.manages_key if manage else permissions.sees_key
    if key is None or not allowed(current_user, key):
        abort(404)
    return key


def _done(response_or_fragment, message, level="success", key=None):
    """Finish a change: the fragment and a toast for htmx, a redirect and a flash for pages.

    A change made on a key's page (form field `from=page`) goes back to that page
    (to the list once the key is gone; `key` None).
    """
    from_page = request.form.get("from") == "page"
    if from_page or not wants_fragment():
        flash(message, level)
        target = url_for("keys.key_page", key_id=key.id) if from_page and key is not None else url_for("keys.index")
        if wants_fragment():
            response = make_response("", 204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, code=303)
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
        "rows": _rows(page.rows, managed, now, linked.id if linked_here else None),
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
        "bulk_actions": bulk.ACTIONS,
    }
    if not wants_fragment():  # the whole page also shows the pending-deletion banner
        context.update(pending_banner_context())
        context["can_set_policy"] = permissions.manages_agency_keys(current_user)
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
    expiry = SelectField("Expires", validate_choice=False)
    expiry_date = StringField("Expiry date", render_kw={"type": "date"})


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
    max_days = expiry.max_days(current_user.agency_id)
    form.expiry.choices = expiry.allowed_choices(max_days)
    form.expiry.description = (f"Your agency allows new keys to live at most {max_days} days." if max_days
                               else "The key stops working on this date and is deleted; you are warned before.")
    if not form.is_submitted():
        form.scopes.data = list(DEFAULT_SCOPES[kind])
        form.expiry.data = expiry.NEVER if max_days is None else form.expiry.choices[-2][0] if len(form.expiry.choices) > 1 else expiry.DATE
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
    now = utcnow()
    try:
        valid_until = expiry.valid_until(form.expiry.data or expiry.NEVER, form.expiry_date.data, now)
    except ValueError as problem:
        form.expiry.errors.append(str(problem))
        return _form_response(form, 422)
    try:
        key, plaintext = apikeys.create(
            agency_id=current_user.agency_id, location_id=location_id, name=form.name.data,
            scopes=form.scopes.data or [], valid_until=valid_until, actor=current_user, ip=client_ip(), now=now,
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
    return _done(_row(key), message, level, key=key)


@bp.route("/<int(max=2147483647):key_id>/roll", methods=["GET", "POST"])
def roll(key_id):
    """The roll form in the panel (GET), or roll the key and reveal the new one (POST)."""
    key = _rollable_or_404(key_id)
    if request.method == "GET":
        return _roll_form(key)
    try:
        new_key, plaintext = apikeys.roll(key, request.form.get("grace", ""), actor=current_user, ip=client_ip())
    except apikeys.KeyProblem as problem:
        return _roll_form(key, problem.message, 422)
    return _reveal(new_key, plaintext, old_key=key)


@bp.route("/<int(max=2147483647):key_id>/roll/in-row")
def roll_in_row(key_id):
    """The roll form in place of the key's row."""
    return _roll_form(_rollable_or_404(key_id), template="keys/_row_roll.html", page=ROW_PAGE)


def _roll_form(key, error=None, status=200, template="keys/_roll_form.html", page=PANEL_PAGE):
    """The roll form (in the panel or in place of the row), with what rolling breaks."""
    return render(page, template, status=status, key=key, choices=GRACE_CHOICES, default=DEFAULT_GRACE, error=error,
                  **_radius(key))


def _radius(key):
    """What the confirmations of `key` need to say what stopping it breaks: its radius, and now."""
    now = utcnow()
    return {"radius": usage.blast_radius([key], now, lifecycle.rule().inactivity_days)[key.id], "now": now}


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
        return render(PANEL_PAGE, "keys/_delete_confirm.html", key=key, **_radius(key))
    if not apikeys.delete(key, actor=current_user, ip=client_ip()):
        abort(404)  # deleted meanwhile
    return _done("", f"Deleted “{key.name}”. Requests with it now get 401.")


# ---------------------------------------------------------------- one key's page


def _seen_key_or_404(key_id):
    """A key the user sees — a deleted one too (its page is its tombstone) — else 404."""
    key = ApiKey.get_or_none(ApiKey.id == key_id)
    if key is None or not permissions.sees_key(current_user, key):
        abort(404)
    return key


def _key_page(key, fragment=KEY_PAGE, status=200, **extra):
    """The key's page (or one of its sections, `fragment`, for htmx)."""
    now = utcnow()
    series = usage.daily(key, now.date())
    totals = usage.totals(series)
    if key.is_live:
        extra = {"ends": _ends(key), "allowlist_text": "\n".join(allowlist.entries(key.allowed_ips)), **extra}
    return render(KEY_PAGE, fragment, status=status, row=row_of(key, now=now, requests={key.id: totals.total}),
                  key=key, series=series, totals=totals, callers=usage.top_callers(key), **extra)


@bp.route("/<int(max=2147483647):key_id>/page")
def key_page(key_id):
    """Everything about one key: its details, usage for 30 days, callers and, while it is rolled, the cut-over."""
    return _key_page(_seen_key_or_404(key_id))


@bp.route("/<int(max=2147483647):key_id>/callers/<int(max=2147483647):caller_id>/name", methods=["POST"])
def name_caller(key_id, caller_id):
    """Give one of the key's callers a name ("Acme lead sync"); blank removes it."""
    key = _key_or_404(key_id)
    try:
        caller = usage.name_caller(key, caller_id, request.form.get("name", ""))
    except apikeys.KeyProblem as problem:
        return _key_page(key, "keys/_callers.html", 422, caller_error=problem.message, caller_id=caller_id)
    if caller is None:
        abort(404)
    message = f"Named the caller “{caller.name}”." if caller.name else "The caller has no name now."
    if not wants_fragment():
        flash(message)
        return redirect(url_for("keys.key_page", key_id=key.id), code=303)
    return toast(_key_page(key, "keys/_callers.html"), message)


@bp.route("/<int(max=2147483647):key_id>/stop-old", methods=["POST"])
def stop_old(key_id):
    """End a rolled key's grace period now: the old key stops working."""
    key = _key_or_404(key_id)
    if key.expires_at is None:
        abort(404)  # not the old half of a roll
    if not apikeys.finish_roll(key, actor=current_user, ip=client_ip()):
        abort(404)  # deleted meanwhile
    return _done("", f"Stopped the old key {key.hint} of “{key.name}”. Requests with it now get 401.", key=key)


ACTIVITY_IDS_MAX = 2 * PAGE_SIZE  # the rows of both lists


@bp.route("/activity")
def activity():
    """The last use and usage numbers of the listed keys (`ids`), as out-of-band swaps: the lists poll it."""
    ids = [key_id for key_id in map(small_int, request.args.get("ids", "").split(",")) if key_id is not None]
    keys = list(ApiKey.select().where(
        ApiKey.id.in_(ids[:ACTIVITY_IDS_MAX]) & (ApiKey.agency == current_user.agency_id)
        & ApiKey.status.in_(KeyStatus.LIVE)
    )) if ids else []
    keys = [key for key in keys if permissions.sees_key(current_user, key)]
    now = utcnow()
    requests = usage.requests_since([key.id for key in keys], _usage_since(now))
    return render_template("keys/_activity_updates.html", keys=keys, requests=requests, now=now,
                           days=usage.DAYS_SHOWN)


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


# ---------------------------------------------------------------- rules of one key: its ends, its allowlist


def _ends(key):
    """What keys/_ends.html shows: when `key` is deleted if unused, its expiry date, and which comes first."""
    now = utcnow()
    rule = lifecycle.rule()
    first, at = rule.first_end(key, now) if lifecycle.in_lifecycle(key) else (None, lifecycle.known_end(key))
    return {"key": key, "now": now, "inactivity_at": rule.deletion_due_at(key, now), "first": first,
            "first_at": at, "known_end": lifecycle.known_end(key), "inactivity_days": rule.inactivity_days}


@bp.route("/<int(max=2147483647):key_id>/ends")
def ends(key_id):
    """When the key stops working: its expiry date, its inactivity deletion, and which comes first."""
    return render(PANEL_PAGE, "keys/_ends.html", ends=_ends(_key_or_404(key_id, manage=False)))


def _allowlist(key, text=None, error=None, status=200):
    return render(PANEL_PAGE, "keys/_allowlist.html", status=status, key=key,
                  can_manage=permissions.manages_key(current_user, key),
                  text="\n".join(allowlist.entries(key.allowed_ips)) if text is None else text, error=error)


@bp.route("/<int(max=2147483647):key_id>/allowlist", methods=["GET", "POST"])
def edit_allowlist(key_id):
    """The key's IP allowlist (GET: shown, editable by those who manage the key; POST: saved)."""
    if request.method == "GET":
        return _allowlist(_key_or_404(key_id, manage=False))
    key = _key_or_404(key_id)
    text = request.form.get("allowlist", "")
    try:
        apikeys.set_allowlist(key, text, actor=current_user, ip=client_ip())
    except apikeys.KeyGone:
        abort(404)
    except apikeys.KeyProblem as problem:
        return _allowlist(key, text, problem.message, 422)
    count = len(allowlist.entries(key.allowed_ips))
    message = (f"Saved: “{key.name}” may be used from {count} address{'es' if count != 1 else ''} or range{'s' if count != 1 else ''} only."
               if count else f"Saved: “{key.name}” may be used from any address.")
    if not wants_fragment():
        flash(message, "success")
        return redirect(url_for("keys.edit_allowlist", key_id=key.id), code=303)
    return trigger(toast(_allowlist(key), message), "keys-changed")


@bp.route("/<int(max=2147483647):key_id>/rules")
def rules(key_id):
    """A key's rules in the panel: when it ends, and its IP allowlist."""
    key = _key_or_404(key_id, manage=False)
    return render(PANEL_PAGE, "keys/_rules.html", key=key, ends=_ends(key),
                  can_manage=permissions.manages_key(current_user, key),
                  text="\n".join(allowlist.entries(key.allowed_ips)), error=None)


# ---------------------------------------------------------------- the agency's policy for new keys


def _policy(value=None, error=None, status=200):
    current = expiry.max_days(current_user.agency_id)
    return render(PANEL_PAGE, "keys/_policy.html", status=status, current=current,
                  value=("" if current is None else str(current)) if value is None else value,
                  error=error, max_days=expiry.MAX_POLICY_DAYS)


@bp.route("/policy", methods=["GET", "POST"])
def policy():
    """The agency's longest lifetime for new keys (agency admins; 404 for anyone else)."""
    if not permissions.manages_agency_keys(current_user):
        abort(404)
    if request.method == "GET":
        return _policy()
    value = request.form.get("max_days", "")
    try:
        days = expiry.set_policy(current_user.agency_id, value, actor=current_user, ip=client_ip())
    except ValueError as problem:
        return _policy(value, str(problem), 422)
    message = f"New keys must now expire within {days} days." if days else "New keys may now be created without an expiry date."
    return _done(_policy(), message)


# ---------------------------------------------------------------- bulk actions on the lists


def _bulk_panel(template, status=200, **context):
    return render(PANEL_PAGE, template, status=status, actions=bulk.ACTIONS, choices=GRACE_CHOICES,
                  default=DEFAULT_GRACE, **context)


@bp.route("/bulk", methods=["GET", "POST"])
def bulk_action():
    """GET: the one confirmation listing the chosen keys (and those refused); POST: do it to each."""
    action = request.values.get("action", "")
    # "Review all on this page" sends the page's ids as page_key; otherwise the ticked boxes.
    field = "page_key" if request.values.get("scope") == "page" else "key"
    ids = [small_int(value) for value in request.values.getlist(field)]
    ids = [key_id for key_id in ids if key_id is not None]
    error = None
    if action not in bulk.ACTIONS:
        error = "Choose what to do with the selected keys."
    elif not ids:
        error = "Select at least one key (tick its box in the list)."
    elif len(set(ids)) > bulk.MAX_KEYS:
        error = f"Select at most {bulk.MAX_KEYS} keys at a time."
    if error:
        return _bulk_panel("keys/_bulk_confirm.html", 422, error=error, action=None, selection=None)
    selection = bulk.select(current_user, action, ids)
    grace = request.form.get("grace", DEFAULT_GRACE)
    if request.method == "GET" or not selection.keys or (action == "roll" and grace not in apikeys.ROLL_GRACE):
        status = 200 if request.method == "GET" else 422
        problem = None
        if request.method == "POST":
            problem = "Choose how long the old keys keep working." if selection.keys else "None of the selected keys can be changed this way."
        return _bulk_panel("keys/_bulk_confirm.html", status, action=action, selection=selection, error=problem)
    outcomes = bulk.apply(action, selection.keys, actor=current_user, ip=client_ip(), grace=grace)
    done = [outcome for outcome in outcomes if outcome.problem is None]
    verb = bulk.ACTIONS[action][1]
    message = f"{verb} {len(done)} key{'s' if len(done) != 1 else ''}."
    if selection.refused:
        message += f" Not allowed to change: {', '.join(key.name for key in selection.refused)}."
    if action != "roll" and not wants_fragment():
        flash(message, "success" if done else "error")
        return redirect(url_for("keys.index"), code=303)
    response = _bulk_panel("keys/_bulk_done.html", action=action, outcomes=outcomes, selection=selection)
    if wants_fragment():
        trigger(response, "keys-changed")
        if action != "roll":  # a roll's answer is a reveal: no toast over it
            toast(response, message, "success" if done else "error")
    return response
