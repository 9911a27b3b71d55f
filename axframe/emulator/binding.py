"""Route arguments: read a request's path, query, body or form, validate them, and name them.

Generic over the catalogue: an endpoint's declared parameters and body (or
form) schema say how each part is read and checked, and a state method's
signature says what it takes.  :func:`bind` matches the two once, when the
route table is built, by name: a parameter ``owner_id`` takes the query
parameter, path parameter, body property or form field ``ownerId``; one
annotated with an options dataclass (``settings: UserSettings``) takes the
body properties named by its fields; ``actor`` takes the caller; an
:class:`~axframe.emulator.state.core.Upload` takes the file.  A parameter
nothing can fill is an error at import, not at request time.

Every problem is :class:`~axframe.emulator.state.errors.Invalid` with keys
relative to the request (see its docstring); messages are sentences.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .. import schemas
from ..catalogue import Endpoint, Param
from .http import FORM_CONTENT_TYPE, Request, coerce_form, parse_json_body, parse_multipart
from .state.actor import Actor
from .state.core import Upload, camel, snake
from .state.errors import Invalid, required_text

__all__ = ["Binding", "bind", "typed_query", "wire_schema", "problems_of", "RouteError"]


class RouteError(TypeError):
    """A route row whose state method cannot be called from its endpoint's request."""


# --------------------------------------------------------------------------
# Query parameters
# --------------------------------------------------------------------------

_TRUE = {"true": True, "false": False}
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_INTEGER_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# Paging parameters the Swagger types as text but the Server reads as a .NET int.
_WHOLE_NUMBER_TEXT = {("Jobs_GetJobsInQueue", "offset"), ("Jobs_GetJobsInQueue", "limit"),
                      ("Workflows_GetJobsForWorkflow", "offset"), ("Workflows_GetJobsForWorkflow", "limit")}


def _not_valid(param: Param, raw: str) -> Invalid:
    return Invalid.field(param.name, f"The value '{raw}' is not valid for {param.name}.")


def _whole_number(param: Param, raw: str, format: str | None) -> int:
    """*raw* as an integer within its Swagger format's range (a bare integer is a .NET int)."""
    if not _WHOLE_NUMBER.fullmatch(raw) or len(raw.strip()) > 24:  # also spares int() a huge text
        raise _not_valid(param, raw)
    value = int(raw)
    low, high = _INTEGER_RANGES.get(format or "int32", _INTEGER_RANGES["int64"])
    if not low <= value <= high:
        raise _not_valid(param, raw)
    return value


def _query_value(endpoint: Endpoint, param: Param, raw: str) -> Any:
    if param.type == "boolean":
        value = _TRUE.get(raw.lower())
        if value is None:
            raise _not_valid(param, raw)
        return value
    if param.type == "integer":
        return _whole_number(param, raw, param.format)
    if (endpoint.operation_id, param.name) in _WHOLE_NUMBER_TEXT:
        _whole_number(param, raw, "int32")  # checked here, passed on as the text it was
    if param.enum and raw not in param.enum:
        match = next((e for e in param.enum if e.lower() == raw.lower()), None)
        if match is None:
            raise _not_valid(param, raw)
        return match
    return raw


def typed_query(endpoint: Endpoint, query: dict[str, list[str]]) -> dict[str, Any]:
    """Declared query parameters (names in any letter case), typed; undeclared ones are ignored like the Server does."""
    out: dict[str, Any] = {}
    lowered = {k.lower(): v for k, v in query.items()}
    for param in endpoint.query_params:
        values = lowered.get(param.name.lower())
        if values and values[-1] != "":
            out[param.name] = _query_value(endpoint, param, values[-1])
    for param in endpoint.query_params:
        if param.required and param.name not in out:
            raise Invalid.required(param.name)
    return out


# --------------------------------------------------------------------------
# Bodies and forms
# --------------------------------------------------------------------------


def _strict(schema: dict | None, depth: int = 0) -> dict:
    """*schema* with its references inlined, and a bare ``object`` meaning a JSON object.

    Swashbuckle writes C#'s ``object`` as ``{"type": "object"}``; the shared
    validator reads that as any value (rows are checked leniently), but a body
    the Server takes has the Swagger's shape: an object.  In the contracts that
    is each value of a DCM ``parameters`` map.
    """
    resolved = schemas.resolve(schema)
    if depth > 24:  # pragma: no cover - the contracts nest a few levels deep
        return {}
    out = {k: v for k, v in resolved.items() if k != "$ref"}
    if out.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
        out["additionalProperties"] = {}  # an object, whatever it holds
    if "properties" in out:
        out["properties"] = {name: _strict(sub, depth + 1) for name, sub in out["properties"].items()}
    if isinstance(out.get("additionalProperties"), dict) and out["additionalProperties"]:
        out["additionalProperties"] = _strict(out["additionalProperties"], depth + 1)
    if isinstance(out.get("items"), dict):
        out["items"] = _strict(out["items"], depth + 1)
    return out


@lru_cache(maxsize=None)
def _wire_schema(key: str) -> dict:
    return _strict({"$ref": key})


def wire_schema(schema: dict | None) -> dict:
    """The schema a body is checked against: the endpoint's, strict (see :func:`_strict`)."""
    if schema and set(schema) == {"$ref"}:
        return _wire_schema(schema["$ref"])
    return _strict(schema)


def _sentence(path: str, text: str) -> str:
    if text == "is required":
        return required_text(path)
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def problems_of(value: Any, schema: dict, root: str = "", *, partial: bool = False) -> dict[str, list[str]]:
    """Schema problems of *value*, keyed by their path relative to *root* (``""``: the value itself)."""
    base = root or "body"
    out: dict[str, list[str]] = {}
    for message in schemas.validate(value, schema, base, partial=partial):
        where, _, text = message.partition(": ")
        relative = where[len(base):].lstrip(".") if where.startswith(base) else where
        out.setdefault(relative, []).append(_sentence(where, text))
    return out


def read_body(request: Request, endpoint: Endpoint, schema: dict,
              prepare: Callable[[Any], Any] | None = None) -> Any:
    """The endpoint's body, read and checked: ``None`` when absent and not required.

    *prepare* changes the body before it is checked (an older Server ignores the fields it lacks).
    """
    body = parse_json_body(request)
    if isinstance(body, dict) and request.content_type == FORM_CONTENT_TYPE and endpoint.body_kind() == "object":
        body = coerce_form(body, endpoint.body_schema)
    if prepare is not None and body is not None:
        body = prepare(body)
    if body is None:
        if endpoint.body_required:
            raise Invalid.field("", required_text(endpoint.body_name or "body"))
        return None
    problems = problems_of(body, schema, endpoint.body_name or "")
    if problems:
        raise Invalid(problems)
    return body


def read_form(request: Request, endpoint: Endpoint) -> tuple[dict[str, Any], Upload | None]:
    """A multipart form's fields in their declared types, and its file, checked together."""
    fields, files = parse_multipart(request)
    schema = endpoint.form_schema()
    values: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        raw = fields.get(name)
        if raw is None or (raw == "" and prop.get("type") != "string"):
            continue  # an empty value of a typed field counts as not sent
        values[name] = schemas.coerce(raw, prop)
    problems = problems_of(values, schema)
    part = files.get("file") or (next(iter(files.values())) if files else None)
    upload = Upload(*part) if part is not None else None
    file_field = endpoint.file_field
    if upload is None and file_field is not None and file_field.required:
        problems.setdefault(file_field.name, []).append(required_text(file_field.name))
    if problems:
        raise Invalid(problems)
    return values, upload


# --------------------------------------------------------------------------
# Binding a state method to an endpoint
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where one keyword argument comes from: *kind* and the Server's *name* for it."""

    kind: str  # actor, fixed, path, query, field, body, form, file, options
    name: str = ""
    value: Any = None  # a fixed value, or the options dataclass
    optional: bool = True  # the parameter has a default (a missing value is left out)


@dataclass(frozen=True)
class Binding:
    """How one route calls its state method."""

    endpoint: Endpoint
    sources: dict[str, _Source]
    schema: dict
    prepare: Callable[[Any], Any] | None = None  # applied to a body before it is checked

    def arguments(self, request: Request, actor: Actor, path: dict[str, str]) -> dict[str, Any]:
        """The keyword arguments for one request (raises :class:`Invalid` for a bad request)."""
        endpoint = self.endpoint
        query = typed_query(endpoint, request.query)
        body: Any = None
        form: dict[str, Any] = {}
        upload: Upload | None = None
        if endpoint.multipart:
            form, upload = read_form(request, endpoint)
        elif endpoint.body_kind() != "none":
            body = read_body(request, endpoint, self.schema, self.prepare)
        fields = body if isinstance(body, dict) else form
        given = {"actor": actor, "path": path, "query": query, "field": fields, "form": form}
        out: dict[str, Any] = {}
        for name, source in self.sources.items():
            value = _value(source, given, body, upload)
            if value is not None or not source.optional:
                out[name] = value
        return out


def _value(source: _Source, given: dict[str, Any], body: Any, upload: Upload | None) -> Any:
    if source.kind == "actor":
        return given["actor"]
    if source.kind == "fixed":
        return source.value
    if source.kind == "body":
        return body
    if source.kind == "file":
        return upload
    if source.kind == "options":
        values = given["field"]
        return source.value(**{f.name: values.get(camel(f.name)) for f in dataclasses.fields(source.value)
                               if camel(f.name) in values})
    return given[source.kind].get(source.name)


def _names(endpoint: Endpoint, template: str) -> dict[str, tuple[str, str]]:
    """Python name -> (kind, Server name) of everything a request to *endpoint* can carry."""
    found: dict[str, tuple[str, str]] = {}

    def add(kind: str, name: str) -> None:
        key = snake(name)
        if key in found and found[key] != (kind, name):
            raise RouteError(f"{endpoint.name}: {name!r} is both a {found[key][0]} and a {kind}")
        found[key] = (kind, name)

    for name in re.findall(r"{(\w+)}", template):
        add("path", name)
    for param in endpoint.query_params:
        add("query", param.name)
    if endpoint.multipart:
        for param in endpoint.form:
            add("file" if param.type == "file" else "form", param.name)
    elif endpoint.body_kind() == "object":
        for prop in schemas.resolve(endpoint.body_schema).get("properties", {}):
            add("field", prop)
    if endpoint.body_name and endpoint.body_kind() in ("array", "string", "object"):
        found.setdefault(snake(endpoint.body_name), ("body", endpoint.body_name))
    return found


def _source(parameter: inspect.Parameter, hint: Any, names: dict[str, tuple[str, str]],
            fixed: dict[str, Any], endpoint: Endpoint) -> _Source:
    optional = parameter.default is not inspect.Parameter.empty
    if parameter.name == "actor":
        return _Source("actor", optional=False)
    if parameter.name in fixed:
        return _Source("fixed", value=fixed[parameter.name], optional=False)
    if parameter.name in names:
        kind, name = names[parameter.name]
        return _Source(kind, name, optional=optional)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        declared = {name for kind, name in names.values() if kind in ("field", "form")}
        missing = [f.name for f in dataclasses.fields(hint)
                   if f.default is dataclasses.MISSING and camel(f.name) not in declared]
        if missing:
            raise RouteError(f"{endpoint.name}: {hint.__name__} needs {missing}, which the request cannot carry")
        return _Source("options", value=hint, optional=False)
    if optional:
        return _Source("fixed", value=parameter.default, optional=True)
    raise RouteError(f"{endpoint.name}: nothing in the request fills {parameter.name!r}")


def bind(endpoint: Endpoint, target: Callable[..., Any], template: str, fixed: dict[str, Any]) -> Binding:
    """Match *target*'s parameters (after ``self``) to what a request to *endpoint* carries.

    Raises :class:`RouteError` when a parameter without a default cannot be filled,
    or a fixed argument names no parameter.
    """
    parameters = list(inspect.signature(target).parameters.values())[1:]
    hints = typing.get_type_hints(target)
    unknown = set(fixed) - {p.name for p in parameters}
    if unknown:
        raise RouteError(f"{endpoint.name}: {target.__qualname__} takes no {sorted(unknown)}")
    names = _names(endpoint, template)
    sources = {p.name: _source(p, hints.get(p.name), names, fixed, endpoint) for p in parameters}
    return Binding(endpoint, sources, wire_schema(endpoint.body_schema) if endpoint.body_schema else {})
