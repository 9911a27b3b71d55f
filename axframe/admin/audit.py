"""The audit log as one dataframe: every event of an entity type, paged (``GET /admin/v1/auditlog``)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any, Iterable, Mapping

import pandas as pd

from .. import catalogue
from ..catalogue import AUDIT_ENTITIES, Paging
from ..client.connection import Connection
from ..errors import ConfigurationError
from .listings import Pager, plain_cell

__all__ = ["audit_log", "AUDIT_ENTITIES"]

_PAGING = catalogue.find("admin_v1.audit_log").paging
assert isinstance(_PAGING, Paging)
_AUDIT: Paging = _PAGING




def _entities(entity: str | Iterable[str]) -> list[str]:
    wanted = [entity] if isinstance(entity, str) else list(entity)
    if not wanted:
        raise ConfigurationError("name at least one audit entity: " + ", ".join(AUDIT_ENTITIES))
    out: list[str] = []
    for item in wanted:
        if isinstance(item, str) and item.strip().lower() in ("all", "*"):
            out.extend(AUDIT_ENTITIES)
            continue
        match = next((e for e in AUDIT_ENTITIES if isinstance(item, str) and e.lower() == item.strip().lower()),
                     None)
        if match is None:
            raise ConfigurationError(f"unknown audit entity {item!r}; the Server tracks "
                                     + ", ".join(AUDIT_ENTITIES))
        out.append(match)
    return list(dict.fromkeys(out))


def _bound(value: Any, name: str, end: bool) -> tuple[pd.Timestamp, bool] | None:
    """A UTC bound and whether it is exclusive (a whole day given as a date ends before the next day)."""
    if value is None:
        return None
    whole_day = (isinstance(value, date) and not isinstance(value, datetime)) or \
        (isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value) is not None)
    try:
        stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a date or date-time, not {value!r}") from None
    if pd.isna(stamp):
        raise ConfigurationError(f"{name} must be a date or date-time, not {value!r}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if end and whole_day:
        return stamp + pd.Timedelta(days=1), True
    return stamp, False


def _json_object(text: Any) -> dict | None:
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text.strip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _audit_frame(items: list, expand_values: bool) -> pd.DataFrame:
    records = [i for i in items if isinstance(i, dict)]
    extra = [k for k in dict.fromkeys(k for r in records for k in r) if k not in _AUDIT.fields]
    columns = list(_AUDIT.fields) + extra
    df = pd.DataFrame({c: pd.Series([plain_cell(r.get(c)) for r in records], dtype=object) for c in columns})
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601", errors="coerce")
    if expand_values and records:
        added = _value_columns(records)
        if added:
            df = pd.concat([df, pd.DataFrame(added)], axis=1)
    return df


def _value_columns(records: list[dict]) -> dict[str, pd.Series]:
    """``old.<key>`` and ``new.<key>`` columns from the events' ``oldValues`` and ``newValues`` JSON objects."""
    old = [_json_object(r.get("oldValues")) for r in records]
    new = [_json_object(r.get("newValues")) for r in records]
    keys = sorted({k for parsed in old + new if parsed for k in parsed})
    added: dict[str, pd.Series] = {}
    for key in keys:
        for prefix, parsed in (("old", old), ("new", new)):
            if any(p is not None and key in p for p in parsed):
                added[f"{prefix}.{key}"] = pd.Series(
                    [plain_cell(p.get(key)) if p is not None else None for p in parsed], dtype=object)
    return added


def audit_log(conn: Connection, entity: str | Iterable[str], *, start: Any = None, end: Any = None,
              page_size: int = 500, total: int | Mapping[str, int] | None = None, readahead: int = 1,
              max_workers: int | None = None, expand_values: bool = True,
              first_page: int | None = None) -> pd.DataFrame:
    """Every audit event of an entity type, as one dataframe (``GET /admin/v1/auditlog``).

    Parameters
    ----------
    conn : Connection
        A Curator's connection.
    entity : str or list of str
        ``"AppInfo"`` (workflows), ``"Collection"``, ``"Credential"``,
        ``"Subscription"``, ``"User"``, ``"UserGroup"`` (any case), several of
        them, or ``"all"``.
    start, end : str, date, datetime or Timestamp, optional
        Keep events from *start* to *end*, both inclusive; naive times are
        UTC, and a bare date as *end* means the whole day.  The Server has no
        time filter, so every event is read and the filter applied here.
    page_size : int
        Events per page (the Server's ``pageSize``).
    total : int or dict, optional
        How many events there are (per entity, as a dict, for several), when
        known: those pages are fetched concurrently.  The Server gives no
        total, so by default pages are read in order until a short page.
    readahead : int
        Without a total, fetch this many pages at a time.
    max_workers : int, optional
        Pages in flight at once (default: the connection's).
    expand_values : bool
        Add ``old.<property>`` and ``new.<property>`` columns from
        ``oldValues``/``newValues`` where they are JSON objects (default True).
    first_page : 0, 1 or None
        How the Server numbers pages, when known; ``None`` (default) finds out
        with page 0 (see :class:`Pager`).

    Returns
    -------
    pandas.DataFrame
        ``id``, ``entity``, ``entityId``, ``userId``, ``timestamp`` (a UTC
        datetime; ``df.timestamp.dt.tz_localize(None)`` for Excel), ``event``,
        ``oldValues``, ``newValues`` (the Server's text, kept), then the
        parsed properties; events in the Server's order, entity by entity.

    Raises
    ------
    ConfigurationError
        An unknown entity or a bad parameter, before anything is sent.
    ListingError
        A page could not be read.
    """
    entities = _entities(entity)
    low, high = _bound(start, "start", False), _bound(end, "end", True)
    totals: dict[str, int | None]
    if isinstance(total, Mapping):
        totals = {_entities(str(k))[0]: v for k, v in total.items()}
    elif total is not None and len(entities) > 1:
        raise ConfigurationError("with several entities, give total as a dict of entity to count")
    else:
        totals = {e: total for e in entities}
    items: list = []
    for name in entities:
        pager = Pager(conn, "admin_v1.audit_log", {"entity": name}, page_size=page_size, max_workers=max_workers,
                      first_page=first_page)
        items.extend(pager.all(totals.get(name), readahead))
        first_page = pager.first  # learnt once for all the entities (None while it is still unknown)
    df = _audit_frame(items, expand_values)
    if low is not None or high is not None:
        keep = df["timestamp"].notna()
        if low is not None:
            keep &= df["timestamp"] >= low[0]
        if high is not None:
            keep &= (df["timestamp"] < high[0]) if high[1] else (df["timestamp"] <= high[0])
        df = df[keep].reset_index(drop=True)
    return df
