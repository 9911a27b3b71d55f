"""Applying a plan: each change a small program on the one engine, in the order things depend on each other.

Creates and updates run first, by the sheets' ``order`` (users and groups, then
collections and workflows, then members and shares); removals last, in the
opposite order (members before what they belong to).  Names become ids at the
last moment: from the Server as it is when the apply begins, or from what this
apply has just created.  Before anything is sent for a change, its target is
compared with the state the plan was made against (Terraform's stale-plan
rule, per row): a change whose target has changed since fails as
``ChangedSincePlan`` and is not sent.  The usual success and failure frames
come back, one row per change, with the journal and resume of every run.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from typing import Any, Callable, Generator, Sequence

import pandas as pd

from .. import catalogue, frames
from ..client.connection import Connection
from ..engine.journal import digest
from ..engine.rows import Program, Row, Step
from ..engine.run import RunOptions, run_rows
from ..engine.shape import Ending, Result, Shape, Summary
from ..errors import ConfigurationError, ErrorType
from ..macros import call_program
from .plan import Change, Plan, PlanOptions, _fold, _rows, kinds_of
from .sheets import PERMISSIONS, SHEETS, sheet
from .snapshot import Snapshot, read_server
from .workbook import workbook_of

__all__ = ["apply", "APPLY"]

#: The frames of an apply: the plan's columns, then the call's.
APPLY = Shape(success=("StatusCode", "Response"), failure=("StatusCode", "ErrorType", "Error", "Response"))
CHANGED_SINCE_PLAN = ErrorType.CHANGED_SINCE_PLAN


class _Ids:
    """Names to ids: the Server's as the apply began, and what the apply creates as it goes."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self._made: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def made(self, kind: str, name: Any, record_id: str) -> None:
        with self._lock:
            self._made[(kind, _fold(name))] = record_id

    def find(self, kind: str, name: Any, owner: Any = None) -> str | tuple[ErrorType, str]:
        with self._lock:
            made = self._made.get((kind, _fold(name)))
        if made is not None:
            return made
        found = self.snap.workflow_ids(name, owner) if kind == "workflow" else self.snap.ids_of(kind, name)
        if len(found) == 1:
            return found[0]
        noun = {"group": "user group", "dataConnection": "data connection"}.get(kind, kind)
        if not found:
            return ErrorType.NOT_FOUND, f"no {noun} {name!r} on the Server (nor made by this plan)"
        return ErrorType.AMBIGUOUS, f"{len(found)} {noun}s are {name!r} ({', '.join(found)})"


class _Apply:
    """The programs of one apply: what they share, and the calls each kind of change makes."""

    def __init__(self, conn: Connection, options: PlanOptions, snap: Snapshot, changes: Sequence[Change] = ()):
        self.conn = conn
        self.options = options
        self.snap = snap
        self.ids = _Ids(snap)
        # memberships this plan removes itself (before the users they hold: removals run members first)
        self.leaving = {(_fold(c.key.get("group")), _fold(c.key.get("user"))) for c in changes
                        if c.sheet == "GroupMembers" and c.action == "remove"}
        self.now = {spec.name: _rows(spec, frame, "the current") for spec in SHEETS
                    for frame in [workbook_of(snap)[spec.name]]}

    # ---------------------------------------------------------------- checks
    def stale(self, change: Change) -> str:
        """Why *change*'s target is no longer what the plan saw ("" when it is)."""
        spec = sheet(change.sheet)
        assert spec is not None
        key = tuple(_fold(change.key.get(k) or None) for k in spec.key)
        now = self.now[spec.name].get(key)
        if change.action == "create":
            return "it exists on the Server now" if now is not None else ""
        if now is None:
            return "it is no longer on the Server"
        moved = [name for name, value in change.before.items() if _fold(now.get(name)) != _fold(value)]
        return f"{', '.join(moved)} changed on the Server since the plan" if moved else ""

    def done(self, change: Change) -> str:
        """Why *change* needs nothing sent: the Server is already as it plans ("" when it is not).

        A change a killed run made before its answer was journaled, or one made twice, finds its work
        done: a success, not a stale plan.
        """
        spec = sheet(change.sheet)
        assert spec is not None
        now = self.now[spec.name].get(tuple(_fold(change.key.get(k) or None) for k in spec.key))
        if change.action == "remove":
            if now is None:
                return "it is gone from the Server already"
            if spec.name == "Users" and not self.options.delete_users and now.get("isActive") is False:
                return "the user is deactivated already"
            return ""
        if now is None:
            return ""
        wanted = {name: value for name, value in change.after.items() if name not in spec.context}
        if all(_fold(now.get(name)) == _fold(value) for name, value in wanted.items()):
            return "the Server has it as planned already"
        return ""

    def need(self, kind: str, name: Any, owner: Any = None) -> str:
        found = self.ids.find(kind, name, owner)
        if isinstance(found, tuple):
            raise _Unresolved(*found)
        return found

    # ---------------------------------------------------------------- the program
    def program(self, change: Change) -> Program:
        done = self.done(change)
        if done:
            return Ending(True, None, "", sent=False, note=f"reconciled: nothing sent, {done}")
        why = self.stale(change)
        if why:
            return Ending.refused(CHANGED_SINCE_PLAN, f"not sent: {why} (plan again)")
        ending = Ending(True)
        for number, make in enumerate(_MAKERS[(change.sheet, change.action)](self, change)):
            try:  # each step is made when its turn comes: a name may be what the step before created
                action, record, contract, remember = make()
            except _Unresolved as exc:
                if number == 0:
                    return Ending.refused(exc.error_type, exc.error)
                return Ending.failed(exc.error_type, f"{exc.error}, after its first step was made")
            ending = yield from self._call(action, record, contract)
            if not ending.ok:
                return ending
            if remember is not None:
                remember(ending)
        return ending

    def _call(self, action: str, record: dict[str, Any], contract: Any) -> Generator[Step, Any, Ending]:
        endpoint = catalogue.find(action)
        row = dict(record)
        if contract is not None:
            row[frames.CONTRACT] = contract
        planned = frames.plan_row(endpoint, row, columns=[], merge=True, legacy=self.conn.legacy)
        if isinstance(planned, frames.Problem):
            return Ending.refused(planned.error_type, f"{action}: {planned.error}")
        ending = yield from call_program(endpoint, planned, "", None, True)
        if not ending.ok and ending.error:
            ending.error = f"{action}: {ending.error}"
        return ending

    def remember(self, kind: str, name: Any) -> Callable[[Ending], None]:
        def keep(ending: Ending) -> None:
            value = json.loads(ending.response) if ending.response else None
            record_id = value.get("id") if isinstance(value, dict) else value
            if isinstance(record_id, str) and record_id:
                self.ids.made(kind, name, record_id)
        return keep


class _Unresolved(Exception):
    def __init__(self, error_type: ErrorType, error: str):
        super().__init__(error)
        self.error_type, self.error = error_type, error


Call_ = tuple[str, dict, Any, Callable[[Ending], None] | None]
Step_ = Callable[[], Call_]  # made when its turn comes (after the steps before it)


# ---------------------------------------------------------------- users and groups

def _user_create(run: _Apply, c: Change) -> list[Step_]:
    contract = {"email": c.key["email"], **{k: v for k, v in c.after.items() if k != "email"}}
    return [lambda: ("users.create", {}, contract, run.remember("user", c.key["email"]))]


def _user_update(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("users.update", {"userId": run.need("user", c.key["email"])},
                     dict(c.after), None)]


def _user_remove(run: _Apply, c: Change) -> list[Step_]:
    if not run.options.delete_users:
        return [lambda: ("users.deactivate", {"userId": run.need("user", c.key["email"])}, None, None)]
    user, heir = run.need("user", c.key["email"]), run.need("user", run.options.transfer_to)
    # a Server deletes no one who is still in a user group: out of each first
    groups = [g["id"] for g in run.snap.groups if user in (g.get("memberIds") or [])
              and (_fold(g.get("name")), _fold(c.key["email"])) not in run.leaving]
    leave: list[Step_] = [functools.partial(_leave, group, user) for group in groups]
    return [*leave,
            lambda: ("users.transfer_assets", {"userId": user}, {"ownerId": heir, "transferWorkflows": True,
                                                                  "transferSchedules": True,
                                                                  "transferCollections": True}, None),
            lambda: ("users.delete", {"userId": user}, None, None)]


def _leave(group: str, user: str) -> Call_:
    return "usergroups.remove_user", {"userGroupId": group, "userId": user}, None, None


def _group_create(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("usergroups.create", {}, {"name": c.key["name"], "role": c.after.get("role") or "Viewer"},
             run.remember("group", c.key["name"]))]


def _group_update(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("usergroups.update", {"userGroupId": run.need("group", c.key["name"])},
             {"name": c.key["name"], **dict(c.after)}, None)]


def _group_remove(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("usergroups.delete", {"userGroupId": run.need("group", c.key["name"]), "forceDelete": "true"},
                     None, None)]


def _member_add(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("usergroups.add_users", {"userGroupId": run.need("group", c.key["group"])},
             [run.need("user", c.key["user"])], None)]


def _member_remove(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("usergroups.remove_user", {"userGroupId": run.need("group", c.key["group"]),
                                        "userId": run.need("user", c.key["user"])}, None, None)]


# ---------------------------------------------------------------- collections

def _collection_create(run: _Apply, c: Change) -> list[Step_]:
    steps: list[Step_] = [lambda: ("collections.create", {}, {"name": c.key["name"]},
                                   run.remember("collection", c.key["name"]))]
    if c.after.get("owner"):  # then the owner: the collection's id is known once the step before has made it
        steps.append(lambda: ("collections.update", {"collectionId": run.need("collection", c.key["name"])},
                              {"name": c.key["name"], "ownerId": run.need("user", c.after["owner"])}, None))
    return steps


def _collection_update(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.update", {"collectionId": run.need("collection", c.key["name"])},
             {"name": c.key["name"], "ownerId": run.need("user", c.after["owner"])}, None)]


def _collection_remove(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.delete", {"collectionId": run.need("collection", c.key["name"]),
                                            "forceDelete": "true"}, None, None)]


def _permissions(c: Change, start: dict[str, Any] | None = None) -> dict[str, Any]:
    granted = {p: bool(v) for p, v in (start or {}).items() if p in PERMISSIONS and v is not None}
    granted.update({p: bool(c.after[p]) for p in PERMISSIONS if p in c.after})
    contract: dict[str, Any] = {"collectionsPermissions": granted}
    if c.after.get("expirationDate"):
        contract["expirationDate"] = c.after["expirationDate"]
    return contract


def _collection_user_add(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.add_user", {"collectionId": run.need("collection", c.key["collection"])},
             {"userId": run.need("user", c.key["user"]), **_permissions(c)}, None)]


def _collection_user_update(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.update_user_permissions",
                     {"collectionId": run.need("collection", c.key["collection"]),
                      "userId": run.need("user", c.key["user"])}, _permissions(c, c.before), None)]


def _collection_user_remove(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.remove_user", {"collectionId": run.need("collection", c.key["collection"]),
                                         "userId": run.need("user", c.key["user"])}, None, None)]


def _collection_group_add(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.add_group", {"collectionId": run.need("collection", c.key["collection"])},
             {"userGroupId": run.need("group", c.key["group"]), **_permissions(c)}, None)]


def _collection_group_update(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.update_group_permissions",
                     {"collectionId": run.need("collection", c.key["collection"]),
                      "userGroupId": run.need("group", c.key["group"])}, _permissions(c, c.before), None)]


def _collection_group_remove(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.remove_group", {"collectionId": run.need("collection", c.key["collection"]),
                                          "userGroupId": run.need("group", c.key["group"])}, None, None)]


def _collection_workflow_add(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.add_workflow", {"collectionId": run.need("collection", c.key["collection"])},
             {"workflowId": run.need("workflow", c.key["workflow"], c.after.get("owner"))}, None)]


def _collection_workflow_remove(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("collections.remove_workflow", {"collectionId": run.need("collection", c.key["collection"]),
                                             "workflowId": run.need("workflow", c.key["workflow"],
                                                                    c.before.get("owner"))}, None, None)]


def _workflow_update(run: _Apply, c: Change) -> list[Step_]:
    return [lambda: ("workflows.update", {"workflowId": run.need("workflow", c.key["name"], c.key["owner"])},
             dict(c.after), None)]


# ---------------------------------------------------------------- shares

def _share(kind: str, family: str, column: str) -> tuple[Callable, Callable]:
    def add(run: _Apply, c: Change) -> list[Step_]:
        def make() -> Call_:
            target = {f"{kind}Id": run.need(kind, c.key[column])}
            if c.key.get("user"):
                return f"{family}.add_user", target, {"userId": run.need("user", c.key["user"])}, None
            return f"{family}.add_group", target, {"userGroupId": run.need("group", c.key["group"])}, None
        return [make]

    def remove(run: _Apply, c: Change) -> list[Step_]:
        def make() -> Call_:
            target = {f"{kind}Id": run.need(kind, c.key[column])}
            if c.key.get("user"):
                return f"{family}.remove_user", {**target, "userId": run.need("user", c.key["user"])}, None, None
            return f"{family}.remove_group", {**target, "userGroupId": run.need("group", c.key["group"])}, None, None
        return [make]

    return add, remove


_credential_add, _credential_remove = _share("credential", "credentials", "credential")
_connection_add, _connection_remove = _share("dataConnection", "data_connections", "dataConnection")

_MAKERS: dict[tuple[str, str], Callable[[_Apply, Change], list[Step_]]] = {
    ("Users", "create"): _user_create, ("Users", "update"): _user_update, ("Users", "remove"): _user_remove,
    ("UserGroups", "create"): _group_create, ("UserGroups", "update"): _group_update,
    ("UserGroups", "remove"): _group_remove,
    ("GroupMembers", "create"): _member_add, ("GroupMembers", "remove"): _member_remove,
    ("Collections", "create"): _collection_create, ("Collections", "update"): _collection_update,
    ("Collections", "remove"): _collection_remove,
    ("CollectionUsers", "create"): _collection_user_add, ("CollectionUsers", "update"): _collection_user_update,
    ("CollectionUsers", "remove"): _collection_user_remove,
    ("CollectionGroups", "create"): _collection_group_add, ("CollectionGroups", "update"): _collection_group_update,
    ("CollectionGroups", "remove"): _collection_group_remove,
    ("CollectionWorkflows", "create"): _collection_workflow_add,
    ("CollectionWorkflows", "remove"): _collection_workflow_remove,
    ("Workflows", "update"): _workflow_update,
    ("CredentialShares", "create"): _credential_add, ("CredentialShares", "remove"): _credential_remove,
    ("DataConnectionShares", "create"): _connection_add, ("DataConnectionShares", "remove"): _connection_remove,
}


# --------------------------------------------------------------------------
# apply
# --------------------------------------------------------------------------


def _phases(plan: Plan) -> list[list[int]]:
    """The plan's positions to apply, phase by phase: creates and updates by rising order, removals falling."""
    order = {s.name: s.order for s in SHEETS}
    actions = plan.frame["Action"].tolist()
    sheets = plan.frame["Sheet"].tolist()
    phases: list[list[int]] = []
    for level in sorted(set(order.values())):
        phases.append([i for i, (a, s) in enumerate(zip(actions, sheets)) if a in ("create", "update")
                       and order.get(s) == level])
    for level in sorted(set(order.values()), reverse=True):
        phases.append([i for i, (a, s) in enumerate(zip(actions, sheets)) if a == "remove" and order.get(s) == level])
    return [p for p in phases if p]


def apply(conn: Connection, plan: Plan | pd.DataFrame, *, force: bool = False, journal: Any = None,
          max_workers: int | str | None = None, progress: bool | None = None) -> Result:
    """Make the changes of *plan* on the Server, in dependency order, each one as planned or not at all.

    Parameters
    ----------
    conn : Connection
        A Curator's connection to the Server the plan was made against.
    plan : Plan or pandas.DataFrame
        From :func:`axframe.plan`, or its frame read back from the file it was written to.
    force : bool
        Apply a plan blocked by a prune over ``max_prune``.
    journal : path, optional
        Record each change's steps; applying again with the same journal after a crash resumes it.
    max_workers, progress
        As for the other runs.

    Returns
    -------
    Result
        One row per change of the plan: ``success`` (``StatusCode``, ``Response``) and ``failure``
        (``ErrorType`` ``ChangedSincePlan`` for a change whose target changed since the plan, nothing
        sent for it).  Unchanged rows, and rows that cannot or must not be made, are not sent and
        not in either frame.

    Raises
    ------
    ConfigurationError
        A blocked plan without *force*; a frame that is not a plan.
    """
    started = time.perf_counter()
    if not isinstance(plan, Plan):
        plan = Plan.read(plan)
    if plan.blocked and not force:
        raise ConfigurationError("the plan is blocked: " + "; ".join(plan.blocked))
    changes = plan.changes()
    pending = [i for i, c in enumerate(changes) if c.action in ("create", "update", "remove")]
    kinds = kinds_of({changes[i].sheet for i in pending})
    if plan.options.delete_users and any(changes[i].sheet == "Users" and changes[i].action == "remove"
                                         for i in pending):
        kinds.add("groups")  # the groups a deleted user leaves first
    snap = read_server(conn, max_workers=max_workers, progress=progress, kinds=kinds)
    run = _Apply(conn, plan.options, snap, changes)
    options = RunOptions(max_workers, progress, journal)
    parts: list[Result] = []
    for phase in _phases(plan):
        df = plan.frame.iloc[phase][["RecordID", "Sheet", "Key", "Action", "Changes"]].reset_index(drop=True)
        rows = [Row(pos, str(plan.frame.iloc[i]["RecordID"]), functools.partial(run.program, changes[i]),
                    digest(plan.frame.iloc[i][["Sheet", "KeyJSON", "Action", "Before", "After"]].tolist()))
                for pos, i in enumerate(phase)]
        result, _ = run_rows(conn, df, rows, {}, spec=APPLY, summary=Summary("apply"), options=options,
                             action="apply", started=time.perf_counter())
        parts.append(result)
    return _joined(parts, started)


def _joined(parts: list[Result], started: float) -> Result:
    summary = Summary("apply")
    for part in parts:
        for name in ("rows", "succeeded", "failed", "not_sent", "from_journal", "calls", "retries",
                     "tokens_requested", "reconciled"):
            setattr(summary, name, getattr(summary, name) + getattr(part.summary, name))
        for kind, count in part.summary.error_types.items():
            summary.error_types[kind] = summary.error_types.get(kind, 0) + count
    summary.elapsed = time.perf_counter() - started
    if not parts:
        empty = pd.DataFrame({"RecordID": pd.Series([], dtype="int64")})
        return Result(empty, empty.copy(), summary)
    success = pd.concat([p.success for p in parts], ignore_index=True)
    failure = pd.concat([p.failure for p in parts], ignore_index=True)
    return Result(success, failure, summary)
