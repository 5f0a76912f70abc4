"""JSON in and out for the API and the public form endpoint: the body, and the contract's error body."""

import json

from flask import jsonify, request
from werkzeug.http import HTTP_STATUS_CODES

from keyhouse.web.observe import request_id


class ApiError(Exception):
    """Answer the request with `status` and the contract's error body naming the problem."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def not_found(thing):
    return ApiError(404, f"{thing} not found")


def error_response(status, message, headers=None):
    """The contract's error body: {"statusCode", "error", "message", "requestId"} (the id to quote to support)."""
    response = jsonify(
        statusCode=status, error=HTTP_STATUS_CODES.get(status, "Error"), message=message, requestId=request_id()
    )
    response.status_code = status
    response.headers.update(headers or {})
    return response


MAX_DEPTH = 32  # objects and arrays nested deeper than this are refused


def _problem(body):
    """What makes a parsed body unusable, naming where, or None.

    JSON may spell a lone UTF-16 surrogate ("\\ud800"): Python parses it into a
    str that UTF-8 (the database, the logs) cannot encode. Deep nesting is
    refused before anything stores or walks it recursively.
    """
    pending = [(body, "body", 0)]
    while pending:
        value, where, depth = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"{where} is not valid Unicode text (it holds a lone UTF-16 surrogate such as \\ud800)"
            continue
        if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
            return f"{where} is nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, dict):
            for name, item in value.items():
                label = name.encode("utf-8", "backslashreplace").decode("utf-8")
                pending.append((name, f"a field name in {where}", depth))
                pending.append((item, label if where == "body" else f"{where}.{label}", depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value))
    return None


def json_body():
    """The request body as a JSON object ({} when empty); ApiError names what is wrong with it."""
    raw = request.get_data(cache=True)  # whole: security.whole_body_or_413 refused a cut one
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly nested JSON
        raise ApiError(400, "The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(422, "The body must be a JSON object")
    problem = _problem(body)
    if problem:
        raise ApiError(422, problem)
    return body
