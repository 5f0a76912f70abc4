"""Settings → Webhooks: an agency admin's endpoints, their signing secrets and their delivery logs.

Only agency admins reach these pages (everyone else gets 404, like anything
outside their reach). A signing secret is shown once, in the answer that made or
rolled it; the delivery log shows status and response time, and "Resend".
"""


from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from blueprints.keys import MultiCheckboxField
from jobs import outbound as outbound_jobs
from keyhouse import permissions
from keyhouse.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from keyhouse.models.outbound import URL_MAX
from keyhouse.outbound import webhooks
from keyhouse.outbound.events import EVENT_TYPES
from keyhouse.web.htmx import render, toast, wants_fragment
from keyhouse.web.paging import Pager
from keyhouse.web.params import client_ip

bp = Blueprint("webhooks", __name__, url_prefix="/settings/webhooks")

PAGE_SIZE = 25
DELIVERY_ORDER = [(None, (WebhookDelivery.id,))]  # newest first (keyhouse.web.paging)
ALL_LOCATIONS = 0  # the location choice that means "every location and the agency keys"


@bp.before_request
@login_required
def require_agency_admin():
    if not permissions.manages_webhooks(current_user):
        abort(404)


class EndpointForm(FlaskForm):
    url = StringField("Endpoint URL", render_kw={"placeholder": "https://hooks.example.com/keyhouse",
                                                 "maxlength": URL_MAX, "autocomplete": "off", "spellcheck": "false"})
    description = StringField("Description (optional)", render_kw={"maxlength": 200})
    events = MultiCheckboxField("Events", choices=list(EVENT_TYPES.items()))
    location = SelectField("Keys of", coerce=int, validate_choice=False)


def _form():
    form = EndpointForm()
    form.location.choices = [(ALL_LOCATIONS, "Every location, and the agency keys")] + [
        (loc.id, loc.name) for loc in permissions.visible_locations(current_user)
    ]
    if not form.is_submitted():
        form.events.data = list(EVENT_TYPES)
    return form


def _endpoint_or_404(endpoint_id):
    endpoint = webhooks.endpoints_of(current_user.agency_id).where(WebhookEndpoint.id == endpoint_id).first()
    if endpoint is None:
        abort(404)
    return endpoint


def _index(form, status=200):
    return render("webhooks/index.html", "webhooks/_form.html", status=status, form=form,
                  endpoints=list(webhooks.endpoints_of(current_user.agency_id)))


@bp.route("")
def index():
    return _index(_form())


@bp.route("", methods=["POST"])
def create():
    form = _form()
    location_id = form.location.data or None
    if location_id is not None and location_id not in {choice for choice, _ in form.location.choices}:
        abort(404)  # a forged or foreign location
    if not form.validate():
        return _index(form, 422)
    try:
        endpoint = webhooks.create_endpoint(
            agency_id=current_user.agency_id, url=form.url.data, events=form.events.data or [],
            location_id=location_id, description=form.description.data, actor=current_user, ip=client_ip(),
        )
    except webhooks.EndpointProblem as problem:
        getattr(form, problem.field or "url").errors.append(problem.message)
        return _index(form, 422)
    return _reveal(endpoint, 201)


def _reveal(endpoint, status):
    """The one answer that holds the endpoint's signing secret: its page, with the secret in a dialog over it."""
    return _page(endpoint, status, reveal=True)


@bp.route("/<int(max=2147483647):endpoint_id>")
def show(endpoint_id):
    return _page(_endpoint_or_404(endpoint_id))


def _page(endpoint, status=200, reveal=False):
    """The endpoint's page (its delivery log alone for htmx)."""
    query = WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint.id)
    page = Pager(query, DELIVERY_ORDER, PAGE_SIZE).page()
    deliveries = list(page.rows)
    attempts = {}
    if deliveries:
        for attempt in (WebhookAttempt.select()
                        .where(WebhookAttempt.delivery.in_([d.id for d in deliveries]))
                        .order_by(WebhookAttempt.id)):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return render("webhooks/show.html", "webhooks/_deliveries.html", status=status, endpoint=endpoint,
                  deliveries=deliveries, attempts=attempts, page=page, reveal=reveal,
                  page_url=lambda params: url_for("webhooks.show", endpoint_id=endpoint.id, **params),
                  location_name=endpoint.location.name if endpoint.location_id else None)


@bp.route("/<int(max=2147483647):endpoint_id>/roll-secret", methods=["POST"])
def roll_secret(endpoint_id):
    endpoint = _endpoint_or_404(endpoint_id)
    webhooks.roll_secret(endpoint, actor=current_user, ip=client_ip())
    return _reveal(endpoint, 200)


@bp.route("/<int(max=2147483647):endpoint_id>/<any(enable, disable):change>", methods=["POST"])
def set_enabled(endpoint_id, change):
    endpoint = _endpoint_or_404(endpoint_id)
    webhooks.set_enabled(endpoint, change == "enable", actor=current_user, ip=client_ip())
    flash("Endpoint enabled: new events are sent to it." if endpoint.enabled
          else "Endpoint disabled: no events are sent to it until you enable it.", "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id), code=303)


@bp.route("/<int(max=2147483647):endpoint_id>/delete", methods=["POST"])
def delete(endpoint_id):
    endpoint = _endpoint_or_404(endpoint_id)
    webhooks.delete_endpoint(endpoint, actor=current_user, ip=client_ip())
    flash(f"Deleted the endpoint {endpoint.url}.", "success")
    return redirect(url_for("webhooks.index"), code=303)


@bp.route("/<int(max=2147483647):endpoint_id>/deliveries/<int(max=2147483647):delivery_id>/resend", methods=["POST"])
def resend(endpoint_id, delivery_id):
    endpoint = _endpoint_or_404(endpoint_id)
    delivery = WebhookDelivery.get_or_none((WebhookDelivery.id == delivery_id)
                                           & (WebhookDelivery.endpoint == endpoint.id))
    if delivery is None:
        abort(404)
    if outbound_jobs.resend(delivery.id):
        message, level = "Sending it again now: the log shows the answer in a moment.", "success"
    else:
        message, level = "This delivery is still being retried; wait for its next attempt.", "error"
    if not wants_fragment():
        flash(message, level)
        return redirect(url_for("webhooks.show", endpoint_id=endpoint.id), code=303)
    delivery = WebhookDelivery.get_by_id(delivery.id)
    attempts = {delivery.id: list(delivery.attempt_rows.order_by(WebhookAttempt.id))}
    response = make_response(render_template("webhooks/_delivery.html", endpoint=endpoint, delivery=delivery,
                                             attempts=attempts))
    return toast(response, message, level)
