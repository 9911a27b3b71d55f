"""CSV files: read as text (the encoding and the delimiter found out, problems told in plain words), written
as UTF-8 with a byte-order mark."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Callable

import pandas as pd

from ..errors import InputFileError
from .paths import looks_like
from .table import cell_text, checked, column_values


def read(path: Path, encoding: str) -> pd.DataFrame:
    raw = path.read_bytes()
    kind = looks_like(raw[:8])
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
    return checked(header, table.iloc[1:], str(path), lambda i: str(i + 1))


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


def writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    """What writes *frame* as CSV; its cells are turned into text now, before anything is written."""
    header, rows = list(frame.columns), _rows(frame)
    return lambda target: _write(target, header, rows)


def _rows(frame: pd.DataFrame) -> list[list[str]]:
    columns = [[cell_text(v) for v in column_values(frame[c])] for c in frame.columns]
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(len(frame))]


def _write(target: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(target, "w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle, lineterminator="\r\n")
        out.writerow(header)
        out.writerows(rows)

