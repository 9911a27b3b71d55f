"""The refusals of the emulated Server's model: what went wrong, never how it is answered.

The state raises these; one map in :mod:`axframe.emulator.error_map` turns
each into a status and a body.  Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["EmulatorError", "Invalid", "Refused", "NotEmpty", "NotFound", "Conflict", "Forbidden",
           "Unauthorized", "Denied"]


class EmulatorError(Exception):
    """A request the Server's model refuses, with a sentence saying why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(EmulatorError):
    """Values of named fields are wrong: each problem is keyed by where the value came from.

    A key is a query or form parameter's name (``createdAfter``, ``ownerId``),
    or a path inside the request body (``name``, ``iteration.startTime``,
    ``questions[0].name``); ``""`` is the body itself.  The answer puts the
    body's parameter name in front of body paths, as ASP.NET does.
    """

    def __init__(self, problems: Mapping[str, Sequence[str]], message: str = "The request is invalid.") -> None:
        super().__init__(message)
        self.problems: dict[str, list[str]] = {key: list(texts) for key, texts in problems.items()}

    @classmethod
    def field(cls, name: str, text: str) -> Invalid:
        """One problem with one field."""
        return cls({name: [text]})

    @classmethod
    def required(cls, name: str) -> Invalid:
        """A field that must be given is missing (or empty where the Server needs text)."""
        return cls({name: [required_text(name)]})


def required_text(path: str) -> str:
    """The Server's sentence for a missing field: ``The name field is required.``"""
    field = path.rsplit(".", 1)[-1].split("[", 1)[0] or path
    return f"The {field} field is required."


class Refused(EmulatorError):
    """A rule of the Server refuses the request as a whole (no one field is to blame)."""


class NotEmpty(Refused):
    """Deleting a record that still holds members, shares or assets, without forcing it."""


class NotFound(EmulatorError):
    """The record the request names does not exist, or is hidden from the caller."""


class Conflict(EmulatorError):
    """The record is in a state that conflicts with the request (a user who still owns assets)."""


class Forbidden(EmulatorError):
    """The record exists and the caller may see it, but not do this with it."""


class Unauthorized(EmulatorError):
    """No valid credentials: no token, an unknown or expired one, a bad signature."""

    def __init__(self, message: str = "Authorization has been denied for this request.") -> None:
        super().__init__(message)


class Denied(EmulatorError):
    """The caller's role or permissions do not allow the operation at all (the Server answers 401)."""
