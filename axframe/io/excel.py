"""Excel workbooks (.xlsx): cells read as the text a person sees, written so that text stays text (never a formula),
long values split over columns and joined back."""

from __future__ import annotations

import math
import re
import warnings
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputFileError, OutputFileError
from .paths import looks_like
from .table import cell_text, checked, column_values

EXCEL_CELL_LIMIT = 32_767
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
_PART = re.compile(r"^(?P<base>.*) \(part (?P<n>\d+)\)$", re.S)
_XESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_NEEDS_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------


def open_workbook(path: Path) -> Any:
    import openpyxl

    try:
        with warnings.catch_warnings():  # "no default style", "extension not supported": noise for a reader
            warnings.simplefilter("ignore", UserWarning)
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, XML errors...
        with open(path, "rb") as handle:
            kind = looks_like(handle.read(8))
        hint = f"; it looks like {kind}" if kind and not kind.startswith("an Excel") else ""
        raise InputFileError(f"{path} is not a readable Excel workbook (corrupt or not .xlsx){hint}: "
                             f"{type(exc).__name__}: {exc}") from None


def read(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """A sheet's table as text: *sheet* by name or position, the first by default."""
    book = open_workbook(path)
    try:
        ws = _worksheet(book, path, sheet)
        title = ws.title
        ws.reset_dimensions()  # some writers record a wrong used range
        rows = [[_excel_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        if _has_formulas(ws):
            _refuse_unsaved_formulas(path, title, rows)
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(f"{path} is not a readable Excel workbook (corrupt): {type(exc).__name__}: "
                             f"{exc}") from None
    finally:
        book.close()
    return _table(rows, f"sheet {title!r} of {path}")


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(ws: Any) -> bool:
    """Whether the sheet's XML holds any formula: a cheap scan, so that most workbooks are opened once."""
    source = getattr(ws, "_get_source", None)
    if source is None:
        return True  # not the read-only sheet we know: check the slow way
    with source() as handle:
        tail = b""
        while chunk := handle.read(1 << 20):
            if _FORMULA.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _refuse_unsaved_formulas(path: Path, title: str, rows: list[list[str]]) -> None:
    """A formula cell with no saved value reads as empty: refuse the file, naming the cells, rather than guess.

    Excel saves each formula's value beside it, and those values are what is read; a workbook written by a
    script (openpyxl, for one) holds the formulas only, until Excel opens and saves it.
    """
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        unsaved = []
        for r, row in enumerate(book[title].iter_rows()):
            for c, cell in enumerate(row):
                if cell.data_type == "f" and (r >= len(rows) or c >= len(rows[r]) or rows[r][c] == ""):
                    unsaved.append(f"{cell.coordinate} ({str(cell.value)[:40]})")
    finally:
        book.close()
    if unsaved:
        shown = ", ".join(unsaved[:5]) + (f" and {len(unsaved) - 5} more" if len(unsaved) > 5 else "")
        raise InputFileError(f"sheet {title!r} of {path}: {len(unsaved)} cell(s) hold a formula with no saved value: "
                             f"{shown}; axframe reads the values Excel saved, not formulas: open the workbook in "
                             "Excel and save it, or put the values themselves in those cells")


def _worksheet(book: Any, path: Path, sheet: str | int | None) -> Any:
    """The sheet asked for; an unknown one, or a chart, is an error that names the sheets."""
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
    return ws


def _table(rows: list[list[str]], where: str) -> pd.DataFrame:
    """A sheet's rows as a frame: the header row's names over the rest, checked, long values joined, escapes undone."""
    while rows and not any(v.strip() for v in rows[-1]):
        rows.pop()
    if not rows:
        raise InputFileError(f"{where} is empty (no header row, no data)")
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    header = [_unescape(h) for h in rows[0]]
    body = pd.DataFrame(rows[1:], columns=range(width), dtype=str)
    from openpyxl.utils import get_column_letter

    frame = checked(header, body, where, lambda i: get_column_letter(i + 1))
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


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


def check_sheet_name(name: str) -> str:
    """*name* if Excel takes it as a sheet's name; else :class:`OutputFileError`."""
    if not isinstance(name, str) or not name.strip():
        raise OutputFileError("a sheet name must be non-empty text")
    if len(name) > 31:
        raise OutputFileError(f"sheet name {name!r} is {len(name)} characters long; Excel allows 31")
    if _SHEET_BAD.search(name) or name.startswith("'") or name.endswith("'"):
        raise OutputFileError(f"sheet name {name!r} may not contain [ ] : * ? / \\ nor start or end with '")
    if name.lower() == "history":
        raise OutputFileError("'History' is a sheet name Excel reserves")
    return name


def sheet_columns(frame: pd.DataFrame) -> list[tuple[str, list[Any]]]:
    """(name, cell values) per column, over-long text split over ``name (part n)`` columns."""
    from . import EXCEL_MAX_ROWS  # read at each call through the package: its name is the public one, that tests lower

    if len(frame) + 1 > EXCEL_MAX_ROWS:
        raise OutputFileError(f"{len(frame):,} rows do not fit in an Excel sheet ({EXCEL_MAX_ROWS - 1:,} at most); "
                              "write .csv or .parquet")
    out: list[tuple[str, list[Any]]] = []
    for name in frame.columns:
        values = [_excel_value(v) for v in column_values(frame[name])]
        out.extend(_split([_escape(v) if isinstance(v, str) else v for v in values], name))
    if len(out) > EXCEL_MAX_COLUMNS:
        raise OutputFileError(f"{len(out):,} columns do not fit in an Excel sheet ({EXCEL_MAX_COLUMNS:,} at most)")
    return out


def _split(values: list[Any], name: str) -> list[tuple[str, list[Any]]]:
    """One column, or, when some of its text is longer than a cell holds, it and its ``name (part n)`` columns."""
    long = [i for i, v in enumerate(values) if isinstance(v, str) and _utf16_len(v) > EXCEL_CELL_LIMIT]
    if not long:
        return [(name, values)]
    split = {i: _chunks(values[i]) for i in long}
    out: list[tuple[str, list[Any]]] = []
    for k in range(max(len(pieces) for pieces in split.values())):
        column = []
        for i, value in enumerate(values):
            if i in split:
                column.append(split[i][k] if k < len(split[i]) else None)
            else:
                column.append(value if k == 0 else None)
        out.append((name if k == 0 else f"{name} (part {k + 1})", column))
    return out


def write(target: Path, sheets: dict[str, list[tuple[str, list[Any]]]]) -> None:
    """A workbook of *sheets* (name -> :func:`sheet_columns`): text cells as text, the header row bold and frozen."""
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
    return cell_text(value)


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

