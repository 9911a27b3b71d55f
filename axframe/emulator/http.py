"""Plain request and response objects, and reading bodies: JSON, form-encoded, multipart.

Kept apart from the routes so that the application (:mod:`.app`), the
socket server (:mod:`.server`) and the WSGI application (:mod:`.wsgi`) share
one small vocabulary.  A body that cannot be read is :class:`Invalid` (the
key ``""`` is the body itself), or one of the two media refusals below.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from .. import schemas
from .state.errors import EmulatorError, Invalid

__all__ = ["Request", "Response", "json_response", "parse_json_body", "parse_multipart", "coerce_form",
           "UnsupportedMediaType", "TooLarge", "MAX_JSON_BYTES", "FORM_CONTENT_TYPE", "JSON_CONTENT_TYPE"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

MAX_JSON_BYTES = 8 * 1024 * 1024

REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
           411: "Length Required", 413: "Payload Too Large", 415: "Unsupported Media Type",
           429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
           501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
           505: "HTTP Version Not Supported"}


@dataclass
class Request:
    """One parsed HTTP request: *target* is the raw path and query, header names lower-cased."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    scheme: str = "http"
    node: int = 0  # the Server node a load balancer sent it to (axframe.emulator.app.Balancer)

    def __post_init__(self) -> None:
        path, _, query = self.target.partition("?")
        self.path = path
        self.query: dict[str, list[str]] = parse_qs(query, keep_blank_values=True)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";", 1)[0].strip().lower()

    def url(self) -> str:
        host = self.header("host", "127.0.0.1")
        return f"{self.scheme}://{host}{self.target}"


@dataclass
class Response:
    """One answer, before a transport writes it."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return REASONS.get(self.status, "Unknown")


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    """*payload* as compact JSON (UTF-8), with *headers* after the Content-Type."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(status, body, [("Content-Type", JSON_CONTENT_TYPE)] + list(headers or []))


class UnsupportedMediaType(EmulatorError):
    """The body's media type is not one the operation reads (the answer is 415)."""


class TooLarge(EmulatorError):
    """The body is larger than the emulator reads (the answer is 413)."""


def parse_json_body(request: Request) -> Any:
    """The JSON body, ``None`` when empty; form-encoded bodies come back as a dict of text."""
    if not request.body:
        return None
    kind = request.content_type
    if kind == FORM_CONTENT_TYPE:
        pairs = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in pairs.items()}
    if kind.endswith("xml"):
        raise UnsupportedMediaType("This emulator answers JSON only; send application/json.")
    if kind and kind not in ("application/json", "text/json") and not kind.endswith("+json"):
        raise UnsupportedMediaType(f"The request entity's media type '{kind}' is not supported for this resource.")
    if len(request.body) > MAX_JSON_BYTES:
        raise TooLarge("The request body is too large.")
    try:
        return json.loads(request.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid.field("", f"The request body is not valid JSON: {exc}"[:200].rstrip(".") + ".") from None
    except RecursionError:  # thousands of nested brackets: the parser runs out of stack
        raise Invalid.field("", "The request body is nested too deeply to read.") from None


_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


def _schema_kind(schema: dict) -> str | None:
    resolved = schemas.resolve(schema)
    return resolved.get("type", "object" if "properties" in resolved else None)


def _form_scalar(text: str, kind: str | None) -> Any:
    """*text* as a boolean, integer or number when it reads as one; otherwise the text itself."""
    plain = text.strip()
    if kind == "boolean" and plain.lower() in ("true", "false"):
        return plain.lower() == "true"
    if kind == "integer" and _INTEGER_TEXT.fullmatch(plain) and len(plain) <= 24:
        return int(plain)
    if kind == "number" and _NUMBER_TEXT.fullmatch(plain) and len(plain) <= 64:
        return float(plain)
    return text


def coerce_form(form: dict[str, str], schema: dict | None, param: str = "") -> dict[str, Any]:
    """The fields of a form-encoded body in the types of the JSON body *schema* declares.

    As ASP.NET model binding reads a form into a contract: ``true``/``false``
    (any case) become booleans, whole numbers integers, decimals numbers; a
    text that does not read as its type is left for validation to report, and
    an empty one counts as not sent.  Text fields and fields the schema does
    not know pass unchanged.  A field whose type is an object or a list
    cannot be written in a flat form: it is :class:`Invalid` (keys under
    *param*, or the bare field names without one).
    """
    props = schemas.resolve(schema).get("properties", {}) if schema else {}
    out: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name, text in form.items():
        kind = _schema_kind(props[name]) if name in props else "string"
        if kind in ("object", "array"):
            what = "an object" if kind == "object" else "a list"
            message = (f"The field '{name}' is {what}, which a form-encoded body cannot carry; "
                       "send the body as application/json.")
            problems[f"{param}.{name}" if param else name] = [message]
        elif kind in ("boolean", "integer", "number") and not text.strip():
            continue
        else:
            out[name] = _form_scalar(text, kind)
    if problems:
        raise Invalid(problems)
    return out


def parse_multipart(request: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Split a ``multipart/form-data`` body into text fields and files.

    Raises :class:`UnsupportedMediaType` when the body is not multipart (the
    Server answers 415 to such uploads) and :class:`Invalid` when it is malformed.
    """
    header = request.header("content-type")
    if request.content_type not in ("multipart/form-data", "application/form-data"):
        raise UnsupportedMediaType("Upload the workflow as multipart/form-data.")
    boundary = ""
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip().strip('"')
    if not boundary:
        raise Invalid.field("", "The multipart body has no boundary.")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = request.body.split(delimiter)
    if len(chunks) < 3:
        raise Invalid.field("", "The multipart body is malformed.")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise Invalid.field("", "A multipart part has no headers.")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        disposition = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            header, _, value = line.partition(":")
            if header.strip().lower() == "content-disposition":
                disposition = value
        params = _disposition_params(disposition)
        name = params.get("name")
        if not name:
            continue
        if "filename" in params:
            files[name] = (params["filename"], data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def _disposition_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in value.split(";")[1:]:
        key, _, raw = item.strip().partition("=")
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"'):
            raw = raw[1:-1].replace('\\"', '"')
        params[key.strip().lower()] = raw
    return params
