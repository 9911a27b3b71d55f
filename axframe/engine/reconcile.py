"""Settling creates whose outcome is unknown, by looking the record up by its natural key.

When the connection breaks after a create was sent (or a gateway answers 502
or 504), the Server may or may not have made the record; sending it again
blindly could make it twice.  For creates whose record has a natural key the
Server keeps unique (``Endpoint.natural_key`` in the catalogue), axframe looks
the record up instead:

- found: the create took effect; the row succeeds with the record found;
- not found, twice, a grace period apart: the create did not take effect;
  it is sent once more and that answer decides the row.

Natural keys: a user's email, a user group's name, a subscription's name, and
a workflow's ``sourceAppId`` when the upload sets one.  Other creates
(collections, schedules, credentials, jobs...) have no such key; their rows
stay failures of type ``OutcomeUnknown`` for a person to check.

These are steps of a row's program: ``found = yield from look_up(...)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Generator

from .. import catalogue
from ..catalogue import Endpoint, NaturalKey
from ..client.call import Call, Outcome
from ..errors import ErrorType
from .rows import Send, Step, Wait

__all__ = ["Finding", "look_up", "look_up_call", "reconcile", "can_reconcile", "GRACE"]

GRACE = 1.0  # seconds between the two lookups that must both miss before a create is sent again
ROUNDS = 3  # lookups-and-resends at most, as a resent create can itself end unknown

Steps = Generator[Step, Any, Any]


@dataclass
class Finding:
    found: bool | None  # None: the lookup itself failed
    record: Any = None
    detail: str = ""


def can_reconcile(endpoint: Endpoint) -> bool:
    """Whether an unknown outcome of *endpoint* can be settled by a lookup."""
    return endpoint.natural_key is not None


def _key_of(call: Call, spec: NaturalKey) -> str | None:
    if call.form is not None:
        value: Any = call.form.get(spec.field)
    else:
        try:
            body = json.loads(call.body or b"null")
        except ValueError:
            return None
        value = body.get(spec.field) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def look_up(spec: NaturalKey, key: str) -> Generator[Step, Any, Finding]:
    """Steps that look for the record whose natural key is *key*."""
    endpoint = catalogue.find(spec.lookup)
    params = [(spec.query, key)] if spec.query else []
    outcome = yield Send(Call("GET", endpoint.path, endpoint, params))
    if not outcome.ok:
        how = f"answered {outcome.status}" if outcome.status is not None else "got no answer"
        return Finding(None, detail=f"the lookup by {spec.field} ({spec.lookup}) {how}: {outcome.error}")
    try:
        records = outcome.json()
    except ValueError:
        return Finding(None, detail="the lookup's answer was not JSON")
    wanted = key.casefold() if spec.casefold else key
    matches = [r for r in records or [] if isinstance(r, dict) and isinstance(r.get(spec.listed), str)
               and (r[spec.listed].casefold() if spec.casefold else r[spec.listed]) == wanted]
    if len(matches) > 1:
        return Finding(None, detail=f"{len(matches)} records have {spec.listed} {key!r}")
    return Finding(bool(matches), matches[0] if matches else None)


def look_up_call(endpoint: Endpoint, call: Call) -> Generator[Step, Any, Outcome | None]:
    """Steps that find the record *call* would create: an answer if it exists, else ``None``.

    When the lookup itself fails, the answer is an ``OutcomeUnknown`` outcome saying why: the record
    may exist, so the call must not be sent.
    """
    spec = endpoint.natural_key
    key = _key_of(call, spec) if spec else None
    if spec is None or key is None:
        return None
    finding = yield from look_up(spec, key)
    if finding.found:
        return Outcome(200, json.dumps(finding.record, ensure_ascii=False))
    if finding.found is None:
        return Outcome(None, error_type=ErrorType.OUTCOME_UNKNOWN, error=f"could not look the record up: "
                                                                          f"{finding.detail}")
    return None


def reconcile(endpoint: Endpoint, call: Call, outcome: Outcome, *,
              grace: float = GRACE) -> Generator[Step, Any, tuple[Outcome, str]]:
    """Steps that settle an ``OutcomeUnknown`` create: the deciding outcome and a note for the record."""
    note = ""
    for _ in range(ROUNDS):
        if outcome.error_type != ErrorType.OUTCOME_UNKNOWN:
            break
        outcome, note = yield from _settle(endpoint, call, outcome, grace)
        if note.startswith("could not") or not note:
            break
    return outcome, note


def _settle(endpoint: Endpoint, call: Call, outcome: Outcome, grace: float) -> Generator[Step, Any, tuple[Outcome, str]]:
    spec = endpoint.natural_key
    key = _key_of(call, spec) if spec else None
    if spec is None or key is None:
        return outcome, ""
    for attempt in range(2):
        finding = yield from look_up(spec, key)
        if finding.found is None:
            note = f"could not reconcile: {finding.detail}"
            return Outcome(outcome.status, outcome.text, error_type=outcome.error_type,
                           error=f"{outcome.error}; {note}", attempts=outcome.attempts), note
        if finding.found:
            text = json.dumps(finding.record, ensure_ascii=False)
            return Outcome(200, text, attempts=outcome.attempts), \
                f"reconciled: found the record by {spec.field} after the outcome was unknown"
        if attempt == 0:
            yield Wait(grace)
    again = yield Send(call)
    note = f"reconciled: no record with that {spec.field} after {grace:g} s, so it was sent again"
    return again, note
