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

import csv
import io
import json
import math
import os
import re
import uuid
import warnings
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Union

import numpy as np
import pandas as pd

from .errors import FrameError, InputFileError, OutputFileError

__all__ = ["read_frame", "write_frame", "write_sheets", "write_results", "sheet_names", "results_paths",
           "check_output_path", "InputFileError", "OutputFileError", "FORMATS"]

PathLike = Union[str, "os.PathLike[str]"]

FORMATS = (".csv", ".xlsx", ".parquet")
_READABLE = FORMATS + (".xlsm",)
EXCEL_CELL_LIMIT = 32_767
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
_PART = re.compile(r"^(?P<base>.*) \(part (?P<n>\d+)\)$", re.S)
_XESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_NEEDS_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_DEFAULT_STR = pd.Series(["a"]).dtype  # object on pandas 2, str on pandas 3


# --------------------------------------------------------------------------
# paths and formats
# --------------------------------------------------------------------------


def _path(path: PathLike) -> Path:
    return Path(os.fspath(path)).expanduser()


def _extension(path: Path, allowed: tuple[str, ...], error: type[FrameError]) -> str:
    ext = path.suffix.lower()
    if ext == ".xls":
        raise error(f"{path}: the old .xls format is not supported; open it in Excel and save it as .xlsx "
                    "(Excel Workbook)")
    if ext not in allowed:
        raise error(f"{path}: unsupported file type {ext or '(no extension)'!r}; use one of "
                    f"{', '.join(allowed)}")
    return ext


def _looks_like(head: bytes) -> str | None:
    """The real format of a file from its first bytes, for error hints."""
    if head.startswith(b"PK\x03\x04"):
        return "an Excel workbook (.xlsx) or another zip archive"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old .xls workbook or a password-protected workbook (save it as .xlsx without a password)"
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    return None


def _check_input(path: PathLike) -> tuple[Path, str]:
    p = _path(path)
    ext = _extension(p, _READABLE, InputFileError)
    if not p.exists():
        raise InputFileError(f"no such file: {p}")
    if p.is_dir():
        raise InputFileError(f"{p} is a folder, not a file")
    if p.stat().st_size == 0:
        raise InputFileError(f"{p} is empty (0 bytes)")
    return p, ext


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
    p, ext = _check_input(path)
    if sheet is not None and ext not in (".xlsx", ".xlsm"):
        raise InputFileError(f"{p}: sheet= applies to Excel workbooks only, not to {ext} files")
    if ext == ".csv":
        return _read_csv(p, encoding)
    if ext == ".parquet":
        return _read_parquet(p)
    return _read_xlsx(p, sheet)


def sheet_names(path: PathLike) -> list[str]:
    """The names of an Excel workbook's sheets, in order.

    Raises
    ------
    InputFileError
        When the file is missing or not a readable workbook.
    """
    p, ext = _check_input(path)
    if ext not in (".xlsx", ".xlsm"):
        raise InputFileError(f"{p}: only Excel workbooks have sheets")
    book = _open_workbook(p)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _finish(header: list[str], body: pd.DataFrame, where: str, label: Callable[[int], str]) -> pd.DataFrame:
    """Header names, unnamed and duplicate columns, blank rows: the checks common to CSV and Excel."""
    names = [h.strip() for h in header]
    blank = np.zeros((len(body), len(names)), dtype=bool)
    for i in range(len(names)):
        blank[:, i] = body.iloc[:, i].str.strip().eq("").to_numpy(dtype=bool)
    if not any(names):
        if not blank.all():
            raise InputFileError(f"{where} has no header row: the first row is empty; put the column names "
                                 "(RecordID, ...) in the first row")
        raise InputFileError(f"{where} holds no data")
    keep = []
    for i, name in enumerate(names):
        if name:
            keep.append(i)
        elif not blank[:, i].all():
            raise InputFileError(f"{where}: column {label(i)} holds values but has no name in the header row "
                                 "(the first row); name it or delete it")
    kept = [names[i] for i in keep]
    dupes = sorted({n for n in kept if kept.count(n) > 1})
    if dupes:
        raise InputFileError(f"{where} has duplicate column names: {', '.join(map(repr, dupes))}; "
                             "each column needs its own name")
    out = body.iloc[:, keep].set_axis(kept, axis=1)
    out = out[~blank[:, keep].all(axis=1)] if keep else out
    return out.reset_index(drop=True)


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    raw = path.read_bytes()
    kind = _looks_like(raw[:8])
    if kind is not None:
        raise InputFileError(f"{path} is not a CSV text file: it looks like {kind}; give it the right extension")
    text = _decode(path, raw, encoding)
    if not text.strip():
        raise InputFileError(f"{path} is empty (no header row, no data)")
    if "\x00" in text:
        raise InputFileError(f"{path} is not a text file (it holds NUL bytes); is it really a CSV?")
    first = text.split("\n", 1)[0].rstrip("\r")
    sep = ","
    if "," not in first:
        sep = ";" if ";" in first else "\t" if "\t" in first else ","
    if not first.strip(sep + " \t"):
        raise InputFileError(f"{path} has no header row: the first line is empty; put the column names "
                             "(RecordID, ...) in the first line")
    try:
        table = pd.read_csv(io.StringIO(text, newline=""), sep=sep, header=None, dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=False, quotechar='"', doublequote=True, engine="c")
    except pd.errors.ParserError as exc:
        raise InputFileError(f"{path}: {_csv_problem(str(exc))}") from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{path} is empty (no header row, no data)") from None
    table = table.fillna("")
    header = [str(v) for v in table.iloc[0].tolist()]
    return _finish(header, table.iloc[1:], str(path), lambda i: str(i + 1))


def _decode(path: Path, raw: bytes, encoding: str) -> str:
    try:
        codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        if codec == "utf-8-sig" and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            codec = "utf-16"  # Excel's "Unicode Text"
        return raw.decode(codec)
    except LookupError:
        raise InputFileError(f"{path}: unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        hint = ("read it with encoding='cp1252' (Windows 'ANSI', Western Europe) or its own encoding, "
                "or save it from Excel as 'CSV UTF-8'") if codec == "utf-8-sig" else "try another encoding="
        raise InputFileError(f"{path} is not {encoding} text (byte 0x{raw[exc.start]:02x} on line {line}); "
                             f"{hint}") from None


def _csv_problem(message: str) -> str:
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if fields:
        want, row, saw = fields.groups()
        return (f"row {row} (counting the header as row 1) has {saw} values but the header row has {want} "
                "columns; a value that contains the delimiter must be in double quotes")
    quote = re.search(r"EOF inside string starting at row (\d+)", message)
    if quote:
        return (f"a double quote opened in row {int(quote.group(1)) + 1} is never closed (is the file "
                "truncated?)")
    return f"cannot be read as CSV: {message}"


def _open_workbook(path: Path) -> Any:
    import openpyxl

    try:
        with warnings.catch_warnings():  # "no default style", "extension not supported": noise for a reader
            warnings.simplefilter("ignore", UserWarning)
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, XML errors...
        with open(path, "rb") as handle:
            kind = _looks_like(handle.read(8))
        hint = f"; it looks like {kind}" if kind and not kind.startswith("an Excel") else ""
        raise InputFileError(f"{path} is not a readable Excel workbook (corrupt or not .xlsx){hint}: "
                             f"{type(exc).__name__}: {exc}") from None


def _read_xlsx(path: Path, sheet: str | int | None) -> pd.DataFrame:
    book = _open_workbook(path)
    try:
        names = list(book.sheetnames)
        if sheet is None:
            if not book.worksheets:
                raise InputFileError(f"{path} has no worksheet")
            ws = book.worksheets[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not -len(names) <= sheet < len(names):
                raise InputFileError(f"{path} has {len(names)} sheet(s), no sheet number {sheet}; sheets: "
                                     f"{', '.join(map(repr, names))}")
            ws = book[names[sheet]]
        elif sheet in names:
            ws = book[sheet]
        else:
            near = [n for n in names if n.strip().lower() == str(sheet).strip().lower()]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise InputFileError(f"{path} has no sheet {sheet!r}{hint}; its sheets are: "
                                 f"{', '.join(map(repr, names))}")
        if not hasattr(ws, "iter_rows"):
            raise InputFileError(f"{path}: sheet {ws.title!r} is a chart, not a table")
        title = ws.title
        ws.reset_dimensions()  # some writers record a wrong used range
        rows = [[_excel_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(f"{path} is not a readable Excel workbook (corrupt): {type(exc).__name__}: "
                             f"{exc}") from None
    finally:
        book.close()
    where = f"sheet {title!r} of {path}"
    while rows and not any(v.strip() for v in rows[-1]):
        rows.pop()
    if not rows:
        raise InputFileError(f"{where} is empty (no header row, no data)")
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    header = [_unescape(h) for h in rows[0]]
    body = pd.DataFrame(rows[1:], columns=range(width), dtype=str)
    from openpyxl.utils import get_column_letter

    frame = _finish(header, body, where, lambda i: get_column_letter(i + 1))
    frame = _join_parts(frame)
    for column in frame.columns:
        values = frame[column].tolist()
        if any("_x" in v for v in values):
            frame[column] = pd.Series([_unescape(v) for v in values], index=frame.index, dtype=str)
    return frame


def _excel_text(value: Any) -> str:
    """A cell's value as the text a person sees in it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        number = Decimal(f"{value:.15g}")  # Excel keeps 15 significant digits
        if number == number.to_integral_value():
            return str(int(number))
        return format(number, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) and value.tzinfo is None else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _unescape(text: str) -> str:
    return _XESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _join_parts(frame: pd.DataFrame) -> pd.DataFrame:
    """Join the ``X (part 2)``... columns of an over-long Excel value back into ``X``."""
    columns = list(frame.columns)
    drop: list[str] = []
    for i, base in enumerate(columns):
        parts: list[str] = []
        while i + 1 + len(parts) < len(columns):
            match = _PART.match(columns[i + 1 + len(parts)])
            if not match or match["base"] != base or int(match["n"]) != len(parts) + 2:
                break
            parts.append(columns[i + 1 + len(parts)])
        if not parts:
            continue
        pieces = [frame[c].tolist() for c in [base] + parts]
        # only our own splits: a piece follows only a piece at least half of Excel's cell limit long
        if all(not later[r] or len(earlier[r]) >= EXCEL_CELL_LIMIT // 2
               for earlier, later in zip(pieces, pieces[1:]) for r in range(len(frame))):
            frame[base] = pd.Series(["".join(t) for t in zip(*pieces)], index=frame.index, dtype=str)
            drop.extend(parts)
    return frame.drop(columns=drop) if drop else frame


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InputFileError(f"{path} has duplicate column names: {', '.join(map(repr, dupes))}")
        frame = pd.read_parquet(path, engine="pyarrow")
    except InputFileError:
        raise
    except Exception as exc:  # ArrowInvalid, OSError...
        with open(path, "rb") as handle:
            kind = _looks_like(handle.read(8))
        hint = f"; it looks like {kind}" if kind and kind != "a Parquet file" else ""
        raise InputFileError(f"{path} is not a readable Parquet file (truncated or corrupt){hint}: "
                             f"{type(exc).__name__}: {exc}") from None
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index(drop=frame.index.names == [None])
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.api.extensions.ExtensionDtype):
            frame[column] = _plain(frame[column])
    return frame


def _plain(s: pd.Series) -> pd.Series:
    """Nullable extension dtypes (Int64, boolean, Float64, string[...]) as plain numpy or text dtypes."""
    dtype = s.dtype
    if not isinstance(dtype, pd.api.extensions.ExtensionDtype) or dtype == _DEFAULT_STR:
        return s
    if isinstance(dtype, (pd.DatetimeTZDtype, pd.PeriodDtype, pd.IntervalDtype, pd.SparseDtype)):
        return s
    kind = getattr(dtype, "kind", "O")
    has_na = bool(s.isna().any())
    if kind in "iu":
        return s.astype("int64") if not has_na and kind == "i" else \
            pd.Series([None if pd.isna(v) else int(v) for v in s], index=s.index, name=s.name, dtype=object)
    if kind == "b":
        return s.astype(bool) if not has_na else \
            pd.Series([None if pd.isna(v) else bool(v) for v in s], index=s.index, name=s.name, dtype=object)
    if kind == "f":
        return s.astype("float64")
    values = [None if _is_null(v) else v for v in s.astype(object)]
    if all(v is None or isinstance(v, str) for v in values):
        return pd.Series(values, index=s.index, name=s.name, dtype=_DEFAULT_STR if values else object)
    return pd.Series(values, index=s.index, name=s.name, dtype=object)


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def _column_values(s: pd.Series) -> list[Any]:
    """A column's values as Python objects, None for missing ones."""
    return [None if _is_null(v) else v for v in s.tolist()]


def _text(value: Any) -> str:
    """A value as CSV text (and as Excel text for what is not a number or a boolean)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _excel_value(value: Any) -> Any:
    """None, a bool, a number, or text (returned as ``str``: always written as a text cell)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value) if abs(int(value)) < 10 ** 15 else str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return repr(value)
        return int(value) if value.is_integer() and abs(value) < 10 ** 15 else value
    return _text(value)


def _escape(text: str) -> str:
    """Excel's ``_xHHHH_`` escapes for characters XML cannot hold or would change (CR, controls)."""
    if not _NEEDS_ESCAPE.search(text):
        return text
    return _NEEDS_ESCAPE.sub(lambda m: "_x005F_" if m.group() == "_" else f"_x{ord(m.group()):04X}_", text)


def _utf16_len(text: str) -> int:
    return len(text) if len(text) <= EXCEL_CELL_LIMIT // 2 else len(text.encode("utf-16-le")) // 2


def _chunks(text: str, limit: int = EXCEL_CELL_LIMIT) -> list[str]:
    out = []
    i = 0
    while i < len(text):
        piece = text[i:i + limit]
        if _utf16_len(piece) > limit:  # characters outside the BMP count twice in Excel
            units = 0
            for k, ch in enumerate(piece):
                units += 2 if ord(ch) > 0xFFFF else 1
                if units > limit:
                    piece = piece[:k]
                    break
        out.append(piece)
        i += len(piece)
    return out


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


def _prepare(frame: Any) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise OutputFileError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    frame = frame.reset_index(drop=True)
    names = [str(c) for c in frame.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise OutputFileError(f"the frame has duplicate column names: {', '.join(map(repr, dupes))}; a file "
                              "needs one name per column")
    frame = frame.copy(deep=False)
    frame.columns = names
    return frame


def _check_sheet_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise OutputFileError("a sheet name must be non-empty text")
    if len(name) > 31:
        raise OutputFileError(f"sheet name {name!r} is {len(name)} characters long; Excel allows 31")
    if _SHEET_BAD.search(name) or name.startswith("'") or name.endswith("'"):
        raise OutputFileError(f"sheet name {name!r} may not contain [ ] : * ? / \\ nor start or end with '")
    if name.lower() == "history":
        raise OutputFileError("'History' is a sheet name Excel reserves")
    return name


def _replace(target: Path, write: Callable[[Path], None]) -> Path:
    """Write to a temporary file beside *target*, then move it into place."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFileError(f"cannot create the folder {target.parent}: {exc}") from None
    if target.is_dir():
        raise OutputFileError(f"{target} is a folder")
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(temp)
        os.replace(temp, target)
    except OSError as exc:
        hint = " (is it open in Excel or another program?)" if isinstance(exc, PermissionError) else ""
        raise OutputFileError(f"cannot write {target}{hint}: {exc}") from None
    except UnicodeEncodeError as exc:
        raise OutputFileError(f"cannot write {target}: a value is not valid Unicode text ({exc.reason})") from None
    finally:
        if temp.exists():
            temp.unlink()
    return target


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
    p = _path(path)
    return _replace(p, _planned(frame, p, sheet))


def write_sheets(frames: "dict[str, pd.DataFrame]", path: PathLike) -> Path:
    """Write several frames into one ``.xlsx`` workbook, one sheet each, in the order given.

    The same safeguards as :func:`write_frame` apply to every sheet (text
    cells never become formulas, long cells are split, sheet names checked).
    """
    p = _path(path)
    if _extension(p, FORMATS, OutputFileError) != ".xlsx":
        raise OutputFileError(f"{p}: several sheets need an .xlsx file")
    if not frames:
        raise OutputFileError("no sheets to write")
    sheets = {_check_sheet_name(name): _excel_columns(_prepare(frame)) for name, frame in frames.items()}
    return _replace(p, lambda t: _write_xlsx(t, sheets))


def _planned(frame: Any, p: Path, sheet: str | None = None) -> Callable[[Path], None]:
    """Check and convert *frame* for *p*'s format; return what writes it (nothing is written yet)."""
    ext = _extension(p, FORMATS, OutputFileError)
    if sheet is not None and ext != ".xlsx":
        raise OutputFileError(f"{p}: sheet= applies to .xlsx files only")
    data = _prepare(frame)
    if ext == ".csv":
        header, rows = list(data.columns), _csv_rows(data)
        return lambda t: _write_csv(t, header, rows)
    if ext == ".parquet":
        table = _arrow_table(data)
        return lambda t: _write_parquet(t, table)
    sheets = {_check_sheet_name(sheet or "Sheet1"): _excel_columns(data)}
    return lambda t: _write_xlsx(t, sheets)


def _csv_rows(frame: pd.DataFrame) -> list[list[str]]:
    columns = [[_text(v) for v in _column_values(frame[c])] for c in frame.columns]
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(len(frame))]


def _write_csv(target: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(target, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def _arrow_table(frame: pd.DataFrame) -> Any:
    import pyarrow as pa

    data = frame.copy()
    text_columns = []
    for column in data.columns:
        s = data[column]
        if s.dtype != object:
            if pd.api.types.is_string_dtype(s.dtype):
                text_columns.append(column)
            continue
        values = [None if _is_null(v) else v for v in s.tolist()]
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {str}:
            text_columns.append(column)
        elif not (kinds <= {int, np.int64} and all(-2 ** 63 <= v < 2 ** 63 for v in values if v is not None)
                  or kinds <= {float, np.float64} or kinds <= {bool, np.bool_}):
            data[column] = pd.Series([None if v is None else _text(v) for v in values], dtype=object)
            text_columns.append(column)
    try:
        table = pa.Table.from_pandas(data, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise OutputFileError(f"the frame cannot be stored as Parquet: {exc}") from None
    for column in text_columns:  # an empty or all-missing text column is still text
        i = table.schema.get_field_index(column)
        if pa.types.is_null(table.schema.field(i).type):
            table = table.set_column(i, column, table.column(i).cast(pa.string()))
    return table


def _write_parquet(target: Path, table: Any) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, target)


def _excel_columns(frame: pd.DataFrame) -> list[tuple[str, list[Any]]]:
    """(name, cell values) per column, over-long text split over ``name (part n)`` columns."""
    if len(frame) + 1 > EXCEL_MAX_ROWS:
        raise OutputFileError(f"{len(frame):,} rows do not fit in an Excel sheet ({EXCEL_MAX_ROWS - 1:,} at most); "
                              "write .csv or .parquet")
    out: list[tuple[str, list[Any]]] = []
    for name in frame.columns:
        values = [_excel_value(v) for v in _column_values(frame[name])]
        values = [_escape(v) if isinstance(v, str) else v for v in values]
        long = [i for i, v in enumerate(values) if isinstance(v, str) and _utf16_len(v) > EXCEL_CELL_LIMIT]
        if not long:
            out.append((name, values))
            continue
        split = {i: _chunks(values[i]) for i in long}
        for k in range(max(len(pieces) for pieces in split.values())):
            column = []
            for i, value in enumerate(values):
                if i in split:
                    column.append(split[i][k] if k < len(split[i]) else None)
                else:
                    column.append(value if k == 0 else None)
            out.append((name if k == 0 else f"{name} (part {k + 1})", column))
    if len(out) > EXCEL_MAX_COLUMNS:
        raise OutputFileError(f"{len(out):,} columns do not fit in an Excel sheet ({EXCEL_MAX_COLUMNS:,} at most)")
    return out


def _write_xlsx(target: Path, sheets: dict[str, list[tuple[str, list[Any]]]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, columns in sheets.items():
        ws = book.create_sheet(title)
        for i, (name, values) in enumerate(columns):
            sample = [len(name)] + [len(v) if isinstance(v, str) else len(str(v)) for v in values[:50]
                                    if v is not None]
            ws.column_dimensions[get_column_letter(i + 1)].width = min(max(max(sample) + 2, 8), 60)
        ws.freeze_panes = "A2"

        def cell(value: Any, header: bool = False) -> Any:
            if not isinstance(value, str):
                return value
            c = WriteOnlyCell(ws, value=value)
            c.data_type = "s"  # text, never a formula (=, +, -, @) nor an error value (#N/A)
            if header:
                c.font = bold
            return c

        ws.append([cell(_escape(name), header=True) for name, _ in columns])
        for row in zip(*(values for _, values in columns)):
            ws.append([cell(v) for v in row])
    book.save(target)


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


def check_output_path(path: PathLike) -> Path:
    """*path* if a frame can be written there (a known format, a writable folder); else :class:`OutputFileError`.

    Nothing is written: a command line uses it to refuse a bad ``--output``
    before it sends a single call.
    """
    p = _path(path)
    _extension(p, FORMATS, OutputFileError)
    folder = p.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the nearest folder that exists: the missing ones are made when writing
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError(f"{p}: cannot write in {folder}")
    if p.is_dir():
        raise OutputFileError(f"{p} is a folder; give a file name")
    return p


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
        source = _path(input_path).resolve()
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
    p = _path(path)
    targets = results_paths(p, input_path=input_path)
    ext = p.suffix.lower()
    summary = _summary_dict(result, success, failure)
    if input_path is not None:
        summary["input"] = str(_path(input_path))
    if ext == ".xlsx":
        table = pd.DataFrame(_flat(summary), columns=["Field", "Value"])
        sheets = {"Success": _excel_columns(_prepare(success)), "Failure": _excel_columns(_prepare(failure)),
                  "Summary": _excel_columns(table)}
        return [_replace(p, lambda t: _write_xlsx(t, sheets))]
    summary["success"], summary["failure"] = targets[0].name, targets[1].name
    writes = [_planned(success, targets[0]), _planned(failure, targets[1])]
    _replace(targets[0], writes[0])
    _replace(targets[1], writes[1])
    text = json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n"
    _replace(targets[2], lambda t: None if t.write_text(text, encoding="utf-8") else None)
    return targets
