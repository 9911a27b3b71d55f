"""What every format shares: a file's header and blank rows checked on reading, a frame made ready to write,
a cell's value as text."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import InputFileError, OutputFileError


def checked(header: list[str], body: pd.DataFrame, where: str, label: Callable[[int], str]) -> pd.DataFrame:
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


def prepared(frame: Any) -> pd.DataFrame:
    """*frame* ready to write: a named index as columns, column names as text (each once)."""
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


def is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def column_values(s: pd.Series) -> list[Any]:
    """A column's values as Python objects, None for missing ones."""
    return [None if is_null(v) else v for v in s.tolist()]


def cell_text(value: Any) -> str:
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

