"""Job outputs: downloading them, and reading CSV outputs back as typed frames.

:func:`job_outputs` downloads the outputs of finished jobs
(``GET /v1/jobs/{jobId}/output/{outputId}``, the only output download the
Server has, reference 7): CSV outputs become one dataframe, other formats are
saved as files.  :func:`fetch_outputs` is the same as steps of a row's
program, for ``run_jobs(outputs=...)``.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generator, Sequence

import pandas as pd

from .. import catalogue, frames
from ..catalogue import FORMATS
from ..client.call import Call, Outcome
from ..client.connection import Connection
from ..client.secrets import redact, scrub
from ..engine.rows import Program, Row, Send, Step
from ..engine.shape import Ending, Result, Summary
from ..errors import ConfigurationError, ErrorType, FrameError
from .plan import api_for, endpoint_path

__all__ = ["job_outputs", "fetch_outputs", "outputs_result", "output_format", "OutputItem", "DEFAULT_OUTPUT_DIR",
           "normal_outputs"]

log = logging.getLogger("axframe")

DEFAULT_OUTPUT_DIR = "axframe-outputs"

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_INT = re.compile(r"^-?[0-9]+$", re.ASCII)
_FLOAT = re.compile(r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$", re.ASCII)
_EXACT_DIGITS = 15  # a float64 holds 15 significant digits exactly; longer numbers are ids, kept as text


def output_format(value: Any) -> str:
    """The format name as the Server spells it (``"csv"`` -> ``"Csv"``), or :class:`ConfigurationError`."""
    text = str(value).strip().lower()
    for name in FORMATS:
        if name.lower() == text:
            return name
    raise ConfigurationError(f"format must be one of {', '.join(FORMATS)}, not {value!r}")


@dataclass
class OutputItem:
    record_id: Any
    job_id: str
    output: str
    ok: bool
    data: bytes = b""
    file: str = ""
    size: int = 0
    status: int | None = None
    error_type: str | None = None
    error: str | None = None
    response: str = ""


def fetch_outputs(conn: Connection, record_id: Any, job_id: str, outputs: list[dict], fmt: str,
                  folder: Path) -> Generator[Step, Any, list[OutputItem]]:
    """Steps that download every output of one job in *fmt*; CSV stays in memory, other formats go to *folder*."""
    endpoint = catalogue.find("v1.job_output")
    items = []
    for output in outputs:
        name = output["name"]
        offered = output.get("formats") or []
        if offered and fmt.lower() not in {f.lower() for f in offered}:
            items.append(OutputItem(record_id, job_id, name, False, error_type=ErrorType.NOT_AVAILABLE,
                                     error=f"output {name!r} is not offered as {fmt}; it is offered as "
                                           f"{', '.join(offered)}"))
            continue
        path = endpoint_path(conn, endpoint, jobId=job_id, outputId=output["id"])
        outcome = yield Send(Call("GET", path, endpoint, params=[("format", fmt)]))
        if not outcome.ok:
            items.append(OutputItem(record_id, job_id, name, False, status=outcome.status,
                                     error_type=outcome.error_type or ErrorType.HTTP_ERROR,
                                     error=outcome.error or f"status {outcome.status}",
                                     response=scrub(outcome.text)))
            continue
        data = outcome.content if outcome.content is not None else outcome.text.encode("utf-8")
        if fmt == "Csv":
            items.append(OutputItem(record_id, job_id, name, True, data=data, size=len(data),
                                     status=outcome.status))
            continue
        try:
            saved = _save_output(folder, record_id, job_id, name, fmt, outcome, data)
        except OSError as exc:
            items.append(OutputItem(record_id, job_id, name, False, status=outcome.status,
                                     error_type=ErrorType.SAVE_FAILED, error=f"could not save the output: {exc}"))
            continue
        items.append(OutputItem(record_id, job_id, name, True, file=str(saved), size=len(data),
                                 status=outcome.status))
    return items


_EXTENSIONS = {"Raw": "", "Csv": ".csv", "Xlsx": ".xlsx", "Html": ".html", "Yxdb": ".yxdb", "Pdf": ".pdf",
               "Docx": ".docx", "Zip": ".zip", "Tde": ".tde", "Kml": ".kml", "Dbf": ".dbf", "Shp": ".zip",
               "Tab": ".zip", "Mif": ".zip"}


def _save_output(folder: Path, record_id: Any, job_id: str, name: str, fmt: str, outcome: Outcome,
                 data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    disposition = outcome.headers.get("Content-Disposition", "") if outcome.headers else ""
    match = re.search(r'filename="?([^";]+)"?', disposition)
    if match:
        file_name = os.path.basename(match.group(1))
    else:
        base = name.rsplit(".", 1)[0] if "." in name else name
        file_name = base + _EXTENSIONS.get(fmt, "")
    file_name = _UNSAFE.sub("_", file_name).strip(" .") or "output"
    path = folder / f"{_UNSAFE.sub('_', frames.record_key(record_id))}_{_UNSAFE.sub('_', job_id)}_{file_name}"
    path.write_bytes(data)
    return path


def _read_csv(data: bytes) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if not text.strip():
        return pd.DataFrame()
    return pd.read_csv(io.StringIO(text), dtype=object, keep_default_na=False)


def _number_text(text: str) -> bool:
    """Whether *text* may be read as a number without losing what it says.

    Only plain decimal numbers qualify: an optional ``-``, digits, an
    optional decimal point and exponent.  Text that looks like an id or a
    code stays text: a leading zero (``02134``; ``0`` and ``0.5`` are
    numbers), a leading ``+`` (``+44``), thousands separators (``1,234``),
    more than 15 significant digits (a float64 would change them), or a
    number too large for a float64 (``1e400``).
    """
    if not _FLOAT.fullmatch(text):
        return False
    mantissa = re.split("[eE]", text.lstrip("-"), maxsplit=1)[0]
    whole, _, fraction = mantissa.partition(".")
    if len(whole) > 1 and whole.startswith("0"):
        return False
    digits = (whole + fraction.rstrip("0")).lstrip("0")
    return len(digits) <= _EXACT_DIGITS and math.isfinite(float(text))


def _typed(series: pd.Series) -> pd.Series:
    """Numbers as numbers, ids and codes as text, in plain dtypes only.

    A column becomes numeric only when every non-empty cell is a number by
    :func:`_number_text`.  Whole numbers become int64, or an object column of
    ints and None when some cells are empty (never float: ``2024`` must not
    read back as ``2024.0``); a decimal point or exponent in any cell makes
    the column float64 (empty cells NaN).  Anything else stays text.
    """
    values = series.tolist()
    present = [v.strip() for v in values if _filled(v)]
    if not present or not all(_number_text(v) for v in present):
        return _text_cells(series)
    if all(_INT.fullmatch(v) for v in present):
        numbers = [int(v) if _filled(v) else None for v in values]
        return pd.Series(numbers, index=series.index, dtype="int64" if len(present) == len(values) else object)
    return pd.Series([float(v) if _filled(v) else math.nan for v in values], index=series.index, dtype="float64")


def _filled(value: Any) -> bool:
    """Whether a CSV cell holds something (not empty or blank text, nor a cell a short row lacks)."""
    return isinstance(value, str) and value.strip() != ""


def _text_cells(series: pd.Series) -> pd.Series:
    """A column kept as text: a cell a short row lacks becomes None."""
    return pd.Series([v if isinstance(v, str) else None for v in series.tolist()], index=series.index, dtype=object)


_LEAD = ("RecordID", "JobId", "Output")


def outputs_result(items: list[OutputItem], fmt: str, infer_types: bool, elapsed: float) -> Result:
    good = [i for i in items if i.ok]
    bad = [i for i in items if not i.ok]
    success = _csv_rows(good, infer_types) if fmt == "Csv" else _files(good, fmt)
    types: dict[str, int] = {}
    for i in bad:
        types[i.error_type or ""] = types.get(i.error_type or "", 0) + 1
    summary = Summary(f"job_outputs ({fmt})", rows=len(items), succeeded=len(good), failed=len(bad),
                           elapsed=elapsed, error_types=types)
    return Result(success, _failures(bad), summary)


def _csv_rows(good: list[OutputItem], infer_types: bool) -> pd.DataFrame:
    """Every row of every CSV output, after the RecordID, JobId and name of the output it comes from."""
    parts = [_csv_part(item) for item in good]
    if parts:
        success = pd.concat(parts, ignore_index=True, sort=False)
    else:
        success = pd.DataFrame({c: pd.Series([], dtype=object) for c in _LEAD})
    cells = _typed if infer_types else _text_cells
    for column in success.columns:
        if column not in _LEAD:
            success[column] = cells(success[column])
    success["RecordID"] = _plain(success["RecordID"].tolist())
    success["JobId"] = success["JobId"].astype(object)
    success["Output"] = success["Output"].astype(object)
    return success


def _csv_part(item: OutputItem) -> pd.DataFrame:
    part = _read_csv(item.data)
    part.columns = _deduplicated([str(c) for c in part.columns], _LEAD)
    head = pd.DataFrame({"RecordID": [item.record_id] * len(part), "JobId": [item.job_id] * len(part),
                         "Output": [item.output] * len(part)}, dtype=object)
    return pd.concat([head, part.reset_index(drop=True)], axis=1)


def _files(good: list[OutputItem], fmt: str) -> pd.DataFrame:
    """The outputs saved as files, one row each."""
    return pd.DataFrame({"RecordID": _plain([i.record_id for i in good]),
                         "JobId": pd.Series([i.job_id for i in good], dtype=object),
                         "Output": pd.Series([i.output for i in good], dtype=object),
                         "Format": pd.Series([fmt] * len(good), dtype=object),
                         "File": pd.Series([i.file for i in good], dtype=object),
                         "Bytes": pd.Series([i.size for i in good], dtype="int64")})


def _failures(bad: list[OutputItem]) -> pd.DataFrame:
    return pd.DataFrame({"RecordID": _plain([i.record_id for i in bad]),
                         "JobId": pd.Series([i.job_id for i in bad], dtype=object),
                         "Output": pd.Series([i.output for i in bad], dtype=object),
                         "StatusCode": pd.Series([i.status for i in bad], dtype=object),
                         "ErrorType": pd.Series([i.error_type for i in bad], dtype=object),
                         "Error": pd.Series([redact(i.error or "") for i in bad], dtype=object),
                         "Response": pd.Series([i.response for i in bad], dtype=object)})


def _plain(values: list) -> pd.Series:
    """RecordIDs as int64 when they all are whole numbers, else as objects."""
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pd.Series(values, dtype="int64")
    return pd.Series([v.item() if hasattr(v, "item") else v for v in values], dtype=object)


def _deduplicated(names: list[str], taken: Sequence[str]) -> list[str]:
    """An output's own column named like one of ours gets ``.1`` (pandas' way with duplicate names)."""
    used = set(taken)
    out = []
    for name in names:
        new, k = name, 0
        while new in used:
            k += 1
            new = f"{name}.{k}"
        used.add(new)
        out.append(new)
    return out


def normal_outputs(raw: Any) -> list[dict]:
    """V3 ``{id, availableFormats, fileName}`` and V1 ``{id, formats, name}`` as ``{id, name, formats}``."""
    out = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        formats = item.get("availableFormats", item.get("formats")) or []
        name = item.get("fileName") or item.get("name") or str(item["id"])
        out.append({"id": str(item["id"]), "name": str(name), "formats": [str(f) for f in formats]})
    return out


def job_outputs(conn: Connection, frame: Any, format: str = "Csv", *,
                folder: str | os.PathLike | None = None, api: str | None = None, infer_types: bool = True,
                max_workers: int | str | None = None, progress: bool | None = False) -> Result:
    """Download the outputs of finished jobs.

    Parameters
    ----------
    conn : Connection
    frame : pandas.DataFrame
        Rows with ``RecordID`` and ``JobId``: typically the success frame of
        :func:`run_jobs`, whose ``Outputs`` column spares a request per job.
        Without that column each job is looked up first.
    format : str
        ``"Csv"`` (the default), or any format the outputs offer (``"Xlsx"``,
        ``"Html"``, ``"Raw"``...).
    folder : path, optional
        Where outputs other than CSV are saved (default ``axframe-outputs``),
        as ``<RecordID>_<JobId>_<file name>``.
    api : {"v3", "v1", "user_v2"}, optional
        Which path looks jobs up when the frame has no ``Outputs`` column.
    infer_types : bool
        Turn CSV columns of numbers into numbers: whole numbers into int64
        (an object column of ints and None when some cells are empty), and
        columns where a decimal point or exponent appears into float64.  Ids
        and codes stay text: a column is left as text when any cell has a
        leading zero (``02134``; not ``0`` or ``0.5``), a leading ``+``,
        thousands separators or more than 15 significant digits.  ``False``
        keeps every cell as text.
    max_workers : int, optional
        Downloads in flight at once (default: the connection's, 8).
    progress : bool, optional
        Show a progress bar (default: no).

    Returns
    -------
    Result
        Unpacks into ``(outputs, failure)``.  For CSV, ``outputs`` holds
        every row of every output: ``RecordID``, ``JobId``, ``Output`` (the
        output's name), then the output's own columns (one of those named
        like ours gets a ``.1`` suffix).  For other formats it lists the
        files saved: ``RecordID``, ``JobId``, ``Output``, ``Format``, ``File``,
        ``Bytes``.  ``failure`` holds ``RecordID``, ``JobId``, ``Output``,
        ``StatusCode``, ``ErrorType``, ``Error``, ``Response``, one row per
        output (or job) that could not be had.

    Raises
    ------
    FrameError, ConfigurationError
        Before anything is sent.
    """
    from ..engine.rows import Engine, workers_for
    from ..engine.progress import Progress

    started = time.perf_counter()
    fmt = output_format(format)
    chosen = api_for(conn, api)
    workers, gate = workers_for(conn, max_workers)
    df = frames.prepare_input(frame)
    for column in (frames.RECORD_ID, "JobId"):
        if column not in df.columns:
            raise FrameError(f"the frame has no {column!r} column (pass the success frame of run_jobs)")
    target = Path(folder or DEFAULT_OUTPUT_DIR)
    records = df.to_dict("records")
    has_outputs = "Outputs" in df.columns
    found: dict[int, list[OutputItem]] = {}

    def program(pos: int, rec: dict) -> Program:
        found[pos] = yield from _outputs_of(conn, chosen.status, rec, has_outputs, fmt, target)
        return Ending(True)

    rows = [Row(pos, frames.record_key(rec[frames.RECORD_ID]), functools.partial(program, pos, rec))
            for pos, rec in enumerate(records)]
    Engine(conn, workers=workers, gate=gate, progress=Progress(len(rows), "job_outputs", progress)).run(rows)
    items = [item for pos in sorted(found) for item in found[pos]]
    result = outputs_result(items, fmt, infer_types, time.perf_counter() - started)
    log.info("%s", result.summary)
    return result


def _outputs_of(conn: Connection, status: catalogue.Endpoint, rec: dict, has_outputs: bool, fmt: str,
                target: Path) -> Generator[Step, Any, list[OutputItem]]:
    """Steps that fetch the outputs of one row's job (looking the job up when the row does not list them)."""
    record_id = rec[frames.RECORD_ID]
    raw_job = rec.get("JobId")
    if frames.is_missing(raw_job):
        return [OutputItem(record_id, "", "", False, error_type=ErrorType.MISSING_PARAMETER,
                           error="JobId is missing: this row has no job")]
    job_id = frames.as_text(raw_job)
    outputs = None
    if has_outputs and not frames.is_missing(rec.get("Outputs")):
        try:
            outputs = normal_outputs(json.loads(rec["Outputs"]) if isinstance(rec["Outputs"], str)
                                     else rec["Outputs"])
        except ValueError:
            outputs = None
    if outputs is None:
        outcome = yield Send(Call("GET", endpoint_path(conn, status, jobId=job_id), status))
        if not outcome.ok:
            return [OutputItem(record_id, job_id, "", False, status=outcome.status,
                               error_type=outcome.error_type or ErrorType.HTTP_ERROR,
                               error=f"the job could not be read: {outcome.error}", response=scrub(outcome.text))]
        view = outcome.value()
        outputs = normal_outputs(view.get("outputs") if isinstance(view, dict) else None)
    items = yield from fetch_outputs(conn, record_id, job_id, outputs, fmt, target)
    return items
