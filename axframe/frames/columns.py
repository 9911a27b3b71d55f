"""The compiled row plan: one endpoint's rows, a column at a time (see the package's docstring); a row
with any problem is planned by :func:`.row.plan_row`, for the same message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .. import schemas
from ..catalogue import Endpoint, Param
from ..client.call import Call
from ..client.secrets import is_secret_name
from .row import (CONTRACT, Planned, Problem, _nested_schema, _query_value, _segment, column_values, is_missing,
                  plan_row)


_CHUNK = 32_768  # rows planned at once: what a chunk holds in flight stays small however long the frame
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode  # json.dumps(value, ensure_ascii=False,
# allow_nan=False), made once
_SCALARS = (str, int, float, bool)


class _Bad:
    """A cell the column pass does not vouch for: its row is planned by :func:`plan_row` (same messages)."""


_BAD = _Bad()


def _by_value(series: pd.Series, cell: Any) -> list:
    """``[cell(v) for v in column_values(series)]``, with *cell* called once per distinct value where the
    column's type makes that exact (text, whole numbers, booleans: there, values are equal only when
    they are the same value, and missing ones all count as absent) and the first values repeat."""
    values = column_values(series)
    kind = series.dtype.kind if not isinstance(series.dtype, pd.api.extensions.ExtensionDtype) else None
    if not (kind in ("i", "u", "b") or isinstance(series.dtype, pd.StringDtype)) \
            or len(set(values[:256])) > 64:  # another type, or most values distinct: a memo costs more
        return [cell(v) for v in values]
    missing = cell(None)
    memo: dict[Any, Any] = {}
    out = []
    for value in values:
        if value in memo:
            out.append(memo[value])
        elif value is None or value is pd.NA or (type(value) is float and value != value):  # missing
            out.append(missing)
        else:
            out.append(memo.setdefault(value, cell(value)))
    return out


def _text_piece(key: str, passes: Any, other: Any) -> Any:
    """A body cell of a plain text field: a text value is checked by *passes* (the column's compiled
    check, ``None``: none) and written as ``json.dumps`` writes text; any other value goes to *other*."""
    encode = json.encoder.encode_basestring  # what the encoder writes text with when ensure_ascii=False

    def piece(value: Any) -> Any:
        if type(value) is not str:
            return other(value)
        if not value.strip():
            return None
        if passes is not None and not passes(value):
            return _BAD
        return key + encode(value)
    return piece


def _guarded(cell: Any) -> Any:
    """*cell*, or :data:`_BAD` when it raises: :func:`plan_row` then meets the value and does what it does."""
    def guarded(value: Any) -> Any:
        try:
            return cell(value)
        except Exception:  # noqa: BLE001 - plan_row, which plans the row instead, has the last word
            return _BAD
    return guarded


@dataclass
class PlannedRows:
    """One chunk of rows planned a column at a time.

    ``slow`` holds the rows planned one by one (by :func:`plan_row`): their :class:`Planned` or
    :class:`Problem`, by position in the frame.  Every other row of the chunk is ready to send:
    ``paths[i]``, ``params[i]`` (``None``: no query) and ``bodies[i]`` (the JSON text, ``None`` without
    a body) for the row at ``start + i``; ``masked`` says whether the bodies may hold secrets.
    """

    start: int
    stop: int
    slow: dict[int, Planned | Problem]
    paths: list[str]
    params: list[list[tuple[str, str]]] | None
    bodies: list[str] | None
    masked: bool


class RowPlan:
    """How one endpoint's rows become calls, worked out once per run and used for every row.

    What :func:`plan_row` works out for each row from the catalogue and the schemas -- each body
    column's schema for coercion and for validation, its key, the path and query parameters -- is
    worked out here once.  Rows are then planned a column at a time, :data:`_CHUNK` rows at once: each
    distinct value of a text, whole-number or boolean column is coerced, checked and encoded once.  A
    row that pass does not vouch for (a cell with any problem, a missing required field) is planned by
    :func:`plan_row` itself, and so is every row of an action the pass does not cover (uploads, array
    or text bodies, a ``contract`` column, dotted column names, the legacy API): a row's call, and a
    bad row's message, are exactly what :func:`plan_row` makes of it.
    """

    def __init__(self, endpoint: Endpoint, columns: Sequence[Any], body_columns: list[str], *,
                 file_column: str = "file", merge: bool = True, legacy: bool = False):
        self.endpoint = endpoint
        self.body_columns = body_columns
        self.file_column = file_column
        self.merge = merge
        self.legacy = legacy
        self.kind = endpoint.body_kind()
        self.spec = endpoint.merge if merge else None
        self.method = endpoint.method
        self.suffix = "/" if legacy and endpoint.family in ("v1", "admin_v1") else ""
        self.required: list[str] = []
        self.fast = self._compile(list(columns))

    def _compile(self, columns: list[Any]) -> bool:
        """Work out each column's part of the plan once; False when this action's rows are planned one by one.

        Its complexity (23) is one early return per kind of action the column pass does not serve (uploads,
        array or text bodies, legacy-only actions, dotted or contract columns): kept in one place, so that the
        list of what falls back to ``plan_row`` reads as one list.
        """
        endpoint = self.endpoint
        if (self.legacy and not endpoint.legacy) or self.kind not in ("none", "object"):
            return False
        if self.kind == "none":
            return True
        if CONTRACT in columns or any(not isinstance(c, str) or "." in c for c in self.body_columns):
            return False
        top = schemas.resolve(endpoint.body_schema)
        if (top.get("type") or ("object" if "properties" in top else None)) != "object" or "enum" in top:
            return False
        self.bare = "properties" not in top and "additionalProperties" not in top  # any JSON object goes
        props = top.get("properties", {})
        extra = top.get("additionalProperties")
        label = endpoint.body_name or "contract"
        self.cells: list[tuple[str, str, dict, dict | None, str]] = []
        for column in self.body_columns:
            check = None if self.bare else (schemas.resolve(props[column]) if column in props else
                                            schemas.resolve(extra) if isinstance(extra, dict) else None)
            self.cells.append((column, _ENCODE(column) + ": ", _nested_schema(top, column), check,
                               f"{label}.{column}"))
        if self.spec is None and not self.bare:
            self.required = list(top.get("required", []))
            if any(name not in self.body_columns for name in self.required):
                return False  # every row misses a required field: plan_row says which
        return True

    # ------------------------------------------------------------------ rows
    def chunks(self, df: pd.DataFrame, skip: Iterable[int] = ()) -> Iterable[PlannedRows]:
        """The rows of *df* (but those at the positions in *skip*), planned :data:`_CHUNK` at a time."""
        skipped = set(skip)
        for start in range(0, len(df), _CHUNK):
            stop = min(start + _CHUNK, len(df))
            yield self._chunk(df, start, stop, skipped)

    def planned(self, df: pd.DataFrame, skip: Iterable[int] = ()) -> Iterable[tuple[int, Planned | Problem]]:
        """Each row's :class:`Planned` (or :class:`Problem`), by position, in order."""
        endpoint, kind, spec = self.endpoint, self.kind, self.spec
        for part in self.chunks(df, skip):
            for i in range(part.stop - part.start):
                pos = part.start + i
                if pos in part.slow:
                    yield pos, part.slow[pos]
                    continue
                path = part.paths[i]
                if path is None:
                    continue  # skipped
                call = Call(self.method, path, endpoint, part.params[i] if part.params is not None else [])
                if kind == "none":
                    yield pos, Planned(call)
                    continue
                text = part.bodies[i] if part.bodies is not None else "{}"
                call.body = text.encode("utf-8")
                call.content_type = "application/json; charset=utf-8"
                yield pos, Planned(call, merge=spec, partial=json.loads(text) if spec is not None else None,
                                   shown_body=text)

    def _chunk(self, df: pd.DataFrame, start: int, stop: int, skipped: set[int]) -> PlannedRows:
        n = stop - start
        part = df.iloc[start:stop]
        bad: set[int] = {i for i in range(n) if start + i in skipped}
        slow: dict[int, Planned | Problem] = {}
        if not self.fast:
            paths: list = [None] * n
            records = part.to_dict("records")
            for i, record in enumerate(records):
                if i not in bad:
                    slow[start + i] = plan_row(self.endpoint, record, columns=self.body_columns,
                                               file_column=self.file_column, merge=self.merge, legacy=self.legacy)
            return PlannedRows(start, stop, slow, paths, None, None, False)
        paths = self._paths(part, n, bad)
        params = self._params(part, n, bad)
        bodies, masked = self._bodies(part, n, bad) if self.kind == "object" else (None, False)
        slow_rows = sorted(i for i in bad if start + i not in skipped)
        if slow_rows:
            records = part.iloc[slow_rows].to_dict("records")
            for i, record in zip(slow_rows, records):
                slow[start + i] = plan_row(self.endpoint, record, columns=self.body_columns,
                                           file_column=self.file_column, merge=self.merge, legacy=self.legacy)
        for i in bad:
            paths[i] = None
        return PlannedRows(start, stop, slow, paths, params, bodies, masked)

    def _cells(self, part: pd.DataFrame, name: str, n: int, cell: Any) -> list:
        cell = _guarded(cell)
        if name in part.columns:
            return _by_value(part[name], cell)
        return [cell(None)] * n

    def _paths(self, part: pd.DataFrame, n: int, bad: set[int]) -> list:
        template = self.endpoint.path
        params = self.endpoint.path_params
        if not params:
            return [template + self.suffix] * n
        segments = []
        for param in params:
            def segment(value: Any, param: Param = param) -> Any:
                got = _segment(param, {param.name: value})
                return _BAD if isinstance(got, Problem) else got
            cells = self._cells(part, param.name, n, segment)
            if _BAD in cells:
                bad.update(i for i, c in enumerate(cells) if c is _BAD)
            segments.append(("{" + param.name + "}", cells))
        paths: list = []
        for i in range(n):
            path = template
            if i not in bad:
                for holder, cells in segments:
                    path = path.replace(holder, cells[i])
            paths.append(path + self.suffix)
        return paths

    def _params(self, part: pd.DataFrame, n: int, bad: set[int]) -> list | None:
        given = []
        for param in self.endpoint.query_params:
            if param.name not in part.columns and not param.required:
                continue

            def value(v: Any, param: Param = param) -> Any:
                if is_missing(v):
                    return _BAD if param.required else None
                text = _query_value(param, v)
                return _BAD if isinstance(text, Problem) else (param.name, text)
            cells = self._cells(part, param.name, n, value)
            if _BAD in cells:
                bad.update(i for i, c in enumerate(cells) if c is _BAD)
            given.append(cells)
        if not given:
            return None
        return [[c for c in row if c is not None and c is not _BAD] for row in zip(*given)]

    def _bodies(self, part: pd.DataFrame, n: int, bad: set[int]) -> tuple[list[str], bool]:
        """Each row's JSON body, built as ``json.dumps`` of the dict of its present cells would write it.

        One loop over the chunk's rows with a branch per kind of cell (complexity 23): the hot loop of a large
        run, where a call per cell would cost more than the branches.
        """
        pieces = []
        masked = False
        missing_any = False
        required = set(self.required)
        partial = self.spec is not None
        for column, key, coerce_schema, check, where in self.cells:
            secret = is_secret_name(column)
            nonscalar = []

            def piece(value: Any, key: str = key, coerce_schema: dict = coerce_schema, check: dict | None = check,
                      where: str = where) -> Any:
                if is_missing(value):
                    return None
                plain = value.item() if hasattr(value, "item") else value
                coerced = schemas.coerce(plain, coerce_schema)
                if check is not None and schemas.validate(coerced, check, where, partial=partial):
                    return _BAD
                text = key + _ENCODE(coerced)
                if not isinstance(coerced, _SCALARS):
                    nonscalar.append(True)
                return text
            plain_text = schemas.text_check(coerce_schema)
            if plain_text is not None and (check is coerce_schema or check is None):
                piece = _text_piece(key, plain_text if check is not None else None, piece)
            cells = self._cells(part, column, n, piece)
            if _BAD in cells:
                bad.update(i for i, c in enumerate(cells) if c is _BAD)
            if None in cells:
                missing_any = True
                if column in required:
                    bad.update(i for i, c in enumerate(cells) if c is None)
            masked = masked or secret or bool(nonscalar)
            pieces.append(cells)
        if not pieces:
            return ["{}"] * n, masked
        if not missing_any and not bad:
            joined = np.array(pieces[0], dtype=object)
            joined = "{" + joined
            for cells in pieces[1:]:
                joined = joined + ", " + np.array(cells, dtype=object)
            return (joined + "}").tolist(), masked
        return ["{" + ", ".join(p for p in row if p is not None and p is not _BAD) + "}" for row in zip(*pieces)], \
            masked
