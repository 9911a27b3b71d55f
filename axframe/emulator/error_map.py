"""The one map from the model's refusals to the Server's statuses and bodies.

* The status comes from the refusal's kind (:data:`STATUS`); a "not found" on
  an operation whose Swagger declares no 404 but a 400 (``PUT /v3/users/{id}``,
  ``GET /v3/dcm/admin/connections?visibleBy=``) is that 400.
* The body is ``{"message"}``, plus ``modelState`` for :class:`Invalid`, in
  one style: ASP.NET's keys (``contract.name``, ``contract.iteration.startTime``,
  a query or form parameter's own name) and sentences (``The name field is
  required.``).
* Where the Swagger declares that status's body a string (the transfer
  operations' 400/403/404, ``DELETE /v3/users/{id}``'s 409), the body is the
  message as a bare JSON string.
* Under ``/gallery/api/`` the body has the legacy shape
  ``{data, exceptionName, innerExceptionMessage, message}``.
* The Content-Type is the one the operation's ``produces`` implies: JSON, or
  ``application/octet-stream`` for the two downloads (:func:`media_type`).
"""

from __future__ import annotations

from typing import Any

from .. import schemas
from ..catalogue import Endpoint
from .http import JSON_CONTENT_TYPE, Response, TooLarge, UnsupportedMediaType, json_response
from .state.errors import (Conflict, Denied, EmulatorError, Forbidden, Invalid, NotEmpty, NotFound, Refused,
                           Unauthorized)

__all__ = ["STATUS", "status_of", "body_of", "model_state", "qualify", "media_type", "answer"]

STATUS: dict[type[EmulatorError], int] = {
    Invalid: 400, Refused: 400, NotEmpty: 400,
    Unauthorized: 401, Denied: 401,  # a missing permission is 401 on the Server too (reference.md 3.2)
    Forbidden: 403, NotFound: 404, Conflict: 409,
    TooLarge: 413, UnsupportedMediaType: 415,
}

_EXCEPTION_NAMES = {400: "BadRequestException", 401: "UnauthorizedException", 403: "ForbiddenException",
                    404: "NotFoundException", 409: "ConflictException"}


def status_of(error: EmulatorError, endpoint: Endpoint | None = None) -> int:
    """The status the Server answers *error* with on *endpoint* (400 for a refusal of no known kind)."""
    status = next((STATUS[kind] for kind in type(error).__mro__ if kind in STATUS), 400)
    if status == 404 and endpoint is not None and endpoint.operation_id is not None:
        declared = schemas.operation(endpoint.operation_id)["responses"]
        if "404" not in declared and "400" in declared:
            return 400
    return status


def media_type(endpoint: Endpoint | None) -> str:
    """The Content-Type of *endpoint*'s answers: what its Swagger ``produces`` implies."""
    if endpoint is not None and endpoint.binary and endpoint.operation_id is not None:
        return "application/octet-stream"
    return JSON_CONTENT_TYPE


def answer(error: EmulatorError, endpoint: Endpoint | None = None, *, legacy: bool = False) -> Response:
    """The whole answer to *error*: status, body and Content-Type."""
    response = json_response(status_of(error, endpoint), body_of(error, endpoint, legacy=legacy))
    kind = media_type(endpoint)
    if kind != JSON_CONTENT_TYPE:
        # the bytes stay the JSON error body, so that a client reading it as JSON still can
        response.headers = [("Content-Type", kind)] + [h for h in response.headers if h[0] != "Content-Type"]
    return response


def qualify(key: str, endpoint: Endpoint | None) -> str:
    """The ``modelState`` key of a problem key: body paths get the body parameter's name in front."""
    if endpoint is None:
        return key
    head = key.split(".", 1)[0].split("[", 1)[0]
    own = {p.name for p in endpoint.params} | {p.name for p in endpoint.form}
    if head in own and key:
        return key
    name = endpoint.body_name
    if name is None:
        return key or "body"
    if not key:
        return name
    return f"{name}{key}" if key.startswith("[") else f"{name}.{key}"


def model_state(error: Invalid, endpoint: Endpoint | None = None) -> dict[str, list[str]]:
    """The ``modelState`` of *error* for *endpoint*'s request."""
    out: dict[str, list[str]] = {}
    for key, texts in error.problems.items():
        out.setdefault(qualify(key, endpoint), []).extend(texts)
    return out


def _declares_string(endpoint: Endpoint | None, status: int) -> bool:
    if endpoint is None or endpoint.operation_id is None:
        return False
    declared = schemas.operation(endpoint.operation_id)["responses"].get(str(status))
    return isinstance(declared, dict) and schemas.resolve(declared).get("type") == "string"


def body_of(error: EmulatorError, endpoint: Endpoint | None = None, *, legacy: bool = False) -> Any:
    """The JSON body the Server answers *error* with, for *endpoint* (``None``: outside any operation)."""
    status = status_of(error, endpoint)
    problems = model_state(error, endpoint) if isinstance(error, Invalid) else {}
    if legacy:
        return {"data": None, "exceptionName": _EXCEPTION_NAMES.get(status, "Exception"),
                "innerExceptionMessage": "", "message": error.message}
    if _declares_string(endpoint, status):
        return _sentence(error.message, problems)
    if problems:
        return {"message": error.message, "modelState": problems}
    return {"message": error.message}


def _sentence(message: str, problems: dict[str, list[str]]) -> str:
    """One line for a body that is only text: the problems themselves when there are any."""
    if not problems:
        return message
    return " ".join(f"{key}: {text}" for key, texts in problems.items() for text in texts)
