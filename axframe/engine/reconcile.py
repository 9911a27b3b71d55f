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
a workflow's ``sourceAppId`` when the upload sets one.  An add to a parent (a
user into a group or a collection, a group or workflow into a collection, a
share of a credential or a data connection: ``Endpoint.membership``) is
settled the same way by reading the parent: every member it adds is there, it
took effect; none is, twice, it did not and is sent again.  Other creates
(collections, schedules, credentials, jobs...) have no such key; their rows
stay failures of type ``OutcomeUnknown`` for a person to check.

What a Server really shows decides: some Servers leave ``sourceAppId`` out of
their workflow lists.  Where no listed record shows the key at all, the records
that match the call's name and owner are read in their detail view; where
those do not show it either, the one such record created after the call went
out is the one it made.  Where none of this can be sure (two candidates, no
creation times), the row fails as ``OutcomeUnknown`` and nothing is sent again.

These are steps of a row's program: ``found = yield from look_up(...)``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Generator
from urllib.parse import quote

from .. import catalogue
from ..catalogue import Endpoint, Membership, NaturalKey
from ..client.call import Call, Outcome
from ..errors import ErrorType
from ..schemas import parse_datetime
from .rows import Send, Step, Wait

__all__ = ["Finding", "look_up", "look_up_member", "look_up_call", "reconcile", "can_reconcile", "GRACE"]

GRACE = 1.0  # seconds between the two lookups that must both miss before a create is sent again
SKEW = 60.0  # seconds the Server's clock may run behind ours, for creation times
ROUNDS = 3  # lookups-and-resends at most, as a resent create can itself end unknown

Steps = Generator[Step, Any, Any]


@dataclass
class Finding:
    found: bool | None  # None: the lookup itself failed
    record: Any = None
    detail: str = ""


def can_reconcile(endpoint: Endpoint) -> bool:
    """Whether an unknown outcome of *endpoint* can be settled by a lookup (a natural key, or an add's parent)."""
    return endpoint.natural_key is not None or endpoint.membership is not None


def _members_added(call: Call, spec: Membership) -> list[str] | None:
    """The ids *call* adds to its parent (None: the body does not say)."""
    try:
        body = json.loads(call.body or b"null")
    except ValueError:
        return None
    ids = body if spec.body is None else [body.get(spec.body)] if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        return None
    return ids


def _parent_path(endpoint: Endpoint, call: Call, detail: Endpoint) -> str | None:
    """The detail path of the parent *call* adds to: its path parameter's value, taken from the call's path."""
    pattern = re.escape(endpoint.path)
    for param in endpoint.path_params:
        pattern = pattern.replace(re.escape("{" + param.name + "}"), f"(?P<{param.name}>[^/]+)")
    found = re.fullmatch(pattern, call.path)
    if found is None or len(detail.path_params) != 1:
        return None
    name = detail.path_params[0].name
    value = found.groupdict().get(name)
    return None if value is None else detail.path.replace("{" + name + "}", value)


def look_up_member(endpoint: Endpoint, call: Call) -> Generator[Step, Any, Finding]:
    """Steps that read the parent of an add and tell whether every member *call* adds is in it."""
    spec = endpoint.membership
    assert spec is not None
    detail = catalogue.find(spec.detail)
    wanted, path = _members_added(call, spec), _parent_path(endpoint, call, detail)
    if wanted is None or path is None:
        return Finding(None, detail=f"the call does not say what it adds to which {spec.detail.split('.')[0]}")
    read = yield Send(Call("GET", path, detail))
    view = read.value() if read.ok else None
    if not isinstance(view, dict) or not isinstance(view.get(spec.listed), list):
        how = read.error if not read.ok else f"it shows no {spec.listed}"
        return Finding(None, detail=f"the parent ({spec.detail}) could not be read: {how}")
    have = {str(m.get(spec.item)) if spec.item and isinstance(m, dict) else str(m) for m in view[spec.listed]}
    present = [w for w in wanted if w in have]
    if len(present) == len(wanted):
        return Finding(True, view)
    if present:
        return Finding(None, detail=f"{len(present)} of the {len(wanted)} members it adds are in {spec.listed}")
    return Finding(False)


def _field_of(call: Call, name: str) -> Any:
    if call.form is not None:
        return call.form.get(name)
    try:
        body = json.loads(call.body or b"null")
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


def _key_of(call: Call, spec: NaturalKey) -> str | None:
    value = _field_of(call, spec.field)
    return value if isinstance(value, str) and value else None


def _matching(records: list, spec: NaturalKey, key: str) -> list[dict]:
    wanted = key.casefold() if spec.casefold else key
    return [r for r in records if isinstance(r, dict) and isinstance(r.get(spec.listed), str)
            and (r[spec.listed].casefold() if spec.casefold else r[spec.listed]) == wanted]


def look_up(spec: NaturalKey, key: str, call: Call | None = None,
            since: float | None = None) -> Generator[Step, Any, Finding]:
    """Steps that look for the record whose natural key is *key* (made by *call*, sent at *since*)."""
    endpoint = catalogue.find(spec.lookup)
    params = [(spec.query, key)] if spec.query else []
    outcome = yield Send(Call("GET", endpoint.path, endpoint, params))
    if not outcome.ok:
        how = f"answered {outcome.status}" if outcome.status is not None else "got no answer"
        return Finding(None, detail=f"the lookup by {spec.field} ({spec.lookup}) {how}: {outcome.error}")
    try:
        records = [r for r in outcome.json() or [] if isinstance(r, dict)]
    except ValueError:
        return Finding(None, detail="the lookup's answer was not JSON")
    if records and not any(spec.listed in r for r in records):  # this Server does not list the key
        return (yield from _look_closer(spec, key, records, call, since))
    matches = _matching(records, spec, key)
    if len(matches) > 1:
        return Finding(None, detail=f"{len(matches)} records have {spec.listed} {key!r}")
    return Finding(bool(matches), matches[0] if matches else None)


def _look_closer(spec: NaturalKey, key: str, records: list[dict], call: Call | None,
                 since: float | None) -> Generator[Step, Any, Finding]:
    """The listing shows no key: the candidates (same name and owner) in their detail view, then by time."""
    if spec.detail is None or call is None or not spec.same:
        return Finding(None, detail=f"the Server's {spec.lookup} does not show {spec.listed}, so the record "
                                    "cannot be looked up")
    candidates = [r for r in records if all(_same(_field_of(call, mine), r.get(theirs)) for mine, theirs in spec.same)]
    detail = catalogue.find(spec.detail)
    param = detail.path_params[0].name
    views: list[dict] = []
    for candidate in candidates:
        read = yield Send(Call("GET", detail.path.replace("{" + param + "}", quote(str(candidate.get("id")), safe="")),
                               detail))
        view = read.value() if read.ok else None
        if not isinstance(view, dict):
            return Finding(None, detail=f"the detail view of {candidate.get('id')} could not be read: {read.error}")
        views.append(view)
    if any(spec.listed in v for v in views):
        matches = _matching(views, spec, key)
        if len(matches) > 1:
            return Finding(None, detail=f"{len(matches)} records have {spec.listed} {key!r}")
        return Finding(bool(matches), matches[0] if matches else None)
    return _by_time(spec, views or candidates, since)


def _by_time(spec: NaturalKey, candidates: list[dict], since: float | None) -> Finding:
    if not candidates:
        return Finding(False)
    if since is None or spec.created is None:
        return Finding(None, detail=f"{len(candidates)} record(s) like it exist and this Server shows no "
                                    f"{spec.listed} to tell them apart")
    stamps = [(c, _when(c.get(spec.created))) for c in candidates]
    made = [c for c, when in stamps if when is not None and when >= since]
    undated = [c for c, when in stamps if when is None]
    if len(made) == 1 and not undated:
        return Finding(True, made[0])
    if not made and not undated:
        return Finding(False)
    return Finding(None, detail=f"{len(made) + len(undated)} record(s) like it may have been made since the call "
                                f"went out, and this Server shows no {spec.listed} to tell them apart")


def _same(mine: Any, theirs: Any) -> bool:
    return isinstance(mine, str) and isinstance(theirs, str) and mine.strip().casefold() == theirs.strip().casefold()


def _when(stamp: Any) -> float | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return parse_datetime(stamp).timestamp()
    except ValueError:
        return None


def look_up_call(endpoint: Endpoint, call: Call) -> Generator[Step, Any, Outcome | None]:
    """Steps that find the record *call* would create: an answer if it exists, else ``None``.

    When the lookup itself fails, the answer is an ``OutcomeUnknown`` outcome saying why: the record
    may exist, so the call must not be sent.
    """
    spec = endpoint.natural_key
    key = _key_of(call, spec) if spec else None
    if endpoint.membership is not None:
        finding = yield from look_up_member(endpoint, call)
    elif spec is None or key is None:
        return None
    else:
        finding = yield from look_up(spec, key, call)
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
    since = time.time() - outcome.elapsed - SKEW  # when the call first went out, give or take the clocks
    for _ in range(ROUNDS):
        if outcome.error_type != ErrorType.OUTCOME_UNKNOWN:
            break
        outcome, note = yield from _settle(endpoint, call, outcome, grace, since)
        if note.startswith("could not") or not note:
            break
    return outcome, note


def _settle(endpoint: Endpoint, call: Call, outcome: Outcome, grace: float,
            since: float) -> Generator[Step, Any, tuple[Outcome, str]]:
    spec = endpoint.natural_key
    key = _key_of(call, spec) if spec else None
    if endpoint.membership is None and (spec is None or key is None):
        return outcome, ""
    by = spec.field if spec is not None and key is not None else "the parent's members"
    for attempt in range(2):
        if endpoint.membership is not None:
            finding = yield from look_up_member(endpoint, call)
        else:
            assert spec is not None and key is not None
            finding = yield from look_up(spec, key, call, since)
        if finding.found is None:
            note = f"could not reconcile: {finding.detail}"
            return Outcome(outcome.status, outcome.text, error_type=outcome.error_type,
                           error=f"{outcome.error}; {note}", attempts=outcome.attempts), note
        if finding.found:
            text = json.dumps(finding.record, ensure_ascii=False)
            return Outcome(200, text, attempts=outcome.attempts), \
                f"reconciled: found the record by {by} after the outcome was unknown"
        if attempt == 0:
            yield Wait(grace)
    again = yield Send(call)
    note = f"reconciled: not found by {by} after {grace:g} s, so it was sent again"
    return again, note
