"""One row to one call: the record IDs, the input's preparation, and :func:`plan_row` (a row's path,
query and body, or the problem that stops it), the reference the compiled plan of :mod:`.columns` agrees with."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from urllib.parse import quote

import pandas as pd

from .. import schemas
from ..catalogue import Endpoint, Param
from ..client.call import Call
from ..errors import ErrorType, FrameError, PackageError
from ..merge import Merge


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


def column_values(series: pd.Series) -> list:
    """A column's cells as ``frame.to_dict("records")`` gives them (numpy scalars as Python ones)."""
    values = series.tolist()
    if isinstance(series.dtype, pd.StringDtype):
        return values  # text, or the dtype's missing value: what boxing would leave as it is
    if series.dtype == object or isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        from pandas.core.dtypes.cast import maybe_box_native  # what to_dict boxes these columns' cells with

        values = list(map(maybe_box_native, values))
    return values


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
            from ..packages import read_package

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
