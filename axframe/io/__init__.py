"""Files in and out: CSV, Excel (.xlsx) and Parquet for input frames and run results.

>>> frame = ax.read_frame("users.xlsx", sheet="New starters")        # doctest: +SKIP
>>> result = ax.create(conn, "users.create", frame)                 # doctest: +SKIP
>>> ax.write_results(result, "users-run.xlsx")                      # doctest: +SKIP
>>> retry = ax.read_frame("users-run.xlsx", sheet="Failure")        # fix the rows, run again

Reading (:func:`read_frame`)
----------------------------
- CSV and Excel are read **as text**: every cell is a ``str``, exactly as
  written, and an empty cell is ``""`` (the engine treats empty and blank text
  as absent, like NaN).  So ids keep their leading zeros (``007``), 20-digit
  numbers stay exact, and a JSON ``contract`` comes back byte for byte.  The
  columns have pandas' plain text dtype (``object`` on pandas 2, ``str`` on
  pandas 3).
- Excel cells that hold numbers give their natural text: ``1`` (never
  ``1.0``), ``0.3``, with Excel's own 15 significant digits; booleans give
  ``true``/``false``; dates give ISO text (``2024-01-31``, or
  ``2024-01-31T09:30:00`` with a time).  Formulas give their last computed
  value.  Type long ids into Excel as text: Excel itself keeps only 15 digits
  of a number.
- The first row is the header row.  Column names are stripped of surrounding
  spaces; a column without a name is dropped when it holds nothing and is an
  error when it holds values.  Rows holding nothing at all (blank lines,
  ``,,,`` lines, formatted but empty Excel rows) are skipped.
- CSV: UTF-8, with or without a byte-order mark (a UTF-16 file with its BOM
  is read too).  Another encoding is an error that says so; pass
  ``encoding="cp1252"`` (Windows "ANSI") or the file's own.  The delimiter is
  a comma, or a semicolon or tab when the header row holds no comma (Excel's
  CSV in many European locales).
- Parquet keeps its stored types; pandas' nullable extension dtypes
  (``Int64``, ``boolean``, ``string``...) are turned into plain ones
  (``int64`` or ``object`` with ``None``, ``bool``, text).
- Every problem with the file as a whole raises :class:`InputFileError`
  before anything else happens: missing file, unsupported extension, empty
  file, no header row, unknown sheet, undecodable text, corrupt workbook or
  Parquet, duplicate column names.

Writing (:func:`write_frame`, :func:`write_results`)
---------------------------------------------------
- Files are written whole to a temporary file beside the target, then moved
  into place: an existing file is replaced only by a complete one.  Missing
  parent folders are created.  The index is dropped unless it has a name
  (``set_index("id")``), in which case it is written as columns.
- CSV: UTF-8 **with** a byte-order mark, so that Excel opens accented names
  correctly (our reader, pandas and Alteryx accept it), and ``\\r\\n`` line
  ends (RFC 4180, as Excel writes; a value's own line breaks are kept inside
  its quotes).  Values are written as text: missing values as empty cells,
  whole-number floats (a status code with gaps) as ``404``, booleans as
  ``true``/``false``, dicts and lists as JSON.  A CSV is plain data, written
  exactly: a value starting with ``=`` stays as it is (use ``.xlsx`` to open
  results in Excel safely).
- Excel: text is always written as a text cell, never as a formula or an
  error value (``=HYPERLINK(...)``, ``+1``, ``#N/A`` stay text), header
  included.  Control characters and carriage returns are stored with
  Excel's own ``_xHHHH_`` escapes, so they survive the round trip.  Integers
  of 16 digits or more are written as text (Excel would round them).  Excel
  holds at most 32,767 characters in a cell: a longer value (typically the
  ``Response`` of a list call) is **split**, never truncated, over extra
  columns placed right after it, ``Response (part 2)``, ``Response (part 3)``...,
  which :func:`read_frame` joins back together.  The header row is bold and
  frozen.
- Parquet: text columns are written as strings; object columns of mixed
  types (ids as ints and text, dicts) are written as text (JSON for dicts and
  lists) so that Parquet can store them.
- Problems raise :class:`OutputFileError` before the target is touched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..errors import InputFileError, OutputFileError
from . import csvfile, excel, parquet
# Excel's limits are public here; the row limit is read from this module at each write, so lowering it here
# (as a test does) takes effect
from .excel import EXCEL_CELL_LIMIT as EXCEL_CELL_LIMIT, EXCEL_MAX_COLUMNS as EXCEL_MAX_COLUMNS, \
    EXCEL_MAX_ROWS as EXCEL_MAX_ROWS
from .paths import FORMATS, PathLike, as_path, check_input, check_output_path, extension, write_whole
from .table import prepared

__all__ = ["read_frame", "write_frame", "write_sheets", "write_results", "sheet_names", "results_paths",
           "check_output_path", "InputFileError", "OutputFileError", "FORMATS"]


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------


def read_frame(path: PathLike, sheet: str | int | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file into a frame ready for the engine.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.xlsx`` (or ``.xlsm``) or ``.parquet`` file; ``~`` is
        expanded.
    sheet : str or int, optional
        Excel only: the sheet's name, or its position from 0.  Default: the
        first sheet.
    encoding : str
        CSV only: the text encoding (default UTF-8, with or without a BOM).

    Returns
    -------
    pandas.DataFrame
        For CSV and Excel every cell is text (``""`` when empty); Parquet
        keeps its types.  See the module docstring for the details.

    Raises
    ------
    InputFileError
        When the file as a whole cannot be read, with the reason and the fix.
    """
    p, ext = check_input(path)
    if sheet is not None and ext not in (".xlsx", ".xlsm"):
        raise InputFileError(f"{p}: sheet= applies to Excel workbooks only, not to {ext} files")
    if ext == ".csv":
        return csvfile.read(p, encoding)
    if ext == ".parquet":
        return parquet.read(p)
    return excel.read(p, sheet)


def sheet_names(path: PathLike) -> list[str]:
    """The names of an Excel workbook's sheets, in order.

    Raises
    ------
    InputFileError
        When the file is missing or not a readable workbook.
    """
    p, ext = check_input(path)
    if ext not in (".xlsx", ".xlsm"):
        raise InputFileError(f"{p}: only Excel workbooks have sheets")
    book = excel.open_workbook(p)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


def write_frame(frame: pd.DataFrame, path: PathLike, sheet: str | None = None) -> Path:
    """Write a frame to a ``.csv``, ``.xlsx`` or ``.parquet`` file, replacing any file of that name.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or path-like
        The format follows the extension; ``~`` is expanded and missing
        folders are created.
    sheet : str, optional
        Excel only: the sheet's name (default ``Sheet1``; at most 31
        characters).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OutputFileError
        Unsupported extension, duplicate column names, a frame beyond Excel's
        row or column limits, a file that cannot be replaced.  Nothing is
        written then.
    """
    p = as_path(path)
    return write_whole(p, _planned(frame, p, sheet))


def write_sheets(frames: "dict[str, pd.DataFrame]", path: PathLike) -> Path:
    """Write several frames into one ``.xlsx`` workbook, one sheet each, in the order given.

    The same safeguards as :func:`write_frame` apply to every sheet (text
    cells never become formulas, long cells are split, sheet names checked).
    """
    p = as_path(path)
    if extension(p, FORMATS, OutputFileError) != ".xlsx":
        raise OutputFileError(f"{p}: several sheets need an .xlsx file")
    if not frames:
        raise OutputFileError("no sheets to write")
    sheets = {excel.check_sheet_name(name): excel.sheet_columns(prepared(frame)) for name, frame in frames.items()}
    return write_whole(p, lambda t: excel.write(t, sheets))


def _planned(frame: Any, p: Path, sheet: str | None = None) -> Callable[[Path], None]:
    """Check and convert *frame* for *p*'s format; return what writes it (nothing is written yet)."""
    ext = extension(p, FORMATS, OutputFileError)
    if sheet is not None and ext != ".xlsx":
        raise OutputFileError(f"{p}: sheet= applies to .xlsx files only")
    data = prepared(frame)
    if ext == ".csv":
        return csvfile.writer(data)
    if ext == ".parquet":
        return parquet.writer(data)
    sheets = {excel.check_sheet_name(sheet or "Sheet1"): excel.sheet_columns(data)}
    return lambda t: excel.write(t, sheets)


# --------------------------------------------------------------------------
# a run's outputs
# --------------------------------------------------------------------------


def _summary_dict(result: Any, success: pd.DataFrame, failure: pd.DataFrame) -> dict[str, Any]:
    summary = getattr(result, "summary", None)
    if summary is not None and hasattr(summary, "as_dict"):
        return dict(summary.as_dict())
    return {"rows": len(success) + len(failure), "succeeded": len(success), "failed": len(failure)}


def _flat(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in summary.items():
        if isinstance(value, dict):
            rows.extend((f"{key}.{k}", v) for k, v in sorted(value.items()))
        else:
            rows.append((key, value))
    return rows


def results_paths(path: PathLike, *, input_path: PathLike | None = None) -> list[Path]:
    """The files :func:`write_results` writes for *path*, checked (see :func:`check_output_path`), none written.

    Also refuses a target that is the input file.
    """
    p = check_output_path(path)
    if p.suffix.lower() == ".xlsx":
        targets = [p]
    else:
        stem = p.name[:-len(p.suffix)]
        targets = [p.with_name(f"{stem}.success{p.suffix}"), p.with_name(f"{stem}.failure{p.suffix}"),
                   p.with_name(f"{stem}.summary.json")]
    if input_path is not None:
        source = as_path(input_path).resolve()
        clash = [t for t in targets if t.resolve() == source]
        if clash:
            raise OutputFileError(f"{clash[0]} is the input file; write the results under another name")
    for target in targets[1:]:
        if target.is_dir():
            raise OutputFileError(f"{target} is a folder; write the results under another name")
    return targets


def write_results(result: Any, path: PathLike, *, input_path: PathLike | None = None) -> list[Path]:
    """Write a run's success and failure frames, and its summary, side by side.

    Parameters
    ----------
    result : Result or (success, failure)
        What :func:`axframe.get`, :func:`axframe.create`... returned.
    path : str or path-like
        ``run.xlsx``: one workbook with sheets ``Success``, ``Failure`` and
        ``Summary`` (a two-column ``Field``/``Value`` table).  ``run.csv`` or
        ``run.parquet``: ``run.success.csv`` and ``run.failure.csv`` (or
        ``.parquet``) and ``run.summary.json``.
    input_path : str or path-like, optional
        The file the run's frame was read from: never overwritten (an error
        is raised before anything is written), and named in the summary.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Notes
    -----
    The failure file (or sheet) is a valid input: read it back with
    :func:`read_frame` (``sheet="Failure"``), fix the rows and run it again;
    the engine drops its ``StatusCode``, ``ErrorType``, ``Error`` and
    ``Response`` columns.  Empty frames are written with their header row.
    """
    if isinstance(result, (tuple, list)) and len(result) == 2:
        success, failure = result
    else:
        success, failure = getattr(result, "success", None), getattr(result, "failure", None)
    if not isinstance(success, pd.DataFrame) or not isinstance(failure, pd.DataFrame):
        raise OutputFileError(f"expected an axframe Result or a (success, failure) pair of frames, got "
                              f"{type(result).__name__}")
    p = as_path(path)
    targets = results_paths(p, input_path=input_path)
    ext = p.suffix.lower()
    summary = _summary_dict(result, success, failure)
    if input_path is not None:
        summary["input"] = str(as_path(input_path))
    if ext == ".xlsx":
        table = pd.DataFrame(_flat(summary), columns=["Field", "Value"])
        sheets = {"Success": excel.sheet_columns(prepared(success)),
                  "Failure": excel.sheet_columns(prepared(failure)), "Summary": excel.sheet_columns(table)}
        return [write_whole(p, lambda t: excel.write(t, sheets))]
    summary["success"], summary["failure"] = targets[0].name, targets[1].name
    writes = [_planned(success, targets[0]), _planned(failure, targets[1])]
    write_whole(targets[0], writes[0])
    write_whole(targets[1], writes[1])
    text = json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n"
    write_whole(targets[2], lambda t: None if t.write_text(text, encoding="utf-8") else None)
    return targets

