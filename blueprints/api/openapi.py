"""The OpenAPI 3.1 documents of API 1.0 and API 2.0, built from the API's route table.

Every route registered with `routes.route` carries its scope,
key kind, parameters, body fields and answer; this module only translates that
table, so the documents and the routes cannot drift apart (a test checks it).

Answer notation in the table: "Contact" (a capitalised name) is a component;
["Contact"] an array of it; "boolean"/"integer"/"string" a plain type;
{"name": notation, ...} an object of those.
"""

from flask import current_app

from keyhouse.crm import inputs
from keyhouse.models.fields import ID_LENGTH

from . import leaks
from .routes import DOCUMENT_VERSION, ROUTES, VERSIONS

TITLES = {"v1": "Keyhouse API 1.0", "v2": "Keyhouse API 2.0"}
SIGNALS = (
    " While the calling key has a known end (a rolled key in its grace period), successful answers carry"
    " Sunset (RFC 8594) and Link rel=\"sunset\"; GET /keys/self tells a key about itself."
)
DESCRIPTIONS = {
    "v1": "HighLevel API 1.0 compatible. Location resources need a location key, locations an agency key." + SIGNALS,
    "v2": "HighLevel API 2.0 compatible. Send the Version header. Agency keys name a location with locationId."
          + SIGNALS,
}
ERRORS = {
    400: "Bad request: malformed JSON, or (API 2.0) a missing or unknown Version header",
    401: "Missing, malformed, invalid or deactivated key",
    403: "The key lacks the route's scope (see WWW-Authenticate), or is of the wrong kind",
    404: "Not found, or outside this key's reach",
    409: "The key was rolled already: its replacement may roll",
    413: "The body is too large",
    422: "A parameter or body field is invalid (the message names it)",
    429: "Rate limit exceeded (see Retry-After)",
}
SUCCESS_HEADERS = {  # RFC 8594, while the calling key has a known end
    "Sunset": {"description": "When the calling key stops working (HTTP-date); only while it has a known end",
               "schema": {"type": "string"}},
    "Link": {"description": 'The docs page about it, rel="sunset"; sent with Sunset', "schema": {"type": "string"}},
}
SCOPE_CHALLENGE = {  # RFC 6750, on a 403 for a missing scope
    "WWW-Authenticate": {"description": 'Bearer error="insufficient_scope", scope="<the scope>" (missing scope only)',
                         "schema": {"type": "string"}},
}
ID_PATTERN = f"^[A-Za-z0-9]{{{ID_LENGTH}}}$"


NO_NUL = "^[^\\u0000]*$"  # PostgreSQL cannot store a NUL, so text holding one is refused
FILLED = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"  # values are trimmed: a required one must not be blank


def _trimmed(pattern, required):
    """`pattern` (inputs) within the whitespace the server trims first; blank clears an optional value."""
    return f"^\\s*(?:{pattern}){'' if required else '?'}\\s*$"


def field_schema(field, nullable=False, answer=False, required=False):
    """The JSON Schema of an inputs.Field as sent (with the bounds the server enforces; `nullable`:
    null clears it; `required`: it must not be blank), or of the value it is answered as (`answer`)."""
    kind = field.kind
    if kind in ("string", "text", "email", "phone", "url", "date", "datetime", "id"):
        schema = {"type": ["string", "null"] if nullable else "string"}
        if kind != "id":
            schema["maxLength"] = field.max_length
        if answer:
            schema.update({
                "email": {"pattern": f"^{inputs.EMAIL_PATTERN}$"}, "url": {"pattern": f"^{inputs.URL_PATTERN}$"},
                "phone": {"pattern": f"^{inputs.STORED_PHONE_PATTERN}$"},
            }.get(kind, {}))
        else:
            schema.update({
                "string": {"pattern": FILLED if required else NO_NUL},
                "text": {"pattern": FILLED if required else NO_NUL},
                "email": {"pattern": _trimmed(inputs.EMAIL_PATTERN, required)},
                "url": {"pattern": _trimmed(inputs.URL_PATTERN, required)},
                "phone": {"pattern": _trimmed(inputs.PHONE_PATTERN, required)},
                "id": {"pattern": f"^(?:{ID_PATTERN[1:-1]})?$"},  # empty: not given
            }.get(kind, {}))
        if kind == "date" and not (answer or required):  # blank clears it
            schema["anyOf"] = [{"format": "date"}, {"pattern": "^\\s*$"}]
        elif kind in ("date", "datetime"):
            schema["format"] = "date" if kind == "date" else "date-time"
        if kind == "id" and answer:
            schema["pattern"] = ID_PATTERN
    elif kind in ("number", "integer"):  # whole numbers either way; "number" ones may be sent as 20.0
        schema = {"type": kind, **({"multipleOf": 1} if kind == "number" else {})}
        schema.update({bound: getattr(field, bound) for bound in ("minimum", "maximum")
                       if getattr(field, bound) is not None})
    elif kind in ("boolean", "object"):
        schema = {"type": kind}
    elif kind == "tags":
        schema = {"type": "array", "items": {"type": "string", "maxLength": inputs.TAG_MAX_LENGTH, "pattern": FILLED},
                  "maxItems": inputs.MAX_TAGS}
    elif kind == "customFields":
        if answer:
            item = _object({"id": {"type": "string"}, "value": {}})
        else:
            item = _object({"id": {"type": "string"}, "key": {"type": "string"}, "field_value": {}, "value": {}})
        schema = {"type": "array", "maxItems": inputs.MAX_CUSTOM_FIELDS, "items": item}
    elif kind == "choice":
        schema = {"enum": list(field.choices)}
    elif kind == "options":
        schema = {"type": "array", "items": {"type": "string", "maxLength": field.max_length}, "maxItems": 100}
    elif kind in inputs.DND:
        channels, statuses, keys = inputs.DND[kind]
        text = {"type": ["string", "null"]} if answer else {"type": "string"}
        setting = {"type": "object", "required": ["status"], "additionalProperties": False,
                   "properties": {key: {"enum": list(statuses)} if key == "status" else text for key in keys}}
        schema = {"type": "object", "additionalProperties": False, "properties": {c: setting for c in channels}}
    else:
        raise ValueError(f"no schema for field kind {kind!r}")
    if field.description:
        schema["description"] = field.description
    return schema


def query_schema(field):
    """A query parameter's schema: an empty value (`?locationId=`) counts as not given."""
    schema = field_schema(field)
    if field.kind in ("string", "id", "email", "phone", "url"):  # already take ""
        return schema
    return {"anyOf": [schema, {"const": ""}], **({"description": field.description} if field.description else {})}


def body_schema(route):
    """The JSON body of `route`: its fields, null clearing the optional ones that may be cleared."""
    properties = {
        field.name: field_schema(field, nullable=field.kind in (*inputs.NULLABLE, "id") and field.name not in route.required,
                                 required=field.name in route.required)
        for field in route.body
    }
    body = _object(properties, route.required)
    body["description"] = "Unknown fields are ignored."
    return body


def _object(properties, required=()):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _string(description=""):
    return {"type": "string", **({"description": description} if description else {})}


def _nullable_fields(fields):
    return {field.name: field_schema(field, nullable=True, answer=True) for field in fields}


def components():
    time = {"type": "string", "format": "date-time"}
    ident = {"type": "string", "pattern": ID_PATTERN}
    page_meta = {
        "total": {"type": "integer"},
        "currentPage": {"type": "integer"},
        "nextPage": {"type": ["integer", "null"]},
        "prevPage": {"type": ["integer", "null"]},
    }
    api_key = {
        "id": _string(), "name": _string(), "kind": {"enum": ["agency", "location"]},
        "hint": _string("the key's first and last characters, as the dashboard shows it"),
        "scopes": {"type": "array", "items": {"type": "string"}},
        "locationId": {"type": ["string", "null"], "description": "a location key's location"},
        "companyId": _string(), "createdAt": time,
        "lastUsedAt": {"type": ["string", "null"], "format": "date-time"},
        "expiresAt": {"type": ["string", "null"], "format": "date-time",
                      "description": "when the key stops working (the Sunset header), if known"},
        "deletionAt": {**time, "description": "when the key is deleted if not used again"},
    }
    return {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "Keyhouse key (kha_… agency, khl_… location)",
            }
        },
        "schemas": {
            "Error": _object({"statusCode": {"type": "integer"}, "error": _string(), "message": _string(),
                              "requestId": _string()},
                             ("statusCode", "error", "message", "requestId")),
            "Contact": _object({"id": ident, "locationId": ident, **_nullable_fields(inputs.CONTACT_FIELDS),
                                "dateAdded": time, "dateUpdated": time}),
            "Workflow": _object({"id": ident, "name": _string(), "status": {"enum": ["draft", "published"]},
                                 "version": {"type": "integer"}, "createdAt": time, "updatedAt": time,
                                 "locationId": ident}),
            "Form": _object({"id": ident, "name": _string(), "locationId": ident}),
            "Submission": _object({"id": ident, "contactId": {"type": ["string", "null"]}, "formId": ident,
                                   "name": {"type": ["string", "null"]}, "email": {"type": ["string", "null"]},
                                   "createdAt": time, "others": {"type": "object"}}),
            "Link": _object({"id": ident, "name": _string(), "redirectTo": _string(),
                             "fieldKey": _string("{{trigger_link.<id>}}"), "locationId": ident}),
            "Location": _object({"id": ident, "companyId": _string(), **_nullable_fields(inputs.LOCATION_FIELDS)}),
            "ContactsMeta": _object({
                **page_meta, "nextPageUrl": {"type": ["string", "null"]},
                "startAfterId": {"type": ["string", "null"]}, "startAfter": {"type": ["integer", "null"]},
            }),
            "PageMeta": _object(page_meta),
            "CustomField": _object({
                "id": ident, "name": _string(), "fieldKey": _string("contact.<key>"),
                "dataType": {"enum": list(inputs.CUSTOM_FIELD_TYPES)}, "placeholder": {"type": ["string", "null"]},
                "position": {"type": "integer"}, "picklistOptions": {"type": "array", "items": {"type": "string"}},
                "model": {"enum": ["contact"]}, "locationId": ident,
            }),
            "Note": _object({"id": ident, "contactId": ident, "body": _string(), "userId": {"type": ["string", "null"]},
                             "dateAdded": time}),
            "ApiKey": _object(api_key),
            "NewApiKey": _object({**api_key, "apiKey": _string("the new key itself: in this answer only, store it now")},
                                 ("apiKey",)),
            "Task": _object({"id": ident, "contactId": ident, "title": _string(), "body": {"type": ["string", "null"]},
                             "assignedTo": {"type": ["string", "null"]}, "dueDate": time,
                             "completed": {"type": "boolean"}}),
        },
    }


def answer_schema(notation):
    if isinstance(notation, dict):
        return _object({name: answer_schema(value) for name, value in notation.items()})
    if isinstance(notation, list):
        return {"type": "array", "items": answer_schema(notation[0])}
    if notation.endswith("?"):  # "Contact?": the component or null
        return {"oneOf": [answer_schema(notation[:-1]), {"type": "null"}]}
    if notation[0].isupper():
        return {"$ref": f"#/components/schemas/{notation}"}
    return {"type": notation}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operation(route):
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": ID_PATTERN}}
        for name in route.path_params
    ]
    parameters += [
        {"name": field.name, "in": "query", "required": False, "schema": query_schema(field),
         **({"description": field.description} if field.description else {})}
        for field in route.query
    ]
    if route.version == "v2":
        parameters.append({"name": "Version", "in": "header", "required": True,
                           "schema": {"enum": list(VERSIONS)}})
    def applies(code):
        if code == 403:  # nothing to refuse on a route any key may call
            return bool(route.scope or route.kind)
        return code not in (409, 413) or (code == 413 and route.body) or code in route.errors

    def error(code):
        answer = _json({"$ref": "#/components/schemas/Error"}, ERRORS[code])
        if code == 403 and route.scope:
            answer["headers"] = SCOPE_CHALLENGE
        return answer

    success = {**_json(answer_schema(route.response), "Success"), "headers": SUCCESS_HEADERS}
    doc = {
        "operationId": f"{route.version}_{route.endpoint}",
        "summary": route.summary,
        "tags": [route.rule.strip("/").split("/")[0]],
        "security": [{"bearerAuth": [route.scope] if route.scope else []}],
        "x-scope": route.scope,
        "x-key-kinds": [route.kind] if route.kind else ["location", "agency"],
        "parameters": parameters,
        "responses": {
            str(route.status): success,
            **{str(code): error(code) for code in ERRORS if applies(code)},
        },
    }
    if route.body:
        doc["requestBody"] = {"required": bool(route.required),
                              "content": {"application/json": {"schema": body_schema(route)}}}
    return doc


def build(version, server_url=""):
    """The OpenAPI 3.1 document of `version` ("v1" or "v2")."""
    paths = {
        f"/{version}/openapi.json": {
            "get": {"operationId": f"{version}_openapi", "summary": "This document", "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}}}
        }
    }
    for route in ROUTES.values():
        if route.version == version:
            paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    if version == "v1":  # the one public route of the API besides this document
        paths[f"/v1{leaks.RULE}"] = {"post": leaks.OPERATION}
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLES[version], "version": DOCUMENT_VERSION if version == "v2" else "1.0",
                 "description": DESCRIPTIONS[version]},
        "servers": [{"url": server_url.rstrip("/") or "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": components(),
    }


def serve(bp):
    """Serve the document of `bp` ("v1" or "v2") at its /openapi.json, with no key needed."""

    @bp.route("/openapi.json")
    def openapi_document():
        return build(bp.name, current_app.config["PUBLIC_URL"] or "")  # else relative: never the Host header
