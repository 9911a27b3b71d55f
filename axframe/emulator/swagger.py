"""The Swagger 2.0 document an emulated Server serves about itself, at ``/webapi/swagger/docs/3``.

Swashbuckle serves a Web API's document at ``swagger/docs/{apiVersion}``, where ``apiVersion`` is the
version the document names; the Server's document says ``info.version`` ``"3"``, so the emulator serves it
under the Web API address at ``swagger/docs/3`` (the exact path is not on record; docs/emulator.md).  No
token is needed, as for Swashbuckle's default set-up.

The document is rebuilt from ``axframe/schemas/v3.json`` (the facts of our Swagger: methods, paths,
parameters, bodies, forms, responses, definitions; no prose), narrowed to the release's surface: the
operations an older Server lacks are not in its ``paths``, and the fields it lacks not in its
``definitions``.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from .. import schemas
from .state.versions import Surface

__all__ = ["DOC_PATH", "document"]

#: Where the document is served, relative to the Web API address (``/webapi``).
DOC_PATH = "/swagger/docs/3"

_FORM_MEDIA = ["multipart/form-data"]
_JSON_MEDIA = ["application/json", "text/json", "application/xml", "text/xml", "application/x-www-form-urlencoded"]
_PRODUCES = ["application/json", "text/json", "application/xml", "text/xml"]


def _refs(schema: Any) -> Any:
    """A derived schema with its bare ``$ref`` names written as Swagger references."""
    if isinstance(schema, dict):
        return {k: (f"#/definitions/{v}" if k == "$ref" else _refs(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_refs(v) for v in schema]
    return schema


def _operation(op_id: str, op: dict) -> dict[str, Any]:
    params: list[dict[str, Any]] = [dict(p) for p in op.get("params", [])]
    consumes: list[str] = []
    if op.get("body"):
        body = op["body"]
        params.append({"name": body["name"], "in": "body", "required": bool(body.get("required")),
                       "schema": _refs(body.get("schema") or {})})
        consumes = _JSON_MEDIA
    for form in op.get("form", []):
        params.append({"name": form["name"], "in": "formData", "required": bool(form.get("required")),
                       "type": form.get("type", "string")})
        consumes = _FORM_MEDIA
    responses = {code: ({"description": code, "schema": _refs(schema)} if schema else {"description": code})
                 for code, schema in op.get("responses", {}).items()}
    out: dict[str, Any] = {"tags": [op.get("tag", "")], "operationId": op_id, "consumes": consumes,
                           "produces": ["application/octet-stream"] if op.get("binary") else _PRODUCES,
                           "parameters": params, "responses": responses, "security": [{"oauth2": []}]}
    return out


@lru_cache(maxsize=None)
def _document(surface: Surface) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op_id, op in schemas.V3["operations"].items():
        if surface.operations is not None and op_id not in surface.operations:
            continue
        paths.setdefault(op["path"], {})[op["method"].lower()] = _operation(op_id, op)
    definitions = {}
    for name, definition in schemas.V3["definitions"].items():
        drop = surface.lacking.get(name, frozenset())
        clean = copy.deepcopy(definition)
        if drop:
            clean["properties"] = {k: v for k, v in clean.get("properties", {}).items() if k not in drop}
            if "required" in clean:
                clean["required"] = [r for r in clean["required"] if r not in drop]
        definitions[name] = _refs(clean)
    return {"swagger": "2.0", "info": {"version": "3", "title": "Alteryx Server API V3"},
            "host": "localhost", "basePath": "/webapi/", "schemes": ["http"],
            "paths": dict(sorted(paths.items())), "definitions": definitions,
            "securityDefinitions": {"oauth2": {"type": "oauth2", "flow": "application",
                                               "tokenUrl": "http://localhost/webapi/oauth2/token", "scopes": {}}}}


def document(surface: Surface, host: str = "localhost", scheme: str = "http") -> dict[str, Any]:
    """The Swagger document of *surface*, naming the address it was asked at."""
    doc = dict(_document(surface))
    doc["host"] = host
    doc["schemes"] = [scheme]
    doc["securityDefinitions"] = {"oauth2": {"type": "oauth2", "flow": "application",
                                             "tokenUrl": f"{scheme}://{host}/webapi/oauth2/token", "scopes": {}}}
    return doc
