"""The public side of trigger links and forms: no key, no session, no CSRF token.

* GET /l/<linkId>?contact_id=  records a click, then 302 to the link's redirectTo.
* POST /f/<formId>             stores a submission (form-encoded or JSON) and
  creates or updates the contact by email, then phone. A browser's form post is
  redirected to a thank-you page; any other caller gets 201 JSON. The answer
  never says which contact the submission matched.
"""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest, HTTPException

import crm
import inputs
from blueprints.api import shapes
from blueprints.api.common import ApiError, error_response, json_body
from extensions import csrf
from models import Form, TriggerLink

bp = Blueprint("public", __name__)


def init_app(app):
    csrf.exempt(bp)
    app.register_blueprint(bp)


def _browser_post():
    """A plain HTML form post from a browser (answered with pages, not JSON)."""
    return not request.is_json and request.accept_mimetypes.accept_html and request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    )


@bp.errorhandler(HTTPException)
def public_error(error):
    message = error.description
    if error.code == 413:
        message = f"The submission is larger than {request.max_content_length} bytes"
    if request.endpoint == "public.submit_form" and not _browser_post():
        return error_response(error.code, message)
    return render_template("errors/error.html", status=error.code, title=error.name, message=message), error.code


@bp.errorhandler(ApiError)
def malformed_json(error):
    return error_response(error.status, error.message)


@bp.route("/l/<linkId>")
def follow_link(linkId):
    link = TriggerLink.public(linkId)
    if link is None:
        abort(404)
    crm.record_click(link, request.args.get("contact_id"), request.remote_addr)
    return redirect(link.redirect_to, code=302)


def _submitted_fields():
    if request.is_json:
        return json_body()
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadRequest("Send the form as application/x-www-form-urlencoded, multipart/form-data or JSON")
    return request.form.to_dict(flat=True)


@bp.route("/f/<formId>", methods=["POST"])
def submit_form(formId):
    form = Form.public(formId)
    if form is None:
        abort(404, description="Form not found")
    try:
        submission, _ = crm.submit_form(form, _submitted_fields())
    except inputs.Invalid as invalid:
        abort(422, description=str(invalid))
    if _browser_post():
        return redirect(url_for("public.thanks", formId=form.id), code=303)
    answer = shapes.submission(submission)
    return {"submission": {name: answer[name] for name in ("id", "formId", "createdAt")}}, 201


@bp.route("/f/<formId>/thanks")
def thanks(formId):
    form = Form.public(formId)
    if form is None:
        abort(404)
    return render_template("public/thanks.html", form=form)
