"""`/metrics`: Prometheus text, for a scraper holding METRICS_TOKEN (keyhouse/metrics.py says what is in it).

Off (404) while METRICS_TOKEN is unset; any other credential gets 401. The
scraper sends `Authorization: Bearer <METRICS_TOKEN>`.
"""

import secrets

from flask import Blueprint, Response, abort, current_app, request

from keyhouse import metrics

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape():
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(sent.strip().encode(), token.encode()):
        response = Response("metrics need the METRICS_TOKEN as a bearer token\n", 401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(metrics.exposition(current_app), mimetype=CONTENT_TYPE_LATEST)
