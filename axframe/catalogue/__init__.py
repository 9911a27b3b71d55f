"""Every endpoint axframe can call, declared once, as data.

Each :class:`Endpoint` names one operation of one API family: its short name
(``"collections.add_user"``), the Swagger ``operationId`` where there is one,
method and path, path/query parameters, body or multipart form, which macro
function sends it (``get``, ``create``, ``post``, ``delete``), whether only
Curators may call it, and a one-line description written for this project.

For the 97 V3 operations, method, path, parameters, body schema and curator
flag come from ``axframe/schemas/v3.json`` (derived from the Server's Swagger);
the table below adds only the short name, the macro and our description.  The
V1 Subscription, Admin V1/V2 and User V2 APIs have no Swagger; they are
declared in full here from ``reference.md`` section 6.

An endpoint's behaviour is declared with it, not in tables elsewhere: the
natural key that reconciles an unknown create (:class:`NaturalKey`), whether
its PUT replaces the whole record (``merge``, a :class:`~axframe.merge.Merge`),
how it pages (:class:`Paging`, with the fields of its items), what kind of file
it uploads (``upload``), and for the job paths which status endpoint follows a
queued job (:class:`JobPath`).

Everything else -- ``ax.actions()``, validation, the CLI's help, the coverage
tests, the emulator's route check -- is derived from this one table.

The vocabulary is in :mod:`.model`, the V3 table in :mod:`.v3`, the older APIs' in :mod:`.legacy`;
this module builds the one list and looks endpoints up in it.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Iterator

from ..errors import UnknownActionError, WrongMacroError
from .model import (AUDIT_ENTITIES, FORMATS, MACROS, NOT_ON_EVERY_SERVER, ROLES, Endpoint, JobPath, Membership,
                    NaturalKey, Paging, Param)
from .v3 import _V3, _v3_endpoint  # before the older tables, as they were declared (schemas refined, then added)
from .legacy import _LEGACY  # noqa: E402,I001

__all__ = ["Param", "Endpoint", "NaturalKey", "Membership", "Paging", "JobPath", "ENDPOINTS", "find", "endpoints", "MACROS",
           "FORMATS", "AUDIT_ENTITIES", "ROLES", "NOT_ON_EVERY_SERVER", "job_path"]


def _build() -> tuple[Endpoint, ...]:
    v3 = [_v3_endpoint(*row) for row in _V3]  # type: ignore[arg-type]  # rows of 4 or 5 items
    return tuple(v3 + _LEGACY)


ENDPOINTS: tuple[Endpoint, ...] = _build()


@lru_cache(maxsize=None)
def _index() -> dict[str, Endpoint]:
    index: dict[str, Endpoint] = {}
    for ep in ENDPOINTS:
        keys = [ep.name, ep.spelling]
        if ep.operation_id:
            keys.append(ep.operation_id)
        for key in keys:
            if key in index:  # pragma: no cover - guarded by tests
                raise RuntimeError(f"duplicate catalogue key {key!r}")
            index[key] = ep
    return index


def _normalise(action: str) -> str:
    text = " ".join(action.strip().split())
    m = re.match(r"^([A-Za-z]+)\s+(/.*)$", text)
    if m:
        path = m.group(2)
        if path.startswith("/webapi/"):
            path = path[len("/webapi"):]
        return f"{m.group(1).upper()} {path.rstrip('/') or '/'}"
    return text


def find(action: "str | Endpoint", macro: str | None = None) -> Endpoint:
    """Look up *action* by short name, operationId or ``"METHOD /path"``.

    With *macro* given, an action that belongs to another macro raises
    :class:`~axframe.errors.WrongMacroError` naming the right function.  An
    unknown action raises :class:`~axframe.errors.UnknownActionError` with the
    nearest names.
    """
    if isinstance(action, Endpoint):
        ep = action
    else:
        if not isinstance(action, str) or not action.strip():
            raise UnknownActionError(action)
        index = _index()
        found = index.get(action) or index.get(_normalise(action))
        if found is None:
            lowered = {k.lower(): v for k, v in index.items()}
            found = lowered.get(action.strip().lower())
        if found is None:
            raise UnknownActionError(action, difflib.get_close_matches(action.strip(), list(index), n=4, cutoff=0.5))
        ep = found
    if macro is not None and ep.macro != macro:
        raise WrongMacroError(ep.name, ep.spelling, ep.macro, macro)
    return ep


def job_path(api: str) -> Endpoint:
    """The endpoint that queues jobs through *api* (``"v3"``, ``"v1"``, ``"user_v2"``)."""
    for ep in ENDPOINTS:
        if ep.job is not None and ep.job.api == api:
            return ep
    raise KeyError(api)


def listing(alias: str) -> Endpoint | None:
    """The paged listing :func:`axframe.admin_listing` knows as *alias*, if any."""
    for ep in ENDPOINTS:
        if ep.paging is not None and ep.paging.alias == alias:
            return ep
    return None


def endpoints(macro: str | None = None, family: str | None = None) -> Iterator[Endpoint]:
    for ep in ENDPOINTS:
        if (macro is None or ep.macro == macro) and (family is None or ep.family == family):
            yield ep
