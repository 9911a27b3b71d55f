"""The bulk engine: a frame in, one call per row on a bounded pool, success and failure frames out.

Every input row lands in exactly one of the two frames.  Rows that cannot be
sent (bad RecordID, missing parameter, invalid contract, missing file) are
failure rows and nothing is sent for them.  Calls run on ``max_workers``
threads over one pooled session; with ``max_workers="auto"`` an adaptive
controller finds the Server's pace (:mod:`axframe.pace`).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlencode

import pandas as pd

from . import catalogue, frames
from . import reconcile as reconciling
from .auth import redact
from .catalogue import Endpoint
from .client import Call, Connection, Outcome
from .errors import ErrorType
from .journal import Journal, fingerprint, record_key
from .merge import merged_contract
from .reconcile import RECONCILERS

__all__ = ["Result", "Summary", "run", "expand_json"]

log = logging.getLogger("axframe")

DEFAULT_DOWNLOAD_DIR = "axframe-downloads"
_SECRET_KEYS = re.compile(r'"(apiSecret|apiKey|password|newPassword|secret|access_token)"\s*:\s*"[^"]*"', re.I)
_SECRET_HINT = re.compile(r'"(?:apiSecret|apiKey|password|newPassword|secret|access_token)"', re.I)


def scrub(text: str) -> str:
    """Mask secret-bearing fields (a studio's apiSecret, passwords, tokens) in a Server's answer."""
    if text and _SECRET_HINT.search(text):
        text = _SECRET_KEYS.sub(lambda m: f'"{m.group(1)}":"***"', text)
    return redact(text)


@dataclass
class Summary:
    action: str
    rows: int = 0
    succeeded: int = 0
    failed: int = 0
    not_sent: int = 0
    from_journal: int = 0
    calls: int = 0
    retries: int = 0
    tokens_requested: int = 0
    elapsed: float = 0.0
    dry_run: bool = False
    reconciled: int = 0
    error_types: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        verb = "would send" if self.dry_run else "succeeded"
        text = (f"{self.action}: {_rows(self.rows)}, {self.succeeded} {verb}, {self.failed} failed "
                f"in {self.elapsed:.1f} s")
        if self.from_journal:
            text += f" ({self.from_journal} from the journal)"
        if self.reconciled:
            text += f" ({self.reconciled} reconciled after an unknown outcome)"
        if self.error_types:
            text += " [" + ", ".join(f"{k}: {v}" for k, v in sorted(self.error_types.items())) + "]"
        return text

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def as_frame(self) -> pd.DataFrame:
        """The summary as a one-row frame of plain types (for a sheet, a CSV or ``Alteryx.write``)."""
        values = {k: (json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)
                  for k, v in self.as_dict().items()}
        return pd.DataFrame([values])


class Result:
    """The outcome of a bulk call: unpacks into ``(success, failure)``.

    Attributes
    ----------
    success, failure : pandas.DataFrame
    summary : Summary
        Counts, calls, retries, tokens requested, elapsed seconds.
    """

    def __init__(self, success: pd.DataFrame, failure: pd.DataFrame, summary: Summary):
        self.success = success
        self.failure = failure
        self.summary = summary

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.success
        yield self.failure

    def __getitem__(self, index: int) -> pd.DataFrame:
        return (self.success, self.failure)[index]

    def __len__(self) -> int:
        return 2

    def __repr__(self) -> str:
        return f"<axframe.Result {self.summary}>"

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{self.summary}</b></p>"]
        if len(self.failure):
            parts.append("<p>First failures:</p>" + self.failure[[c for c in ("RecordID", "StatusCode", "ErrorType",
                                                                          "Error") if c in self.failure]]
                         .head(5).to_html(index=False))
        return "".join(parts)

    def expand(self, keep: Iterable[str] | str = (), column: str = "Response") -> pd.DataFrame:
        """The JSON answers of successful rows as rows of their own.

        One row per returned object (a list answer gives one row per item; a
        bare value, such as the id a create answers, a ``value`` column),
        flattened with :func:`pandas.json_normalize` (nested fields become
        ``parent.child`` columns; lists and objects left inside are JSON
        text, so every cell is a plain value), with the ``RecordID`` it came
        from first, and the input columns named in *keep* after it.
        """
        return expand_json(self.success, column, keep=keep)


def expand_json(frame: pd.DataFrame, column: str = "Response", keep: Iterable[str] | str = ()) -> pd.DataFrame:
    records: list[Any] = []
    counts: list[int] = []
    for text in frame[column].tolist() if column in frame else []:
        if not isinstance(text, str) or not text:
            counts.append(0)
            continue
        value = json.loads(text)
        if isinstance(value, list):
            items = value
        elif isinstance(value, dict):
            items = [value]
        else:
            items = [{"value": value}]
        items = [i if isinstance(i, dict) else {"value": i} for i in items]
        records.extend(items)
        counts.append(len(items))
    expanded = pd.json_normalize(records) if records else pd.DataFrame()
    for name in expanded.columns:
        values = expanded[name]
        if values.dtype == object and any(isinstance(v, (list, dict)) for v in values):
            expanded[name] = [json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                              for v in values]
    carried = [frames.RECORD_ID] + [c for c in ([keep] if isinstance(keep, str) else list(keep))
                                    if c != frames.RECORD_ID]
    missing = [c for c in carried if c not in frame.columns]
    if missing:
        raise KeyError(f"expand(keep=...): no column {', '.join(map(repr, missing))} in the success frame")
    for offset, name in enumerate(carried):
        values = frame[name].repeat(counts).reset_index(drop=True) if len(frame) else pd.Series([], dtype=object)
        target = name if name not in expanded.columns or name == frames.RECORD_ID else f"input.{name}"
        expanded.insert(offset, target, values.to_numpy() if len(values) else values)
    return expanded


# --------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------


def _tqdm() -> Any:
    """tqdm's notebook bar when Jupyter widgets are there, its text bar otherwise (no widget warning)."""
    import importlib.util

    if "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


def _in_designer() -> bool:
    return "ayx" in sys.modules


def _interactive() -> bool:
    if _in_designer():
        return False
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


class Progress:
    """A tqdm bar at a terminal or in a notebook; plain lines in Designer's Python tool; else nothing.

    *total* is the number of rows to send; *rows*, when larger, the number in
    the frame (the others were refused before sending or taken from a journal).
    """

    def __init__(self, total: int, label: str, show: bool | None, rows: int | None = None):
        self.plain = _in_designer() and show is not False
        self.bar = None
        if show is None:
            show = _interactive()
        if show and not self.plain and total:
            self.bar = _tqdm()(total=total, desc=label, unit="row", leave=True)
        self.label = label
        if self.plain:
            held = (rows or total) - total
            extra = f" ({_rows(held)} not to send: refused before sending or already done)" if held > 0 else ""
            print(f"axframe: {label}: sending {total} of {_rows(rows or total)}{extra}", flush=True)

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self, summary: Summary) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.plain:
            print(f"axframe: {summary}", flush=True)


# --------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------


@dataclass
class _Row:
    ok: bool
    status: int | None = None
    response: str = ""
    error_type: str | None = None
    error: str | None = None
    file: str | None = None
    size: int | None = None
    sent: bool = True
    note: str = ""


def run(conn: Connection, action: "str | Endpoint", frame: Any = None, *, macro: str | None = None,
        contract_columns: Iterable[str] | str | None = None, file_column: str = "file", dry_run: bool = False,
        merge: bool = True, max_workers: int | str | None = None, progress: bool | None = None,
        journal: "str | os.PathLike | None" = None, download_dir: "str | os.PathLike | None" = None,
        reconcile: bool = True, on_row: Callable[[int, _Row], None] | None = None) -> Result:
    """Send one call per row of *frame* for *action*; see :func:`axframe.get` for the parameters."""
    try:
        endpoint = catalogue.find(action, macro)
    except catalogue.UnknownAction as exc:
        from .errors import UnknownActionError

        raise UnknownActionError(str(exc)) from None
    except ValueError as exc:
        from .errors import WrongMacroError

        raise WrongMacroError(str(exc)) from None
    started = time.perf_counter()
    if frame is None:
        frame = pd.DataFrame({frames.RECORD_ID: [1]})
    df = frames.prepare_input(frame)
    columns = [c for c in df.columns]
    body_columns = frames.contract_columns_for(endpoint, columns, contract_columns)
    records = df.to_dict("records")
    n = len(records)
    rows: list[_Row | None] = [None] * n
    keys = [record_key(r[frames.RECORD_ID]) for r in records]

    # RecordIDs: present and unique
    for pos, problem in frames.record_id_problems([r[frames.RECORD_ID] for r in records]).items():
        rows[pos] = _Row(False, error_type=problem.error_type, error=problem.error, sent=False)

    # rows already finished in an earlier run, and rows it left in flight
    book = Journal(journal, endpoint.name) if journal is not None and not dry_run else None
    from_journal = 0
    finished: dict[str, dict] = {}
    in_flight: set[str] = set()
    if book is not None:
        state = book.load()
        finished = state.finished
        in_flight = state.in_flight if not endpoint.idempotent else set()

    # plan the rest
    plans: list[tuple[int, frames.Planned]] = []
    for pos, rec in enumerate(records):
        if rows[pos] is not None:
            continue
        planned = frames.plan_row(endpoint, rec, columns=body_columns, file_column=file_column, merge=merge,
                                  legacy=conn.legacy)
        if isinstance(planned, frames.Problem):
            rows[pos] = _Row(False, error_type=planned.error_type, error=planned.error, sent=False)
            continue
        if book is not None:
            planned.fingerprint = fingerprint(planned.call)
            entry = finished.get(keys[pos])
            if entry is not None:
                if entry.get("fp") in (None, planned.fingerprint):  # the same call (or a journal without digests)
                    rows[pos] = _replay(entry)
                    from_journal += 1
                    continue
                if entry.get("ok"):
                    rows[pos] = _Row(False, error_type=ErrorType.CHANGED_SINCE_JOURNAL, sent=False,
                                     error="this RecordID succeeded in an earlier run of this journal with other "
                                           "values, so it was not sent again; if the change is meant, run the row "
                                           "under a new RecordID or without the journal")
                    continue
                # it failed in an earlier run and has been changed since (fixed): send it again
        if keys[pos] in in_flight and not (reconcile and endpoint.name in RECONCILERS):
            rows[pos] = _Row(False, error_type=ErrorType.OUTCOME_UNKNOWN, sent=False,
                             error="an earlier run stopped while this row's call was in flight; the Server may or "
                                   "may not have applied it, so it was not sent again. Check the Server, then run "
                                   "this row without the journal if it is still needed")
        else:
            planned.look_first = keys[pos] in in_flight
            plans.append((pos, planned))

    if dry_run:
        return _dry_run_result(conn, endpoint, df, rows, plans, started)

    stats_before = dict(conn.stats)
    tokens_before = conn.tokens_requested
    bar = Progress(len(plans), endpoint.name, progress, rows=n)
    bar.update(0)
    target = Path(download_dir or DEFAULT_DOWNLOAD_DIR) if endpoint.binary else None
    if book is not None:
        book.open()
    try:
        _execute(conn, endpoint, plans, rows, keys, max_workers, bar, book, target, on_row, reconcile)
    finally:
        if book is not None:
            book.close()
    summary = Summary(endpoint.name, rows=n, from_journal=from_journal,
                      calls=conn.stats["calls"] - stats_before.get("calls", 0),
                      retries=conn.stats["retries"] - stats_before.get("retries", 0),
                      tokens_requested=conn.tokens_requested - tokens_before)
    result = _shape(df, rows, summary, endpoint)
    summary.reconciled = sum(1 for r in rows if r is not None and r.note.startswith("reconciled"))
    summary.elapsed = time.perf_counter() - started
    bar.close(summary)
    log.info("%s", summary)
    return result


def _replay(entry: dict) -> _Row:
    """A row's result as an earlier run journaled it."""
    return _Row(bool(entry.get("ok")), entry.get("StatusCode"), entry.get("Response") or "", entry.get("ErrorType"),
                entry.get("Error"), entry.get("File"), entry.get("Bytes"), note=entry.get("Note") or "")


def _execute(conn: Connection, endpoint: Endpoint, plans: list[tuple[int, frames.Planned]], rows: list,
             keys: list[str], max_workers: int | str | None, bar: Progress, book: Journal | None,
             target: Path | None, on_row: Callable | None, reconcile: bool = True) -> None:
    if not plans:
        return
    workers = max_workers if max_workers is not None else conn.max_workers
    gate = None
    if workers == "auto":
        from .pace import AdaptiveGate

        gate = AdaptiveGate()
        threads = gate.max_limit
    else:
        try:
            threads = int(workers)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            from .errors import ConfigurationError

            raise ConfigurationError(f"max_workers must be a positive number or 'auto', not {workers!r}") from None
        if threads < 1:
            from .errors import ConfigurationError

            raise ConfigurationError("max_workers must be at least 1")
    threads = min(threads, len(plans))
    lock = threading.Lock()

    def finish(pos: int, row: _Row, fp: str) -> None:
        rows[pos] = row
        if book is not None:
            book.write({"RecordID": keys[pos], "ok": row.ok, "StatusCode": row.status, "ErrorType": row.error_type,
                        "Error": row.error, "Response": row.response, "File": row.file, "Bytes": row.size,
                        "Note": row.note, "fp": fp})
        if on_row is not None:
            on_row(pos, row)
        bar.update()

    def work(pos: int, planned: frames.Planned) -> None:
        if book is not None and not planned.call.idempotent:
            book.sent(keys[pos])
        row = _send_row(conn, endpoint, planned, keys[pos], target, reconcile)
        if threads > 1:
            with lock:
                finish(pos, row, planned.fingerprint)
        else:
            finish(pos, row, planned.fingerprint)

    if threads == 1 and gate is None:
        for pos, planned in plans:
            work(pos, planned)
        return
    if gate is not None:
        conn.gate = gate
    counter = itertools.count()
    stop = threading.Event()
    errors: list[BaseException] = []

    def worker(done: threading.Event) -> None:
        try:
            while not stop.is_set():
                i = next(counter)
                if i >= len(plans):
                    return
                try:
                    work(*plans[i])
                except BaseException as exc:  # a bug: stop the run, report it in the main thread
                    errors.append(exc)
                    stop.set()
                    return
        finally:
            done.set()

    # Wait on events, not Thread.join: a join that Ctrl-C interrupts can take a live thread for finished
    # (CPython 3.11), and the run would then close the journal under a call still in flight.
    finished = [threading.Event() for _ in range(threads)]
    pool = [threading.Thread(target=worker, args=(finished[k],), name=f"axframe-{k}", daemon=True)
            for k in range(threads)]
    started: list[threading.Event] = []
    try:
        for t, done in zip(pool, finished):
            t.start()
            started.append(done)
        for done in finished:
            while not done.wait(0.2):
                pass
    except KeyboardInterrupt:
        stop.set()  # no new rows; the calls in flight finish and are journaled
        for done in started:
            done.wait()
        raise
    finally:
        if gate is not None:
            conn.gate = None
    if errors:
        raise errors[0]


def _send_row(conn: Connection, endpoint: Endpoint, planned: frames.Planned, key: str, target: Path | None,
              reconcile: bool = True) -> _Row:
    call = planned.call
    if planned.merge is not None:
        problem = _merge(conn, endpoint, planned)
        if problem is not None:
            return problem
    note = ""
    if planned.look_first:  # an earlier run died with this create in flight: did it happen?
        found = reconciling.look_up_call(conn, endpoint, call)
        if found is not None and found.ok:
            return _Row(True, found.status, scrub(found.text),
                        note="reconciled: an earlier run's call had made the record; found it by its natural key")
        if found is not None:  # the lookup failed: the record may exist, so the create is not sent again
            return _Row(False, None, "", ErrorType.OUTCOME_UNKNOWN,
                        f"an earlier run stopped while this row's call was in flight, and {found.error}; it was "
                        "not sent again. Check the Server, then run this row without the journal if it is "
                        "still needed", sent=False)
    outcome = conn.send(call)
    if outcome.error_type == ErrorType.OUTCOME_UNKNOWN and reconcile and endpoint.name in RECONCILERS:
        outcome, note = reconciling.reconcile(conn, endpoint, call, outcome)
        if outcome.ok:
            return _Row(True, outcome.status, scrub(outcome.text), note=note)
    if not outcome.ok:
        return _Row(False, outcome.status, scrub(outcome.text), outcome.error_type or ErrorType.HTTP_ERROR,
                    outcome.error or f"status {outcome.status}", sent=outcome.error_type != ErrorType.CONNECTION)
    if outcome.content is not None and target is not None:
        try:
            path = _save(target, key, call, outcome)
        except OSError as exc:
            return _Row(False, outcome.status, "", ErrorType.SAVE_FAILED, f"could not save the download: {exc}")
        return _Row(True, outcome.status, "", file=str(path), size=len(outcome.content))
    return _Row(True, outcome.status, scrub(outcome.text))


def _merge(conn: Connection, endpoint: Endpoint, planned: frames.Planned) -> _Row | None:
    spec = planned.merge
    assert spec is not None and planned.partial is not None
    getter = catalogue.find(spec.getter)
    path = planned.call.path.split("?", 1)[0]
    current = conn.send(Call("GET", path, getter))
    if not current.ok:
        return _Row(False, current.status, scrub(current.text), ErrorType.MERGE_FAILED,
                    f"could not read the current record to merge the update into: {current.error}")
    try:
        contract = merged_contract(spec, current.json(), planned.partial)
    except ValueError as exc:
        return _Row(False, current.status, "", ErrorType.MERGE_FAILED, str(exc))
    from . import schemas

    problems = schemas.validate(contract, endpoint.body_schema, endpoint.body_name or "contract")
    if problems:
        hint = f" ({spec.hint})" if spec.hint else ""
        return _Row(False, None, "", ErrorType.INVALID_CONTRACT, "after merging with the current record: "
                    + "; ".join(problems) + hint, sent=False)
    planned.call.body = json.dumps(contract, ensure_ascii=False).encode("utf-8")
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


# --------------------------------------------------------------------------
# shaping the outputs
# --------------------------------------------------------------------------


def _ordered(df: pd.DataFrame, mask: bool = False) -> pd.DataFrame:
    """The input columns, RecordID first, as plain cells; with *mask*, secret fields hidden.

    A dict or list cell (a contract given as a Python object) becomes its JSON text, so the frame
    goes straight into Excel, CSV, Parquet and ``Alteryx.write``.  Success frames are masked: a
    password column (``password``, ``newPassword``, ``secrets...``, at any dotted depth) reads
    ``***``, and so do such fields inside a contract.  Failure frames keep them, so that a fixed
    failure frame can be sent again.
    """
    cols = [frames.RECORD_ID] + [c for c in df.columns if c != frames.RECORD_ID]
    out = df[cols].reset_index(drop=True)
    for col in cols:
        secret = mask and _is_secret_name(str(col))
        masked_text = mask and col == frames.CONTRACT
        if not (secret or masked_text or out[col].dtype == object):
            continue  # numbers, booleans, pandas text: no dict or list can be in there
        values = out[col].tolist()
        if not (secret or masked_text or any(isinstance(v, (dict, list)) for v in values)):
            continue
        cells = []
        for v in values:
            if secret:
                cells.append(v if frames.is_missing(v) else "***")
                continue
            if isinstance(v, (dict, list)):
                try:
                    v = json.dumps(_masked(v) if mask else v, ensure_ascii=False, default=str)
                except (RecursionError, ValueError):
                    v = f"(a {type(v).__name__} nested too deeply to show as text)"
            elif mask and isinstance(v, str):
                v = _masked_text(v)
            cells.append(v)
        out[col] = pd.Series(cells, index=out.index, dtype=object)
    return out


_SECRET_NAMES = frozenset({"password", "newpassword", "apisecret", "secret", "secrets", "clientsecret"})


def _is_secret_name(name: str) -> bool:
    return any(part.lower() in _SECRET_NAMES for part in name.split("."))


def _masked(value: Any) -> Any:
    """*value* with every secret-named field's value replaced by ``***``."""
    if isinstance(value, dict):
        return {k: ("***" if isinstance(k, str) and k.lower() in _SECRET_NAMES and value[k] not in (None, "")
                    else _masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _masked_text(text: str) -> str:
    """A contract's JSON text with its secret fields masked (other text: only the known patterns)."""
    if not _SECRET_HINT.search(text) and "secrets" not in text.lower():
        return text
    try:
        return json.dumps(_masked(json.loads(text)), ensure_ascii=False)
    except (ValueError, RecursionError):
        return scrub(text)


def _shape(df: pd.DataFrame, rows: list, summary: Summary, endpoint: Endpoint) -> Result:
    ok_pos = [i for i, r in enumerate(rows) if r.ok]
    bad_pos = [i for i, r in enumerate(rows) if not r.ok]
    success = _ordered(df.iloc[ok_pos], mask=True)
    success["StatusCode"] = pd.array([rows[i].status for i in ok_pos], dtype="int64")
    if endpoint.binary:
        success["File"] = pd.Series([rows[i].file or "" for i in ok_pos], dtype=object)
        success["Bytes"] = pd.array([rows[i].size or 0 for i in ok_pos], dtype="int64")
    success["Response"] = pd.Series([rows[i].response for i in ok_pos], dtype=object)
    failure = _ordered(df.iloc[bad_pos])
    failure["StatusCode"] = pd.Series([rows[i].status for i in bad_pos], dtype=object)
    failure["ErrorType"] = pd.Series([rows[i].error_type for i in bad_pos], dtype=object)
    failure["Error"] = pd.Series([redact(rows[i].error or "") for i in bad_pos], dtype=object)
    failure["Response"] = pd.Series([rows[i].response for i in bad_pos], dtype=object)
    summary.succeeded, summary.failed = len(ok_pos), len(bad_pos)
    summary.not_sent = sum(1 for i in bad_pos if not rows[i].sent)
    counts: dict[str, int] = {}
    for i in bad_pos:
        counts[rows[i].error_type] = counts.get(rows[i].error_type, 0) + 1
    summary.error_types = counts
    return Result(success, failure, summary)


def _dry_run_result(conn: Connection, endpoint: Endpoint, df: pd.DataFrame, rows: list,
                    plans: list[tuple[int, frames.Planned]], started: float) -> Result:
    planned = dict(plans)
    ok_pos = sorted(planned)
    bad_pos = [i for i, r in enumerate(rows) if r is not None and not r.ok]
    success = _ordered(df.iloc[ok_pos], mask=True)
    success["Method"] = [planned[i].call.method for i in ok_pos]
    urls = []
    for i in ok_pos:
        call = planned[i].call
        query = urlencode(call.params)  # encoded as requests sends it: A&B is one value, not two
        urls.append(conn.url(call.path) + (f"?{query}" if query else ""))
    success["URL"] = urls
    success["Body"] = [_masked_text(planned[i].shown_body) + (" (merged into the current record when sent)"
                                                              if planned[i].merge else "") for i in ok_pos]
    failure = _ordered(df.iloc[bad_pos])
    failure["StatusCode"] = pd.Series([None] * len(bad_pos), dtype=object)
    failure["ErrorType"] = pd.Series([rows[i].error_type for i in bad_pos], dtype=object)
    failure["Error"] = pd.Series([rows[i].error for i in bad_pos], dtype=object)
    failure["Response"] = pd.Series([""] * len(bad_pos), dtype=object)
    summary = Summary(endpoint.name, rows=len(df), succeeded=len(ok_pos), failed=len(bad_pos),
                      not_sent=len(df), dry_run=True, elapsed=time.perf_counter() - started)
    counts: dict[str, int] = {}
    for i in bad_pos:
        counts[rows[i].error_type] = counts.get(rows[i].error_type, 0) + 1
    summary.error_types = counts
    return Result(success, failure, summary)
