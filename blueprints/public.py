"""The public side of trigger links and forms: no key, no session, no CSRF token.

* GET /l/<linkId>?contact_id=  records a click, then 302 to the link's redirectTo.
* POST /f/<formId>             stores a submission (form-encoded or JSON) and
  creates or updates the contact by email, then phone. A browser's form post is
  redirected to a thank-you page; any other caller gets 201 JSON. The answer
  never says which contact the submission matched.
"""

from flask import (
    Blueprint,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import BadRequest, HTTPException, TooManyRequests

from keyhouse import ratelimit
from keyhouse.crm import actions as crm
from keyhouse.crm import inputs, shapes
from keyhouse.extensions import csrf
from keyhouse.models import Form, TriggerLink
from keyhouse.web import security
from keyhouse.web.jsonio import ApiError, error_response, json_body
from keyhouse.web.params import client_ip

bp = Blueprint("public", __name__)


def init_app(app):
    csrf.exempt(bp)
    security.checks_own_input(app, bp)
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
        response = error_response(error.code, message)
    else:
        page = render_template("errors/error.html", status=error.code, title=error.name, message=message)
        response = make_response(page, error.code)
    response.headers.update({name: value for name, value in error.get_headers() if name == "Retry-After"})
    return response


@bp.errorhandler(ApiError)
def malformed_json(error):
    return error_response(error.status, error.message)


@bp.route("/l/<linkId>")
def follow_link(linkId):
    link = TriggerLink.public(linkId)
    if link is None:
        abort(404)
    crm.record_click(link, request.args.get("contact_id"), client_ip())
    return redirect(link.redirect_to, code=302)


def _submitted_fields():
    if request.is_json:
        return json_body()
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadRequest("Send the form as application/x-www-form-urlencoded, multipart/form-data or JSON")
    if request.mimetype == "application/x-www-form-urlencoded":
        try:  # Werkzeug would drop every field of a body that is not UTF-8, without a word
            request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(422, "The form is not valid UTF-8 text") from None
    return request.form.to_dict(flat=True)


@bp.route("/f/<formId>", methods=["POST"])
def submit_form(formId):
    posts, retry_after = ratelimit.FORM_POSTS.count(client_ip())
    if posts is not None and posts > ratelimit.FORM_POSTS.limit:
        message = f"Too many form posts from your address; try again in {retry_after} seconds"
        raise TooManyRequests(message, retry_after=retry_after)
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
