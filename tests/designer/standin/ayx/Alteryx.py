"""Stand-in for ``ayx.Alteryx``: ``read`` what the test fed, ``write`` only what the Python tool accepts.

See the package docstring for the rules.  Test hooks: :func:`feed`,
:data:`written`, :data:`writes`, :func:`reset`.
"""

from __future__ import annotations

import datetime
import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["read", "write", "getIncomingConnectionNames", "feed", "reset", "written", "writes", "check_frame"]

_inputs: dict[str, pd.DataFrame] = {}
written: dict[int, pd.DataFrame] = {}   # anchor -> the last frame written to it
writes: list[tuple[int, pd.DataFrame]] = []  # every write, in order

PLAIN_DTYPES = (np.dtype("int64"), np.dtype("float64"), np.dtype("bool"), np.dtype("datetime64[ns]"))
_PLAIN_SCALARS = (str, bool, numbers.Integral, numbers.Real, np.bool_, datetime.date, datetime.time)
_PREFIX = "ERROR: Alteryx.write(pandas_df, outgoing_connection_number):"


def feed(inputs: dict[str, pd.DataFrame]) -> None:
    """Set the incoming connections (``{"#1": frame}``) and forget earlier writes."""
    reset()
    for name, frame in inputs.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"input {name!r} must be a pandas DataFrame")
        _inputs[name] = frame.copy()


def reset() -> None:
    _inputs.clear()
    written.clear()
    writes.clear()


def getIncomingConnectionNames() -> list[str]:
    return list(_inputs)


def read(incoming_connection_name: str) -> pd.DataFrame:
    """A copy of the frame on an incoming connection (``"#1"``, ``"#2"``... or a named connection)."""
    if not isinstance(incoming_connection_name, str):
        raise TypeError("The incoming connection name must be a string, such as '#1'.")
    if incoming_connection_name not in _inputs:
        known = ", ".join(repr(n) for n in _inputs) or "none"
        raise ValueError(f"Incoming connection {incoming_connection_name!r} is not connected "
                         f"(connected: {known}).")
    return _inputs[incoming_connection_name].copy()


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain_value(value: Any) -> bool:
    if _is_missing(value):
        return True
    if isinstance(value, datetime.datetime):
        return value.tzinfo is None
    return isinstance(value, _PLAIN_SCALARS)


def _plain_dtype(dtype: Any) -> bool:
    if isinstance(dtype, np.dtype):
        return dtype in PLAIN_DTYPES or dtype == np.dtype(object)
    if isinstance(dtype, pd.StringDtype):  # pandas 3's default "str" has NaN as its missing value
        na = getattr(dtype, "na_value", pd.NA)
        return isinstance(na, float) and math.isnan(na)
    return False


def check_frame(frame: Any) -> None:
    """Raise ``TypeError``/``ValueError`` as the Python tool would for a frame it cannot write."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("Currently only pandas dataframes can be used to pass data to outgoing connections "
                        f"in Alteryx (got {type(frame).__name__})")
    if frame.shape[1] == 0:
        raise ValueError("The dataframe has no columns: Alteryx needs at least one field in an outgoing "
                         "connection.")
    if isinstance(frame.columns, pd.MultiIndex):
        raise ValueError("The dataframe has a MultiIndex of columns; Alteryx field names are one level.")
    names = [str(c) for c in frame.columns]
    if any(not n.strip() for n in names):
        raise ValueError("A column has an empty name; every Alteryx field needs a name.")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"Columns {', '.join(map(repr, repeated))} appear more than once; Alteryx field names "
                         "are unique.")
    for position, name in enumerate(names):
        column = frame.iloc[:, position]
        if not _plain_dtype(column.dtype):
            raise TypeError(f"couldn't find conversion for {name} (\"{column.dtype}\") from pandas to yxdb: the "
                            "Python tool takes int64, float64, bool, datetime64[ns], str and object columns of "
                            "plain values")
        if column.dtype == np.dtype(object):
            for row, value in enumerate(column.tolist()):
                if _plain_value(value):
                    continue
                raise TypeError(f"couldn't convert column {name} (\"object\") to yxdb: row {row} holds a "
                                f"{type(value).__name__} ({str(value)[:60]!r}); object columns may hold only "
                                "text, numbers, booleans, dates and missing values")


def write(pandas_df: Any, outgoing_connection_number: Any) -> None:
    """Check the frame and the anchor as the Python tool does, then keep a copy as ``written[anchor]``."""
    try:
        if not isinstance(outgoing_connection_number, int) or isinstance(outgoing_connection_number, bool):
            raise TypeError("The outgoing connection number must be an integer value.")
        if not 1 <= outgoing_connection_number <= 5:
            raise ValueError("The outgoing connection number must be an integer between 1 and 5")
        if pandas_df is None:
            raise TypeError("A pandas dataframe is required for passing data to outgoing connections in Alteryx")
        check_frame(pandas_df)
    except (TypeError, ValueError) as err:
        print(_PREFIX)
        print(err)
        raise
    copy = pandas_df.copy()
    written[outgoing_connection_number] = copy
    writes.append((outgoing_connection_number, copy))
