"""The one map from the model's refusals to the Server's statuses and bodies.

* The status comes from the refusal's kind (:data:`STATUS`).
* The body is ``{"message"}``, plus ``modelState`` for :class:`Invalid`, in
  one style: ASP.NET's keys (``contract.name``, ``contract.iteration.startTime``,
  a query or form parameter's own name) and sentences (``The name field is
  required.``).
* Where the Swagger declares that status's body a string (the transfer
  operations' 400/403/404, ``DELETE /v3/users/{id}``'s 409), the body is the
  message as a bare JSON string.
* Under ``/gallery/api/`` the body has the legacy shape
  ``{data, exceptionName, innerExceptionMessage, message}``.
"""

from __future__ import annotations

from typing import Any

from .. import schemas
from ..catalogue import Endpoint
from .http import TooLarge, UnsupportedMediaType
from .state.errors import (Conflict, Denied, EmulatorError, Forbidden, Invalid, NotEmpty, NotFound, Refused,
                           Unauthorized)

__all__ = ["STATUS", "status_of", "body_of", "model_state", "qualify"]

STATUS: dict[type[EmulatorError], int] = {
    Invalid: 400, Refused: 400, NotEmpty: 400,
    Unauthorized: 401, Denied: 401,  # a missing permission is 401 on the Server too (reference.md 3.2)
    Forbidden: 403, NotFound: 404, Conflict: 409,
    TooLarge: 413, UnsupportedMediaType: 415,
}

_EXCEPTION_NAMES = {400: "BadRequestException", 401: "UnauthorizedException", 403: "ForbiddenException",
                    404: "NotFoundException", 409: "ConflictException"}


def status_of(error: EmulatorError) -> int:
    """The status the Server answers *error* with (400 for a refusal of no known kind)."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


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
    status = status_of(error)
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
