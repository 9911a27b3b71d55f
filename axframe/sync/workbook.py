"""Workbooks of the format in :mod:`.sheets`: made from a snapshot, read from and written to files.

A workbook is a ``dict`` of sheet name to dataframe.  On disk it is an Excel
workbook (``.xlsx``: one sheet each), or a folder of CSV or Parquet files (one
file each, named after its sheet).  Cells are plain text and booleans; the
sheets name each other (a user by email, a group by name...), never by id.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from ..errors import ConfigurationError, InputFileError
from ..io import read_frame, sheet_names, write_frame, write_sheets
from .sheets import PERMISSIONS, SHEETS, USER_FLAGS, Sheet, sheet
from .snapshot import Snapshot

__all__ = ["Workbook", "workbook_of", "read_workbook", "write_workbook", "FORMATS"]

Workbook = dict
FORMATS = ("xlsx", "csv", "parquet")


def _frame(spec: Sheet, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    records = [{c.name: row.get(c.name) for c in spec.columns} for row in rows]
    frame = pd.DataFrame(records, columns=[c.name for c in spec.columns])
    for column in spec.columns:
        if column.kind == "text":
            frame[column.name] = pd.Series(["" if v is None else str(v) for v in frame[column.name]],
                                           index=frame.index, dtype=object)
        else:
            frame[column.name] = pd.Series([v if isinstance(v, bool) else None for v in frame[column.name]],
                                           index=frame.index, dtype=object)
    if len(frame):
        frame = frame.sort_values([k for k in spec.key], key=lambda s: s.astype(str).str.lower(), kind="stable")
    return frame.reset_index(drop=True)


def workbook_of(snap: Snapshot) -> Workbook:
    """The snapshot as a workbook: every sheet of the format, rows sorted by their key."""
    email = lambda user_id: snap.name_of("user", user_id)  # noqa: E731
    group = lambda group_id: snap.name_of("group", group_id)  # noqa: E731
    rows: dict[str, list[dict]] = {s.name: [] for s in SHEETS}
    rows["Users"] = [dict(u, isActive=u.get("isActive")) for u in snap.users]
    for g in snap.groups:
        rows["UserGroups"].append(g)
        rows["GroupMembers"] += [{"group": g.get("name"), "user": email(m)} for m in g.get("memberIds") or []]
    for c in snap.collections:
        rows["Collections"].append({"name": c.get("name"), "owner": email(c.get("ownerId"))})
        for user_id, granted in (c.get("userPermissions") or {}).items():
            rows["CollectionUsers"].append({"collection": c.get("name"), "user": email(user_id), **_granted(granted)})
        for group_id, granted in (c.get("groupPermissions") or {}).items():
            rows["CollectionGroups"].append({"collection": c.get("name"), "group": group(group_id),
                                             **_granted(granted)})
        for workflow_id in c.get("workflowIds") or []:
            workflow = snap.record("workflow", workflow_id)
            rows["CollectionWorkflows"].append({"collection": c.get("name"), "workflow": workflow.get("name"),
                                                "owner": email(workflow.get("ownerId"))})
    rows["Workflows"] = [dict(w, owner=email(w.get("ownerId"))) for w in snap.workflows]
    rows["Schedules"] = [dict(s, workflow=snap.name_of("workflow", s.get("workflowId")), owner=email(s.get("ownerId")))
                         for s in snap.schedules]
    for credential in snap.credentials:
        rows["Credentials"].append({"credential": credential.get("userName")})
        rows["CredentialShares"] += _shares("credential", credential.get("userName"), credential, email, group)
    for connection in snap.connections:
        rows["DataConnections"].append(connection)
        rows["DataConnectionShares"] += _shares("dataConnection", connection.get("name"), connection, email, group)
    return {s.name: _frame(s, rows[s.name]) for s in SHEETS}


def _granted(permissions: Mapping[str, Any]) -> dict[str, Any]:
    out = {name: permissions.get(name) for name in PERMISSIONS}
    out["expirationDate"] = permissions.get("expirationDate") or ""
    return out


def _shares(column: str, name: Any, record: Mapping[str, Any], email: Any, group: Any) -> list[dict]:
    return [{column: name, "user": email(u), "group": ""} for u in record.get("userIds") or []] + \
        [{column: name, "user": "", "group": group(g)} for g in record.get("userGroupIds") or []]


# --------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigurationError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        return fmt
    if path.suffix.lower() == ".xlsx":
        return "xlsx"
    if path.is_dir():
        files = {p.suffix.lower() for p in path.iterdir()}
        return "parquet" if ".parquet" in files and ".csv" not in files else "csv"
    raise ConfigurationError(f"{path}: a workbook is a .xlsx file, or a folder of .csv or .parquet files "
                             "(give format='csv' or 'parquet' for a new folder)")


def write_workbook(book: Mapping[str, pd.DataFrame], path: str | os.PathLike, fmt: str | None = None) -> list[Path]:
    """Write *book* as ``.xlsx`` (one sheet each) or as a folder of CSV or Parquet files; the paths written."""
    target = Path(path).expanduser()
    kind = fmt or ("xlsx" if target.suffix.lower() == ".xlsx" else None)
    if kind is None:
        raise ConfigurationError(f"{target}: give a .xlsx file, or a folder with format='csv' or 'parquet'")
    kind = _format_of(target, kind)
    if kind == "xlsx":
        return [write_sheets(dict(book), target)]
    target.mkdir(parents=True, exist_ok=True)
    return [write_frame(frame, target / f"{name}.{kind}") for name, frame in book.items()]


def read_workbook(path: str | os.PathLike, fmt: str | None = None) -> Workbook:
    """A workbook from ``.xlsx`` or a folder of CSV or Parquet files: its sheets of the format, as text.

    Sheets the format does not know are left out, with their names in the ``ignored`` attribute's list.
    """
    source = Path(path).expanduser()
    if not source.exists():
        raise InputFileError(f"no such workbook: {source}")
    kind = _format_of(source, fmt)
    book: Workbook = {}
    if kind == "xlsx":
        for name in sheet_names(source):
            spec = sheet(name)
            if spec is not None:
                book[spec.name] = read_frame(source, sheet=name)
    else:
        for file in sorted(source.glob(f"*.{kind}")):
            spec = sheet(file.stem)
            if spec is not None:
                book[spec.name] = read_frame(file)
    if not book:
        known = ", ".join(s.name for s in SHEETS)
        raise InputFileError(f"{source} holds none of the workbook's sheets ({known}); an export writes one to "
                             "start from (axframe export FILE, or ax.export(conn, FILE))")
    return book


def user_fields() -> tuple[str, ...]:
    """The Users sheet's columns that a user update may carry."""
    return ("firstName", "lastName", "role", "isActive", "defaultWorkerTag", *USER_FLAGS, "timeZone")
