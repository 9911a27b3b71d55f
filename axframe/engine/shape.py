"""How rows end, and how endings become the success and failure frames.

Every row of every run ends in one :class:`Ending`: a success with its answer,
or a failure with ``ErrorType``/``Error``/``StatusCode``.  :func:`shape` turns
a run's endings back into the two frames, by a :class:`Shape` that names the
columns each frame gets after the input's.  Every input row lands in exactly
one frame; both keep their columns when empty; cells hold plain types only
(int, float, bool, text), so the frames go straight into Excel, CSV, Parquet
and ``Alteryx.write``.

Secrets: success frames mask what a row sent as a secret (a ``password``
column, such fields inside a contract); failure frames keep them, so that a
fixed failure frame can be sent again.  Answers and errors are scrubbed and
redacted wherever they come from.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ..client.secrets import is_secret_name, masked, masked_text, redact, scrub
from ..errors import ErrorType

__all__ = ["Ending", "Shape", "Summary", "Result", "shape", "shape_split", "plain_input", "records_frame", "expand_json", "RECORD_ID",
           "MACRO", "DOWNLOAD", "rows_text"]

RECORD_ID = "RecordID"
CONTRACT = "contract"


def rows_text(n: int) -> str:
    """``1 row``, ``2 rows``."""
    return f"{n} row" if n == 1 else f"{n} rows"


@dataclass
class Ending:
    """How one row ended.

    Attributes
    ----------
    ok : bool
    status : int or None
        The Server's status of the deciding answer (None when there was none).
    response : str
        The deciding answer's text, scrubbed of secrets.
    error_type : ErrorType or None
    error : str or None
        A sentence a person can act on.
    sent : bool
        Whether anything that may change the Server was sent for the row.
    note : str
        How the row was settled, when it was not the plain way (``reconciled: ...``).
    values : dict
        The row's output columns other than the standard ones (``JobId``, ``File``...).
    warnings : list of str
    from_journal : bool
        Taken from an earlier run's journal, nothing sent now.
    """

    ok: bool
    status: int | None = None
    response: str = ""
    error_type: ErrorType | str | None = None
    error: str | None = None
    sent: bool = True
    note: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    from_journal: bool = False

    @classmethod
    def failed(cls, error_type: ErrorType | str, error: str, *, status: int | None = None, response: str = "",
               sent: bool = True, values: Mapping[str, Any] | None = None) -> "Ending":
        return cls(False, status, response, error_type, error, sent=sent, values=dict(values or {}))

    @classmethod
    def refused(cls, error_type: ErrorType | str, error: str) -> "Ending":
        """A row that cannot be sent: nothing went out for it."""
        return cls(False, None, "", error_type, error, sent=False)

    def record(self) -> dict[str, Any]:
        """The ending as a journal line's fields (never the input values)."""
        return {"ok": self.ok, "StatusCode": self.status, "ErrorType": _text(self.error_type), "Error": self.error,
                "Response": self.response, "Note": self.note, "Values": self.values or None,
                "Warnings": self.warnings or None}

    @classmethod
    def from_record(cls, entry: Mapping[str, Any]) -> "Ending":
        """An ending as an earlier run journaled it (the journals of earlier versions too)."""
        values = dict(entry.get("Values") or {})
        for old in ("File", "Bytes"):  # journals before the engine kept a download's file and size at the top
            if entry.get(old) is not None:
                values.setdefault(old, entry[old])
        return cls(bool(entry.get("ok")), entry.get("StatusCode"), entry.get("Response") or "",
                   entry.get("ErrorType"), entry.get("Error"), sent=True, note=entry.get("Note") or "",
                   values=values, warnings=list(entry.get("Warnings") or []), from_journal=True)


def _text(value: Any) -> Any:
    return value.value if isinstance(value, ErrorType) else value


# --------------------------------------------------------------------------
# the shape of the frames
# --------------------------------------------------------------------------

STANDARD = ("StatusCode", "ErrorType", "Error", "Response", "Warning")


@dataclass(frozen=True)
class Shape:
    """The columns each frame gets after the input's, in order.

    Standard columns (``StatusCode``, ``ErrorType``, ``Error``, ``Response``, ``Warning``) come from the
    ending's fields; any other column from ``ending.values``, typed by *kinds* (``"text"`` by default;
    ``"int"``, ``"float"``, ``"bool"``, ``"json"``).  ``StatusCode`` is int64 in the success frame and
    text-or-empty in the failure frame.  *failure_values* fixes a column's value in the failure frame
    (``Action: "failed"``).  *mask* hides secrets the rows sent, in the success frame.
    """

    success: tuple[str, ...]
    failure: tuple[str, ...]
    kinds: Mapping[str, str] = field(default_factory=dict)
    failure_values: Mapping[str, Any] = field(default_factory=dict)
    mask: bool = True


MACRO = Shape(success=("StatusCode", "Response"), failure=("StatusCode", "ErrorType", "Error", "Response"))
DOWNLOAD = Shape(success=("StatusCode", "File", "Bytes", "Response"),
                 failure=("StatusCode", "ErrorType", "Error", "Response"), kinds={"Bytes": "int"})


def shape(df: pd.DataFrame, endings: Sequence[Ending], spec: Shape) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The success and failure frames of a run: each row of *df* lands in exactly one."""
    ok_pos = [i for i, e in enumerate(endings) if e.ok]
    bad_pos = [i for i, e in enumerate(endings) if not e.ok]
    success = plain_input(df.iloc[ok_pos], mask=spec.mask)
    for name in spec.success:
        success[name] = _column(name, [endings[i] for i in ok_pos], spec, ok=True)
    failure = plain_input(df.iloc[bad_pos])
    for name in spec.failure:
        failure[name] = _column(name, [endings[i] for i in bad_pos], spec, ok=False)
    return success, failure


def shape_split(df: pd.DataFrame, ok_pos: Sequence[int] | np.ndarray, ok_values: Mapping[str, Sequence[Any]],
                bad_pos: Sequence[int], bad_endings: Sequence[Ending], spec: Shape) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`shape` for a run whose successes come as columns: *ok_values* holds each of
    ``spec.success``'s columns for the rows at *ok_pos* (no ending per row); *bad_endings* are the
    endings of the rows at *bad_pos*.  The frames are those :func:`shape` makes of the same rows."""
    everything = len(ok_pos) == len(df) and (not len(df) or (ok_pos[0] == 0 and ok_pos[-1] == len(df) - 1))
    success = plain_input(df if everything else df.iloc[np.asarray(ok_pos, dtype=np.intp)], mask=spec.mask)
    for name in spec.success:
        values = ok_values[name]
        success[name] = typed(values if isinstance(values, list) else list(values), spec.kinds.get(name, "text"))
    failure = plain_input(df.iloc[np.asarray(bad_pos, dtype=np.intp)])
    for name in spec.failure:
        failure[name] = _column(name, list(bad_endings), spec, ok=False)
    return success, failure


def _column(name: str, endings: list[Ending], spec: Shape, ok: bool) -> pd.Series:
    if name == "StatusCode":
        if ok:
            return pd.Series([int(e.status or 0) for e in endings], dtype="int64")
        return pd.Series([e.status for e in endings], dtype=object)
    if name == "ErrorType":
        return pd.Series([_text(e.error_type) for e in endings], dtype=object)
    if name == "Error":
        return pd.Series([scrub(e.error or "") for e in endings], dtype=object)
    if name == "Response":
        return pd.Series([e.response for e in endings], dtype=object)
    if name == "Warning":
        return pd.Series([redact("; ".join(e.warnings)) for e in endings], dtype=object)
    if not ok and name in spec.failure_values:
        values = [spec.failure_values[name]] * len(endings)
    else:
        values = [e.values.get(name) for e in endings]
    return typed(values, spec.kinds.get(name, "text"))


def typed(values: list, kind: str) -> pd.Series:
    """Cells of one plain dtype: text (``""`` for none), int64, float64, bool or JSON text."""
    if kind == "int":
        return pd.Series([int(v or 0) for v in values], dtype="int64")
    if kind == "float":
        return pd.Series([float(v) if v is not None else math.nan for v in values], dtype="float64")
    if kind == "bool":
        return pd.Series([bool(v) for v in values], dtype="bool")
    if kind == "json":
        return pd.Series([v if isinstance(v, str) else json.dumps(v if v is not None else [], ensure_ascii=False)
                          for v in values], dtype=object)
    return pd.Series(_texts(values), dtype=object)


def _texts(values: list) -> list:
    """``["" if v is None else redact(str(v)) for v in values]``, with one look for secrets over all of
    them when they are all text: a value holds a secret only if their joined text does."""
    if not values or set(map(type, values)) != {str}:
        return ["" if v is None else redact(str(v)) for v in values]
    if values.count(values[0]) == len(values):
        return [redact(values[0])] * len(values)  # one text for every row (a dry run's Method)
    joined = "\x00".join(values)
    if redact(joined) == joined:
        return values
    return [redact(v) for v in values]


def plain_input(df: pd.DataFrame, mask: bool = False) -> pd.DataFrame:
    """The input columns, RecordID first, as plain cells; with *mask*, secret fields hidden.

    A dict or list cell (a contract given as a Python object) becomes its JSON text, so the frame
    goes straight into Excel, CSV, Parquet and ``Alteryx.write``.  With *mask* a password column
    (``password``, ``newPassword``, ``secrets...``, at any dotted depth) reads ``***``, and so do
    such fields inside a contract.
    """
    cols = [RECORD_ID] + [c for c in df.columns if c != RECORD_ID]
    out = df[cols].reset_index(drop=True)
    for col in cols:
        secret = mask and is_secret_name(str(col))
        masked_contract = mask and col == CONTRACT
        if not (secret or masked_contract or out[col].dtype == object):
            continue  # numbers, booleans, pandas text: no dict or list can be in there
        values = out[col].tolist()
        if not (secret or masked_contract or any(isinstance(v, (dict, list)) for v in values)):
            continue
        out[col] = pd.Series([_plain_cell(v, secret, mask) for v in values], index=out.index, dtype=object)
    return out


def _plain_cell(value: Any, secret: bool, mask: bool) -> Any:
    if secret:
        return value if _missing(value) else "***"
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(masked(value) if mask else value, ensure_ascii=False, default=str)
        except (RecursionError, ValueError):
            return f"(a {type(value).__name__} nested too deeply to show as text)"
    if mask and isinstance(value, str):
        return masked_text(value)
    return value


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------
# summary and result
# --------------------------------------------------------------------------


@dataclass
class Summary:
    """What a run did: rows, how they ended, and what it cost.

    Attributes
    ----------
    action : str
    rows, succeeded, failed : int
    not_sent : int
        Failed rows for which nothing that may change the Server was sent.
    from_journal : int
        Rows taken from an earlier run's journal.
    calls, retries, tokens_requested : int
    elapsed : float
        Seconds.
    dry_run : bool
    reconciled : int
        Rows settled by looking the record up after an unknown outcome.
    error_types : dict
        ``ErrorType`` -> failed rows.
    """

    action: str
    rows: int = 0
    succeeded: int = 0
    failed: int = 0
    not_sent: int = 0
    from_journal: int = 0
    calls: int = 0
    retries: int = 0
    tokens_requested: int = 0
    elapsed: float = 0.0
    dry_run: bool = False
    reconciled: int = 0
    error_types: dict[str, int] = field(default_factory=dict)

    def count(self, endings: Sequence[Ending]) -> None:
        """Fill the row counts from a run's endings."""
        self.rows = len(endings)
        self.succeeded = sum(1 for e in endings if e.ok)
        self.failed = self.rows - self.succeeded
        self.not_sent = self.rows if self.dry_run else sum(1 for e in endings if not e.ok and not e.sent)
        self.from_journal = sum(1 for e in endings if e.from_journal)
        self.reconciled = sum(1 for e in endings if e.note.startswith("reconciled"))
        counts: dict[str, int] = {}
        for e in endings:
            if not e.ok:
                key = str(_text(e.error_type) or "")
                counts[key] = counts.get(key, 0) + 1
        self.error_types = counts

    def count_split(self, succeeded: int, failures: Sequence[Ending]) -> None:
        """:meth:`count` for *succeeded* plain successes (sent now, not reconciled) and the endings of the
        failed rows."""
        self.count(failures)
        self.rows += succeeded
        self.succeeded += succeeded
        if self.dry_run:
            self.not_sent = self.rows

    def __str__(self) -> str:
        verb = "would send" if self.dry_run else "succeeded"
        text = (f"{self.action}: {rows_text(self.rows)}, {self.succeeded} {verb}, {self.failed} failed "
                f"in {self.elapsed:.1f} s")
        if self.from_journal:
            text += f" ({self.from_journal} from the journal)"
        if self.reconciled:
            text += f" ({self.reconciled} reconciled after an unknown outcome)"
        if self.error_types:
            text += " [" + ", ".join(f"{k}: {v}" for k, v in sorted(self.error_types.items())) + "]"
        return text

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def as_frame(self) -> pd.DataFrame:
        """The summary as a one-row frame of plain types (for a sheet, a CSV or ``Alteryx.write``)."""
        values = {k: (json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)
                  for k, v in self.as_dict().items()}
        return pd.DataFrame([values])


class Result:
    """The outcome of a run: unpacks into ``(success, failure)``.

    Attributes
    ----------
    success, failure : pandas.DataFrame
    summary : Summary
        Counts, calls, retries, tokens requested, elapsed seconds.
    """

    def __init__(self, success: pd.DataFrame, failure: pd.DataFrame, summary: Summary):
        self.success = success
        self.failure = failure
        self.summary = summary

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.success
        yield self.failure

    def __getitem__(self, index: int) -> pd.DataFrame:
        return (self.success, self.failure)[index]

    def __len__(self) -> int:
        return 2

    def __repr__(self) -> str:
        return f"<axframe.Result {self.summary}>"

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{self.summary}</b></p>"]
        if len(self.failure):
            parts.append("<p>First failures:</p>" + self.failure[[c for c in ("RecordID", "StatusCode", "ErrorType",
                                                                          "Error") if c in self.failure]]
                         .head(5).to_html(index=False))
        return "".join(parts)

    def expand(self, keep: Iterable[str] | str = (), column: str = "Response") -> pd.DataFrame:
        """The JSON answers of successful rows as rows of their own.

        One row per returned object (a list answer gives one row per item; a
        bare value, such as the id a create answers, a ``value`` column),
        flattened with :func:`pandas.json_normalize` (nested fields become
        ``parent.child`` columns; lists and objects left inside are JSON
        text, so every cell is a plain value), with the ``RecordID`` it came
        from first, and the input columns named in *keep* after it.
        """
        return expand_json(self.success, column, keep=keep)


def expand_json(frame: pd.DataFrame, column: str = "Response", keep: Iterable[str] | str = ()) -> pd.DataFrame:
    """The JSON answers in *column* as rows of their own (see :meth:`Result.expand`)."""
    answers = []
    for pos, text in enumerate(frame[column].tolist() if column in frame else []):
        try:
            answers.append(_answer_objects(text))
        except json.JSONDecodeError as exc:
            which = f"RecordID {frame[RECORD_ID].iloc[pos:pos + 1].tolist()[0]!r}" if RECORD_ID in frame \
                else f"row {pos}"
            raise ValueError(f"the {column} of {which} is not JSON ({exc.msg}: line {exc.lineno} column "
                             f"{exc.colno}); expand() reads the JSON answers of a frame") from None
    counts = [len(objects) for objects in answers]
    records = [item for objects in answers for item in objects]
    del answers
    expanded = records_frame(records) if records else pd.DataFrame()
    del records  # the parsed answers go before the frame is finished; the frame holds their values
    for name in expanded.columns:
        values = expanded[name]
        if values.dtype == object and any(isinstance(v, (list, dict)) for v in values):
            expanded[name] = [json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                              for v in values]
    _carry(expanded, frame, keep, counts)
    return expanded


def records_frame(records: list[dict]) -> pd.DataFrame:
    """``pandas.json_normalize(records)`` for a list of dicts: nested objects become ``parent.child`` columns.

    json_normalize flattens each record in Python before it makes the frame, which is most of its time
    on a large listing, and holds a flattened copy of every record meanwhile.  Records that hold no
    object are their own flattening, and the frame of them is json_normalize's; so the frame is made
    from the records as they are, and only when a column turns out to hold an object is it made the
    json_normalize way.
    """
    made = pd.DataFrame(records)
    for name in made.columns:
        if made[name].dtype == object and any(isinstance(v, dict) for v in made[name]):
            return pd.json_normalize(records)
    return made


def _answer_objects(text: Any) -> list[dict]:
    """The objects of one JSON answer: a list's items, an object, a bare value as ``{"value": ...}``."""
    if not isinstance(text, str) or not text:
        return []
    value = json.loads(text)
    items = value if isinstance(value, list) else [value]
    return [i if isinstance(i, dict) else {"value": i} for i in items]


def _carry(expanded: pd.DataFrame, frame: pd.DataFrame, keep: Iterable[str] | str, counts: list[int]) -> None:
    """Put the RecordID and the *keep* columns of *frame* first in *expanded*, each value repeated for the rows
    its answer gave."""
    carried = [RECORD_ID] + [c for c in ([keep] if isinstance(keep, str) else list(keep)) if c != RECORD_ID]
    missing = [c for c in carried if c not in frame.columns]
    if missing:
        raise KeyError(f"expand(keep=...): no column {', '.join(map(repr, missing))} in the success frame")
    for offset, name in enumerate(carried):
        values = frame[name].repeat(counts).reset_index(drop=True) if len(frame) else pd.Series([], dtype=object)
        target = name if name not in expanded.columns or name == RECORD_ID else f"input.{name}"
        expanded.insert(offset, target, values.to_numpy() if len(values) else values)
