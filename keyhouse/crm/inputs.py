"""Input rules of the CRM API, in one place for both API versions and the public form posts.

The field tables below are checked by `clean` and also describe the bodies in
the OpenAPI documents (blueprints/api/openapi.py). Unknown fields are ignored, as HighLevel's
API does; a known field of the wrong type or shape is an `Invalid` naming it.
"""

import dataclasses
import datetime
import json
import re


class Invalid(ValueError):
    """Input that cannot be used; `problems` is a list of (field, message)."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))

    @property
    def fields(self):
        return [field for field, _ in self.problems]


@dataclasses.dataclass(frozen=True)
class Field:
    name: str  # as the API spells it (camelCase)
    column: str  # the model attribute
    kind: str  # string | email | phone | url | date | boolean | tags | customFields | object | number | integer
    max_length: int = 255
    description: str = ""
    minimum: int | None = None  # bounds of a number or integer
    maximum: int | None = None
    choices: tuple = ()  # the values a "choice" may take


# Where a contact or a location is: the fields both have.
PLACE_FIELDS = (
    Field("city", "city", "string", 100),
    Field("state", "state", "string", 100),
    Field("country", "country", "string", 100),
    Field("postalCode", "postal_code", "string", 20),
    Field("website", "website", "string", 500),
    Field("timezone", "timezone", "string", 100),
)

CONTACT_FIELDS = (
    Field("firstName", "first_name", "string", 100),
    Field("lastName", "last_name", "string", 100),
    Field("name", "name", "string", 201, "full name; split into firstName/lastName when those are not given"),
    Field("email", "email", "email", 254, "matched case-insensitively"),
    Field("phone", "phone", "phone", 30, "at least one digit; digits, spaces, ()-./ and a leading +"),
    Field("companyName", "company_name", "string", 200),
    Field("address1", "address1", "string", 255),
    *PLACE_FIELDS,
    Field("source", "source", "string", 200),
    Field("tags", "tags", "tags", 100, "up to 100 tags of 1-100 characters"),
    Field("customFields", "custom_fields", "customFields", 5000,
          "[{id or key, field_value (or value)}]: the location's custom fields (answered as [{id, value}])"),
    Field("dnd", "dnd", "boolean"),
    Field("dndSettings", "dnd_settings", "dndSettings", 2000, "per channel: {status, message?, code?}"),
    Field("inboundDndSettings", "inbound_dnd_settings", "inboundDndSettings", 2000, "{all: {status, message?}}"),
    Field("gender", "gender", "string", 50),
    Field("dateOfBirth", "date_of_birth", "date", 10, "YYYY-MM-DD"),
    Field("assignedTo", "assigned_to", "string", 100),
)

LOCATION_FIELDS = (
    Field("name", "name", "string", 200),
    Field("address", "address", "string", 255),
    *PLACE_FIELDS,
    Field("email", "email", "email", 254),
    Field("phone", "phone", "phone", 30),
    Field("settings", "settings", "object", 10000, "free-form JSON object"),
    Field("social", "social", "object", 10000, "free-form JSON object"),
)

LINK_FIELDS = (
    Field("name", "name", "string", 200),
    Field("redirectTo", "redirect_to", "url", 2048, "an http:// or https:// URL"),
)

# HighLevel's do-not-disturb settings: kind -> (channels, statuses, keys a channel may carry).
DND = {
    "dndSettings": (("Call", "Email", "SMS", "WhatsApp", "GMB", "FB"), ("active", "inactive", "permanent"),
                    ("status", "message", "code")),
    "inboundDndSettings": (("all",), ("active", "inactive"), ("status", "message")),
}
MAX_TAGS = 100
TAG_MAX_LENGTH = 100
MAX_CUSTOM_FIELDS = 100
# The patterns below are Python and ECMA-262 regexes alike: the OpenAPI documents state them.
# A phone as typed (at least one digit); stored as digits with an optional leading +.
PHONE_PATTERN = r"\+?[ ().\-/]*[0-9][0-9 ().\-/]*"
STORED_PHONE_PATTERN = r"\+?[0-9]{1,30}"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
URL_PATTERN = r"[Hh][Tt][Tt][Pp][Ss]?://[^\s/$.?#]\S*"

# A location's custom field (HighLevel's CreateCustomFieldsDTO); dataType cannot change later.
CUSTOM_FIELD_FIELDS = (
    Field("name", "name", "string", 200),
    Field("placeholder", "placeholder", "string", 200),
    Field("position", "position", "number", minimum=0, maximum=10**6),
    Field("picklistOptions", "picklist_options", "options", 200, "the options of option types, at most 100"),
    Field("model", "model", "choice", choices=("contact",), description="contact (the only model here)"),
)
OPTION_TYPES = ("SINGLE_OPTIONS", "RADIO", "MULTIPLE_OPTIONS", "CHECKBOX")
CUSTOM_FIELD_TYPES = ("TEXT", "LARGE_TEXT", "NUMERICAL", "MONETORY", "PHONE", "EMAIL", "DATE", *OPTION_TYPES)
CUSTOM_FIELD_TYPE = Field("dataType", "data_type", "choice", 30, "what its values are", choices=CUSTOM_FIELD_TYPES)

# A contact's note and task (HighLevel's NotesDTO, CreateTaskParams).
NOTE_FIELDS = (
    Field("body", "body", "text", 5000),
    Field("userId", "user_id", "string", 100),
)
TASK_FIELDS = (
    Field("title", "title", "string", 200),
    Field("body", "body", "text", 5000),
    Field("dueDate", "due_date", "datetime", 40, "ISO 8601 date-time"),
    Field("completed", "completed", "boolean"),
    Field("assignedTo", "assigned_to", "string", 100),
)
TASK_COMPLETED = (Field("completed", "completed", "boolean"),)
_EMAIL = re.compile(EMAIL_PATTERN)
_PHONE = re.compile(PHONE_PATTERN)
_URL = re.compile(URL_PATTERN)


def has_nul(text):
    """True when `text` holds a NUL character (PostgreSQL cannot store one in text)."""
    return "\x00" in text


def _string(field, value):
    if not isinstance(value, str):
        raise ValueError(f"{field.name} must be a string")
    if has_nul(value):
        raise ValueError(f"{field.name} must not contain NUL characters")
    if len(value) > field.max_length:  # as sent, so that the documents' maxLength is exact
        raise ValueError(f"{field.name} must be at most {field.max_length} characters")
    return value.strip() or None


def _email(field, value):
    value = _string(field, value)
    if value is not None and not _EMAIL.fullmatch(value):
        raise ValueError(f"{field.name} must be an email address")
    return value.lower() if value else None


def _phone(field, value):
    value = _string(field, value)
    if value is None:
        return None
    if not _PHONE.fullmatch(value):
        raise ValueError(f"{field.name} must be a phone number")
    return ("+" if value.startswith("+") else "") + "".join(char for char in value if char.isdigit())


def _url(field, value):
    value = _string(field, value)
    if value is not None and not _URL.fullmatch(value):
        raise ValueError(f"{field.name} must be an http:// or https:// URL")
    return value


def _date(field, value):
    value = _string(field, value)
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{field.name} must be a date (YYYY-MM-DD)") from None


def _boolean(field, value):
    if not isinstance(value, bool):
        raise ValueError(f"{field.name} must be true or false")
    return value


def clean_tags(value, name="tags"):
    """Trimmed tags without case-insensitive duplicates, in the order given."""
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValueError(f"{name} must be an array of strings")
    tags, seen = [], set()
    for tag in (tag.strip() for tag in value):
        if has_nul(tag):
            raise ValueError(f"{name} must not contain NUL characters")
        if not tag or len(tag) > TAG_MAX_LENGTH:
            raise ValueError(f"{name} must hold tags of 1 to {TAG_MAX_LENGTH} characters")
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"{name} must hold at most {MAX_TAGS} tags")
    return tags


def _tags(field, value):
    return clean_tags(value, field.name)


def _custom_fields(field, value):
    """The shape of customFields: [{"id" or "key", "value"}] (not yet checked against the
    location's definitions, see `clean_custom_value`). `field_value` and `value` both
    name the value; an item with neither is refused, never stored as null."""
    message = f"{field.name} must be an array of {{id or key, field_value}} objects"
    if not isinstance(value, list) or len(value) > MAX_CUSTOM_FIELDS:
        raise ValueError(message + f" (at most {MAX_CUSTOM_FIELDS})")
    cleaned = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValueError(message)
        ident = "id" if "id" in item else "key"
        name = item.get(ident)
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
            raise ValueError(message)
        given = [key for key in CUSTOM_VALUE_KEYS if key in item]
        if not given:
            raise ValueError(f"{field.name}[{index}] ({name.strip()}) has no field_value")
        cleaned.append({ident: name.strip(), "value": item[given[0]]})
    return cleaned


CUSTOM_VALUE_KEYS = ("field_value", "value")  # HighLevel writes field_value, answers value
MAX_CUSTOM_VALUE = 5000


def clean_custom_value(data_type, options, value, label):
    """A custom field's value checked against its data type (and picklist); None clears it."""
    if value is None:
        return None
    text = Field(label, "", "string", MAX_CUSTOM_VALUE)
    if data_type in ("NUMERICAL", "MONETORY"):
        if isinstance(value, str):
            try:
                value = float(value.strip()) if value.strip() else None
            except ValueError:
                raise ValueError(f"{label} must be a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) > 1e15:
            raise ValueError(f"{label} must be a number")
        return int(value) if float(value).is_integer() else value
    if data_type in ("MULTIPLE_OPTIONS", "CHECKBOX"):
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
            raise ValueError(f"{label} must be an array of options")
        unknown = [item for item in values if item not in options]
        if unknown:
            raise ValueError(f"{label} must hold only its options ({', '.join(options)}), not {unknown[0]!r}")
        return values
    cleaner = {"PHONE": _phone, "EMAIL": _email, "DATE": _date}.get(data_type, _string)
    value = cleaner(text, value)
    if data_type in ("SINGLE_OPTIONS", "RADIO") and value is not None and value not in options:
        raise ValueError(f"{label} must be one of its options ({', '.join(options)})")
    return value


def _dnd(field, value):
    """{channel: {status, message?, code?}} with HighLevel's channels and statuses."""
    channels, statuses, keys = DND[field.kind]
    shape = f"{field.name} must be an object of {', '.join(channels)} -> {{status: {' | '.join(statuses)}}}"
    if not isinstance(value, dict):
        raise ValueError(shape)
    cleaned = {}
    for channel, setting in value.items():
        if channel not in channels or not isinstance(setting, dict) or setting.get("status") not in statuses:
            raise ValueError(shape)
        if set(setting) - set(keys):
            raise ValueError(f"{field.name}.{channel} may only hold {', '.join(keys)}")
        for key in keys[1:]:
            if key in setting:
                setting = {**setting, key: _string(Field(f"{field.name}.{channel}.{key}", "", "string", 500), setting[key])}
        cleaned[channel] = setting
    return cleaned


def _options(field, value):
    if not isinstance(value, list) or len(value) > 100 or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{field.name} must be an array of at most 100 strings")
    options = [_string(Field(field.name, "", "string", 200), item) for item in value]
    if None in options or len(set(options)) != len(options):
        raise ValueError(f"{field.name} must hold distinct, non-empty options")
    return options


def _choice(field, value):
    if value not in field.choices:
        raise ValueError(f"{field.name} must be one of {', '.join(field.choices)}")
    return value


def _number(field, value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not field.minimum <= value <= field.maximum:
        raise ValueError(f"{field.name} must be a whole number from {field.minimum} to {field.maximum}")
    return value


def _datetime(field, value):
    try:
        return parse_time(value, field.name)
    except Invalid as error:
        raise ValueError(str(error)) from None


def _object(field, value):
    if not isinstance(value, dict):
        raise ValueError(f"{field.name} must be an object")
    if len(json.dumps(value)) > field.max_length:
        raise ValueError(f"{field.name} must be at most {field.max_length} characters as JSON")
    return value


CLEANERS = {
    "string": _string,
    "email": _email,
    "phone": _phone,
    "url": _url,
    "date": _date,
    "boolean": _boolean,
    "tags": _tags,
    "customFields": _custom_fields,
    "object": _object,
    "dndSettings": _dnd,
    "inboundDndSettings": _dnd,
    "options": _options,
    "choice": _choice,
    "number": _number,
    "integer": _number,
    "datetime": _datetime,
    "text": _string,
}
NULLABLE = {"string", "email", "phone", "url", "date", "text"}


def clean(fields, body, required=(), partial=False):
    """{column: value} for the known fields present in `body`; Invalid names every bad one.

    `required` fields must be given and not empty; with `partial` (an update)
    they may be left out, but not emptied.
    """
    values, problems = {}, []
    for field in fields:
        if field.name not in body:
            if field.name in required and not partial:
                problems.append((field.name, f"{field.name} is required"))
            continue
        value = body[field.name]
        try:
            if value is None and field.kind in NULLABLE:
                cleaned = None
            elif value is None:
                raise ValueError(f"{field.name} must not be null")
            else:
                cleaned = CLEANERS[field.kind](field, value)
            if cleaned is None and field.name in required:
                raise ValueError(f"{field.name} must not be empty" if partial else f"{field.name} is required")
        except ValueError as error:
            problems.append((field.name, str(error)))
            continue
        values[field.column] = cleaned
    if problems:
        raise Invalid(problems)
    return values


def parse_time(value, name):
    """An ISO 8601 date-time (a trailing Z or offset is turned into naive UTC), or None."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: an offset past year 1 or 9999
        raise Invalid([(name, f"{name} must be an ISO 8601 date-time")]) from None
    return moment


MAX_FORM_FIELDS = 50
MAX_FORM_VALUE = 5000


def clean_submission(fields):
    """The submitted fields as {name: string}; Invalid when malformed or too many/long."""
    if not isinstance(fields, dict):
        raise Invalid([("body", "the submission must be an object of fields")])
    if len(fields) > MAX_FORM_FIELDS:
        raise Invalid([("body", f"a submission may have at most {MAX_FORM_FIELDS} fields")])
    problems, cleaned = [], {}
    for name, value in fields.items():
        if not name or len(name) > 100:
            problems.append((name[:100], "field names must be 1 to 100 characters"))
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append((name, f"{name} must be a string"))
        elif len(str(value)) > MAX_FORM_VALUE:
            problems.append((name, f"{name} must be at most {MAX_FORM_VALUE} characters"))
        elif has_nul(name + str(value)):
            problems.append((name.replace("\x00", ""), f"{name.replace(chr(0), '')} must not contain NUL characters"))
        else:
            cleaned[name] = str(value).strip()
    if problems:
        raise Invalid(problems)
    return cleaned
