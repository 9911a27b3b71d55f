"""The paged Admin listings as dataframes: :class:`Pager` and :func:`admin_listing`.

The Admin listings (users, collections, schedules, subscriptions, all
workflows, the audit log) page with ``page``/``pageSize`` and give no total.
:class:`Pager` reads pages in order until a short page, or reads a known
number of pages at once (on the engine's pool) and then goes on in order from
there; items are de-duplicated by ``id`` and a page of nothing new ends the
listing (a Server that ignores ``page``).  Which listings page, from which
page number when it is documented, and the fields of their items are declared
in the catalogue (``Endpoint.paging``).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
from typing import Any, Iterator, Mapping

import pandas as pd

from .. import catalogue, frames
from ..catalogue import Endpoint
from ..client.connection import Connection
from ..engine.rows import Engine, Program, Row, Send, workers_for
from ..engine.shape import Ending, records_frame
from ..errors import ConfigurationError, ListingError, UnknownActionError

__all__ = ["Pager", "admin_listing", "listing_frame", "plain_cell", "LISTINGS"]

log = logging.getLogger("axframe")

#: The short names of the paged Admin listings :func:`admin_listing` reads (the audit log has its own function).
LISTINGS = {ep.paging.alias: ep.name for ep in catalogue.ENDPOINTS
            if ep.paging is not None and ep.name != "admin_v1.audit_log"}


class Pager:
    """The pages of one paged Admin listing (``page``/``pageSize``).

    Parameters
    ----------
    conn : Connection
    action : str
        A catalogue name with ``page`` and ``pageSize`` query parameters, such
        as ``"admin_v1.audit_log"`` or ``"admin_v2.users"``.
    params : dict, optional
        The listing's other query parameters (``{"entity": "User"}``).
    page_size : int
        Items per page (at least 1).
    max_workers : int, optional
        Pages fetched at once when several are fetched together (default:
        the connection's).

    Notes
    -----
    ``page`` is zero-based for ``workflows/all`` (documented).  For the other
    listings the Server's base is not documented, so with ``first_page=None``
    the pager finds out: it reads page 0, and takes the Server to count from 1
    when page 0 is refused, or is empty while page 1 is not, or is the same
    as page 1 (at most one extra call).  :meth:`pages` reads in order until a page holds
    fewer than ``page_size`` items; with ``total`` known it first fetches the
    pages that total fills concurrently, then goes on in order in case more
    arrived; with ``readahead`` > 1 it fetches that many pages at a time (at
    most ``readahead - 1`` wasted reads at the end).  :attr:`calls` counts the
    pages read.
    """

    def __init__(self, conn: Connection, action: str, params: Mapping[str, Any] | None = None, *,
                 page_size: int = 500, max_workers: int | None = None, first_page: int | None = None):
        if first_page not in (None, 0, 1) or isinstance(first_page, bool):
            raise ConfigurationError(f"first_page must be 0, 1 or None (find out), not {first_page!r}")
        try:
            self.endpoint = catalogue.find(action)
        except UnknownActionError as exc:
            raise ConfigurationError(str(exc)) from None
        names = {p.name for p in self.endpoint.query_params}
        if not {"page", "pageSize"} <= names:
            raise ConfigurationError(f"{self.endpoint.name} is not a paged listing (it has no page/pageSize)")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ConfigurationError(f"page_size must be a whole number of at least 1, not {page_size!r}")
        unknown = sorted(set(params or {}) - names - {"page", "pageSize"})
        if unknown:
            allowed = ", ".join(sorted(names - {"page", "pageSize"})) or "none"
            raise ConfigurationError(f"{self.endpoint.name} has no parameter {', '.join(unknown)} "
                                     f"(its parameters: {allowed})")
        self.conn = conn
        self.params = {k: v for k, v in (params or {}).items() if not frames.is_missing(v)}
        self.page_size = page_size
        documented = self.endpoint.paging.first if self.endpoint.paging is not None else None
        self.first: int | None = documented if documented is not None else first_page
        self.workers, _ = workers_for(conn, max_workers if max_workers is not None else _positive(conn.max_workers))
        self.calls = 0
        self._lock = threading.Lock()

    def _page(self, number: int) -> Program:
        """The steps that read one page: its items (raises :class:`ListingError`)."""
        record = dict(self.params, page=number, pageSize=self.page_size)
        planned = frames.plan_row(self.endpoint, record, columns=[], legacy=self.conn.legacy)
        if isinstance(planned, frames.Problem):
            raise ConfigurationError(f"{self.endpoint.name}: {planned.error}")
        outcome = yield Send(planned.call)
        with self._lock:
            self.calls += 1
        if not outcome.ok:
            raise ListingError(f"{self.endpoint.name} page {number}: {outcome.error}", outcome.status)
        data = outcome.value()
        if data is None and outcome.text.strip():
            raise ListingError(f"{self.endpoint.name} page {number}: the answer is not JSON", outcome.status)
        if data is None:
            data = []
        if not isinstance(data, list):
            raise ListingError(f"{self.endpoint.name} page {number}: expected a list, got {type(data).__name__}",
                               outcome.status)
        return Ending(True, values={"items": data})

    def fetch(self, number: int) -> list:
        """One page (``number`` as the Server counts); raises :class:`ListingError`."""
        return self._fetch_many([number])[0]

    def _fetch_many(self, numbers: list[int]) -> list[list]:
        engine = Engine(self.conn, workers=min(self.workers, len(numbers)))
        endings = engine.run([Row(i, str(n), functools.partial(self._page, n)) for i, n in enumerate(numbers)])
        return [endings[i].values["items"] for i in range(len(numbers))]

    def _start(self) -> tuple[list[list], int]:
        """The pages read to learn the Server's first page number, and the next number to read."""
        if self.first is not None:
            return [], self.first
        try:
            zero = self.fetch(0)
        except ListingError as exc:
            if exc.status is None or exc.status in (401, 403):
                raise
            self.first = 1  # page 0 refused: the Server counts from 1
            log.debug("%s: page 0 refused (%s); counting pages from 1", self.endpoint.name, exc.status)
            return [], 1
        if zero and len(zero) < self.page_size:
            return [zero], 1  # the whole listing, whichever way the Server counts (so still unknown)
        one = self.fetch(1)
        if not zero or one == zero:
            self.first = 1  # page 0 empty, or read as page 1
            return [one], 2
        self.first = 0
        return [zero, one], 2

    def pages(self, total: int | None = None, readahead: int = 1) -> Iterator[list]:
        """Yield the pages in order, up to and including the first short one."""
        if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
            raise ConfigurationError(f"total must be a whole number, not {total!r}")
        read, number = self._start()
        window = max(1, int(readahead))

        def batches() -> Iterator[list[list]]:
            nonlocal number
            yield read
            if total is not None:  # the pages the total fills, at once
                count = max(1, math.ceil(total / self.page_size)) - len(read)
                if count > 0:
                    yield self._fetch_many(list(range(number, number + count)))
                    number += count
            while True:  # then in order (or *window* at a time) in case there are more
                yield self._fetch_many(list(range(number, number + window)))
                number += window

        for batch in batches():
            for page in batch:
                yield page
                if len(page) < self.page_size:
                    return

    def all(self, total: int | None = None, readahead: int = 1) -> list:
        """Every item of the listing, in the Server's order, each ``id`` once."""
        out: list = []
        seen: set = set()
        previous: list | None = None
        for page in self.pages(total, readahead):
            fresh = 0
            for item in page:
                key = item.get("id") if isinstance(item, dict) else None
                if isinstance(key, str):
                    if key in seen:
                        continue
                    seen.add(key)
                out.append(item)
                fresh += 1
            if page and (fresh == 0 or page == previous):
                log.warning("%s: a page brought nothing new; stopping (does the Server ignore 'page'?)",
                            self.endpoint.name)
                break
            previous = page
        return out


def _positive(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 8


def plain_cell(value: Any) -> Any:
    """A cell value of a plain dtype: lists and objects become JSON text."""
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return value


def _item_template(fields: tuple[str, ...]) -> dict:
    """An item of empty values shaped like *fields* (``parent.child`` names become nested objects)."""
    item: dict = {}
    for name in fields:
        *parents, leaf = name.split(".")
        node = item
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = None
    return item


def _empty_listing(endpoint: Endpoint | None, flatten: bool) -> pd.DataFrame:
    """No rows, and the columns the listing's items would have made (``id`` for an unknown listing)."""
    fields = endpoint.paging.fields if endpoint is not None and endpoint.paging is not None else ("id",)
    template = _item_template(fields)
    columns = pd.json_normalize([template]).columns if flatten else list(template)
    return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})


def listing_frame(items: list, flatten: bool = True, endpoint: Endpoint | None = None) -> pd.DataFrame:
    """A listing's items as a frame of plain cells (an empty listing keeps the listing's columns)."""
    records = [i if isinstance(i, dict) else {"value": i} for i in items]
    if not records:
        return _empty_listing(endpoint, flatten)
    df = records_frame(records) if flatten else pd.DataFrame(records)
    for column in df.columns:
        if df[column].dtype == object and df[column].map(lambda v: isinstance(v, (list, dict, tuple))).any():
            df[column] = pd.Series([plain_cell(v) for v in df[column]], index=df.index, dtype=object)
    return df


def admin_listing(conn: Connection, name: str, *, page_size: int = 500, total: int | None = None,
                  readahead: int = 1, max_workers: int | None = None, flatten: bool = True,
                  first_page: int | None = None, **params: Any) -> pd.DataFrame:
    """A paged Admin listing, every page of it, as one dataframe.

    Parameters
    ----------
    conn : Connection
        A Curator's connection.
    name : str
        ``"users"``, ``"collections"``, ``"schedules"``, ``"subscriptions"``,
        ``"workflows"`` (Admin V1; ``workflows`` is ``/admin/v1/workflows/all``),
        ``"v2.users"``, ``"v2.subscriptions"``, ``"v2.workflows"`` (Admin V2),
        or any paged catalogue name such as ``"admin_v2.users"``.
    page_size : int
        Items per page.
    total : int, optional
        How many items there are, when known: the pages it fills are fetched
        concurrently (then the pager goes on in order until a short page).
    readahead : int
        Without a total, fetch this many pages at a time (default 1: in order).
    max_workers : int, optional
        Pages in flight at once (default: the connection's).
    flatten : bool
        Nested objects become ``parent.child`` columns (default True).
    first_page : 0, 1 or None
        How the Server numbers pages, when known; ``None`` (default) finds out
        with page 0 (see :class:`Pager`).  ``workflows/all`` is always 0.
    **params
        The listing's other query parameters, named as in the API
        (``subscriptionId``, ``startDate``, ``useEvents``...).

    Returns
    -------
    pandas.DataFrame
        One row per item in the Server's order; lists and objects that stay
        in a cell are JSON text.  An empty listing has no rows but keeps the
        listing's columns (``id`` alone for a listing axframe does not know),
        so that ``Alteryx.write`` takes it.

    Raises
    ------
    ConfigurationError
        An unknown listing or parameter, before anything is sent.
    ListingError
        A page could not be read.
    """
    endpoint = catalogue.listing(name)
    action = endpoint.name if endpoint is not None else name
    if action == "admin_v1.audit_log":
        raise ConfigurationError("use ax.audit_log(conn, entity) for the audit log")
    pager = Pager(conn, action, params, page_size=page_size, max_workers=max_workers, first_page=first_page)
    return listing_frame(pager.all(total, readahead), flatten, pager.endpoint)
