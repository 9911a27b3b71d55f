"""Contract schemas and the checks made against them.

``v3.json`` beside this module is derived from the Server's own V3 Swagger by
``tools/derive_schemas.py`` (facts only: names, types, formats, enums, length
limits, required fields, status codes).  The V1/V2 families have no Swagger;
their few body and form schemas are declared in :mod:`axframe.catalogue` and
registered here with :func:`register`.

This module is pure: no I/O after import, no HTTP, no pandas.  Both the client
(to check a row before sending it) and the emulator (to answer 400 the way the
Server does) use it.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any, Callable, Iterable

__all__ = [
    "V3", "DEFINITIONS", "operation", "definition", "resolve", "validate",
    "coerce", "register", "refine", "example", "parse_datetime", "text_check",
]

V3: dict = json.loads(resources.files(__name__).joinpath("v3.json").read_text("utf-8"))
DEFINITIONS: dict[str, dict] = dict(V3["definitions"])

_INT32 = (-(2**31), 2**31 - 1)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_ISO_8601 = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"(?P<zone>Z|(?P<sign>[+-])(?P<zone_hours>\d{2})(?::?(?P<zone_minutes>\d{2}))?)?",
    re.ASCII,
)


def operation(operation_id: str) -> dict:
    """The derived description of one V3 operation."""
    return V3["operations"][operation_id]


def definition(name: str) -> dict:
    return DEFINITIONS[name]


def register(name: str, schema: dict) -> None:
    """Add a definition (used for the V1/V2 bodies, which have no Swagger)."""
    DEFINITIONS[name] = schema


def refine(definition_name: str, prop: str, **facts: Any) -> None:
    """Add checkable facts the Swagger states only in prose (an enum, a format) to one property."""
    import copy

    definition = copy.deepcopy(DEFINITIONS[definition_name])
    definition["properties"][prop].update(facts)
    DEFINITIONS[definition_name] = definition


def resolve(schema: dict | None) -> dict:
    """Follow ``$ref`` links until a concrete schema is reached."""
    seen = 0
    while schema and "$ref" in schema:
        schema = DEFINITIONS[schema["$ref"]]
        seen += 1
        if seen > 32:  # pragma: no cover - the derived data has no cycles of refs
            raise ValueError("reference cycle in schema")
    return schema or {}


def _type_name(schema: dict) -> str:
    schema = resolve(schema)
    kind = schema.get("type", "object" if "properties" in schema else "any")
    if kind == "array":
        return f"array of {_type_name(schema.get('items', {}))}"
    if schema.get("format") == "date-time":
        return "date-time text"
    return kind


def parse_datetime(text: str) -> datetime:
    """Parse an ISO-8601 date or date-time the same way on every Python axframe supports.

    ``datetime.fromisoformat`` on Python 3.10 refuses forms the Server and
    .NET clients write (``Z``, ``+0100``, a 7-digit fraction); this accepts
    ``YYYY-MM-DD``, optionally followed by ``THH:MM``, ``:SS`` and a fraction
    of any length (cut to microseconds), then optionally ``Z``, ``+HH:MM``,
    ``+HHMM`` or ``+HH``.  The result is aware when an offset is given and
    naive otherwise.  Raises :class:`ValueError` for anything else.
    """
    found = _ISO_8601.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise ValueError(f"not an ISO-8601 date-time: {_short(text)}")
    part = found.groupdict()
    fraction = (part["fraction"] or "")[:6].ljust(6, "0")
    try:
        return datetime(int(part["year"]), int(part["month"]), int(part["day"]),
                        int(part["hour"] or 0), int(part["minute"] or 0), int(part["second"] or 0),
                        int(fraction), tzinfo=_zone(part))
    except ValueError as exc:
        raise ValueError(f"not a valid date-time: {_short(text)} ({exc})") from None


def _zone(part: dict) -> timezone | None:
    """The fixed offset named by a matched ``Z`` / ``+HH:MM`` suffix, or ``None``."""
    if part["zone"] is None:
        return None
    if part["zone"] == "Z":
        return timezone.utc
    hours, minutes = int(part["zone_hours"]), int(part["zone_minutes"] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {part['zone']} is out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if part["sign"] == "-" else offset)


def _is_date_time(text: str) -> bool:
    if not _DATE_TIME.match(text):
        return False
    try:
        parse_datetime(text)
    except ValueError:
        return False
    return True


def _join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def validate(value: Any, schema: dict | None, path: str = "", *, partial: bool = False) -> list[str]:
    """Check *value* against *schema*; return one readable message per problem.

    ``None`` counts as absent: it is an error only where a field is required.
    Properties the schema does not declare are allowed (the Server ignores
    them), but never checked.  With *partial*, required fields may be absent
    (a partial update, checked again in full after merging).
    """
    errors: list[str] = []
    _validate(value, resolve(schema), path, errors, partial)
    return errors


def text_check(schema: dict | None) -> Callable[[str], bool] | None:
    """For a plain text schema (``type: string``, no enum), a test of a text value that is true exactly
    when :func:`validate` finds nothing wrong with it; ``None`` for other schemas.

    Made once per column of a run, it asks what the schema asks (length, email, date-time) and nothing
    else, without looking the schema up again for each value.
    """
    schema = resolve(schema)
    if schema.get("type") != "string" or "enum" in schema:
        return None
    low, high = schema.get("minLength"), schema.get("maxLength")
    email, when = schema.get("format") == "email", schema.get("format") == "date-time"
    if low is None and high is None and not email and not when:
        return _always
    match = _EMAIL.match

    def check(value: str) -> bool:
        if low is not None and len(value) < low:
            return False
        if high is not None and len(value) > high:
            return False
        if email and not match(value):
            return False
        return not when or _is_date_time(value)
    return check


def _always(value: str) -> bool:
    return True


def _validate(value: Any, schema: dict, path: str, errors: list[str], partial: bool = False) -> None:
    if not schema:
        return
    kind = schema.get("type")
    if kind is None and "properties" in schema:
        kind = "object"
    if kind in _CONTAINERS:
        _CONTAINERS[kind](value, schema, path, errors, partial)
        return
    where = path or "body"
    if kind in _SCALARS:
        is_kind, expected, facts = _SCALARS[kind]
        if not is_kind(value):
            errors.append(f"{where}: expected {expected}, got {_describe(value)}")
            return
        errors.extend(facts(value, schema, where))
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: must be one of {', '.join(map(str, schema['enum']))} "
                      f"(got {_short(value)})")


def _validate_object(value: Any, schema: dict, path: str, errors: list[str], partial: bool) -> None:
    if "properties" not in schema and "additionalProperties" not in schema:
        return  # a bare object (a C# ``object``) holds any JSON value
    if not isinstance(value, dict):
        errors.append(f"{path or 'body'}: expected an object, got {_describe(value)}")
        return
    props = schema.get("properties", {})
    if not partial:
        for name in schema.get("required", []):
            if value.get(name) is None:
                errors.append(f"{_join(path, name)}: is required")
    for name, sub in props.items():
        if value.get(name) is not None:
            _validate(value[name], resolve(sub), _join(path, name), errors, partial)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        _validate_items(((name, item) for name, item in value.items() if name not in props), resolve(extra), path,
                        errors, partial)


def _validate_array(value: Any, schema: dict, path: str, errors: list[str], partial: bool) -> None:
    if not isinstance(value, list):
        errors.append(f"{path or 'body'}: expected a list, got {_describe(value)}")
        return
    _validate_items(enumerate(value), resolve(schema.get("items", {})), path, errors, partial)


def _validate_items(items: Iterable[tuple[str | int, Any]], schema: dict, path: str, errors: list[str],
                    partial: bool) -> None:
    """The items of a list, or the undeclared properties of an object: none may be null."""
    for name, item in items:
        if item is None:
            errors.append(f"{_join(path, name)}: must not be null")
        else:
            _validate(item, schema, _join(path, name), errors, partial)


def _string_facts(value: str, schema: dict, where: str) -> list[str]:
    errors = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(f"{where}: must be at least {schema['minLength']} characters long")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{where}: must be at most {schema['maxLength']} characters long "
                      f"(got {len(value)})")
    if schema.get("format") == "email" and not _EMAIL.match(value):
        errors.append(f"{where}: {_short(value)} is not an email address")
    if schema.get("format") == "date-time" and not _is_date_time(value):
        errors.append(f"{where}: expected a date-time such as 2030-01-31T09:00:00Z, "
                      f"got {value[:40]!r}")
    return errors


def _integer_facts(value: int, schema: dict, where: str) -> list[str]:
    if schema.get("format") == "int32" and not _INT32[0] <= value <= _INT32[1]:
        return [f"{where}: {value} is out of range for a 32-bit integer"]
    return []


def _no_facts(value: Any, schema: dict, where: str) -> list[str]:
    return []


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_integer(value)


_Validator = Callable[[Any, dict, str, list[str], bool], None]
_CONTAINERS: dict[str, _Validator] = {"object": _validate_object, "array": _validate_array}
# type -> (whether a value is of it, what the message calls it, the schema's further facts about such a value)
_SCALARS: dict[str, tuple[Callable[[Any], bool], str, Callable[[Any, dict, str], list[str]]]] = {
    "string": (lambda value: isinstance(value, str), "text", _string_facts),
    "boolean": (lambda value: isinstance(value, bool), "true or false", _no_facts),
    "integer": (_is_integer, "a whole number", _integer_facts),
    "number": (_is_number, "a number", _no_facts),
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {_short(value)}"
    if isinstance(value, str):
        return f"the text {_short(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def coerce(value: Any, schema: dict | None) -> Any:
    """Turn text (from CSV, Excel or a form) into the type *schema* asks for.

    Values that cannot be converted are returned unchanged, so that
    :func:`validate` reports them with a clear message.  Booleans accept
    true/false, yes/no, 1/0; integers accept ``"5"`` and ``5.0``; an enum name
    in another letter case becomes the Swagger's spelling; arrays and
    objects accept JSON text, and an array of text also accepts a
    comma-separated list.  Objects are coerced property by property.
    """
    schema = resolve(schema)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if value is None:
        return None
    coercer = _COERCERS.get(kind)
    return value if coercer is None else coercer(value, schema)


def _coerce_boolean(value: Any, schema: dict) -> Any:
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value


def _coerce_integer(value: Any, schema: dict) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+(\.0*)?\s*", value):
        return int(float(value)) if "." in value else int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _coerce_number(value: Any, schema: dict) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _coerce_string(value: Any, schema: dict) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and schema.get("enum") and value not in schema["enum"]:
        # the Server reads enum names in any letter case; send the spelling the Swagger gives
        same = [e for e in schema["enum"] if isinstance(e, str) and e.lower() == value.strip().lower()]
        if len(same) == 1:
            return same[0]
    return value


def _coerce_array(value: Any, schema: dict) -> Any:
    if isinstance(value, str):
        value = _list_from_text(value, schema)
    if isinstance(value, (list, tuple)):
        items = schema.get("items", {})
        return [coerce(item, items) for item in value]
    return value


def _list_from_text(value: str, schema: dict) -> Any:
    """JSON text, or a comma-separated list for an array of text; *value* itself when it is neither."""
    text = value.strip()
    if text.startswith("["):
        return _json_or(text, value)
    if resolve(schema.get("items", {})).get("type") == "string":
        return [part.strip() for part in text.split(",") if part.strip()] if text else []
    return value


def _coerce_object(value: Any, schema: dict) -> Any:
    if isinstance(value, str) and value.strip().startswith("{"):
        value = _json_or(value, value)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: (coerce(v, props[k]) if k in props else v) for k, v in value.items()}
    return value


def _json_or(text: str, fallback: Any) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return fallback


_COERCERS: dict[str | None, Callable[[Any, dict], Any]] = {
    "boolean": _coerce_boolean, "integer": _coerce_integer, "number": _coerce_number, "string": _coerce_string,
    "array": _coerce_array, "object": _coerce_object,
}


def example(schema: dict | None, required_only: bool = True) -> Any:
    """A placeholder value that satisfies *schema* (for help text and tests)."""
    schema = resolve(schema)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        props = schema.get("properties", {})
        names: Iterable[str] = schema.get("required", []) if required_only else props
        return {name: example(props.get(name, {}), required_only) for name in names}
    if kind == "array":
        return [example(schema.get("items", {}), required_only)]
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 1
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    if schema.get("format") == "email":
        return "someone@example.com"
    if kind == "string":
        return "text"
    return {}
