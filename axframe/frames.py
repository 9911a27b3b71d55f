"""Rows to calls, and calls' outcomes back to success and failure frames.

Column conventions
------------------
- ``RecordID``: required, unique, not null; :func:`add_record_id` adds one.
- Path and query parameters: columns named exactly as in the Swagger
  (``collectionId``, ``view``...).
- ``contract``: the request body as JSON text, a dict, a list, or a plain
  string for string bodies.  Without a ``contract`` column, the body is built
  from the columns whose names are the body's fields (or those listed in
  ``contract_columns``; dotted names nest: ``collectionsPermissions.isAdmin``),
  with text turned into the types the schema asks for.
- Uploads: the ``file`` column holds the local path of the ``.yxzp``; the
  other form fields come from the contract or columns.
- Output columns ``StatusCode``, ``ErrorType``, ``Error``, ``Response`` (and
  ``Method``, ``URL``, ``Body`` of a dry run, ``File``, ``Bytes`` of a
  download) are axframe's: an input frame's copies are dropped, so a failure
  frame can be fed straight back in.

Planning a run's rows
---------------------
:class:`RowPlan` works out once per run what :func:`plan_row` works out for
each row (the body's columns, each one's schema, check and key, the path and
query parameters), then plans the rows a column at a time, a chunk of rows at
once, each distinct value of a column checked once.  A row with any problem is
planned by :func:`plan_row` itself, so that its message is the one it always
was; a large dry run costs its URL and body text per row and little more.

Its length (about 750 lines): the per-row planner and the compiled column-at-a-time plan, which must
give the same call and the same message for every row (tests/client/test_row_plan.py), live side by side.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from urllib.parse import quote

import numpy as np
import pandas as pd

from . import schemas
from .catalogue import Endpoint, Param
from .client.call import Call
from .client.secrets import is_secret_name
from .errors import ErrorType, FrameError, PackageError
from .merge import Merge

__all__ = ["RECORD_ID", "CONTRACT", "OUTPUT_COLUMNS", "add_record_id", "record_key", "record_id_problems",
           "prepare_input", "Planned", "Problem",
           "plan_row", "RowPlan", "PlannedRows", "column_values", "contract_columns_for", "is_missing", "as_text"]

RECORD_ID = "RecordID"
CONTRACT = "contract"
OUTPUT_COLUMNS = ("StatusCode", "ErrorType", "Error", "Response", "Method", "URL", "Body", "File", "Bytes")


def is_missing(value: Any) -> bool:
    """None, NaN, NA and NaT, and empty or blank text, count as absent."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, dict, tuple)) else False
    except (TypeError, ValueError):
        return False


def as_text(value: Any) -> str:
    """A path, query or form value as text: ``12345.0`` from a spreadsheet becomes ``"12345"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
        if isinstance(value, bool):
            return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(_plain_json(value), ensure_ascii=False, default=str)
    return str(value).strip() if isinstance(value, str) else str(value)


def _plain_json(value: Any) -> Any:
    """*value* with numpy scalars as Python numbers and tuples as lists, so that it can be sent as JSON."""
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", None) == 0:
        return value.item()  # numpy scalars (np.int64 from a frame, say)
    return value


def record_key(value: Any) -> str:
    """The text a RecordID is known by (``7``, ``7.0`` and ``"7"`` are one row): in journals and file names."""
    if isinstance(value, bool):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def record_id_problems(values: Sequence[Any] | pd.Series) -> dict[int, Problem]:
    """Positions whose RecordID is empty or repeated, with the row failure each gets.

    *values* may be the RecordID column itself: a column of whole numbers (``add_record_id``'s) is checked
    without a look at each value, and only its repeated values are named.
    """
    if isinstance(values, pd.Series):
        if values.dtype.kind in "iu":  # numpy integers: none is missing, each one's key is its digits
            repeated = values.duplicated(keep=False).to_numpy()
            if not repeated.any():
                return {}
            values = column_values(values)
        else:
            values = column_values(values)
    keys = [None if is_missing(v) else record_key(v) for v in values]
    counts: dict[str, int] = {}
    for key in keys:
        if key is not None:
            counts[key] = counts.get(key, 0) + 1
    problems: dict[int, Problem] = {}
    for pos, key in enumerate(keys):
        if key is None:
            problems[pos] = Problem(ErrorType.INVALID_RECORD_ID, "RecordID is empty")
        elif counts[key] > 1:
            problems[pos] = Problem(ErrorType.DUPLICATE_RECORD_ID,
                                    f"RecordID {key!r} appears {counts[key]} times; each must be unique")
    return problems


def add_record_id(frame: pd.DataFrame, start: int = 1, column: str = RECORD_ID) -> pd.DataFrame:
    """A copy of *frame* with a ``RecordID`` column of 1, 2, 3... first (like Alteryx's Record ID tool).

    An existing column of that name is replaced.
    """
    out = frame.drop(columns=[column], errors="ignore").copy()
    out.insert(0, column, range(start, start + len(out)))
    return out


ADD_RECORD_ID = "add one with ax.add_record_id(frame)"
ADD_RECORD_ID_COLUMN = "add a column RecordID holding 1, 2, 3... (one unique value per row)"


def prepare_input(frame: Any) -> pd.DataFrame:
    """Check the frame as a whole; return it without axframe's own output columns."""
    if isinstance(frame, pd.DataFrame):
        df = frame
    elif isinstance(frame, (list, tuple)) and all(isinstance(r, dict) for r in frame):
        df = pd.DataFrame(list(frame))
    elif isinstance(frame, dict):
        df = pd.DataFrame([frame])
    else:
        raise FrameError(f"expected a pandas DataFrame (or a list of dicts), got {type(frame).__name__}")
    if RECORD_ID not in df.columns:
        near = [c for c in df.columns if str(c).strip().lower().replace("_", "").replace(" ", "") == "recordid"]
        if near:
            raise FrameError(f"the frame has no 'RecordID' column (there is a column {near[0]!r}; rename it to "
                             "'RecordID')")
        raise FrameError("the frame has no 'RecordID' column", hint=ADD_RECORD_ID, file_hint=ADD_RECORD_ID_COLUMN)
    if df.columns.duplicated().any():
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise FrameError(f"the frame has duplicate column names: {', '.join(dupes)}")
    reserved = [c for c in OUTPUT_COLUMNS if c in df.columns]
    if reserved:
        df = df.drop(columns=reserved)
    return df


@dataclass
class Problem:
    """Why a row cannot be sent (nothing is sent for it)."""

    error_type: str
    error: str


@dataclass
class Planned:
    """A row ready to send."""

    call: Call
    merge: Merge | None = None
    partial: dict | None = None  # the row's fields of a merged update
    shown_body: str = ""  # for a dry run


def _segment(param: Param, record: dict) -> str | Problem:
    value = record.get(param.name)
    if is_missing(value):
        return Problem(ErrorType.MISSING_PARAMETER,
                       f"{param.name} is missing: this action needs the id in a '{param.name}' column")
    text = as_text(value)
    if text in (".", "..") or not text.strip():
        return Problem(ErrorType.INVALID_PARAMETER, f"{param.name} {text!r} is not a valid id")
    if any(ord(c) < 32 for c in text):
        return Problem(ErrorType.INVALID_PARAMETER, f"{param.name} holds control characters")
    return quote(text, safe="")


def _query_value(param: Param, value: Any) -> str | Problem:
    coerced = schemas.coerce(value, param.schema)
    problems = schemas.validate(coerced, param.schema, param.name)
    if problems:
        return Problem(ErrorType.INVALID_PARAMETER, "; ".join(problems))
    return as_text(coerced)


def contract_columns_for(endpoint: Endpoint, columns: Sequence[str],
                         contract_columns: Iterable[str] | str | None) -> list[str]:
    """The columns a body is built from: those given, or every column named after a body field."""
    if contract_columns is not None and contract_columns != "auto":
        return _given_columns(contract_columns, columns)
    if CONTRACT in columns and contract_columns is None:
        return []
    schema = endpoint.contract_schema()
    if schema is None:
        return []
    if endpoint.body_kind() in ("array", "string"):
        return [c for c in columns if c == endpoint.body_name]
    taken = {p.name for p in endpoint.params} | {RECORD_ID, CONTRACT, "file"}
    props = schemas.resolve(schema).get("properties", {})
    return [c for c in columns if isinstance(c, str) and c not in taken and c.split(".", 1)[0] in props]


def _given_columns(contract_columns: Iterable[str] | str, columns: Sequence[str]) -> list[str]:
    chosen = [contract_columns] if isinstance(contract_columns, str) else list(contract_columns)
    missing = [c for c in chosen if c not in columns]
    if missing:
        raise FrameError(f"contract_columns not in the frame: {', '.join(map(str, missing))}")
    return chosen


def _nested_schema(schema: dict, dotted: str) -> dict:
    node = schemas.resolve(schema)
    for part in dotted.split("."):
        node = schemas.resolve(node.get("properties", {}).get(part, {}))
    return node


def _from_columns(endpoint: Endpoint, record: dict, columns: list[str]) -> Any:
    schema = endpoint.contract_schema() or {}
    kind = endpoint.body_kind()
    if kind in ("array", "string"):
        values = [record.get(c) for c in columns if not is_missing(record.get(c))]
        return schemas.coerce(values[0], schema) if values else None
    body: dict = {}
    for column in columns:
        value = record.get(column)
        if is_missing(value):
            continue
        plain = value.item() if hasattr(value, "item") else value  # type: ignore[union-attr]  # numpy scalars
        value = schemas.coerce(plain, _nested_schema(schema, column))
        parts = column.split(".")
        node = body
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return body


def _parse_contract(endpoint: Endpoint, raw: Any) -> Any:
    if isinstance(raw, (dict, list)):
        return _plain_json(raw)
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return json.loads(text)
        except ValueError as exc:
            if endpoint.body_kind() == "string":
                return text  # a bare SID typed without quotes
            if endpoint.body_kind() == "array" and not text.startswith("["):
                return schemas.coerce(text, endpoint.body_schema)  # ids typed as "a, b, c"
            raise _ContractError(f"contract is not valid JSON: {exc}") from None
    if isinstance(raw, (int, float, bool)):
        return raw
    raise _ContractError(f"contract must be JSON text, a dict or a list, not {type(raw).__name__}")


class _ContractError(ValueError):
    pass


def _form_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(_plain_json(value), ensure_ascii=False, default=str)
    return as_text(value)


def plan_row(endpoint: Endpoint, record: dict, *, columns: list[str], file_column: str = "file",
             merge: bool = True, legacy: bool = False) -> Planned | Problem:
    """Turn one row into a :class:`Call`, or say exactly why it cannot be sent."""
    try:
        return _plan_row(endpoint, record, columns=columns, file_column=file_column, merge=merge, legacy=legacy)
    except RecursionError:  # JSON nested thousands of levels deep: a row problem, not a crash of the run
        return Problem(ErrorType.INVALID_CONTRACT, "the contract is nested too deeply to be read or sent "
                                                   "(nesting of more than several hundred levels)")


def _plan_row(endpoint: Endpoint, record: dict, *, columns: list[str], file_column: str,
              merge: bool, legacy: bool) -> Planned | Problem:
    if legacy and not endpoint.legacy:
        return Problem(ErrorType.NOT_AVAILABLE, f"{endpoint.name} is not available on the legacy OAuth1 API")
    path = _path(endpoint, record, legacy)
    if isinstance(path, Problem):
        return path
    params = _query(endpoint, record)
    if isinstance(params, Problem):
        return params
    call = Call(endpoint.method, path, endpoint, params)
    kind = endpoint.body_kind()
    if kind == "none":
        return Planned(call)
    body = _body(endpoint, record, columns)
    if isinstance(body, Problem):
        return body
    if kind == "form":
        return _plan_upload(endpoint, call, body, record, file_column)
    return _plan_json(endpoint, call, kind, body, merge)


def _path(endpoint: Endpoint, record: dict, legacy: bool) -> str | Problem:
    """The endpoint's path with the row's ids in it."""
    path = endpoint.path
    for param in endpoint.path_params:
        segment = _segment(param, record)
        if isinstance(segment, Problem):
            return segment
        path = path.replace("{" + param.name + "}", segment)
    if legacy and endpoint.family in ("v1", "admin_v1"):
        path += "/"  # the legacy API's own spelling
    return path


def _query(endpoint: Endpoint, record: dict) -> list[tuple[str, str]] | Problem:
    """The query parameters the row gives values for."""
    params: list[tuple[str, str]] = []
    for param in endpoint.query_params:
        value = record.get(param.name)
        if is_missing(value):
            if param.required:
                return Problem(ErrorType.MISSING_PARAMETER, f"{param.name} is missing: this action needs a "
                                                            f"'{param.name}' column")
            continue
        text = _query_value(param, value)
        if isinstance(text, Problem):
            return text
        params.append((param.name, text))
    return params


def _body(endpoint: Endpoint, record: dict, columns: list[str]) -> Any:
    """The row's body: its contract, with the contract columns' fields over it (None: no body; or a Problem)."""
    try:
        body = _parse_contract(endpoint, record[CONTRACT]) if not is_missing(record.get(CONTRACT)) else None
    except _ContractError as exc:
        return Problem(ErrorType.INVALID_CONTRACT, str(exc))
    if columns:
        extra = _from_columns(endpoint, record, columns)
        if isinstance(body, dict) and isinstance(extra, dict):
            body = {**body, **extra}
        elif extra not in (None, {}) or body is None:
            body = extra
    return body


def _plan_json(endpoint: Endpoint, call: Call, kind: str, body: Any, merge: bool) -> Planned | Problem:
    """The call with its JSON body, checked against the schema (partly, when it is merged into the record)."""
    spec = endpoint.merge if merge else None
    if body is None:
        if endpoint.body_required and kind != "object":
            return Problem(ErrorType.INVALID_CONTRACT, f"contract is missing: {endpoint.name} needs a body")
        body = {} if kind == "object" else body
    label = endpoint.body_name or "contract"
    problems = schemas.validate(body, endpoint.body_schema, label, partial=spec is not None)
    if problems:
        return Problem(ErrorType.INVALID_CONTRACT, _problems_sentence(problems, spec))
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:  # a dict holding a date, a set, NaN...: not JSON
        reason = "it holds NaN or infinity, which JSON cannot carry" if isinstance(exc, ValueError) else str(exc)
        return Problem(ErrorType.INVALID_CONTRACT, f"contract cannot be sent as JSON: {reason}")
    call.body = text.encode("utf-8")
    call.content_type = "application/json; charset=utf-8"
    return Planned(call, merge=spec, partial=body if spec is not None else None, shown_body=text)


def _problems_sentence(problems: list[str], spec: Merge | None = None) -> str:
    text = "; ".join(problems)
    if spec is not None and spec.hint:
        text += f" ({spec.hint})"
    return text


def _plan_upload(endpoint: Endpoint, call: Call, body: Any, record: dict, file_column: str) -> Planned | Problem:
    fields = body if isinstance(body, dict) else {}
    if body is not None and not isinstance(body, dict):
        return Problem(ErrorType.INVALID_CONTRACT, "contract must be a JSON object of the upload's form fields")
    schema = endpoint.form_schema()
    fields = {k: schemas.coerce(v, schema["properties"].get(k, {})) for k, v in fields.items()}
    problems = schemas.validate(fields, schema, "")
    if problems:
        return Problem(ErrorType.INVALID_CONTRACT, "; ".join(problems))
    file_param = endpoint.file_field
    path_value = record.get(file_column)
    if file_param is not None:
        if is_missing(path_value):
            return Problem(ErrorType.INVALID_FILE, f"the '{file_column}' column must hold the path of the file to upload")
        file_path = os.path.expanduser(as_text(path_value))
        if not os.path.isfile(file_path):
            return Problem(ErrorType.INVALID_FILE, f"no such file: {file_path}")
        if os.path.getsize(file_path) == 0:
            return Problem(ErrorType.INVALID_FILE, f"the file is empty: {file_path}")
        if endpoint.upload == "package":
            from .packages import read_package

            try:
                with open(file_path, "rb") as handle:
                    read_package(handle.read())
            except (PackageError, OSError) as exc:
                return Problem(ErrorType.INVALID_FILE, f"{file_path} is not a workflow package: {exc}")
        call.file_path = file_path
        call.file_field = file_param.name
    call.form = {k: _form_text(v) for k, v in fields.items() if v is not None}
    shown = dict(call.form, **({file_param.name: f"@{call.file_path}"} if file_param is not None else {}))
    return Planned(call, shown_body=json.dumps(shown, ensure_ascii=False))


# --------------------------------------------------------------------------
# the compiled row plan: one endpoint's rows, a column at a time
# --------------------------------------------------------------------------

_CHUNK = 32_768  # rows planned at once: what a chunk holds in flight stays small however long the frame
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode  # json.dumps(value, ensure_ascii=False,
# allow_nan=False), made once
_SCALARS = (str, int, float, bool)


class _Bad:
    """A cell the column pass does not vouch for: its row is planned by :func:`plan_row` (same messages)."""


_BAD = _Bad()


def column_values(series: pd.Series) -> list:
    """A column's cells as ``frame.to_dict("records")`` gives them (numpy scalars as Python ones)."""
    values = series.tolist()
    if isinstance(series.dtype, pd.StringDtype):
        return values  # text, or the dtype's missing value: what boxing would leave as it is
    if series.dtype == object or isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        from pandas.core.dtypes.cast import maybe_box_native  # what to_dict boxes these columns' cells with

        values = list(map(maybe_box_native, values))
    return values


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
