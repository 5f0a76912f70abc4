"""JSON in and out for the API and the public form endpoint: the body, and the contract's error body."""

import json

from flask import jsonify, request
from werkzeug.http import HTTP_STATUS_CODES

from keyhouse.web.observe import request_id


class ApiError(Exception):
    """Answer the request with `status` and the contract's error body naming the problem."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(thing):
    return ApiError(404, f"{thing} not found")


def error_response(status, message):
    """The contract's error body: {"statusCode", "error", "message", "requestId"} (the id to quote to support)."""
    response = jsonify(
        statusCode=status, error=HTTP_STATUS_CODES.get(status, "Error"), message=message, requestId=request_id()
    )
    response.status_code = status
    return response


def json_body():
    """The request body as a JSON object ({} when empty)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly nested JSON
        raise ApiError(400, "The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(422, "The body must be a JSON object")
    return body
