"""`POST /v1/credentials/revoke`: report leaked keys (no key needed; limited per IP).

The answer is the same whether or not a token matched: 202 with the number of
tokens received (keyhouse/keys/leaks.py says why the work is the same too).
"""

import logging

from flask import current_app, jsonify
from redis.exceptions import RedisError
from rq import Retry

from keyhouse import ratelimit
from keyhouse.keys import leaks
from keyhouse.web.jsonio import ApiError, error_response, json_body
from keyhouse.web.params import client_ip

log = logging.getLogger("keyhouse.api")

LEAK_REPORTS = ratelimit.Window("leakreport", 60, "LEAK_REPORT_LIMIT")
RULE = "/credentials/revoke"
# The OpenAPI operation (this route needs no key, so it is not in the route table).
OPERATION = {
    "operationId": "v1_revoke_credentials",
    "summary": "Report leaked keys: matching live keys are deactivated and their admins told",
    "tags": ["credentials"],
    "security": [],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["tokens"],
        "properties": {"tokens": {"type": "array", "minItems": 1, "maxItems": leaks.MAX_TOKENS,
                                  "items": {"type": "string", "maxLength": 200}}},
    }}}},
    "responses": {
        "202": {"description": "Received; the same answer whether or not any token matched a key",
                "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"received": {"type": "integer"}}}}}},
        **{str(code): {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
           for code, text in ((400, "The body is not valid JSON"), (413, "The body is too large"),
                              (422, "The body is not {\"tokens\": [...]} with 1 to 1000 strings"),
                              (429, "Too many reports from this address (see Retry-After)"))},
    },
}


def init(bp):
    """Add the route to API 1.0's blueprint."""
    bp.add_url_rule(RULE, "revoke_credentials", revoke_credentials, methods=["POST"])


def revoke_credentials():
    ip = client_ip()
    count, retry_after = LEAK_REPORTS.count(ip)
    if count is not None and count > LEAK_REPORTS.limit:
        response = error_response(429, f"Too many leak reports from this address; retry after {retry_after} seconds")
        response.headers["Retry-After"] = str(retry_after)
        return response
    try:
        reported = leaks.clean(json_body())
    except ValueError as problem:
        raise ApiError(422, str(problem)) from None
    key_ids = leaks.matching_ids(reported)
    _enqueue(key_ids, ip)
    response = jsonify(received=len(reported))
    response.status_code = 202
    return response


def _enqueue(key_ids, ip):
    """One job per report, matched or not (so the work does not depend on a match); inline without Redis."""
    from jobs import leaks as leak_jobs
    from jobs import queue

    try:
        queue(current_app).enqueue(leak_jobs.leak_report, key_ids, ip, retry=Retry(max=3, interval=[10, 60, 300]), result_ttl=0)
    except (RedisError, OSError) as error:
        log.error("leak report: Redis is unreachable (%s); deactivating in the request", type(error).__name__)
        leak_jobs.leak_report(key_ids, ip)
