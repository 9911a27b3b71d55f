"""The model's small vocabulary: the clock, dates, views, results and names.

Nothing here knows about HTTP.  The refusals live in :mod:`.errors` and are
re-exported here for the modules (and tests) that import them from the core.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any

from ... import schemas
from .errors import (Conflict, Denied, EmulatorError, Forbidden, Invalid, NotEmpty, NotFound, Refused,
                     Unauthorized)

__all__ = ["Clock", "iso", "parse_time", "project", "Record", "Created", "File", "Upload", "ROLES", "PUBLISHERS",
           "snake", "camel", "wire", "EmulatorError", "Invalid", "Refused", "NotEmpty", "NotFound", "Conflict",
           "Forbidden", "Unauthorized", "Denied"]

Record = dict[str, Any]
"""A stored record: the Server's field names (camelCase) to values."""

ROLES = ("NoAccess", "Viewer", "Member", "Artisan", "Curator", "Evaluated")
PUBLISHERS = ("Artisan", "Curator")


# --------------------------------------------------------------------------
# Clock and dates
# --------------------------------------------------------------------------


class Clock:
    """Wall-clock time that tests can move forward.

    ``now()`` is real time plus an offset, so jobs progress on their own in a
    live emulator, and a test can jump ahead with :meth:`advance` (expiring
    tokens, finishing jobs) without sleeping.  A *frozen* clock stands still
    between advances, for exact tests of the state model.
    """

    def __init__(self, start: float | None = None, frozen: bool = False):
        self._frozen = frozen
        base = time.time() if start is None else start
        self._offset = base if frozen else base - time.time()
        self._lock = threading.Lock()

    def now(self) -> float:
        """Epoch seconds on the emulator's clock."""
        return self._offset if self._frozen else time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward by *seconds*; return the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()


def iso(ts: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds and ``Z``, as the Server writes dates."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(text: Any, field: str, zone: tzinfo = timezone.utc) -> float:
    """Parse an ISO date or date-time into epoch seconds.

    A time without an offset is read in *zone* (UTC by default); an explicit
    offset (or ``Z``) wins.  Anything else is :class:`Invalid` for *field*.
    """
    if not isinstance(text, str) or not text.strip():
        raise Invalid.field(field, f"The value '{text}' is not a valid date.")
    try:
        dt = schemas.parse_datetime(text.strip())
    except ValueError:
        raise Invalid.field(field, f"The value '{text}' is not a valid date.") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    return dt.timestamp()


# --------------------------------------------------------------------------
# Views: project a stored record onto a Swagger definition
# --------------------------------------------------------------------------

_DEFAULTS: dict[str, Any] = {"string": "", "boolean": False, "integer": 0, "number": 0, "array": list,
                             "object": dict}


def project(record: dict, definition: str) -> Record:
    """Keep the properties *definition* declares, in its order.

    Nested references and arrays of references are projected recursively.
    ``None`` values of optional properties are left out; a required property
    that is ``None`` gets its type's empty value, so that every answer
    matches the declared schema.
    """
    schema = schemas.definition(definition)
    required = set(schema.get("required", ()))
    out: Record = {}
    for name, prop in schema.get("properties", {}).items():
        value = record.get(name)
        if value is None:
            if name not in required:
                continue
            value = _empty(prop)
        elif "$ref" in prop and isinstance(value, dict):
            if "properties" in schemas.definition(prop["$ref"]):
                value = project(value, prop["$ref"])
        elif prop.get("type") == "array" and "$ref" in prop.get("items", {}):
            target = prop["items"]["$ref"]
            if "properties" in schemas.definition(target):
                value = [project(v, target) if isinstance(v, dict) else v for v in value]
        out[name] = value
    return out


def _empty(prop: dict) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    default = _DEFAULTS.get(schemas.resolve(prop).get("type", "object"), "")
    return default() if callable(default) else default


# --------------------------------------------------------------------------
# What operations answer besides plain views
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """A new record was made; *value* is what the operation answers about it."""

    value: Any


@dataclass(frozen=True)
class File:
    """A file an operation answers: a package, a job output, the usage records."""

    data: bytes
    name: str
    media_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Upload:
    """A file a caller sent: its name as sent and its bytes."""

    name: str
    data: bytes

    def __repr__(self) -> str:  # the bytes may be large, and are the caller's
        return f"Upload(name={self.name!r}, {len(self.data)} bytes)"


# --------------------------------------------------------------------------
# Names: the Server's camelCase, Python's snake_case
# --------------------------------------------------------------------------

_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    """``ownerId`` -> ``owner_id``; ``Id`` -> ``id`` (the Python name of a Server field or parameter)."""
    return _HUMP.sub("_", name).lower()


def camel(name: str) -> str:
    """``owner_id`` -> ``ownerId`` (the Server's name of a Python field)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire(options: Any) -> Record:
    """The given (not ``None``) fields of an options dataclass, under the Server's names."""
    return {camel(f.name): getattr(options, f.name) for f in dataclasses.fields(options)
            if getattr(options, f.name) is not None}
