"""The Server as a workbook (:func:`export`), and two workbooks compared (:func:`diff`)."""

from __future__ import annotations

import os
from typing import Any, Mapping

import pandas as pd

from ..client.connection import Connection
from .plan import Plan, PlanOptions, plan_against
from .snapshot import read_server
from .workbook import Workbook, read_workbook, workbook_of, write_workbook

__all__ = ["export", "diff"]


def export(conn: Connection, path: str | os.PathLike | None = None, *, format: str | None = None,
           max_workers: int | str | None = None, progress: bool | None = None) -> Workbook:
    """The Server's content as a workbook of plain sheets that name each other (never by id).

    Parameters
    ----------
    conn : Connection
        A Curator's connection.
    path : path, optional
        Also write the workbook there: a ``.xlsx`` file, or a folder (with ``format="csv"`` or
        ``"parquet"``).
    format : {"xlsx", "csv", "parquet"}, optional
        How *path* is written (default: from its suffix).
    max_workers, progress
        The detail reads (a group's members, a credential's shares) run concurrently, with progress.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``Users``, ``UserGroups``, ``GroupMembers``, ``Collections``, ``CollectionUsers``,
        ``CollectionGroups``, ``CollectionWorkflows``, ``Workflows``, ``Schedules``, ``Credentials``,
        ``CredentialShares``, ``DataConnections``, ``DataConnectionShares`` (see
        :mod:`axframe.sync.sheets`).  No password, secret or connection string is in it.
    """
    book = workbook_of(read_server(conn, max_workers=max_workers, progress=progress))
    if path is not None:
        write_workbook(book, path, format)
    return book


def _book(value: Mapping[str, pd.DataFrame] | str | os.PathLike) -> Workbook:
    return read_workbook(value) if isinstance(value, (str, os.PathLike)) else dict(value)


def diff(a: Mapping[str, pd.DataFrame] | str | os.PathLike, b: Mapping[str, pd.DataFrame] | str | os.PathLike,
         **options: Any) -> Plan:
    """What differs between two workbooks (two exports, say: dev and prod), offline, by name.

    The result reads as the plan that would make *a* look like *b*: ``+`` what only *b* has, ``-`` what
    only *a* has, ``~`` what both have with other values; within the sheets *b* gives.
    """
    return plan_against(_book(a), _book(b), PlanOptions(prune=True, force=True, **options))
