"""Server versions: which V3 operations and fields an emulated Server has, and whether it gates V1/V2 by role.

``Emulator(server_version=...)`` picks a :class:`Surface`.  Two V3 surfaces are on record: ours (the
Swagger in ``../shared/alteryx-api/swagger-v3.json``, a 2025.x-era Server) and an older one, derived by
``tools/derive_versions.py`` from the generated client inside the ``mcp-server-alteryx`` 0.2.22 wheel and
checked in as ``versions.json``.  Which releases served which surface is not recorded; the choices below
are written down in ``docs/emulator.md``:

- releases before 2023.1 (2021.4, 2022.1, 2022.3) serve the older surface (low confidence: V3 began in
  2021.4, the endpoint a 2021.4 Server lacked is one of the older surface's gaps, and 2023.1 is the upgrade
  after which a Server demanded more of an upload);
- 2023.1 and later, and the default (``None`` or ``"newest"``), serve ours;
- 2022.1 and later (and the default) refuse V1 Subscription and User V2 calls below Artisan (evidence: the
  KB article on 2022.1, high confidence); 2021.4 lets every role through.

On the older surface a V3 operation it lacks is not routed (the Server answers as ASP.NET Web API does for
a route it does not have: 404 ``No HTTP resource ...``, or 405 where the path has other methods); the
fields it lacks are left out of answers and out of the contracts it checks (a body carrying one has it
ignored, as Json.NET ignores a property its contract class does not have).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ... import schemas
from ...catalogue import Endpoint

__all__ = ["Surface", "surface", "NEWEST", "KNOWN_RELEASES", "older_surface_data"]

VERSIONS_FILE = Path(__file__).resolve().parent.parent / "versions.json"
NEWEST = "newest"
FIRST_V3 = (2021, 4)
OLDER_SURFACE_BEFORE = (2023, 1)
ROLE_GATES_SINCE = (2022, 1)
#: Releases named in the docs and tests; any ``YYYY.N`` from 2021.4 on is accepted.
KNOWN_RELEASES = ("2021.4", "2022.1", "2022.3", "2023.1", "2023.2", "2024.1", "2024.2", "2025.1", "2025.2")
_RELEASE = re.compile(r"(\d{4})\.(\d{1,2})(?:\.\d+)*")


@lru_cache(maxsize=1)
def older_surface_data() -> dict[str, Any]:
    """The checked-in derivation (``versions.json``)."""
    data: dict[str, Any] = json.loads(VERSIONS_FILE.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Surface:
    """What one Server release serves.

    Attributes
    ----------
    release : the release asked for (``"newest"`` by default).
    older : whether it is the older V3 surface.
    operations : the V3 operationIds it serves (``None``: every one of ours).
    lacking : definition name -> the fields that definition lacks on this release.
    role_gates : whether V1 Subscription and User V2 calls need at least an Artisan's key.
    """

    release: str
    older: bool
    operations: frozenset[str] | None
    lacking: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False, compare=False)
    role_gates: bool = True

    def serves(self, endpoint: Endpoint) -> bool:
        """Whether this release has *endpoint* (the V1/V2 families are on every release)."""
        return endpoint.family != "v3" or self.operations is None or endpoint.operation_id in self.operations

    # fields ------------------------------------------------------------------
    def touches(self, schema: dict | None, _seen: frozenset[str] = frozenset()) -> bool:
        """Whether *schema* reaches a definition with fields this release lacks."""
        if not self.lacking or not schema:
            return False
        ref = schema.get("$ref")
        if ref is not None:
            if ref in self.lacking:
                return True
            if ref in _seen:
                return False
            return self.touches(schemas.definition(ref), _seen | {ref})
        subs = list(schema.get("properties", {}).values())
        subs += [s for s in (schema.get("items"), schema.get("additionalProperties")) if isinstance(s, dict)]
        return any(self.touches(s, _seen) for s in subs)

    def strip(self, value: Any, schema: dict | None) -> Any:
        """*value* (an answer or a body shaped by *schema*) without the fields this release lacks."""
        if not self.lacking or not schema or value is None:
            return value
        ref = schema.get("$ref")
        concrete = schemas.resolve(schema)
        if isinstance(value, list) and isinstance(concrete.get("items"), dict):
            return [self.strip(v, concrete["items"]) for v in value]
        if not isinstance(value, dict):
            return value
        drop = self.lacking.get(ref or "", frozenset())
        props = concrete.get("properties", {})
        out = {}
        for name, item in value.items():
            if name in drop:
                continue
            out[name] = self.strip(item, props[name]) if name in props else item
        return out

    def contract(self, schema: dict | None, depth: int = 0) -> dict:
        """*schema* with references inlined and the fields this release lacks removed (from ``required`` too)."""
        if not schema or depth > 24:
            return {}
        ref = schema.get("$ref")
        concrete = schemas.resolve(schema)
        drop = self.lacking.get(ref or "", frozenset())
        out = {k: v for k, v in concrete.items() if k != "$ref"}
        if "properties" in out:
            out["properties"] = {n: self.contract(p, depth + 1) for n, p in out["properties"].items() if n not in drop}
        if "required" in out:
            out["required"] = [n for n in out["required"] if n not in drop]
        for key in ("items", "additionalProperties"):
            if isinstance(out.get(key), dict) and out[key]:
                out[key] = self.contract(out[key], depth + 1)
        return out

    def answer_schema(self, endpoint: Endpoint, status: int) -> dict | None:
        """The schema of *endpoint*'s answer with *status*, from the Swagger (V3 only)."""
        if endpoint.family != "v3" or not endpoint.operation_id:
            return None
        responses = schemas.operation(endpoint.operation_id).get("responses", {})
        found = responses.get(str(status))
        return found if isinstance(found, dict) else None

    def describe(self) -> dict[str, Any]:
        """What this release serves, for ``/_emulator/info`` and docs."""
        lacks = older_surface_data()["lacks"]
        return {"serverVersion": self.release, "surface": "older" if self.older else "newest",
                "roleGates": self.role_gates,
                "lacksOperations": [f"{o['method']} {o['path']}" for o in lacks["operations"]] if self.older else [],
                "lacksFields": {d: sorted(f) for d, f in self.lacking.items()}}


def _release(text: str) -> tuple[int, int]:
    match = _RELEASE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"server_version takes a release such as '2021.4' or '2024.2' (or 'newest'), not {text!r}")
    release = (int(match.group(1)), int(match.group(2)))
    if release < FIRST_V3:
        raise ValueError(f"server_version {text!r}: the V3 API and OAuth2 began with 2021.4")
    return release


@lru_cache(maxsize=None)
def surface(server_version: str | None = None) -> Surface:
    """The :class:`Surface` of *server_version* (``None`` or ``"newest"``: ours)."""
    if server_version is None or str(server_version).strip().lower() in (NEWEST, "latest", ""):
        return Surface(NEWEST, older=False, operations=None, role_gates=True)
    text = str(server_version).strip()
    release = _release(text)
    gates = release >= ROLE_GATES_SINCE
    if release >= OLDER_SURFACE_BEFORE:
        return Surface(text, older=False, operations=None, role_gates=gates)
    data = older_surface_data()
    lacking = {d: frozenset(f) for d, f in data["lacks"]["fields"].items()}
    return Surface(text, older=True, operations=frozenset(data["older"]["operations"]), lacking=lacking,
                   role_gates=gates)
