"""Migration between Servers, deployment from a folder, and the Admin listings as dataframes.

Three jobs a Server administrator does in bulk, each built on
:meth:`Connection.send <axframe.client.Connection.send>` (one call, one
outcome, retries included) and returning plain pandas objects:

- :func:`migratable` and :func:`migrate` follow the Server's migration flow
  (reference 6.2): list the workflows marked ready to migrate on a source
  Server, download each one's package (``GET /admin/v1/{appId}/package``),
  publish it on a target Server with ``sourceId`` set to the source id
  (``POST /admin/v1/workflows``: a second migration of the same workflow adds
  a version rather than a duplicate), optionally add it to target
  collections, and optionally reset the flag on the source.
- :func:`deploy` publishes every ``.yxzp`` of a folder (a git checkout,
  typically) as a new workflow, a new version, or not at all when its content
  has not changed.
- :func:`audit_log` and :func:`admin_listing` read the paged Admin listings
  (the audit log, users, collections, schedules, subscriptions, all
  workflows) into one dataframe each, through :class:`Pager`.

:func:`migrate` and :func:`deploy` return a :class:`~axframe.bulk.Result` like
the macros: every input row (or file) lands in exactly one of the success and
failure frames, with ``RecordID`` first, the input columns unchanged, then
axframe's columns; output columns hold plain dtypes only.

Choices where the Server's documentation is silent
--------------------------------------------------
- Content that cannot move.  The target gets what ``POST /admin/v1/workflows``
  takes (name, owner, public, worker tag, download setting, comments): it has
  no credential fields.  A source workflow whose published version runs as a
  ``Specific`` credential is *not migratable* unless the target has that
  credential (same id) or ``credentials=`` maps it to a target credential; it
  then is published and its credential set on the target with
  ``PUT /v3/workflows/{id}``.  A package whose documents name a shared
  connection alias (``aka:NAME``) that the target has no server data
  connection of is also not migratable.  ``unmovable="fail"`` (the default)
  makes such rows failures with ``ErrorType`` ``NotMigratable`` and sends them
  nothing; ``unmovable="warn"`` migrates them and says why in ``Warning``.
  DCM connections are not detected from a package (the target's
  connection-handling rules map them).
- Which target workflow is the migrated one: the one whose ``sourceAppId``
  is the source id.  Failing that, a target workflow of the same name
  (case-insensitive) and the same owner (published by hand, or by
  :func:`deploy`) makes the row fail with ``ErrorType`` ``Conflict`` unless
  ``existing="version"`` (add the package to it as a new version, through
  ``POST /v3/workflows/{id}/versions``: it carries no ``sourceAppId``) or
  ``existing="copy"`` (publish a second workflow) says otherwise; the default
  never duplicates nor overwrites without being asked.
- Defaults of a migrated workflow: the source workflow's name, owner (by
  email), public setting, download setting and published version's comments;
  no worker tag (tags name machines of one Server).  Columns and keywords
  override them.
- Which deployed package is which: a file's workflow is the one named like
  the file (its name without ``.yxzp``), owned by the deploying owner, unless
  the folder's manifest (``axframe-deploy.json``) names another workflow id or
  name.  The content hash (:func:`axframe.packages.content_hash`) is recorded
  in the comments of every version deploy publishes (``axframe-sha256:<hex>``);
  a published version without that marker is downloaded and hashed instead.
  Deploy never writes into the folder.
- Paging: the Admin listings give no total.  :class:`Pager` reads pages in
  order until a short page, or reads a known number of pages concurrently and
  then goes on in order from there; items are de-duplicated by ``id`` and a
  page of nothing new ends the listing (a Server that ignores ``page``).
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import pandas as pd

from . import catalogue, frames, schemas
from .auth import redact
from .bulk import Result, Summary, Progress, scrub
from .client import Connection, Outcome
from .errors import AxframeError, ConfigurationError, ErrorType, FrameError
from .merge import MERGES, merged_contract
from .packages import PackageError, content_hash, read_member, read_package

__all__ = ["migratable", "migrate", "deploy", "audit_log", "admin_listing", "Pager", "ListingError",
           "AUDIT_ENTITIES", "LISTINGS", "MANIFEST_NAME", "HASH_MARKER"]

log = logging.getLogger("axframe")

AUDIT_ENTITIES = ("AppInfo", "Collection", "Credential", "Subscription", "User", "UserGroup")
MANIFEST_NAME = "axframe-deploy.json"
HASH_MARKER = "axframe-sha256:"
_HASH_RE = re.compile(re.escape(HASH_MARKER) + r"([0-9a-f]{64})")
_ALIAS_RE = re.compile(r"aka:([^|\"<>&\r\n]+)")
_DOCUMENTS = (".yxmd", ".yxwz", ".yxmc")

#: Short names of the paged Admin listings, for :func:`admin_listing`.
LISTINGS = {
    "users": "admin_v1.users",
    "collections": "admin_v1.collections",
    "schedules": "admin_v1.schedules",
    "subscriptions": "admin_v1.subscriptions",
    "workflows": "admin_v1.workflows_all",
    "v2.users": "admin_v2.users",
    "v2.subscriptions": "admin_v2.subscriptions",
    "v2.workflows": "admin_v2.workflows_all",
}
_ZERO_BASED = {"admin_v1.workflows_all", "admin_v2.workflows_all"}
_DEFAULT_WORKERS = 4

# The fields of each paged listing's items, in the Server's order (the shapes of reference 6.5, as the
# emulator serves them); ``parent.child`` for an object's fields.  Only used to give an empty listing its
# columns: a frame without columns is refused by ``Alteryx.write``.
_USER_FIELDS = (
    "accountLocked", "accountLockedAt", "active", "anonymous", "canSchedule", "canSetPriority",
    "canSetWorkerAssignment", "dateAdded", "dateUpdated", "email", "expirationDate", "firstName", "lastName",
    "numFailedLogins", "pending", "subscriptionId", "updateLastLoginDate", "userProfile.picture", "userProfile.iconId",
    "validated", "timezone", "language", "id",
)
_WORKFLOW_ALL_FIELDS = (
    "id", "revisions", "creator.id", "creator.firstName", "creator.lastName", "creator.email",
    "creator.subscription.id", "creator.subscription.name", "subscription.id", "subscription.name", "events",
    "runDisabled", "isPublic", "dateMadePublic", "isDeleted", "runCount", "iconId", "workerTag", "isReadyForMigration",
)
_LISTING_FIELDS = {
    "admin_v1.users": _USER_FIELDS + ("curator",),
    "admin_v2.users": _USER_FIELDS + ("role",),
    "admin_v1.collections": (
        "collectionId", "name", "ownerId", "dateAdded", "apps", "schedules", "insights", "users", "subscriptions",
        "userGroups", "id",
    ),
    "admin_v1.schedules": (
        "canEdit", "id", "application.canExecute", "application.amp", "application.id", "application.revisionId",
        "application.name", "application.iconId", "owner.id", "owner.role", "owner.firstName", "owner.lastName",
        "owner.email", "owner.sortName", "owner.isActive", "owner.credentialWorkFlowCount", "name", "comment",
        "enabled", "priority", "workerTag", "status", "credential.credentialId", "credential.username",
        "credential.source", "creationTime", "lastRunTime", "nextRunTime", "state", "runCount", "iteration.startTime",
        "frequency", "timezone", "lastError", "cpuName", "lastModifiedId", "lastModifiedDate",
    ),
    "admin_v1.subscriptions": (
        "active", "expirationDate", "memberPassesPurchased", "memberPassesUsed", "name", "primaryContactInfo.name",
        "primaryContactInfo.email", "primaryContactInfo.company", "primaryContactInfo.address.country",
        "primaryContactInfo.address.addressLine1", "primaryContactInfo.address.addressLine2",
        "primaryContactInfo.address.city", "primaryContactInfo.address.state", "primaryContactInfo.address.postalCode",
        "id",
    ),
    "admin_v2.subscriptions": ("active", "expirationDate", "name", "defaultWorkflowCredentialId", "id"),
    "admin_v1.workflows_all": _WORKFLOW_ALL_FIELDS,
    "admin_v2.workflows_all": _WORKFLOW_ALL_FIELDS,
}


class ListingError(AxframeError):
    """A listing (or the read that sets up a run) could not be read from the Server."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(redact(message))
        self.status = status


# --------------------------------------------------------------------------
# sending one call
# --------------------------------------------------------------------------


def _send(conn: Connection, action: str, record: Mapping[str, Any] | None = None, *, contract: Any = None,
          file: str | None = None) -> tuple[Outcome, bool]:
    """Plan and send one call; ``(outcome, sent)``.  A call that cannot be planned is not sent."""
    endpoint = catalogue.find(action)
    rec = dict(record or {})
    if contract is not None:
        rec[frames.CONTRACT] = contract
    if file is not None:
        rec["file"] = file
    planned = frames.plan_row(endpoint, rec, columns=[], merge=False, legacy=conn.legacy)
    if isinstance(planned, frames.Problem):
        return Outcome(None, error_type=planned.error_type, error=planned.error), False
    return conn.send(planned.call), True


def _json(outcome: Outcome) -> Any:
    try:
        return outcome.json()
    except ValueError:
        return None


def _read(conn: Connection, action: str, record: Mapping[str, Any] | None = None) -> Any:
    """A set-up read: the answer's JSON, or :class:`ListingError`."""
    outcome, _ = _send(conn, action, record)
    if not outcome.ok:
        raise ListingError(f"{action}: {outcome.error}", outcome.status)
    return _json(outcome)


def _workers(conn: Connection, max_workers: int | None) -> int:
    if max_workers is None:
        value = conn.max_workers
        return value if isinstance(value, int) and value > 0 else 8
    try:
        number = int(max_workers)
    except (TypeError, ValueError):
        raise ConfigurationError(f"max_workers must be a positive number, not {max_workers!r}") from None
    if number < 1:
        raise ConfigurationError("max_workers must be at least 1")
    return number


class _Memo:
    """Compute each key once across threads; later callers wait for the first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Any, cf.Future] = {}

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            future = self._futures.get(key)
            mine = future is None
            if mine:
                future = cf.Future()
                self._futures[key] = future
        assert future is not None
        if mine:
            try:
                future.set_result(compute())
            except BaseException as exc:
                future.set_exception(exc)
                raise
        return future.result()


# --------------------------------------------------------------------------
# the pager and the listings
# --------------------------------------------------------------------------


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
        except catalogue.UnknownAction as exc:
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
        self.first: int | None = 0 if self.endpoint.name in _ZERO_BASED else first_page
        self.workers = _workers(conn, max_workers)
        self.calls = 0
        self._lock = threading.Lock()

    def fetch(self, number: int) -> list:
        """One page (``number`` as the Server counts); raises :class:`ListingError`."""
        record = dict(self.params, page=number, pageSize=self.page_size)
        planned = frames.plan_row(self.endpoint, record, columns=[], legacy=self.conn.legacy)
        if isinstance(planned, frames.Problem):
            raise ConfigurationError(f"{self.endpoint.name}: {planned.error}")
        outcome = self.conn.send(planned.call)
        with self._lock:
            self.calls += 1
        if not outcome.ok:
            raise ListingError(f"{self.endpoint.name} page {number}: {outcome.error}", outcome.status)
        data = _json(outcome)
        if data is None and outcome.text.strip():
            raise ListingError(f"{self.endpoint.name} page {number}: the answer is not JSON", outcome.status)
        if data is None:
            return []
        if not isinstance(data, list):
            raise ListingError(f"{self.endpoint.name} page {number}: expected a list, got {type(data).__name__}",
                               outcome.status)
        return data

    def _fetch_many(self, numbers: list[int]) -> list[list]:
        if len(numbers) == 1 or self.workers == 1:
            return [self.fetch(n) for n in numbers]
        with cf.ThreadPoolExecutor(max_workers=min(self.workers, len(numbers)),
                                   thread_name_prefix="axframe-page") as pool:
            return list(pool.map(self.fetch, numbers))

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


def _plain(value: Any) -> Any:
    """A cell value of a plain dtype: lists and objects become JSON text."""
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return value


def _item_template(fields: Sequence[str]) -> dict:
    """An item of empty values shaped like *fields* (``parent.child`` names become nested objects)."""
    item: dict = {}
    for name in fields:
        *parents, leaf = name.split(".")
        node = item
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = None
    return item


def _empty_listing(action: str, flatten: bool) -> pd.DataFrame:
    """No rows, and the columns the listing's items would have made (``id`` for an unknown listing)."""
    template = _item_template(_LISTING_FIELDS.get(action, ("id",)))
    columns = pd.json_normalize([template]).columns if flatten else list(template)
    return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})


def _listing_frame(items: list, flatten: bool = True, action: str = "") -> pd.DataFrame:
    records = [i if isinstance(i, dict) else {"value": i} for i in items]
    if not records:
        return _empty_listing(action, flatten)
    df = pd.json_normalize(records) if flatten else pd.DataFrame(records)
    for column in df.columns:
        if df[column].dtype == object and df[column].map(lambda v: isinstance(v, (list, dict, tuple))).any():
            df[column] = pd.Series([_plain(v) for v in df[column]], index=df.index, dtype=object)
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
    action = LISTINGS.get(name, name)
    if action == "admin_v1.audit_log":
        raise ConfigurationError("use axframe.migrate.audit_log(conn, entity) for the audit log")
    pager = Pager(conn, action, params, page_size=page_size, max_workers=max_workers, first_page=first_page)
    return _listing_frame(pager.all(total, readahead), flatten, action)


# --------------------------------------------------------------------------
# the audit log
# --------------------------------------------------------------------------

_AUDIT_COLUMNS = ("id", "entity", "entityId", "userId", "timestamp", "event", "oldValues", "newValues")


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
    extra = [k for k in dict.fromkeys(k for r in records for k in r) if k not in _AUDIT_COLUMNS]
    columns = list(_AUDIT_COLUMNS) + extra
    df = pd.DataFrame({c: pd.Series([_plain(r.get(c)) for r in records], dtype=object) for c in columns})
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601", errors="coerce")
    if expand_values and records:
        old = [_json_object(r.get("oldValues")) for r in records]
        new = [_json_object(r.get("newValues")) for r in records]
        keys = sorted({k for parsed in old + new if parsed for k in parsed})
        added: dict[str, pd.Series] = {}
        for key in keys:
            for prefix, parsed in (("old", old), ("new", new)):
                if any(p is not None and key in p for p in parsed):
                    added[f"{prefix}.{key}"] = pd.Series(
                        [_plain(p.get(key)) if p is not None else None for p in parsed], dtype=object)
        if added:
            df = pd.concat([df, pd.DataFrame(added)], axis=1)
    return df


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


# --------------------------------------------------------------------------
# migratable workflows
# --------------------------------------------------------------------------


def _published(view: Mapping[str, Any]) -> dict:
    versions = view.get("versions") or []
    wanted = view.get("publishedVersionId")
    for version in versions:
        if isinstance(version, dict) and version.get("versionId") == wanted:
            return version
    return versions[-1] if versions and isinstance(versions[-1], dict) else {}


def _id_list(value: Any, what: str) -> list[str]:
    """Ids from a list, JSON array text, or comma/semicolon-separated text."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError:
                raise ValueError(f"{what} is not a valid JSON array") from None
            if not isinstance(items, list):
                raise ValueError(f"{what} must be a list")
        else:
            items = re.split(r"[,;\n]", text)
    elif frames.is_missing(value):
        return []
    else:
        items = [frames.as_text(value)]
    out = [frames.as_text(i).strip() for i in items if not frames.is_missing(i)]
    return [i for i in out if i]


def migratable(conn: Connection, subscription_ids: str | Iterable[str] | None = None, *,
               details: bool = True) -> pd.DataFrame:
    """The workflows marked ready to migrate (``GET /admin/v1/workflows/migratable``).

    Parameters
    ----------
    conn : Connection
        A Curator's connection to the source Server (OAuth2 or legacy).
    subscription_ids : str or list of str, optional
        Only these subscriptions (studios); all by default.
    details : bool
        Add each workflow's name, owner and run-as credential setting (two
        more calls in all, not per workflow: the V3 workflow and user lists;
        one Admin V1 workflow list on a legacy connection).

    Returns
    -------
    pandas.DataFrame
        ``RecordID``, ``workflowId``, ``publishedVersionId``,
        ``subscriptionId`` and, with details, ``name``, ``ownerId``,
        ``ownerEmail``, ``workflowCredentialType`` and ``credentialId``;
        ready to pass to :func:`migrate`.

    Raises
    ------
    ListingError
        The Server refused a listing.
    """
    record: dict[str, Any] = {}
    if subscription_ids is not None:
        ids = [subscription_ids] if isinstance(subscription_ids, str) else list(subscription_ids)
        joined = ",".join(frames.as_text(i).strip() for i in ids if not frames.is_missing(i))
        if joined:
            record["subscriptionIds"] = joined
    items = _read(conn, "admin_v1.migratable", record) or []
    items = [i for i in items if isinstance(i, dict)]
    df = pd.DataFrame({
        frames.RECORD_ID: pd.array(range(1, len(items) + 1), dtype="int64"),
        "workflowId": pd.Series([frames.as_text(i.get("id", "")) for i in items], dtype=object),
        "publishedVersionId": pd.Series([i.get("publishedVersionId") or "" for i in items], dtype=object),
        "subscriptionId": pd.Series([i.get("subscriptionId") or "" for i in items], dtype=object),
    })
    if not details:
        return df
    info: dict[str, dict] = {}
    if conn.legacy:
        for view in _read(conn, "admin_v1.workflows") or []:
            owner = view.get("publishedVersionOwner") or {}
            info[view.get("id")] = {"name": (view.get("metaInfo") or {}).get("name", ""),
                                    "ownerId": owner.get("id", ""), "ownerEmail": owner.get("email", ""),
                                    "workflowCredentialType": "", "credentialId": ""}
    else:
        emails = {u.get("id"): u.get("email", "") for u in _read(conn, "users.list") or []}
        for view in _read(conn, "workflows.list", {"view": "Full"}) or []:
            version = _published(view)
            info[view.get("id")] = {"name": view.get("name", ""), "ownerId": view.get("ownerId", ""),
                                    "ownerEmail": emails.get(view.get("ownerId"), ""),
                                    "workflowCredentialType": version.get("workflowCredentialType") or "",
                                    "credentialId": version.get("credentialId") or ""}
    for column in ("name", "ownerId", "ownerEmail", "workflowCredentialType", "credentialId"):
        df[column] = pd.Series([info.get(w, {}).get(column, "") or "" for w in df["workflowId"]], dtype=object)
    return df


# --------------------------------------------------------------------------
# rows: validation and result frames (shared by migrate and deploy)
# --------------------------------------------------------------------------


@dataclass
class _Out:
    """One row's ending: success or failure, the output values, and whether a change was sent."""

    ok: bool = True
    values: dict = field(default_factory=dict)
    status: int | None = None
    error_type: str | None = None
    error: str | None = None
    sent: bool = False
    warnings: list = field(default_factory=list)

    def fail(self, error_type: str | None, error: str, status: int | None = None) -> "_Out":
        self.ok = False
        self.error_type = error_type or ErrorType.HTTP_ERROR
        self.error = error
        self.status = status
        return self


def _record_id_problems(df: pd.DataFrame) -> dict[int, _Out]:
    """Rows with an empty or repeated RecordID (the engine's own check)."""
    return {pos: _Out().fail(p.error_type, p.error)
            for pos, p in frames.record_id_problems(df[frames.RECORD_ID].tolist()).items()}


def _text_column(values: list) -> pd.Series:
    return pd.Series(values, dtype=object)


def _finish(df: pd.DataFrame, outs: list[_Out], columns: Sequence[tuple[str, str]], summary: Summary,
            counter: "_Counter", bar: Progress, started: float) -> Result:
    """A run's result: the calls counted, the frames shaped, the summary closed and logged."""
    counter.fill(summary)
    result = _shape(df, outs, columns, summary)
    summary.elapsed = time.perf_counter() - started
    bar.close(summary)
    log.info("%s", summary)
    return result


def _shape(df: pd.DataFrame, outs: list[_Out], columns: Sequence[tuple[str, str]], summary: Summary) -> Result:
    """Success and failure frames: RecordID, the input columns, then *columns* (name, kind)."""

    def block(positions: list[int], ok: bool) -> pd.DataFrame:
        part = df.iloc[positions]
        ordered = [frames.RECORD_ID] + [c for c in part.columns if c != frames.RECORD_ID]
        part = part[ordered].reset_index(drop=True)
        for name, kind in columns:
            values = [outs[i].values.get(name) for i in positions]
            if name == "Action" and not ok:
                values = ["failed"] * len(positions)
            if kind == "int":
                part[name] = pd.array([int(v or 0) for v in values], dtype="int64")
            elif kind == "bool":
                part[name] = pd.array([bool(v) for v in values], dtype="bool")
            else:
                part[name] = _text_column(["" if v is None else redact(str(v)) for v in values])
        part["Warning"] = _text_column([redact("; ".join(outs[i].warnings)) for i in positions])
        if ok:
            part["StatusCode"] = pd.array([int(outs[i].status or 0) for i in positions], dtype="int64")
        else:
            part["StatusCode"] = _text_column([outs[i].status for i in positions])
            part["ErrorType"] = _text_column([outs[i].error_type for i in positions])
            part["Error"] = _text_column([redact(scrub(outs[i].error or "")) for i in positions])
        return part

    ok_pos = [i for i, o in enumerate(outs) if o.ok]
    bad_pos = [i for i, o in enumerate(outs) if not o.ok]
    summary.rows = len(outs)
    summary.succeeded, summary.failed = len(ok_pos), len(bad_pos)
    summary.not_sent = len(outs) if summary.dry_run else sum(1 for i in bad_pos if not outs[i].sent)
    counts: dict[str, int] = {}
    for i in bad_pos:
        counts[outs[i].error_type or ""] = counts.get(outs[i].error_type or "", 0) + 1
    summary.error_types = counts
    return Result(block(ok_pos, True), block(bad_pos, False), summary)


def _run_rows(positions: list[int], work: Callable[[int], _Out], workers: int, bar: Progress,
              outs: list) -> None:
    """Run *work* for each position on at most *workers* threads; steps within a row stay in order."""
    if not positions:
        return
    if workers <= 1 or len(positions) == 1:
        for pos in positions:
            outs[pos] = work(pos)
            bar.update()
        return
    pool = cf.ThreadPoolExecutor(max_workers=min(workers, len(positions)), thread_name_prefix="axframe-row")
    try:
        futures = {pool.submit(work, pos): pos for pos in positions}
        for future in cf.as_completed(futures):
            outs[futures[future]] = future.result()
            bar.update()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


class _Counter:
    """Calls, retries and tokens spent on one or two connections during a run."""

    def __init__(self, *conns: Connection):
        self.conns = list({id(c): c for c in conns}.values())
        self.before = [(dict(c.stats), c.tokens_requested) for c in self.conns]

    def fill(self, summary: Summary) -> None:
        for conn, (stats, tokens) in zip(self.conns, self.before):
            summary.calls += conn.stats["calls"] - stats.get("calls", 0)
            summary.retries += conn.stats["retries"] - stats.get("retries", 0)
            summary.tokens_requested += conn.tokens_requested - tokens


def _as_bool(value: Any, name: str) -> bool | None:
    if value is None or (not isinstance(value, (list, dict)) and frames.is_missing(value)):
        return None
    coerced = value.item() if hasattr(value, "item") else value
    coerced = schemas.coerce(coerced, {"type": "boolean"})
    if not isinstance(coerced, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return coerced


def _as_email(value: Any, name: str) -> str | None:
    if value is None or frames.is_missing(value):
        return None
    text = frames.as_text(value).strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", text):
        raise ValueError(f"{name} must be an email address, not {text!r}")
    return text


# --------------------------------------------------------------------------
# migrate
# --------------------------------------------------------------------------

_MIGRATE_COLUMNS = (("SourceWorkflowId", "text"), ("TargetWorkflowId", "text"), ("Name", "text"),
                    ("Owner", "text"), ("Action", "text"), ("FlagReset", "bool"))
_MIGRATE_OUTPUT = {c for c, _ in _MIGRATE_COLUMNS} | {"Warning", "StatusCode", "ErrorType", "Error"}
_EXISTING = ("fail", "version", "copy")


@dataclass
class _MigrationRow:
    workflow_id: str
    name: str | None
    owner: str | None
    collections: list
    worker_tag: str | None
    is_public: bool | None
    can_download: bool | None
    validate: bool
    comments: str | None


@dataclass
class _SourceWorkflow:
    name: str
    owner_id: str
    owner_email: str | None
    is_public: bool
    can_download: bool
    comments: str
    flagged: bool
    credential_type: str
    credential_id: str
    checked_credentials: bool = True


class _Migration:
    """What one :func:`migrate` run knows and caches about its two Servers."""

    def __init__(self, source: Connection, target: Connection, *, credentials: Mapping[str, str],
                 unmovable: str, existing: str, reset_flag: bool, dry_run: bool, package_dir: Path):
        self.source, self.target = source, target
        self.credentials = dict(credentials)
        self.unmovable = unmovable
        self.existing = existing
        self.reset_flag = reset_flag
        self.dry_run = dry_run
        self.package_dir = package_dir
        self.memo = _Memo()

    # ------------------------------------------------------------ source reads
    def source_workflow(self, workflow_id: str) -> _SourceWorkflow | Outcome:
        if self.source.legacy:
            return self._legacy_source_workflow(workflow_id)
        outcome, _ = _send(self.source, "workflows.get", {"workflowId": workflow_id})
        if not outcome.ok:
            return outcome
        view = _json(outcome) or {}
        version = _published(view)
        owner_id = view.get("ownerId") or ""
        return _SourceWorkflow(
            name=view.get("name") or "", owner_id=owner_id, owner_email=self.source_email(owner_id),
            is_public=bool(view.get("isPublic")),
            can_download=bool(version.get("othersMayDownload", view.get("othersMayDownload", True))),
            comments=version.get("comments") or "", flagged=bool(view.get("isReadyForMigration")),
            credential_type=version.get("workflowCredentialType") or "Default",
            credential_id=version.get("credentialId") or "")

    def source_email(self, user_id: str) -> str | None:
        if not user_id:
            return None

        def read() -> str | None:
            outcome, _ = _send(self.source, "users.get", {"userId": user_id})
            return (_json(outcome) or {}).get("email") if outcome.ok else None

        return self.memo.get(("source-user", user_id), read)

    def _legacy_source_workflow(self, workflow_id: str) -> _SourceWorkflow | Outcome:
        def listing() -> dict | Outcome:
            outcome, _ = _send(self.source, "admin_v1.workflows")
            if not outcome.ok:
                return outcome
            return {v.get("id"): v for v in _json(outcome) or [] if isinstance(v, dict)}

        def flagged() -> set | Outcome:
            outcome, _ = _send(self.source, "admin_v1.migratable")
            if not outcome.ok:
                return outcome
            return {v.get("id") for v in _json(outcome) or [] if isinstance(v, dict)}

        views, marked = self.memo.get("legacy-workflows", listing), self.memo.get("legacy-flags", flagged)
        for read in (views, marked):
            if isinstance(read, Outcome):
                return read
        view = views.get(workflow_id)
        if view is None:
            return Outcome(404, error_type=ErrorType.NOT_FOUND,
                           error=f"not found (404): workflow '{workflow_id}' is not on the source Server")
        owner = view.get("publishedVersionOwner") or {}
        return _SourceWorkflow(name=(view.get("metaInfo") or {}).get("name", ""), owner_id=owner.get("id", ""),
                               owner_email=owner.get("email") or None, is_public=bool(view.get("public")),
                               can_download=True, comments="", flagged=workflow_id in marked,
                               credential_type="", credential_id="", checked_credentials=False)

    def download(self, workflow_id: str) -> bytes | Outcome:
        outcome, _ = _send(self.source, "admin_v1.package", {"appId": workflow_id})
        if not outcome.ok:
            return outcome
        if outcome.content is None:
            return Outcome(outcome.status, error_type=ErrorType.HTTP_ERROR, error="the package download was empty")
        return outcome.content

    # ------------------------------------------------------------ target reads
    def target_user(self, email: str) -> dict | None | Outcome:
        def read() -> dict | None | Outcome:
            outcome, _ = _send(self.target, "users.list", {"email": email})
            if not outcome.ok:
                return outcome
            users = [u for u in _json(outcome) or [] if isinstance(u, dict)
                     and str(u.get("email", "")).lower() == email.lower()]
            return users[0] if users else None

        return self.memo.get(("target-user", email.lower()), read)

    def target_collections(self) -> list | Outcome:
        def read() -> list | Outcome:
            outcome, _ = _send(self.target, "collections.list")
            return [c for c in _json(outcome) or [] if isinstance(c, dict)] if outcome.ok else outcome

        return self.memo.get("target-collections", read)

    def target_credential(self, credential_id: str) -> bool | Outcome:
        def read() -> bool | Outcome:
            outcome, _ = _send(self.target, "credentials.get", {"credentialId": credential_id})
            if outcome.ok:
                return True
            return False if outcome.status == 404 else outcome

        return self.memo.get(("target-credential", credential_id), read)

    def target_connection_names(self) -> set | Outcome:
        def read() -> set | Outcome:
            outcome, _ = _send(self.target, "data_connections.list")
            if not outcome.ok:
                return outcome
            return {str(c.get("name", "")).strip().lower() for c in _json(outcome) or [] if isinstance(c, dict)}

        return self.memo.get("target-connections", read)

    def target_workflows(self) -> tuple[dict, set, list] | Outcome:
        """``({sourceAppId: target id}, {every target id}, [every target view])`` as the run began."""

        def read() -> tuple[dict, set, list] | Outcome:
            outcome, _ = _send(self.target, "workflows.list", {"view": "Full"})
            if not outcome.ok:
                return outcome
            views = [v for v in _json(outcome) or [] if isinstance(v, dict)]
            return ({v["sourceAppId"]: v.get("id") for v in views if v.get("sourceAppId")},
                    {v.get("id") for v in views}, views)

        return self.memo.get("target-workflows", read)


def _refused(out: _Out, outcome: Outcome, doing: str) -> _Out:
    return out.fail(outcome.error_type or ErrorType.HTTP_ERROR, f"{doing}: {outcome.error or outcome.status}",
                    outcome.status)


def _match_collections(known: list, wanted: list[str], where: str) -> list[str] | tuple[str, str]:
    """Collection ids for ids or names (case-insensitive); ``(error_type, message)`` for one unknown or ambiguous."""
    ids = []
    for item in wanted:
        if any(c.get("id") == item for c in known):
            ids.append(item)
            continue
        named = [c.get("id") for c in known if str(c.get("name", "")).strip().lower() == item.lower()]
        if len(named) == 1:
            ids.append(named[0])
        elif named:
            return (ErrorType.INVALID_PARAMETER, f"{len(named)} collections {where} are named {item!r}; give its id")
        else:
            return (ErrorType.INVALID_PARAMETER, f"{where} has no collection {item!r} (by id or name)")
    return list(dict.fromkeys(ids))


def _resolve_collections(run: _Migration, wanted: list[str]) -> list[str] | tuple[str, str] | Outcome:
    if not wanted:
        return []
    known = run.target_collections()
    return known if isinstance(known, Outcome) else _match_collections(known, wanted, "the target Server")


def _connection_aliases(package: bytes) -> list[str]:
    """Shared connection aliases (``aka:NAME``) named in a package's workflow documents."""
    found: set[str] = set()
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            for name in archive.namelist():
                if name.lower().endswith(_DOCUMENTS):
                    text = read_member(archive, name).decode("utf-8", errors="replace")
                    found.update(m.group(1).strip() for m in _ALIAS_RE.finditer(text) if m.group(1).strip())
    except (zipfile.BadZipFile, OSError, RuntimeError, PackageError):
        return []
    return sorted(found)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "workflow"


def _no_account(owner: str) -> str:
    return (f"the owner {owner} has no account on the Server; create the user there first, or give another "
            "owner (an email or user id of an existing user)")


def _same_named(views: list, name: str, owner_id: Any) -> list[dict]:
    """The target workflows of *owner_id* named *name* (case-insensitive, as deploy matches names)."""
    wanted = name.strip().lower()
    return [v for v in views if owner_id and v.get("ownerId") == owner_id
            and str(v.get("name") or "").strip().lower() == wanted]


def _existing_problem(existing: str, same: list[dict], name: str, owner: str) -> str | None:
    """Why a row must not publish beside the target's same-named workflows of its owner; None when it may."""
    if not same or existing == "copy":
        return None
    ids = ", ".join(str(v.get("id")) for v in same)
    if existing == "fail":
        what = "a workflow" if len(same) == 1 else f"{len(same)} workflows"
        return (f"the target already has {what} named {name!r} owned by {owner} ({ids}) that was not migrated "
                "from this one; nothing was published: give existing='version' to add this package to it as a "
                "new version, or existing='copy' to publish a second workflow")
    if len(same) > 1:
        return (f"{len(same)} workflows of {owner} on the target are named {name!r} ({ids}); existing='version' "
                "needs exactly one: give the row another name, or existing='copy'")
    return None


def _version_form(view: Mapping[str, Any], *, owner_id: str, can_download: bool, comments: str) -> dict:
    """The form of a new published version of a target workflow that keeps its name and settings."""
    version = _published(view)
    form = {"name": view.get("name"), "ownerId": owner_id, "othersMayDownload": bool(can_download),
            "othersCanExecute": bool(view.get("othersCanExecute", True)),
            "executionMode": view.get("executionMode") or version.get("executionMode") or "Standard",
            "makePublished": True, "comments": comments,
            "workflowCredentialType": version.get("workflowCredentialType") or "Default"}
    if version.get("credentialId"):
        form["credentialId"] = version["credentialId"]
    return form


def _migrate_row(run: _Migration, spec: _MigrationRow) -> _Out:
    out = _Out(values={"SourceWorkflowId": spec.workflow_id, "Action": "failed"})
    wid = spec.workflow_id
    info = run.source_workflow(wid)
    if isinstance(info, Outcome):
        return _refused(out, info, f"reading workflow {wid} on the source")
    name = spec.name or info.name
    out.values["Name"] = name
    owner = spec.owner or info.owner_email
    if not owner:
        return out.fail(ErrorType.MISSING_PARAMETER,
                        "no owner: give an 'owner' column or owner= (the source owner's email could not be read)")
    out.values["Owner"] = owner
    out.status = 200

    user = run.target_user(owner)
    if isinstance(user, Outcome):
        return _refused(out, user, f"looking up the owner {owner} on the target")
    if user is None:
        return out.fail(ErrorType.INVALID_PARAMETER,
                        f"the owner {owner} has no account on the target Server (GET /v3/users?email= found no "
                        "one); create the user there first, or give another owner")
    if user.get("isActive") is False:
        out.warnings.append(f"the owner {owner} is deactivated on the target")

    known_workflows = run.target_workflows()
    if isinstance(known_workflows, Outcome):
        return _refused(out, known_workflows, "listing the target's workflows")
    by_source, ids_before, views = known_workflows
    same = [] if by_source.get(wid) else _same_named(views, name, user.get("id"))
    problem = _existing_problem(run.existing, same, name, owner)
    if problem:
        return out.fail(ErrorType.CONFLICT, problem)
    into = same[0] if same and run.existing == "version" else None  # gets this package as a new version

    collections = _resolve_collections(run, spec.collections)
    if isinstance(collections, Outcome):
        return _refused(out, collections, "reading the target's collections")
    if isinstance(collections, tuple):
        return out.fail(*collections)

    issues: list[str] = []
    target_credential = ""
    if not info.checked_credentials:
        out.warnings.append("the legacy API does not tell a workflow's run-as credential; check it on the target")
    elif info.credential_type == "Specific":
        source_cred = info.credential_id
        mapped = run.credentials.get(source_cred)
        candidate = mapped or source_cred
        known = run.target_credential(candidate) if candidate else False
        if isinstance(known, Outcome):
            return _refused(out, known, f"looking up credential {candidate} on the target")
        if known:
            target_credential = candidate
        elif mapped:
            return out.fail(ErrorType.INVALID_PARAMETER,
                            f"credentials= maps {source_cred} to {mapped}, which is not a credential on the target")
        else:
            issues.append(f"it runs as a specific credential ({source_cred}) that the target Server does not "
                          f"have; map it with credentials={{'{source_cred}': '<target credential id>'}}")

    package = run.download(wid)
    if isinstance(package, Outcome):
        return _refused(out, package, f"downloading workflow {wid}'s package from the source")
    try:
        read_package(package)
    except PackageError as exc:
        return out.fail(ErrorType.INVALID_FILE, f"the source's package of {wid} is not readable: {exc}")
    path = run.package_dir / f"{_safe_name(wid)}.yxzp"
    path.write_bytes(package)

    aliases = _connection_aliases(package)
    if aliases:
        names = run.target_connection_names()
        if isinstance(names, Outcome):
            return _refused(out, names, "reading the target's server data connections")
        missing = [a for a in aliases if a.lower() not in names]
        if missing:
            issues.append("it uses shared data connection" + ("s " if len(missing) > 1 else " ")
                          + ", ".join(repr(m) for m in missing) + " that the target Server does not have")
    if issues:
        if run.unmovable == "fail":
            return out.fail(ErrorType.NOT_MIGRATABLE, "not migratable: " + "; ".join(issues))
        out.warnings.extend(f"not migratable as it is: {i}" for i in issues)

    planned = "new version" if by_source.get(wid) or into is not None else "created"
    if run.dry_run:
        out.values.update(Action=planned, TargetWorkflowId=by_source.get(wid) or (into or {}).get("id") or "")
        return out

    can_download = spec.can_download if spec.can_download is not None else info.can_download
    comments = spec.comments if spec.comments is not None else info.comments
    if into is None:
        form = {"name": name, "owner": owner, "validate": spec.validate,
                "isPublic": spec.is_public if spec.is_public is not None else info.is_public,
                "sourceId": wid, "workerTag": spec.worker_tag or "", "canDownload": can_download,
                "comments": comments}
        outcome, sent = _send(run.target, "admin_v1.publish", contract=form, file=str(path))
        doing = "publishing on the target"
    else:
        if not into.get("versions"):  # a listing of reduced views: read the workflow
            current, _ = _send(run.target, "workflows.get", {"workflowId": into.get("id")})
            if not current.ok:
                return _refused(out, current, f"reading target workflow {into.get('id')}")
            into = _json(current) or into
        form = _version_form(into, owner_id=user.get("id"), can_download=can_download, comments=comments)
        outcome, sent = _send(run.target, "workflows.add_version", {"workflowId": into.get("id")}, contract=form,
                              file=str(path))
        doing = f"adding a version to target workflow {into.get('id')}"
        if spec.validate:
            out.warnings.append("validate is not available when adding a version to a workflow (existing='version')")
    out.sent = sent and outcome.error_type != ErrorType.CONNECTION
    if not outcome.ok:
        return _refused(out, outcome, doing)
    target_id = _json(outcome) if into is None else into.get("id")
    if not isinstance(target_id, str) or not target_id:
        return out.fail(ErrorType.HTTP_ERROR, f"publishing on the target: the answer is not a workflow id "
                                              f"({outcome.text[:80]!r})", outcome.status)
    action = "new version" if target_id in ids_before or by_source.get(wid) == target_id else "created"
    out.values["TargetWorkflowId"] = target_id
    out.status = outcome.status
    done = f"published as {action} of target workflow {target_id}" if action == "new version" else \
        f"published as target workflow {target_id}"

    if target_credential:
        current, _ = _send(run.target, "workflows.get", {"workflowId": target_id})
        if not current.ok:
            return _refused(out, current, f"{done}, but reading it to set its credential failed")
        try:
            contract = merged_contract(MERGES["workflows.update"], _json(current),
                                       {"workflowCredentialType": "Specific", "credentialId": target_credential})
        except ValueError as exc:
            return out.fail(ErrorType.MERGE_FAILED, f"{done}, but its credential could not be set: {exc}")
        update, _ = _send(run.target, "workflows.update", {"workflowId": target_id}, contract=contract)
        if not update.ok:
            return _refused(out, update, f"{done}, but setting its run-as credential failed")

    for collection_id in collections:
        if action == "new version":
            current, _ = _send(run.target, "collections.get", {"collectionId": collection_id})
            if current.ok and target_id in ((_json(current) or {}).get("workflowIds") or []):
                continue
        added, _ = _send(run.target, "collections.add_workflow", {"collectionId": collection_id},
                         contract={"workflowId": target_id})
        if not added.ok:
            return _refused(out, added, f"{done}, but adding it to collection {collection_id} failed")

    if run.reset_flag and info.flagged:
        for _attempt in range(2):
            toggled, _ = _send(run.source, "admin_v1.toggle_migratable", {"appId": wid})
            if not toggled.ok:
                return _refused(out, toggled, f"{done}, but resetting the migration flag on the source failed")
            answer = _json(toggled)
            if not (isinstance(answer, dict) and answer.get("isReadyForMigration") is True):
                break  # flipped off (or the Server does not say)
            # it had been cleared meanwhile, so the toggle set it: toggle back
        out.values["FlagReset"] = True
    out.values["Action"] = action
    return out


def _migration_row(record: dict, defaults: dict) -> _MigrationRow | _Out:
    """Check one row before anything is sent for it."""
    value = record.get("workflowId")
    if frames.is_missing(value):
        return _Out().fail(ErrorType.MISSING_PARAMETER,
                           "workflowId is missing: each row needs the workflow's id on the source")
    wid = frames.as_text(value).strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", wid):
        return _Out().fail(ErrorType.INVALID_PARAMETER, f"workflowId {wid!r} is not a valid workflow id")

    def pick(column: str, key: str) -> Any:
        cell = record.get(column)
        if isinstance(cell, (list, tuple)) or not frames.is_missing(cell):
            return cell
        return defaults.get(key)

    try:
        owner = _as_email(pick("owner", "owner"), "owner")
        collections = _id_list(pick("collections", "collections"), "collections")
        flags = {key: _as_bool(pick(column, key), column) for column, key in
                 (("isPublic", "is_public"), ("canDownload", "can_download"), ("validate", "validate"))}
    except ValueError as exc:
        return _Out().fail(ErrorType.INVALID_PARAMETER, str(exc))
    name = pick("name", "name")
    tag = pick("workerTag", "worker_tag")
    comments = pick("comments", "comments")
    return _MigrationRow(workflow_id=wid, name=None if frames.is_missing(name) else frames.as_text(name),
                         owner=owner, collections=collections,
                         worker_tag=None if frames.is_missing(tag) else frames.as_text(tag),
                         is_public=flags["is_public"], can_download=flags["can_download"],
                         validate=bool(flags["validate"]),
                         comments=None if frames.is_missing(comments) else frames.as_text(comments))


def migrate(source: Connection, target: Connection, frame: Any = None, *, owner: str | None = None,
            collections: str | Sequence[str] | None = None, worker_tag: str | None = None,
            is_public: bool | None = None, can_download: bool | None = None, validate: bool = False,
            comments: str | None = None, credentials: Mapping[str, str] | None = None, unmovable: str = "fail",
            existing: str = "fail", reset_flag: bool = False, dry_run: bool = False,
            package_dir: str | os.PathLike | None = None, max_workers: int | None = _DEFAULT_WORKERS,
            progress: bool | None = None) -> Result:
    """Move workflows from a source Server to a target Server, one row each.

    For each row, in order: read the workflow on the source
    (``GET /v3/workflows/{id}``), check its owner on the target
    (``GET /v3/users?email=``) and its collections and run-as credential,
    download its package (``GET /admin/v1/{appId}/package``), publish it on the
    target with ``sourceId`` = the source id (``POST /admin/v1/workflows``: if
    the target already has a workflow with that source id, it gets a new
    version; a target workflow of the same name and owner without it is dealt
    with as *existing* says), set its credential, add it to collections
    (``POST /v3/collections/{id}/workflows``), and, with ``reset_flag``, reset
    the source's migration flag (``PUT /admin/v1/workflows/migratable/{appId}``,
    which flips it, so only when it is set).  Rows run concurrently.

    Parameters
    ----------
    source, target : Connection
        Curators' connections.  The source may be a legacy (OAuth1)
        connection; the target must be OAuth2 (``/webapi``).
    frame : pandas.DataFrame, optional
        One row per workflow, with ``RecordID`` and ``workflowId`` (the id on
        the source); optional columns, named like the publish form, override
        the keywords per row: ``owner`` (email on the target), ``name``,
        ``collections`` (target collection ids or names: a list, JSON array
        text, or comma-separated), ``workerTag``, ``isPublic``,
        ``canDownload``, ``validate``, ``comments``.  By default, every
        workflow :func:`migratable` lists.
    owner : str, optional
        The owner's email on the target (default: the source owner's email).
    collections : str or list of str, optional
        Target collections (ids or names) to add every workflow to.
    worker_tag : str, optional
        The target worker tag (default: none).
    is_public, can_download : bool, optional
        Default: as on the source.
    validate : bool
        Ask the target to validate each workflow on publishing.
    comments : str, optional
        Version comments (default: the source published version's).
    credentials : dict, optional
        Source credential id to target credential id, for workflows that run
        as a specific credential.
    unmovable : {"fail", "warn"}
        What to do with a workflow that cannot move as it is (a specific
        credential the target lacks, a shared data connection the target has
        no connection of that name for): fail the row with ``ErrorType``
        ``NotMigratable`` without sending it anything (default), or migrate
        it and say why in ``Warning``.
    existing : {"fail", "version", "copy"}
        What to do when the target has no workflow migrated from this one
        (``sourceAppId``; that match always comes first) but has one of the
        same name (case-insensitive) and the same owner, published by hand or
        by :func:`deploy`: fail the row with ``ErrorType`` ``Conflict``, naming
        it, and publish nothing (default: a migration never duplicates nor
        overwrites a workflow unless asked); add the package to it as a new
        published version (``POST /v3/workflows/{id}/versions``, keeping its
        name and settings; several such workflows fail the row); or publish a
        second workflow beside it.  Workflows of other owners never match.
    reset_flag : bool
        Reset the migration flag on the source after a successful migration.
    dry_run : bool
        Only read (both Servers, packages included): the success frame shows
        what each row would do.
    package_dir : path, optional
        Keep the downloaded packages there (default: a temporary folder,
        removed afterwards).
    max_workers : int, optional
        Rows in flight at once (default 4).
    progress : bool, optional
        Show a progress bar (default: at a terminal or in a notebook only).

    Returns
    -------
    Result
        Unpacks into ``(success, failure)``: ``RecordID``, the input columns
        unchanged, ``SourceWorkflowId``, ``TargetWorkflowId``, ``Name``,
        ``Owner``, ``Action`` (``created`` or ``new version``, of the workflow
        with the source id or, with ``existing="version"``, of the same-named
        one; ``failed`` in the failure frame), ``FlagReset``, ``Warning``,
        ``StatusCode``, and in the failure frame ``ErrorType`` and
        ``Error``.  A failure after the publish (a collection, the flag)
        keeps ``TargetWorkflowId`` and says what was done in ``Error``;
        running the row again adds a version.

    Raises
    ------
    ConfigurationError, FrameError
        Before anything is sent: a legacy target, a bad option, a frame
        without ``RecordID`` or ``workflowId``.
    """
    started = time.perf_counter()
    for conn, role in ((source, "source"), (target, "target")):
        if not isinstance(conn, Connection):
            raise ConfigurationError(f"{role} must be a Connection from axframe.authenticate")
    if target.legacy:
        raise ConfigurationError("the target must be reached through /webapi (OAuth2): the owner check and "
                                 "collections use the V3 API")
    if unmovable not in ("fail", "warn"):
        raise ConfigurationError(f"unmovable must be 'fail' or 'warn', not {unmovable!r}")
    if existing not in _EXISTING:
        raise ConfigurationError(f"existing must be 'fail', 'version' or 'copy', not {existing!r}")
    if credentials is not None and not isinstance(credentials, Mapping):
        raise ConfigurationError("credentials must be a dict of source credential id to target credential id")
    try:
        defaults = {"owner": _as_email(owner, "owner"),
                    "collections": _id_list(collections, "collections") if collections is not None else [],
                    "worker_tag": worker_tag, "is_public": _as_bool(is_public, "is_public"),
                    "can_download": _as_bool(can_download, "can_download"),
                    "validate": _as_bool(validate, "validate"), "comments": comments, "name": None}
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    workers = _workers(source, max_workers)
    counter = _Counter(source, target)
    if frame is None:
        frame = migratable(source, details=False)
    df = frames.prepare_input(frame)
    df = df.drop(columns=[c for c in df.columns if c in _MIGRATE_OUTPUT])
    if "workflowId" not in df.columns:
        hint = " (there is an 'id' column: rename it to 'workflowId')" if "id" in df.columns else ""
        raise FrameError(f"the frame has no 'workflowId' column{hint}: each row needs the workflow's id on the source")

    records = df.to_dict("records")
    outs: list[Any] = [None] * len(records)
    for pos, problem in _record_id_problems(df).items():
        outs[pos] = problem
    specs: dict[int, _MigrationRow] = {}
    first_row: dict[str, int] = {}
    for pos, record in enumerate(records):
        if outs[pos] is not None:
            continue
        spec = _migration_row(record, defaults)
        if isinstance(spec, _Out):
            outs[pos] = spec
            continue
        if spec.workflow_id in first_row:
            outs[pos] = _Out().fail(ErrorType.INVALID_PARAMETER,
                                    f"workflow {spec.workflow_id} is already migrated by RecordID "
                                    f"{records[first_row[spec.workflow_id]][frames.RECORD_ID]!r} in this run")
            continue
        first_row[spec.workflow_id] = pos
        specs[pos] = spec
    for pos, out in enumerate(outs):
        if out is not None:
            spec_id = records[pos].get("workflowId")
            out.values.setdefault("SourceWorkflowId", "" if frames.is_missing(spec_id) else frames.as_text(spec_id))
            out.values.setdefault("Action", "failed")

    own_dir = package_dir is None
    folder = Path(tempfile.mkdtemp(prefix="axframe-migrate-")) if package_dir is None else Path(package_dir)
    folder.mkdir(parents=True, exist_ok=True)
    run = _Migration(source, target, credentials=credentials or {}, unmovable=unmovable, existing=existing,
                     reset_flag=reset_flag, dry_run=dry_run, package_dir=folder)
    summary = Summary("migrate", dry_run=dry_run)
    bar = Progress(len(specs), "migrate", progress, rows=len(df))
    try:
        _run_rows(sorted(specs), lambda pos: _migrate_row(run, specs[pos]), workers, bar, outs)
    finally:
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)
    return _finish(df, outs, _MIGRATE_COLUMNS, summary, counter, bar, started)


# --------------------------------------------------------------------------
# deploy
# --------------------------------------------------------------------------

_DEPLOY_COLUMNS = (("Path", "text"), ("Name", "text"), ("WorkflowId", "text"), ("Action", "text"),
                   ("Version", "int"), ("ContentHash", "text"), ("ServerHash", "text"))
_MANIFEST_KEYS = {"name", "workflowId", "owner", "collections"}


@dataclass
class _DeployFile:
    path: Path
    rel: str
    data: bytes = b""
    digest: str = ""
    name: str = ""
    workflow_id: str | None = None
    owner: str | None = None
    collections: list | None = None


def _load_manifest(folder: Path, manifest: str | os.PathLike | None) -> dict[str, dict]:
    if manifest is None:
        return {}
    path = Path(manifest)
    if not path.is_absolute():
        path = folder / path
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"the manifest {path} is not valid JSON: {exc}") from None
    entries = data.get("workflows") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise ConfigurationError(f"the manifest {path} must be an object with a 'workflows' object of "
                                 "file paths to settings")
    out: dict[str, dict] = {}
    for rel, settings in entries.items():
        if not isinstance(settings, dict):
            raise ConfigurationError(f"manifest entry {rel!r} must be an object")
        unknown = set(settings) - _MANIFEST_KEYS
        if unknown:
            raise ConfigurationError(f"manifest entry {rel!r} has unknown keys {', '.join(sorted(unknown))} "
                                     f"(known: {', '.join(sorted(_MANIFEST_KEYS))})")
        out[Path(rel).as_posix()] = settings
    return out


def _package_files(folder: Path, recursive: bool) -> list[Path]:
    found = []
    walker = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for root, dirs, names in walker:
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            if name.lower().endswith(".yxzp") and not name.startswith("."):
                path = Path(root) / name
                if path.is_file():
                    found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix().lower())


def _marker(comments: Any) -> str:
    match = _HASH_RE.search(comments) if isinstance(comments, str) else None
    return match.group(1) if match else ""


class _Deployment:
    def __init__(self, conn: Connection, *, dry_run: bool, settings: dict, comments: str | None):
        self.conn = conn
        self.dry_run = dry_run
        self.settings = settings
        self.comments = comments
        self.memo = _Memo()

    def user_id(self, owner: str) -> str | None | Outcome:
        """The id of a user given by email or id."""

        def read() -> str | None | Outcome:
            if "@" in owner:
                outcome, _ = _send(self.conn, "users.list", {"email": owner})
                if not outcome.ok:
                    return outcome
                match = [u for u in _json(outcome) or [] if isinstance(u, dict)
                         and str(u.get("email", "")).lower() == owner.lower()]
                return match[0].get("id") if match else None
            outcome, _ = _send(self.conn, "users.get", {"userId": owner})
            if outcome.status == 404:
                return None
            if outcome.status in (401, 403):
                return owner  # a non-curator cannot look users up: the Server checks the id on publishing
            return (_json(outcome) or {}).get("id") if outcome.ok else outcome

        return self.memo.get(("user", owner.lower()), read)

    def owned(self, owner_id: str) -> list | Outcome:
        def read() -> list | Outcome:
            outcome, _ = _send(self.conn, "workflows.list", {"ownerId": owner_id, "view": "Full"})
            return [w for w in _json(outcome) or [] if isinstance(w, dict)] if outcome.ok else outcome

        return self.memo.get(("owned", owner_id), read)

    def collections(self, wanted: list[str]) -> list[str] | tuple[str, str] | Outcome:
        if not wanted:
            return []

        def read() -> list | Outcome:
            outcome, _ = _send(self.conn, "collections.list")
            return [c for c in _json(outcome) or [] if isinstance(c, dict)] if outcome.ok else outcome

        known = self.memo.get("collections", read)
        return known if isinstance(known, Outcome) else _match_collections(known, wanted, "the Server")

    def server_hash(self, view: dict) -> tuple[str, int | None, Outcome | None]:
        """The published version's content hash: from its comments, else by downloading it."""
        version = _published(view)
        marked = _marker(version.get("comments"))
        if marked:
            return marked, 200, None
        outcome, _ = _send(self.conn, "workflows.download",
                           {"workflowId": view.get("id"), "versionId": version.get("versionId")})
        if not outcome.ok or outcome.content is None:
            return "", outcome.status, outcome
        return content_hash(outcome.content), outcome.status, None


def _deploy_file(run: _Deployment, item: _DeployFile, default_owner: str) -> _Out:
    out = _Out(values={"Path": item.rel, "Name": item.name, "Action": "failed", "ContentHash": item.digest})
    owner = item.owner or default_owner
    owner_id = run.user_id(owner)
    if isinstance(owner_id, Outcome):
        return _refused(out, owner_id, f"looking up the owner {owner}")
    if owner_id is None:
        return out.fail(ErrorType.INVALID_PARAMETER, _no_account(owner))
    collections = run.collections(item.collections or [])
    if isinstance(collections, Outcome):
        return _refused(out, collections, "reading the collections")
    if isinstance(collections, tuple):
        return out.fail(*collections)

    view: dict | None = None
    if item.workflow_id:
        outcome, _ = _send(run.conn, "workflows.get", {"workflowId": item.workflow_id})
        if outcome.status == 404:
            return out.fail(ErrorType.NOT_FOUND, f"the manifest maps {item.rel} to workflow {item.workflow_id}, "
                                                 "which is not on the Server", 404)
        if not outcome.ok:
            return _refused(out, outcome, f"reading workflow {item.workflow_id}")
        view = _json(outcome) or {}
        out.status = outcome.status
    else:
        owned = run.owned(owner_id)
        if isinstance(owned, Outcome):
            return _refused(out, owned, f"listing the workflows of {owner}")
        out.status = 200
        same = [w for w in owned if str(w.get("name", "")).strip().lower() == item.name.strip().lower()]
        if len(same) > 1:
            return out.fail(ErrorType.CONFLICT, f"{len(same)} workflows of {owner} are named {item.name!r} "
                                                f"({', '.join(str(w.get('id')) for w in same)}); map {item.rel} "
                                                f"to one in {MANIFEST_NAME}")
        view = same[0] if same else None
        if view is not None and not view.get("versions"):  # a listing of reduced views: read the workflow
            outcome, _ = _send(run.conn, "workflows.get", {"workflowId": view.get("id")})
            if not outcome.ok:
                return _refused(out, outcome, f"reading workflow {view.get('id')}")
            view = _json(outcome) or {}

    comments = f"{run.comments or 'Deployed by axframe from ' + item.rel} [{HASH_MARKER}{item.digest}]"
    settings = run.settings
    if view is None:
        out.values.update(Action="created")
        if run.dry_run:
            return out
        form = {"name": item.name, "ownerId": owner_id, "isPublic": settings["isPublic"],
                "isReadyForMigration": False, "othersMayDownload": settings["othersMayDownload"],
                "othersCanExecute": settings["othersCanExecute"], "executionMode": settings["executionMode"],
                "workflowCredentialType": settings["workflowCredentialType"], "comments": comments,
                "workerTag": settings["workerTag"]}
        if settings["credentialId"]:
            form["credentialId"] = settings["credentialId"]
        if collections:
            form["collectionIds"] = collections
        outcome, sent = _send(run.conn, "workflows.upload", contract=form, file=str(item.path))
        out.sent = sent and outcome.error_type != ErrorType.CONNECTION
        if not outcome.ok:
            return _refused(out, outcome, "publishing")
        new_id = _json(outcome)
        out.values.update(WorkflowId=new_id if isinstance(new_id, str) else "", Version=1)
        out.status = outcome.status
        return out

    workflow_id = str(view.get("id") or item.workflow_id)
    out.values.update(WorkflowId=workflow_id, Name=view.get("name") or item.name)
    version = _published(view)
    out.values["Version"] = version.get("versionNumber") or 0
    server_hash, status, failed = run.server_hash(view)
    if failed is not None:
        return _refused(out, failed, f"downloading the published version of {workflow_id} to compare it")
    out.values["ServerHash"] = server_hash
    out.status = status or out.status
    if server_hash == item.digest:
        out.values["Action"] = "unchanged"
        return out
    out.values["Action"] = "new version"
    if run.dry_run:
        return out
    form = {"name": view.get("name") or item.name, "ownerId": view.get("ownerId") or owner_id,
            "othersMayDownload": bool(view.get("othersMayDownload", settings["othersMayDownload"])),
            "othersCanExecute": bool(view.get("othersCanExecute", settings["othersCanExecute"])),
            "executionMode": view.get("executionMode") or version.get("executionMode") or settings["executionMode"],
            "makePublished": True, "comments": comments,
            "workflowCredentialType": version.get("workflowCredentialType") or "Default"}
    if version.get("credentialId"):
        form["credentialId"] = version["credentialId"]
    outcome, sent = _send(run.conn, "workflows.add_version", {"workflowId": workflow_id}, contract=form,
                          file=str(item.path))
    out.sent = sent and outcome.error_type != ErrorType.CONNECTION
    if not outcome.ok:
        return _refused(out, outcome, f"adding a version to {workflow_id}")
    answer = _json(outcome) or {}
    numbers = [v.get("versionNumber") or 0 for v in answer.get("versions") or [] if isinstance(v, dict)]
    out.values["Version"] = _published(answer).get("versionNumber") or (max(numbers) if numbers else 0)
    out.status = outcome.status
    return out


def deploy(conn: Connection, folder: str | os.PathLike, *, owner: str, recursive: bool = True,
           manifest: str | os.PathLike | None = MANIFEST_NAME, dry_run: bool = False,
           collections: str | Sequence[str] | None = None, is_public: bool = False,
           others_may_download: bool = True, others_can_execute: bool = True, execution_mode: str = "Standard",
           worker_tag: str = "", credential_id: str | None = None, comments: str | None = None,
           max_workers: int | None = _DEFAULT_WORKERS, progress: bool | None = None) -> Result:
    """Publish every ``.yxzp`` of a folder: a new workflow, a new version, or nothing when unchanged.

    A file's workflow is the one of *owner* named like the file (its name
    without ``.yxzp``; case-insensitive), or the one the folder's manifest
    names.  When there is none, the file is published as a new workflow
    (``POST /v3/workflows``); when its content hash differs from the
    published version's, as a new published version
    (``POST /v3/workflows/{id}/versions``, keeping the workflow's name, owner
    and settings); otherwise nothing is sent.  Each version deploy publishes
    carries ``axframe-sha256:<hash>`` in its comments; a published version
    without it is downloaded and hashed.

    Parameters
    ----------
    conn : Connection
        An OAuth2 connection of a Curator, or of the owner for their own
        workflows (then give *owner* as their user id: only Curators can look
        users up by email).
    folder : path
        The folder to deploy; hidden folders (``.git``) are skipped.
    owner : str
        The owner's email or user id.  Raises when the Server has no such
        user (an id is not checked on a non-curator's connection).
    recursive : bool
        Include sub-folders (default True).
    manifest : path, optional
        A JSON file (relative to the folder by default:
        ``axframe-deploy.json``), read when present, never written:
        ``{"workflows": {"sub/file.yxzp": {"name": ..., "workflowId": ...,
        "owner": ..., "collections": [...]}}}``.  Paths use ``/``.
    dry_run : bool
        Only read: the success frame shows what each file would do.
    collections : str or list of str, optional
        Collections (ids or names) a newly created workflow joins.
    is_public, others_may_download, others_can_execute, execution_mode, worker_tag, credential_id
        Settings of newly created workflows (``credential_id`` makes them run
        as that credential).  New versions keep the workflow's settings.
    comments : str, optional
        Version comments (default ``Deployed by axframe from <path>``); the
        hash marker is appended.
    max_workers : int, optional
        Files in flight at once (default 4).
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    Result
        One row per file: ``RecordID``, ``Path`` (relative, with ``/``),
        ``Name``, ``WorkflowId``, ``Action`` (``created``, ``new version``,
        ``unchanged``; ``failed`` in the failure frame), ``Version`` (the
        published version number), ``ContentHash``, ``ServerHash`` (the
        published version's before the run), ``Warning``, ``StatusCode``,
        and ``ErrorType``/``Error`` in the failure frame.

    Raises
    ------
    ConfigurationError
        Before anything is sent: no such folder, a legacy connection, an
        unknown owner or collection, a bad manifest or option.
    """
    started = time.perf_counter()
    if not isinstance(conn, Connection):
        raise ConfigurationError("conn must be a Connection from axframe.authenticate")
    if conn.legacy:
        raise ConfigurationError("deploy uses the V3 API: connect through /webapi (OAuth2)")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ConfigurationError(f"no such folder: {root}")
    if execution_mode not in ("Safe", "SemiSafe", "Standard"):
        raise ConfigurationError(f"execution_mode must be Safe, SemiSafe or Standard, not {execution_mode!r}")
    if not isinstance(owner, str) or not owner.strip():
        raise ConfigurationError("owner is needed: the email or user id of the workflows' owner")
    owner = owner.strip()
    entries = _load_manifest(root, manifest)
    settings = {"isPublic": bool(is_public), "othersMayDownload": bool(others_may_download),
                "othersCanExecute": bool(others_can_execute), "executionMode": execution_mode,
                "workerTag": worker_tag or "", "credentialId": credential_id or "",
                "workflowCredentialType": "Specific" if credential_id else "Default"}
    try:
        shared_collections = _id_list(collections, "collections") if collections is not None else []
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    workers = _workers(conn, max_workers)
    counter = _Counter(conn)
    run = _Deployment(conn, dry_run=dry_run, settings=settings, comments=comments)

    owner_id = run.user_id(owner)
    if isinstance(owner_id, Outcome):
        hint = " (only Curators can look users up by email: give the owner's user id instead)" \
            if owner_id.status in (401, 403) else ""
        raise ListingError(f"looking up the owner {owner}: {owner_id.error}{hint}", owner_id.status)
    if owner_id is None:
        raise ConfigurationError(_no_account(owner))
    checked = run.collections(shared_collections)
    if isinstance(checked, Outcome):
        raise ListingError(f"reading the collections: {checked.error}", checked.status)
    if isinstance(checked, tuple):
        raise ConfigurationError(checked[1])

    paths = _package_files(root, recursive)
    known = {p.relative_to(root).as_posix() for p in paths}
    for rel in entries:
        if rel not in known:
            log.warning("the manifest names %s, which is not a .yxzp in %s", rel, root)
    items: list[_DeployFile] = []
    outs: list[Any] = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        entry = entries.get(rel, {})
        item = _DeployFile(path=path, rel=rel, name=str(entry.get("name") or path.stem).strip())
        item.workflow_id = str(entry["workflowId"]).strip() if entry.get("workflowId") else None
        item.owner = str(entry["owner"]).strip() if entry.get("owner") else None
        out: _Out | None = None
        try:
            item.collections = _id_list(entry["collections"], "collections") if "collections" in entry \
                else shared_collections
        except ValueError as exc:
            out = _Out().fail(ErrorType.INVALID_PARAMETER, f"manifest entry {rel}: {exc}")
        if out is None:
            try:
                item.data = path.read_bytes()
                read_package(item.data)
                item.digest = content_hash(item.data)
            except (OSError, PackageError) as exc:
                out = _Out().fail(ErrorType.INVALID_FILE, f"{rel} is not a readable workflow package: {exc}")
        if out is not None:
            out.values.update(Path=rel, Name=item.name, Action="failed", ContentHash=item.digest)
        items.append(item)
        outs.append(out)
    by_name: dict[tuple[str, str], list[int]] = {}
    for pos, item in enumerate(items):
        if outs[pos] is None and not item.workflow_id:
            by_name.setdefault(((item.owner or owner).lower(), item.name.lower()), []).append(pos)
    for positions in by_name.values():
        if len(positions) > 1:
            clash = ", ".join(items[p].rel for p in positions)
            for pos in positions:
                outs[pos] = _Out(values={"Path": items[pos].rel, "Name": items[pos].name, "Action": "failed",
                                         "ContentHash": items[pos].digest}).fail(
                    ErrorType.INVALID_PARAMETER, f"{len(positions)} files would publish the workflow "
                                                 f"{items[pos].name!r} ({clash}); name them in {MANIFEST_NAME}")

    df = pd.DataFrame({frames.RECORD_ID: pd.array(range(1, len(items) + 1), dtype="int64")})
    summary = Summary("deploy", dry_run=dry_run)
    todo = [pos for pos, out in enumerate(outs) if out is None]
    bar = Progress(len(todo), "deploy", progress, rows=len(items))
    _run_rows(todo, lambda pos: _deploy_file(run, items[pos], owner), workers, bar, outs)
    return _finish(df, outs, _DEPLOY_COLUMNS, summary, counter, bar, started)
