"""The five macros of the Server's v3 API macro pack, as dataframe functions.

:func:`authenticate` (in :mod:`axframe.client`), :func:`get`, :func:`create`,
:func:`post` and :func:`delete`, plus :func:`actions`, the catalogue as a
dataframe.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from . import bulk, catalogue, schemas
from .client import Connection

__all__ = ["get", "create", "post", "delete", "actions", "run_action"]

_SHARED_DOC = """
    Parameters
    ----------
    conn : Connection
        From :func:`axframe.authenticate`.
    action : str
        The endpoint: a short name (``"{example}"``), the Swagger operationId,
        or ``"METHOD /path"`` as in the Swagger.  ``ax.actions()`` lists them.
    frame : pandas.DataFrame, optional
        One row per call, with a unique ``RecordID``; path and query
        parameters in columns named as in the Swagger; the body in a
        ``contract`` column (JSON) or in columns named after its fields.
        Omit it for a call that needs no parameters.
    contract_columns : list of str or "auto", optional
        Build the body from these columns (dotted names nest), typed by the
        endpoint's schema.  By default the ``contract`` column is used when
        there is one, else every column named after a body field.
    dry_run : bool
        Send nothing; the success frame shows each row's method, URL and body.
    max_workers : int or "auto", optional
        Calls in flight at once (default: the connection's, 8).  ``"auto"``
        finds the Server's pace by itself.
    progress : bool, optional
        Show a progress bar (default: at a terminal or in a notebook only).
    journal : path, optional
        Record each finished row; running again with the same journal sends
        only the rows that have no result yet.
{extra}
    Returns
    -------
    Result
        Unpacks into ``(success, failure)``.  ``success`` holds ``RecordID``,
        the input columns, ``StatusCode`` and ``Response`` (the JSON answer as
        text); ``failure`` holds ``RecordID``, the input columns unchanged,
        ``StatusCode`` (empty when there was no answer), ``ErrorType``,
        ``Error`` and ``Response``.  ``result.summary`` has counts and timing;
        ``result.expand()`` turns JSON answers into rows.

    Raises
    ------
    UnknownActionError, WrongMacroError, FrameError, ConfigurationError
        Before anything is sent.  Problems of single rows never raise: they
        become failure rows.
"""


def run_action(conn: Connection, action: Any, frame: Any = None, *, macro: str | None, **options: Any) -> bulk.Result:
    return bulk.run(conn, action, frame, macro=macro, **options)


def get(conn: Connection, action: Any, frame: pd.DataFrame | None = None, *, contract_columns: Any = None,
        dry_run: bool = False, max_workers: int | str | None = None, progress: bool | None = None,
        journal: str | os.PathLike | None = None, download_dir: str | os.PathLike | None = None) -> bulk.Result:
    return run_action(conn, action, frame, macro="get", contract_columns=contract_columns, dry_run=dry_run,
                      max_workers=max_workers, progress=progress, journal=journal, download_dir=download_dir)


def create(conn: Connection, action: Any, frame: pd.DataFrame | None = None, *, contract_columns: Any = None,
           file_column: str = "file", dry_run: bool = False, max_workers: int | str | None = None,
           progress: bool | None = None, journal: str | os.PathLike | None = None,
           reconcile: bool = True) -> bulk.Result:
    return run_action(conn, action, frame, macro="create", contract_columns=contract_columns, file_column=file_column,
                      dry_run=dry_run, max_workers=max_workers, progress=progress, journal=journal,
                      reconcile=reconcile)


def post(conn: Connection, action: Any, frame: pd.DataFrame | None = None, *, contract_columns: Any = None,
         file_column: str = "file", merge: bool = True, dry_run: bool = False, max_workers: int | str | None = None,
         progress: bool | None = None, journal: str | os.PathLike | None = None) -> bulk.Result:
    return run_action(conn, action, frame, macro="post", contract_columns=contract_columns, file_column=file_column,
                      merge=merge, dry_run=dry_run, max_workers=max_workers, progress=progress, journal=journal)


def delete(conn: Connection, action: Any, frame: pd.DataFrame | None = None, *, dry_run: bool = False,
           max_workers: int | str | None = None, progress: bool | None = None,
           journal: str | os.PathLike | None = None) -> bulk.Result:
    return run_action(conn, action, frame, macro="delete", dry_run=dry_run, max_workers=max_workers,
                      progress=progress, journal=journal)


get.__doc__ = """Call a GET endpoint once per row (the GET macro).
""" + _SHARED_DOC.format(example="collections.get", extra="""    download_dir : path, optional
        Where package and output downloads are saved (default
        ``./axframe-downloads``); the success frame gets ``File`` and ``Bytes``.
""") + """
    Examples
    --------
    >>> workflows = ax.get(conn, "workflows.list").expand()            # doctest: +SKIP
    >>> ok, failed = ax.get(conn, "users.get", frame[["RecordID", "userId"]])  # doctest: +SKIP
"""

create.__doc__ = """Call a POST endpoint that creates a record, once per row (the CREATE macro).

    A create is never sent twice blindly.  When its outcome is unknown (the
    connection broke after it was sent), creates with a natural key (a user's
    email, a group's or subscription's name, a workflow's sourceAppId) are
    reconciled: axframe looks the record up, and sends again only if it is
    not there.  Other rows fail with ``ErrorType`` ``OutcomeUnknown``.
""" + _SHARED_DOC.format(example="users.create", extra="""    file_column : str
        For uploads: the column holding each row's local file path (default ``file``).
    reconcile : bool
        Look records up by their natural key after an unknown outcome (default True).
""") + """
    Examples
    --------
    >>> frame = ax.add_record_id(pd.DataFrame({"name": ["Finance", "Ops"]}))  # doctest: +SKIP
    >>> ok, failed = ax.create(conn, "collections.create", frame)           # doctest: +SKIP
"""

post.__doc__ = """Call an updating endpoint (PUT, PATCH, or a POST that changes a record) once per row (the POST macro).

    For PUT endpoints that replace the whole record (workflows, users,
    schedules, collections, user groups, subscriptions), a row may hold only
    the fields it changes: axframe reads the current record, merges, and
    sends the full contract.  ``merge=False`` sends the row's contract as it is.
""" + _SHARED_DOC.format(example="collections.add_user", extra="""    merge : bool
        Merge partial updates into the current record (default True).
    file_column : str
        For uploads (new workflow versions): the column holding the file path.
""")

delete.__doc__ = """Call a DELETE endpoint once per row (the DELETE macro).
""" + _SHARED_DOC.format(example="collections.remove_user", extra="")


def actions(filter: str | None = None, *, macro: str | None = None) -> pd.DataFrame:
    """Every endpoint axframe can call, as a dataframe.

    Parameters
    ----------
    filter : str, optional
        Keep rows whose name, operationId, path or description contains this
        text (case-insensitive).
    macro : {"get", "create", "post", "delete"}, optional
        Keep one macro's endpoints.

    Returns
    -------
    pandas.DataFrame
        Columns ``function`` (the macro to call), ``name``, ``operationId``,
        ``method``, ``path``, ``path_params``, ``query_params``, ``body``,
        ``curator_only``, ``family`` and ``description``.
    """
    rows = []
    for ep in catalogue.endpoints(macro):
        if ep.multipart:
            body = "multipart: " + ", ".join(p.name + ("*" if p.required else "") for p in ep.form)
        elif ep.body_schema is not None:
            ref = ep.body_schema.get("$ref") or schemas.resolve(ep.body_schema).get("type", "")
            required = schemas.resolve(ep.body_schema).get("required", [])
            body = f"{ep.body_name}: {ref}" + (f" (needs {', '.join(required)})" if required else "")
        else:
            body = ""
        rows.append({
            "function": f"ax.{ep.macro}",
            "name": ep.name,
            "operationId": ep.operation_id or "",
            "method": ep.method,
            "path": ep.path,
            "path_params": ", ".join(p.name for p in ep.path_params),
            "query_params": ", ".join(p.name + ("*" if p.required else "") for p in ep.query_params),
            "body": body,
            "curator_only": ep.curator_only,
            "family": ep.family,
            "description": ep.doc,
        })
    frame = pd.DataFrame(rows)
    if filter:
        needle = filter.lower()
        mask = frame[["name", "operationId", "path", "description"]].apply(
            lambda col: col.str.lower().str.contains(needle, regex=False)).any(axis=1)
        frame = frame[mask].reset_index(drop=True)
    return frame

