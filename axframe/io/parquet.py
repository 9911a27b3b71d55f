"""Parquet files: read with their stored types (nullable extension dtypes made plain), written with mixed object
columns as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import InputFileError, OutputFileError
from .paths import looks_like
from .table import cell_text, is_null

_DEFAULT_STR = pd.Series(["a"]).dtype  # object on pandas 2, str on pandas 3


def read(path: Path) -> pd.DataFrame:
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
            kind = looks_like(handle.read(8))
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
        return s.astype("int64") if not has_na and kind == "i" else _objects(s, int)
    if kind == "b":
        return s.astype(bool) if not has_na else _objects(s, bool)
    if kind == "f":
        return s.astype("float64")
    return _plain_text(s)


def _objects(s: pd.Series, convert: Callable[[Any], Any]) -> pd.Series:
    """An object column of the values *convert* makes, None where missing."""
    return pd.Series([None if pd.isna(v) else convert(v) for v in s], index=s.index, name=s.name, dtype=object)


def _plain_text(s: pd.Series) -> pd.Series:
    """Text as pandas' default text dtype, None where missing; an object column when it holds anything else."""
    values = [None if is_null(v) else v for v in s.astype(object)]
    if all(v is None or isinstance(v, str) for v in values):
        return pd.Series(values, index=s.index, name=s.name, dtype=_DEFAULT_STR if values else object)
    return pd.Series(values, index=s.index, name=s.name, dtype=object)


def writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    """What writes *frame* as Parquet; it is converted now, so that a frame Parquet cannot hold fails before
    anything is written."""
    table = _arrow_table(frame)
    return lambda target: _write(target, table)


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
        values = [None if is_null(v) else v for v in s.tolist()]
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {str}:
            text_columns.append(column)
        elif not _one_plain_type(kinds, values):
            data[column] = pd.Series([None if v is None else cell_text(v) for v in values], dtype=object)
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


def _one_plain_type(kinds: set[type], values: list[Any]) -> bool:
    """Whether an object column's values are all 64-bit ints, all floats or all booleans (Parquet stores those)."""
    return (kinds <= {int, np.int64} and all(-2 ** 63 <= v < 2 ** 63 for v in values if v is not None)
            or kinds <= {float, np.float64} or kinds <= {bool, np.bool_})


def _write(target: Path, table: Any) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, target)

