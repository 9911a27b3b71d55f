"""A desired-state workbook compared with a Server (or with another workbook): the plan, as data.

:func:`compare` is the whole comparison, offline: for every sheet the desired
workbook gives, each of its rows is a create, an update (naming each changed
field's before and after) or unchanged; with ``prune``, what the Server has
and the sheet does not is a removal -- within that sheet only, and for a
relation sheet (members, shares) only within the parents it names.  Only the
columns a sheet gives are compared, and an empty cell leaves its field as it
is.  Safe by default:

- a user who leaves is deactivated, not deleted, unless ``delete_users`` (and
  then only with ``transfer_to``, who receives their workflows, schedules and
  collections first);
- your own account (``me``) is never changed; without ``me``, no Curator is
  removed, deactivated or demoted;
- a prune that would remove more than ``max_prune`` of the records of a sheet
  (a quarter) blocks the plan until ``force``.

:func:`plan` reads the Server once (:func:`~.snapshot.read_server`) and
compares; the :class:`Plan` it returns is a frame of changes that prints as a
diff, renders as a table in Jupyter, and is written to a file that
:func:`~.apply.apply` takes.  Each change carries the state it was planned
against, so that applying refuses a change whose target has changed since.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import pandas as pd

from ..client.connection import Connection
from ..errors import ConfigurationError
from .sheets import SHEETS, Sheet, sheet
from .snapshot import read_server
from .workbook import Workbook, workbook_of

__all__ = ["Change", "Plan", "PlanOptions", "compare", "plan", "PLAN_COLUMNS"]

PLAN_COLUMNS = ("Sheet", "Key", "Action", "Changes", "Note", "KeyJSON", "Before", "After", "Plan")
_SYMBOL = {"create": "+", "update": "~", "remove": "-", "unchanged": " ", "missing": "!", "skipped": "!"}
_KINDS_READ = {"Users": "users", "UserGroups": "groups", "GroupMembers": "groups", "Collections": "collections",
               "CollectionUsers": "collections", "CollectionGroups": "collections",
               "CollectionWorkflows": "collections", "Workflows": "workflows", "Schedules": "schedules",
               "Credentials": "credentials", "CredentialShares": "credentials", "DataConnections": "connections",
               "DataConnectionShares": "connections"}


@dataclass(frozen=True)
class PlanOptions:
    """How a plan treats what the desired workbook leaves out, and what it must never do (see :func:`plan`)."""

    prune: bool = False
    delete_users: bool = False
    transfer_to: str | None = None
    me: str | None = None
    max_prune: float = 0.25
    force: bool = False


@dataclass
class Change:
    """One planned change: the sheet, the key, the action, and the fields with their before and after."""

    sheet: str
    key: dict[str, str]
    action: str  # create, update, remove, unchanged; missing (cannot be made), skipped (never made)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)  # the row as planned against ({} for a create)
    after: dict[str, Any] = field(default_factory=dict)  # the row as desired (its given cells)
    note: str = ""

    def key_text(self) -> str:
        return " / ".join(str(v) for v in self.key.values() if v not in (None, ""))


# --------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "t", "x"}
_FALSE = {"false", "no", "n", "0", "f"}


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _cell(value: Any, kind: str) -> Any:
    """A cell as compared: text stripped, booleans as booleans (``None`` for an empty cell)."""
    if _missing(value):
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigurationError(f"{value!r} is not true or false")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _rows(spec: Sheet, frame: pd.DataFrame, where: str) -> dict[tuple, dict[str, Any]]:
    """The rows of a sheet by key (keys folded), their cells as compared; only the columns the frame has."""
    missing = [k for k in spec.key if k not in frame.columns and k not in spec.either]
    if missing:
        raise ConfigurationError(f"{where} sheet {spec.name} has no {', '.join(missing)} column: its rows are "
                                 f"known by {', '.join(spec.key)}")
    columns = [c for c in spec.columns if c.name in frame.columns]
    out: dict[tuple, dict[str, Any]] = {}
    for number, record in enumerate(frame.to_dict("records"), start=2):
        try:
            row = {c.name: _cell(record.get(c.name), c.kind) for c in columns}
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where} sheet {spec.name}, row {number}: {exc}") from None
        key = tuple(_fold(row.get(k)) for k in spec.key)
        if all(v is None for v in key):
            continue  # an empty line
        _check_key(spec, row, key, out, f"{where} sheet {spec.name}, row {number}")
        out[key] = row
    return out


def _check_key(spec: Sheet, row: dict[str, Any], key: tuple, seen: dict[tuple, Any], where: str) -> None:
    """A row's key is whole (one of the *either* columns, when the sheet has some) and not seen before."""
    incomplete = any(row.get(k) is None for k in spec.key if k not in spec.either)
    if incomplete or (spec.either and sum(row.get(k) is not None for k in spec.either) != 1):
        either = f"; give one of {' or '.join(spec.either)}" if spec.either else ""
        raise ConfigurationError(f"{where}: the key ({', '.join(spec.key)}) is incomplete{either}")
    if key in seen:
        raise ConfigurationError(f"{where}: {' / '.join(str(v) for v in key if v)} appears twice")


# --------------------------------------------------------------------------
# comparing
# --------------------------------------------------------------------------


def compare(current: Workbook, desired: Workbook, options: PlanOptions = PlanOptions()) -> list[Change]:
    """The changes that make *current* look like *desired* (only the sheets and columns *desired* gives)."""
    changes: list[Change] = []
    for spec in SHEETS:
        frame = desired.get(spec.name)
        if frame is None:
            continue
        have = _rows(spec, current.get(spec.name, pd.DataFrame(columns=[c.name for c in spec.columns])), "the current")
        want = _rows(spec, frame, "the desired")
        given = [name for name in spec.values if name in frame.columns]
        for key, row in want.items():
            changes.append(_one(spec, key, row, have.get(key), given))
        if options.prune:
            changes += _removals(spec, have, want)
    _guard(changes, current, options)
    return changes


def _shown_key(spec: Sheet, row: Mapping[str, Any]) -> dict[str, str]:
    return {k: "" if row.get(k) is None else str(row.get(k)) for k in spec.key}


def _one(spec: Sheet, key: tuple, row: dict[str, Any], now: dict[str, Any] | None, given: list[str]) -> Change:
    after = {name: row.get(name) for name in given if row.get(name) is not None}
    after.update({name: row[name] for name in spec.context if row.get(name) is not None})
    if now is None:
        action = "create" if spec.managed and spec.name != "Workflows" else "missing"
        note = "" if action == "create" else ("publish it first (ax.deploy, or workflows.upload)"
                                              if spec.name == "Workflows" else "this sheet is read only")
        return Change(spec.name, _shown_key(spec, row), action, {n: (None, v) for n, v in after.items()}, {}, after,
                      note)
    before = {name: now.get(name) for name in given}
    changed = {name: (now.get(name), value) for name, value in after.items()
               if name not in spec.context and _fold(now.get(name)) != _fold(value)}
    if not changed:
        return Change(spec.name, _shown_key(spec, now), "unchanged", {}, before, after)
    action = "update" if spec.managed else "skipped"
    return Change(spec.name, _shown_key(spec, now), action, changed, before, after,
                  "" if spec.managed else "this sheet is read only")


def _removals(spec: Sheet, have: dict[tuple, dict], want: dict[tuple, dict]) -> list[Change]:
    if not spec.managed or spec.name == "Workflows":
        return []
    parents = None
    if spec.relation:
        index = spec.key.index(spec.parent)  # type: ignore[arg-type]
        parents = {key[index] for key in want}
    out = []
    for key, now in have.items():
        if key in want or (parents is not None and key[spec.key.index(spec.parent)] not in parents):  # type: ignore
            continue
        out.append(Change(spec.name, _shown_key(spec, now), "remove", {}, dict(now), {}))
    return out


def _guard(changes: list[Change], current: Workbook, options: PlanOptions) -> None:
    """The rules no plan breaks: leavers deactivated, your own account untouched, Curators kept without ``me``."""
    me = _fold(options.me) if options.me else None
    roles = {_fold(u.get("email")): str(u.get("role") or "") for u in
             current.get("Users", pd.DataFrame()).to_dict("records")}
    for change in changes:
        if change.action not in ("create", "update", "remove"):
            continue
        user = _fold(change.key.get("email") if change.sheet == "Users" else change.key.get("user"))
        if me is not None and user == me and (change.sheet == "Users" or change.action == "remove"):
            change.action, change.note = "skipped", "your own account is never changed by a plan"
        elif change.sheet == "Users":
            _guard_user(change, roles.get(user) == "Curator", me is not None, options)


def _guard_user(change: Change, curator: bool, knows_me: bool, options: PlanOptions) -> None:
    """A change to a user: a Curator kept unless ``me`` is given; a leaver deactivated, or deleted with a transfer."""
    demoted = "role" in change.fields and change.fields["role"][0] == "Curator"
    deactivated = change.action == "remove" or change.fields.get("isActive", (None, True))[1] is False
    if not knows_me and curator and (demoted or deactivated):
        change.action, change.note = "skipped", "a Curator is removed, deactivated or demoted only when me= says " \
                                                "who you are"
    elif change.action == "remove" and not options.delete_users:
        change.note = "deactivated, not deleted (delete_users=True deletes)"
    elif change.action == "remove" and not options.transfer_to:
        change.action, change.note = "skipped", "deleting a user needs transfer_to= (who receives their assets)"
    elif change.action == "remove":
        change.note = f"deleted, after their assets go to {options.transfer_to}"


# --------------------------------------------------------------------------
# the plan
# --------------------------------------------------------------------------


class Plan:
    """A plan: one row per change (``frame``), printed as a diff, and applied by :func:`~.apply.apply`.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``RecordID``, ``Sheet``, ``Key``, ``Action`` (create, update, remove, unchanged; missing or
        skipped when it cannot or must not be made), ``Changes`` (``field: before -> after``...),
        ``Note``, and for :func:`apply` the key, the state planned against and the desired row as
        JSON text (``KeyJSON``, ``Before``, ``After``), and on every row the plan's options and
        what blocks it (``Plan``, JSON), so that a plan read back from its file is applied as made.
    blocked : list of str
        Why the plan may not be applied without ``force`` (a prune over ``max_prune``).
    options : PlanOptions
    """

    def __init__(self, frame: pd.DataFrame, blocked: list[str] | None = None,
                 options: PlanOptions = PlanOptions(), reads: int = 0):
        self.frame = frame
        self.blocked = blocked or []
        self.options = options
        self.reads = reads

    @classmethod
    def of(cls, changes: list[Change], current: Workbook, options: PlanOptions, reads: int = 0) -> "Plan":
        blocked = _blocked(changes, current, options)
        about = _about(options, blocked)  # on every row: a plan filtered in a spreadsheet still carries it
        rows = [{"RecordID": i, "Sheet": c.sheet, "Key": c.key_text(), "Action": c.action,
                 "Changes": "; ".join(f"{f}: {_shown(b)} -> {_shown(a)}" for f, (b, a) in c.fields.items()),
                 "Note": c.note, "KeyJSON": json.dumps(c.key, ensure_ascii=False),
                 "Before": json.dumps(c.before, ensure_ascii=False, default=str),
                 "After": json.dumps(c.after, ensure_ascii=False, default=str), "Plan": about}
                for i, c in enumerate(changes, start=1)]
        frame = pd.DataFrame(rows, columns=["RecordID", *PLAN_COLUMNS])
        frame["RecordID"] = frame["RecordID"].astype("int64")
        for column in PLAN_COLUMNS:
            frame[column] = frame[column].astype(object)
        return cls(frame, blocked, options, reads)

    @classmethod
    def read(cls, frame: pd.DataFrame, options: PlanOptions = PlanOptions()) -> "Plan":
        """A plan read back from a file (the frame :func:`plan` wrote)."""
        missing = [c for c in ("Sheet", "Action", "KeyJSON", "Before", "After") if c not in frame.columns]
        if missing:
            raise ConfigurationError(f"this is not a plan: it has no {', '.join(missing)} column (write one with "
                                     "axframe plan)")
        frame = frame.reset_index(drop=True)
        if "Plan" not in frame.columns:  # a plan written before plans carried their options
            return cls(frame, [], options)
        abouts = {str(v) for v in frame["Plan"] if isinstance(v, str) and v.strip()}
        if len(abouts) > 1:
            raise ConfigurationError("these rows come from more than one plan (their Plan columns differ); "
                                     "apply each plan on its own")
        if not abouts:
            return cls(frame, [], options)
        read, blocked = _read_about(abouts.pop())
        return cls(frame, blocked, read, 0)

    def changes(self) -> list[Change]:
        """The plan's rows as changes."""
        out = []
        for row in self.frame.to_dict("records"):
            out.append(Change(str(row["Sheet"]), json.loads(row["KeyJSON"]), str(row["Action"]), {},
                              json.loads(row["Before"] or "{}"), json.loads(row["After"] or "{}"),
                              str(row.get("Note") or "")))
        return out

    @property
    def counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.frame["Action"].value_counts().items()} if len(self.frame) else {}

    @property
    def pending(self) -> int:
        """Changes that applying would make."""
        return int(self.frame["Action"].isin(["create", "update", "remove"]).sum()) if len(self.frame) else 0

    def diff(self, unchanged: bool = False) -> str:
        """The plan as a diff: ``+`` create, ``~`` update, ``-`` remove, ``!`` cannot or must not be made."""
        lines = []
        for row in self.frame.to_dict("records"):
            if row["Action"] == "unchanged" and not unchanged:
                continue
            text = f"{_SYMBOL.get(row['Action'], '?')} {row['Sheet']} {row['Key']}"
            if row["Changes"] and row["Action"] != "create":
                text += f"  ({row['Changes']})"
            if row["Note"]:
                text += f"  [{row['Note']}]"
            lines.append(text)
        counts = self.counts
        lines.append("plan: " + ", ".join(f"{counts.get(a, 0)} to {a}" for a in ("create", "update", "remove"))
                     + f", {counts.get('unchanged', 0)} unchanged"
                     + (f", {counts.get('missing', 0) + counts.get('skipped', 0)} not to be made"
                        if counts.get("missing") or counts.get("skipped") else ""))
        lines += [f"blocked: {b}" for b in self.blocked]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.diff()

    def __repr__(self) -> str:
        counts = self.counts
        return (f"<axframe.Plan {counts.get('create', 0)} to create, {counts.get('update', 0)} to update, "
                f"{counts.get('remove', 0)} to remove{', blocked' if self.blocked else ''}>")

    def _repr_html_(self) -> str:
        shown = self.frame[self.frame["Action"] != "unchanged"][["Sheet", "Key", "Action", "Changes", "Note"]]
        blocked = "".join(f"<p><b>blocked:</b> {b}</p>" for b in self.blocked)
        return f"<p><b>{self.diff().splitlines()[-1 - len(self.blocked)]}</b></p>{blocked}" + \
            (shown.to_html(index=False) if len(shown) else "<p>nothing to change</p>")


def _about(options: PlanOptions, blocked: list[str]) -> str:
    """The plan's options and what blocks it, as the JSON text its file carries."""
    return json.dumps({"prune": options.prune, "delete_users": options.delete_users,
                       "transfer_to": options.transfer_to, "me": options.me, "max_prune": options.max_prune,
                       "blocked": blocked}, ensure_ascii=False)


def _read_about(text: str) -> tuple[PlanOptions, list[str]]:
    try:
        about = json.loads(text)
        options = PlanOptions(bool(about["prune"]), bool(about["delete_users"]), about["transfer_to"], about["me"],
                              float(about["max_prune"]))
        blocked = [str(b) for b in about["blocked"]]
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError("the plan's Plan column is not what axframe plan wrote; make the plan again") \
            from None
    return options, blocked


def _shown(value: Any) -> str:
    return "(none)" if value in (None, "") else str(value)


def _blocked(changes: list[Change], current: Workbook, options: PlanOptions) -> list[str]:
    if options.force:
        return []
    out = []
    for spec in SHEETS:
        removed = sum(1 for c in changes if c.sheet == spec.name and c.action == "remove")
        total = len(current.get(spec.name, ()))
        if removed and total and removed / total > options.max_prune:
            out.append(f"{spec.name}: {removed} of {total} ({removed / total:.0%}) would be removed, more than "
                       f"max_prune ({options.max_prune:.0%}); check the plan, then apply with force=True (--force)")
    return out


def desired_sheets(desired: Mapping[str, pd.DataFrame]) -> Workbook:
    """The sheets of *desired* the format knows, by their proper names (raises for none at all)."""
    book: Workbook = {}
    for name, frame in desired.items():
        spec = sheet(name)
        if spec is None:
            raise ConfigurationError(f"there is no sheet {name!r} in the workbook format; its sheets are "
                                     + ", ".join(s.name for s in SHEETS))
        book[spec.name] = frame
    if not book:
        raise ConfigurationError("the desired workbook has no sheets")
    return book


def plan(conn: Connection, desired: Mapping[str, pd.DataFrame], *, prune: bool = False, delete_users: bool = False,
         transfer_to: str | None = None, me: str | None = None, max_prune: float = 0.25, force: bool = False,
         max_workers: int | str | None = None, progress: bool | None = None) -> Plan:
    """What it takes to make the Server look like *desired*: a :class:`Plan`.

    Parameters
    ----------
    conn : Connection
        A Curator's connection.
    desired : dict of str to pandas.DataFrame
        A workbook of the format :func:`axframe.export` writes, or any subset of its sheets and
        columns (``{"Users": frame_of_email_and_role}`` changes roles and nothing else).
    prune : bool
        Remove what the Server has and a given sheet does not (within that sheet; for a relation
        sheet, within the parents it names).  Off by default: nothing is removed unless asked.
    delete_users : bool
        With *prune*, delete users who are not in the Users sheet (default: deactivate them).
    transfer_to : str, optional
        Who receives a deleted user's workflows, schedules and collections (an email); needed to
        delete users.
    me : str, optional
        Your own email: your account is never changed.  Without it, no Curator is removed,
        deactivated or demoted.
    max_prune : float
        The share of a sheet's records a prune may remove before the plan is blocked (0.25).
    force : bool
        Apply a plan over *max_prune* all the same.
    max_workers, progress
        For reading the Server.

    Returns
    -------
    Plan
        ``plan.frame`` (one row per change), ``print(plan)`` (a diff), ``plan.blocked``.

    Raises
    ------
    ConfigurationError
        A sheet without its key columns, a row with an incomplete or repeated key, a cell that is
        not what its column holds.
    """
    book = desired_sheets(desired)
    options = PlanOptions(prune, delete_users, transfer_to, me, max_prune, force)
    kinds = {_KINDS_READ[name] for name in book} | {"users"}
    snap = read_server(conn, max_workers=max_workers, progress=progress, kinds=kinds)
    current = workbook_of(snap)
    return Plan.of(compare(current, book, options), current, options, reads=snap.calls)


def plan_against(current: Workbook, desired: Mapping[str, pd.DataFrame], options: PlanOptions) -> Plan:
    """A plan of *desired* against a workbook (offline: :func:`axframe.diff`)."""
    return Plan.of(compare(current, desired_sheets(desired), options), current, options)


def kinds_of(sheets: Iterable[str]) -> set[str]:
    """The kinds of records the Server is read for, for these sheets."""
    return {_KINDS_READ[s] for s in sheets if s in _KINDS_READ} | {"users"}
