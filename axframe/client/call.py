"""One request to send (:class:`Call`) and how it ended (:class:`Outcome`).

Plain data, shared by the connection that sends calls, the frames that build
them from rows and the engine that runs them: no HTTP library is imported
here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..catalogue import Endpoint
from ..errors import ErrorType

__all__ = ["Call", "Outcome"]


@dataclass
class Call:
    """One HTTP request to send, built from one row."""

    method: str
    path: str  # relative to the base URL, path segments already percent-encoded
    endpoint: Endpoint | None = None
    params: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    content_type: str | None = None
    form: dict[str, str] | None = None
    file_path: str | None = None  # multipart upload, opened at send time
    file_field: str = "file"

    @property
    def idempotent(self) -> bool:
        """Whether sending it twice has the effect of sending it once (by its method)."""
        return self.method in ("GET", "PUT", "DELETE", "PATCH", "HEAD")

    @property
    def changes(self) -> bool:
        """Whether it may change the Server (anything but a read)."""
        return self.method not in ("GET", "HEAD")

    @property
    def binary(self) -> bool:
        return bool(self.endpoint and self.endpoint.binary)


@dataclass
class Outcome:
    """How one call ended: the Server's answer, or why there is none.

    ``error_type`` is set for every ending other than a 2xx answer; ``error``
    is then a sentence a person can act on.
    """

    status: int | None
    text: str = ""
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    error_type: ErrorType | None = None
    error: str | None = None
    attempts: int = 1
    elapsed: float = 0.0
    # how a resumed run came by it: "" sent now; "answered" from the journal, not sent; "in_flight" not
    # sent, an earlier run's call was in flight when it stopped; "resent" an idempotent call in flight, sent again
    journal: str = ""
    # how it was settled when its own answer does not say (a delete whose retry found it already gone)
    note: str = ""
    _parsed: Any = field(default=None, repr=False, compare=False)
    _has_parsed: bool = field(default=False, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        if self.error_type is not None or self.status is None:
            return False
        return 200 <= self.status < 300 or bool(self.note)

    def json(self) -> Any:
        """The answer as JSON (``None`` for an empty answer); raises :class:`ValueError` when it is not JSON."""
        if not self._has_parsed:
            self._parsed = json.loads(self.text) if self.text else None
            self._has_parsed = True
        return self._parsed

    def value(self) -> Any:
        """The answer as JSON, or ``None`` when it is empty or not JSON."""
        try:
            return self.json()
        except ValueError:
            return None

    @classmethod
    def failed(cls, error_type: ErrorType, error: str, status: int | None = None) -> "Outcome":
        """An ending without a usable answer."""
        return cls(status, error_type=error_type, error=error)
