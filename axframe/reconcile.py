"""Reconciling creates whose outcome is unknown, by looking the record up by its natural key.

When the connection breaks after a create was sent (or a gateway answers 502
or 504), the Server may or may not have made the record; sending it again
blindly could make it twice.  For creates whose record has a natural key the
Server keeps unique, axframe instead looks the record up:

- found: the create took effect; the row succeeds with the record found;
- not found, twice, a grace period apart: the create did not take effect;
  it is sent once more and that answer decides the row.

Natural keys (unique on the Server or the emulator): a user's email, a user
group's name, a subscription's name, and a workflow's ``sourceAppId`` when
the upload sets one.  Other creates (collections, schedules, credentials,
jobs...) have no such key; their rows stay failures of type
``OutcomeUnknown`` for a person to check.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable

from . import catalogue
from .client import Call, Connection, Outcome

__all__ = ["Reconciler", "RECONCILERS", "reconcile", "look_up_call", "Finding"]


@dataclass(frozen=True)
class Reconciler:
    lookup: str  # catalogue name of the listing used to look the record up
    key: str  # the body field holding the natural key
    query: str | None  # the listing's query parameter that filters by the key, if any
    field: str  # the field of a listed record that holds the key
    casefold: bool = True


RECONCILERS: dict[str, Reconciler] = {
    "users.create": Reconciler("users.list", "email", "email", "email"),
    "usergroups.create": Reconciler("usergroups.list", "name", None, "name"),
    "subscriptions.create": Reconciler("subscriptions.list", "name", "name", "name"),
    "workflows.upload": Reconciler("workflows.list", "sourceAppId", None, "sourceAppId", casefold=False),
}


@dataclass
class Finding:
    found: bool | None  # None: the lookup itself failed
    record: Any = None
    detail: str = ""


def _key_of(call: Call, spec: Reconciler) -> str | None:
    if call.form is not None:
        value = call.form.get(spec.key)
    else:
        try:
            body = json.loads(call.body or b"null")
        except ValueError:
            return None
        value = body.get(spec.key) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def look_up(conn: Connection, spec: Reconciler, key: str) -> Finding:
    endpoint = catalogue.find(spec.lookup)
    params = [(spec.query, key)] if spec.query else []
    outcome = conn.send(Call("GET", endpoint.path, endpoint, params))
    if not outcome.ok:
        how = f"answered {outcome.status}" if outcome.status is not None else "got no answer"
        return Finding(None, detail=f"the lookup by {spec.key} ({spec.lookup}) {how}: {outcome.error}")
    try:
        records = outcome.json()
    except ValueError:
        return Finding(None, detail="the lookup's answer was not JSON")
    wanted = key.casefold() if spec.casefold else key
    matches = [r for r in records or [] if isinstance(r, dict) and isinstance(r.get(spec.field), str)
               and (r[spec.field].casefold() if spec.casefold else r[spec.field]) == wanted]
    if len(matches) > 1:
        return Finding(None, detail=f"{len(matches)} records have {spec.field} {key!r}")
    return Finding(bool(matches), matches[0] if matches else None)


def look_up_call(conn: Connection, endpoint: catalogue.Endpoint, call: Call) -> Outcome | None:
    """The record *call* would create, if it exists already (as an answer), else ``None``.

    When the lookup itself fails, the answer is an ``OutcomeUnknown`` outcome saying why: the record
    may exist, so the call must not be sent.
    """
    spec = RECONCILERS.get(endpoint.name)
    key = _key_of(call, spec) if spec else None
    if spec is None or key is None:
        return None
    finding = look_up(conn, spec, key)
    if finding.found:
        return Outcome(200, json.dumps(finding.record, ensure_ascii=False))
    if finding.found is None:
        return Outcome(None, error_type="OutcomeUnknown", error=f"could not look the record up: {finding.detail}")
    return None


def reconcile(conn: Connection, endpoint: catalogue.Endpoint, call: Call, outcome: Outcome, *,
              grace: float = 1.0, sleep: Callable[[float], None] = time.sleep,
              rounds: int = 3) -> tuple[Outcome, str]:
    """Settle an ``OutcomeUnknown`` create; return the deciding outcome and a note for the record.

    A create sent again can itself end unknown; up to *rounds* lookups-and-resends are made.
    """
    note = ""
    for _ in range(rounds):
        if outcome.error_type != "OutcomeUnknown":
            break
        outcome, note = _settle(conn, endpoint, call, outcome, grace, sleep)
        if note.startswith("could not") or not note:
            break
    return outcome, note


def _settle(conn: Connection, endpoint: catalogue.Endpoint, call: Call, outcome: Outcome, grace: float,
            sleep: Callable[[float], None]) -> tuple[Outcome, str]:
    spec = RECONCILERS.get(endpoint.name)
    key = _key_of(call, spec) if spec else None
    if spec is None or key is None:
        return outcome, ""
    for attempt in range(2):
        finding = look_up(conn, spec, key)
        if finding.found is None:
            note = f"could not reconcile: {finding.detail}"
            return Outcome(outcome.status, outcome.text, error_type=outcome.error_type,
                           error=f"{outcome.error}; {note}", attempts=outcome.attempts), note
        if finding.found:
            text = json.dumps(finding.record, ensure_ascii=False)
            return Outcome(200, text, attempts=outcome.attempts), \
                f"reconciled: found the record by {spec.key} after the outcome was unknown"
        if attempt == 0:
            sleep(grace)
    again = conn.send(call)
    note = f"reconciled: no record with that {spec.key} after {grace:g} s, so it was sent again"
    return again, note
