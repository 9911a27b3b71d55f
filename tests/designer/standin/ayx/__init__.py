"""A stand-in for the ``ayx`` package of Alteryx Designer's Python tool, for tests only.

``from ayx import Alteryx`` gives :mod:`ayx.Alteryx`: ``Alteryx.read("#1")``
returns a copy of a frame the test gave with :func:`ayx.Alteryx.feed`, and
``Alteryx.write(frame, anchor)`` keeps a copy of what it accepts in
``Alteryx.written[anchor]``.  ``from ayx import Package`` gives
:mod:`ayx.Package`, whose ``installPackages`` records its arguments and
installs nothing.

``Alteryx.write`` refuses what the Python tool refuses, with an error like
the tool's (a line ``ERROR: Alteryx.write(pandas_df,
outgoing_connection_number):`` and the reason printed, then ``TypeError`` or
``ValueError``):

- anything but a pandas DataFrame;
- an anchor that is not a whole number from 1 to 5 (``True`` is refused too);
- a frame with no columns (a frame with columns and no rows is fine);
- column names that are empty or repeated (Alteryx field names are unique),
  or a MultiIndex of columns;
- a column whose dtype is not plain.

What counts as plain (this is the stand-in's decision, written down in
docs/alteryx-python-tool.md too):

- ``int64``, ``float64``, ``bool``, ``datetime64[ns]`` without a time zone;
- pandas 3's default string dtype ``str`` (``StringDtype`` whose missing
  value is NaN, whichever its storage);
- ``object``, when every value is ``None``, NaN, ``NaT`` (not ``pd.NA``), a ``str``, a
  ``bool``, an ``int`` or a ``float`` (Python's or NumPy's), or a
  ``datetime.date``/``datetime.datetime``/``datetime.time`` (``Timestamp``
  included; a datetime with a time zone is refused).

Everything else is refused: the nullable ``Int64``/``Float64``/``boolean``,
``string`` (``string[python]``, ``string[pyarrow]``: missing value ``pd.NA``),
``category``, other widths (``int32``, ``float32``, ``uint8``...), datetimes
with a time zone or another unit than nanoseconds, timedeltas, periods,
intervals, sparse and Arrow dtypes, and object columns holding a dict, list,
tuple, set, bytes or any other object.
"""

from . import Alteryx, Package

__all__ = ["Alteryx", "Package"]
__version__ = "0.0.0+standin"
