"""The last step of an answer: the release's fields and the quirks of real Servers.

A state method answers the tidy view of the Swagger.  :func:`shape` turns it into what the emulated
release and realism settings answer: the fields an older release lacks left out (:mod:`.versions`), and
the quirks of :mod:`.state.realism` that belong to the answer rather than to the model (nulls, date-time
fractions, the workflow list's items).  The byte-order mark of legacy answers is added by the application
after rendering.
"""

from __future__ import annotations

import re
from typing import Any

from .. import schemas
from ..catalogue import Endpoint
from .state.core import Created, File
from .state.realism import Realism
from .state.versions import Surface

__all__ = ["shape", "trim_fraction"]

_EMULATOR_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
# Properties a real Server leaves null where the emulator writes an empty text (the evidence's
# example: a version's comments).
_EMPTY_IS_NULL = {"WorkflowVersionView": ("comments", "credentialId")}


def trim_fraction(text: str) -> str:
    """A date-time as Json.NET writes it: trailing zeros of the fraction dropped, a zero fraction entirely."""
    head, _, rest = text.partition(".")
    digits = rest[:-1].rstrip("0")
    return f"{head}.{digits}Z" if digits else f"{head}Z"


def _times(value: Any) -> Any:
    if isinstance(value, str):
        return trim_fraction(value) if len(value) == 24 and _EMULATOR_TIME.fullmatch(value) else value
    if isinstance(value, list):
        return [_times(v) for v in value]
    if isinstance(value, dict):
        return {k: _times(v) for k, v in value.items()}
    return value


def _nulls(value: Any, schema: dict | None, depth: int = 0) -> Any:
    """Every property the schema declares, null where the view has none (Json.NET includes nulls)."""
    if not schema or depth > 16 or value is None:
        return value
    ref = schema.get("$ref")
    concrete = schemas.resolve(schema)
    if isinstance(value, list) and isinstance(concrete.get("items"), dict):
        return [_nulls(v, concrete["items"], depth + 1) for v in value]
    props = concrete.get("properties")
    if not isinstance(value, dict) or not props:
        return value
    empty = _EMPTY_IS_NULL.get(ref or "", ())
    out: dict[str, Any] = {}
    for name, prop in props.items():
        item = value.get(name)
        out[name] = None if name in empty and item == "" else _nulls(item, prop, depth + 1)
    out.update({k: v for k, v in value.items() if k not in props})
    return out


def _workflow_items(value: Any, realism: Realism) -> Any:
    if not isinstance(value, list):
        return value
    drop = realism("list_without_source_app_id")
    zero = realism("published_version_zero")
    out = []
    for item in value:
        if isinstance(item, dict):
            item = {k: v for k, v in item.items() if not (drop and k == "sourceAppId")}
            if zero and "publishedVersionNumber" in item:
                item["publishedVersionNumber"] = 0
        out.append(item)
    return out


def shape(endpoint: Endpoint, result: Any, surface: Surface, realism: Realism, legacy: bool = False) -> Any:
    """*result* of *endpoint*'s state method as this release, with these quirks, answers it."""
    if isinstance(result, File) or result is None:
        return result
    if isinstance(result, Created):
        inner = shape(endpoint, result.value, surface, realism, legacy)
        return result if inner is result.value else Created(inner)
    if not surface.lacking and not realism.on:
        return result
    if endpoint.family == "v3":
        schema = next((found for code in endpoint.success_codes
                       if (found := surface.answer_schema(endpoint, code)) is not None), None)
        if realism("nulls") and isinstance(result, dict):  # detail views (a listing's items may be reduced views)
            result = _nulls(result, schema)
        if endpoint.operation_id == "Workflows_GetWorkflows":
            result = _workflow_items(result, realism)
        result = surface.strip(result, schema)
    if realism("date_fractions"):
        result = _times(result)
    return result
