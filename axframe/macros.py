"""The five macros of the Server's v3 API macro pack, as dataframe functions.

:func:`authenticate` (in :mod:`axframe.client`), :func:`get`, :func:`create`,
:func:`post` and :func:`delete`, plus :func:`actions`, the catalogue as a
dataframe.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, Callable, Generator, Iterable
from urllib.parse import unquote, urlencode

import numpy as np
import pandas as pd

from . import catalogue, frames, schemas
from .client.call import Call, Outcome
from .client.connection import Connection
from .client.secrets import masked_text, scrub
from .engine.journal import fingerprint
from .engine.reconcile import GRACE, can_reconcile, look_up_call
from .engine.reconcile import reconcile as reconciling
from .engine.rows import IN_FLIGHT, Program, Row, Send, Step, Wait
from .engine.run import RunOptions, run_rows
from .engine.shape import DOWNLOAD, MACRO, Ending, Result, Shape, Summary, shape_split
from .errors import ErrorType
from .merge import merged_contract
from .names import Names, resolve

__all__ = ["get", "create", "post", "delete", "actions", "run_action", "call_program", "DEFAULT_DOWNLOAD_DIR"]

DEFAULT_DOWNLOAD_DIR = "axframe-downloads"

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
    on_row : callable, optional
        Called as ``on_row(pos, ending)`` each time a row that was sent ends.
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


def run_action(conn: Connection, action: "str | catalogue.Endpoint", frame: Any = None, *, macro: str | None,
               contract_columns: Iterable[str] | str | None = None, file_column: str = "file",
               dry_run: bool = False, merge: bool = True, reconcile: bool = True,
               download_dir: str | os.PathLike | None = None,
               options: RunOptions = RunOptions()) -> Result:
    """Send one call per row of *frame* for *action*; see :func:`get` for the parameters."""
    endpoint = catalogue.find(action, macro)
    started = time.perf_counter()
    if frame is None:
        frame = pd.DataFrame({frames.RECORD_ID: [1]})
    df = frames.prepare_input(frame)
    missing = None if dry_run else conn.not_available(endpoint)
    if missing is not None:  # this Server has no such operation: every row fails, nothing is sent
        return _refused_all(conn, endpoint, df, missing, options, started)
    # names instead of ids: a dry run sends nothing, so it shows the names where the ids will go
    df, unnamed = resolve(None if dry_run else Names(conn), endpoint, df, placeholder=dry_run)
    body_columns = frames.contract_columns_for(endpoint, list(df.columns), contract_columns)
    ids = frames.column_values(df[frames.RECORD_ID])
    refused = _bad_record_ids(df)
    for pos, (error_type, error) in unnamed.items():
        refused.setdefault(pos, Ending.refused(error_type, error))
    plan = frames.RowPlan(endpoint, list(df.columns), body_columns, file_column=file_column, merge=merge,
                          legacy=conn.legacy)
    if dry_run:
        return _dry_run(conn, endpoint, df, refused, plan, started)
    planned: dict[int, frames.Planned] = {}
    for pos, row_plan in plan.planned(df, skip=refused):
        if isinstance(row_plan, frames.Problem):
            refused[pos] = Ending.refused(row_plan.error_type, row_plan.error)
        else:
            planned[pos] = row_plan
    target = Path(download_dir or DEFAULT_DOWNLOAD_DIR) if endpoint.binary else None
    journaled = options.journal is not None
    rows = [Row(pos, frames.record_key(ids[pos]),
                _program(endpoint, one, frames.record_key(ids[pos]), target, reconcile),
                fingerprint(one.call) if journaled else "")
            for pos, one in planned.items()]
    result, _ = run_rows(conn, df, rows, refused, spec=DOWNLOAD if endpoint.binary else MACRO,
                         summary=Summary(endpoint.name), options=options, action=endpoint.name, started=started)
    return result


def _bad_record_ids(df: pd.DataFrame) -> dict[int, Ending]:
    """The rows whose RecordID is missing, not whole or seen twice, each refused with its reason."""
    return {pos: Ending.refused(p.error_type, p.error)
            for pos, p in frames.record_id_problems(df[frames.RECORD_ID]).items()}


def _refused_all(conn: Connection, endpoint: catalogue.Endpoint, df: pd.DataFrame, why: str, options: RunOptions,
                 started: float) -> Result:
    """Every row a failure ``NotAvailable`` saying why, nothing sent (bad RecordIDs keep their own errors)."""
    refused = _bad_record_ids(df)
    for pos in range(len(df)):
        refused.setdefault(pos, Ending.refused(ErrorType.NOT_AVAILABLE, why))
    result, _ = run_rows(conn, df, [], refused, spec=DOWNLOAD if endpoint.binary else MACRO,
                         summary=Summary(endpoint.name), options=options, action=endpoint.name, started=started)
    return result


def _program(endpoint: catalogue.Endpoint, plan: frames.Planned, key: str, target: Path | None,
             reconcile: bool) -> Callable[[], Program]:
    return lambda: call_program(endpoint, plan, key, target, reconcile)


def call_program(endpoint: catalogue.Endpoint, plan: frames.Planned, key: str, target: Path | None,
                 reconcile: bool) -> Program:
    """A macro's row as steps: (read the record to merge into,) send the call, settle an unknown outcome (a
    natural key's lookup, or what an earlier run left in flight), save a download (into *target*, named
    after *key*).  Other programs make one call through it (an applied plan's changes)."""
    call = plan.call
    if plan.merge is not None:
        problem = yield from _merge(endpoint, plan)
        if problem is not None:
            return problem
    outcome = yield Send(call)
    if outcome.journal == "in_flight":  # an earlier run died with this call in flight: did it happen?
        settled = yield from _left_in_flight(endpoint, call, reconcile)
        if settled is not None:
            return settled
        outcome = yield Send(call)
    note = outcome.note
    if outcome.journal == "resent" and call.method == "DELETE" and outcome.status == 404:
        note = ("reconciled: the delete had taken effect in an earlier run whose answer was lost; sent again, it "
                "found nothing left to delete")
        return Ending(True, outcome.status, scrub(outcome.text), note=note)
    if outcome.error_type == ErrorType.OUTCOME_UNKNOWN and reconcile and can_reconcile(endpoint):
        outcome, note = yield from reconciling(endpoint, call, outcome)
        if outcome.ok:
            return Ending(True, outcome.status, scrub(outcome.text), note=note)
    if not outcome.ok:
        return Ending.failed(outcome.error_type or ErrorType.HTTP_ERROR, outcome.error or f"status {outcome.status}",
                             status=outcome.status, response=scrub(outcome.text),
                             sent=outcome.error_type not in (ErrorType.CONNECTION, ErrorType.NOT_AVAILABLE))
    if outcome.content is not None and target is not None:
        try:
            path = _save(target, key, call, outcome)
        except OSError as exc:
            return Ending.failed(ErrorType.SAVE_FAILED, f"could not save the download: {exc}", status=outcome.status)
        return Ending(True, outcome.status, "", values={"File": str(path), "Bytes": len(outcome.content)})
    return Ending(True, outcome.status, scrub(outcome.text), note=note)


def _left_in_flight(endpoint: catalogue.Endpoint, call: Call, reconcile: bool) -> Generator[Step, Any, Ending | None]:
    """How a row an earlier run left in flight ends, or None when it is to be sent again (its record is not there).

    The record is looked up twice, a grace period apart: the killed run's call may still be on its way.
    """
    if not (reconcile and can_reconcile(endpoint)):
        return Ending.failed(ErrorType.OUTCOME_UNKNOWN, IN_FLIGHT, sent=False)
    for look in range(2):
        if look:
            yield Wait(GRACE)
        found = yield from look_up_call(endpoint, call)
        if found is not None and found.ok:
            return Ending(True, found.status, scrub(found.text),
                          note="reconciled: an earlier run's call had made the record; found it by its natural key")
        if found is not None:  # the lookup failed: the record may exist, so the create is not sent again
            return Ending.failed(ErrorType.OUTCOME_UNKNOWN,
                                 f"an earlier run stopped while this row's call was in flight, and {found.error}; "
                                 "it was not sent again. Check the Server, then run this row without the journal if "
                                 "it is still needed", sent=False)
    return None


def _merge(endpoint: catalogue.Endpoint, plan: frames.Planned) -> Generator[Step, Any, Ending | None]:
    """Read the current record and lay the row's fields over it; an ending when that fails."""
    spec = plan.merge
    assert spec is not None and plan.partial is not None
    getter = catalogue.find(spec.getter)
    current = yield Send(Call("GET", plan.call.path.split("?", 1)[0], getter))
    if not current.ok:
        return Ending.failed(ErrorType.MERGE_FAILED, f"could not read the current record to merge the update into: "
                                                     f"{current.error}", status=current.status,
                             response=scrub(current.text))
    try:
        contract = merged_contract(spec, current.json(), plan.partial)
    except ValueError as exc:
        return Ending.failed(ErrorType.MERGE_FAILED, str(exc), status=current.status)
    problems = schemas.validate(contract, endpoint.body_schema, endpoint.body_name or "contract")
    if problems:
        hint = f" ({spec.hint})" if spec.hint else ""
        return Ending.failed(ErrorType.INVALID_CONTRACT, "after merging with the current record: "
                             + "; ".join(problems) + hint, sent=False)
    plan.call.body = json.dumps(contract, ensure_ascii=False).encode("utf-8")
    return None


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def _save(target: Path, key: str, call: Call, outcome: Outcome) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    disposition = outcome.headers.get("Content-Disposition", "") if outcome.headers else ""
    match = re.search(r'filename="?([^";]+)"?', disposition)
    name = match.group(1) if match else (call.path.strip("/").replace("/", "_") or "download")
    name = _UNSAFE.sub("_", os.path.basename(name)).strip(" .") or "download"
    path = target / f"{_UNSAFE.sub('_', key)}_{name}"
    assert outcome.content is not None
    path.write_bytes(outcome.content)
    return path


_PLACEHOLDER = re.compile(r"%3C[^/?#]*?%3E")  # a name where an id will go (names.resolve), as the path holds it
DRY_RUN = Shape(success=("Method", "URL", "Body"), failure=("StatusCode", "ErrorType", "Error", "Response"))


def _dry_run(conn: Connection, endpoint: catalogue.Endpoint, df: pd.DataFrame, refused: dict[int, Ending],
             plan: frames.RowPlan, started: float) -> Result:
    """What a run would send, row by row: method, URL and body (secrets masked); nothing is sent.

    (Complexity 23: the column-at-a-time shaping of a dry run of a million rows, kept in one function so that
    no row costs a call of its own.)

    Built a column at a time from the plan's chunks: a row that would be sent costs its URL and body
    text, no call, ending or dict of its own."""
    ok = np.zeros(len(df), dtype=bool)  # the rows that would be sent (a flag each, not a number each)
    methods: list[str] = []
    urls: list[str] = []
    bodies: list[str] = []
    failed: dict[int, Ending] = dict(refused)
    merged = " (merged into the current record when sent)"
    shown = _Urls(conn)
    suffix = merged if plan.spec is not None and plan.kind == "object" else ""
    for part in plan.chunks(df, skip=refused):
        if not part.slow and None not in part.paths:  # every row of the chunk goes: a column at a time
            n = part.stop - part.start
            ok[part.start:part.stop] = True
            methods.extend([plan.method] * n)
            params = part.params if part.params is not None else [()] * n
            urls.extend([shown.url(path, query) for path, query in zip(part.paths, params)])
            texts = part.bodies if part.bodies is not None else [""] * n
            if part.masked:
                texts = [masked_text(text) for text in texts]
            bodies.extend([text + suffix for text in texts] if suffix else texts)
            continue
        for i in range(part.stop - part.start):
            pos = part.start + i
            one = part.slow.get(pos)
            if one is not None:
                if isinstance(one, frames.Problem):
                    failed[pos] = Ending.refused(one.error_type, one.error)
                    continue
                ok[pos] = True
                methods.append(one.call.method)
                urls.append(shown.url(one.call.path, one.call.params))
                bodies.append(masked_text(one.shown_body) + (merged if one.merge else ""))
                continue
            path = part.paths[i]
            if path is None:
                continue  # refused before planning
            ok[pos] = True
            methods.append(plan.method)
            urls.append(shown.url(path, part.params[i] if part.params is not None else ()))
            text = part.bodies[i] if part.bodies is not None else ""
            bodies.append((masked_text(text) if part.masked else text) + suffix)
    bad = sorted(failed)
    summary = Summary(endpoint.name, dry_run=True)
    summary.count_split(len(methods), [failed[pos] for pos in bad])
    success, failure = shape_split(df, np.flatnonzero(ok), {"Method": methods, "URL": urls, "Body": bodies}, bad,
                                   [failed[pos] for pos in bad], DRY_RUN)
    summary.elapsed = time.perf_counter() - started
    return Result(success, failure, summary)


class _Urls:
    """A dry run's URLs as shown: names where ids will go shown as names; the last one kept (rows of an
    action without ids in its path all share one)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.last: tuple[str, Any, str] | None = None

    def url(self, path: str, params: Any) -> str:
        if self.last is not None and self.last[0] == path and not params and not self.last[1]:
            return self.last[2]
        query = urlencode(list(params))  # encoded as requests sends it: A&B is one value, not two
        url = _PLACEHOLDER.sub(lambda m: unquote(m.group(0)), self.conn.url(path))  # names shown as names
        shown = url + (f"?{query}" if query else "")
        self.last = (path, params, shown)
        return shown


def get(conn: Connection, action: Any, frame: pd.DataFrame | None = None, *, contract_columns: Any = None,
        dry_run: bool = False, max_workers: int | str | None = None, progress: bool | None = None,
        journal: str | os.PathLike | None = None, download_dir: str | os.PathLike | None = None,
        on_row: Callable[[int, Ending], None] | None = None) -> Result:
    return run_action(conn, action, frame, macro="get", contract_columns=contract_columns, dry_run=dry_run,
                      download_dir=download_dir, options=RunOptions(max_workers, progress, journal, on_row))


def create(conn: Connection, action: Any, frame: pd.DataFrame | None = None, *, contract_columns: Any = None,
           file_column: str = "file", dry_run: bool = False, max_workers: int | str | None = None,
           progress: bool | None = None, journal: str | os.PathLike | None = None,
           reconcile: bool = True, on_row: Callable[[int, Ending], None] | None = None) -> Result:
    return run_action(conn, action, frame, macro="create", contract_columns=contract_columns, file_column=file_column,
                      dry_run=dry_run, reconcile=reconcile, options=RunOptions(max_workers, progress, journal, on_row))


def post(conn: Connection, action: Any, frame: pd.DataFrame | None = None, *, contract_columns: Any = None,
         file_column: str = "file", merge: bool = True, dry_run: bool = False, max_workers: int | str | None = None,
         progress: bool | None = None, journal: str | os.PathLike | None = None,
         on_row: Callable[[int, Ending], None] | None = None) -> Result:
    return run_action(conn, action, frame, macro="post", contract_columns=contract_columns, file_column=file_column,
                      merge=merge, dry_run=dry_run, options=RunOptions(max_workers, progress, journal, on_row))


def delete(conn: Connection, action: Any, frame: pd.DataFrame | None = None, *, dry_run: bool = False,
           max_workers: int | str | None = None, progress: bool | None = None,
           journal: str | os.PathLike | None = None, on_row: Callable[[int, Ending], None] | None = None) -> Result:
    return run_action(conn, action, frame, macro="delete", dry_run=dry_run,
                      options=RunOptions(max_workers, progress, journal, on_row))


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

