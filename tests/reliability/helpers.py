"""Shared checks of the reliability suite: the row partition, row problems, counting what reached the Server."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable

import pandas as pd

from axframe.errors import ErrorType

# Failure types of rows for which nothing was sent (the row itself was the problem).
ROW_PROBLEMS = frozenset({ErrorType.INVALID_RECORD_ID, ErrorType.DUPLICATE_RECORD_ID, ErrorType.MISSING_PARAMETER,
                          ErrorType.INVALID_PARAMETER, ErrorType.INVALID_CONTRACT, ErrorType.INVALID_FILE,
                          ErrorType.NOT_AVAILABLE})


def assert_partition(frame: pd.DataFrame, success: pd.DataFrame, failure: pd.DataFrame) -> None:
    """Every input row is in exactly one of success and failure (compared by position-free multiset)."""
    assert len(success) + len(failure) == len(frame), (len(success), len(failure), len(frame))
    got = Counter(map(repr, list(success["RecordID"]) + list(failure["RecordID"])))
    assert got == Counter(map(repr, frame["RecordID"]))


def assert_unique_ids(success: pd.DataFrame, failure: pd.DataFrame, expected: Iterable[Any]) -> None:
    """With unique RecordIDs: each appears exactly once across the two frames, and none is in both."""
    ok, bad = list(success["RecordID"]), list(failure["RecordID"])
    assert not set(ok) & set(bad)
    assert sorted(ok + bad) == sorted(expected)


def sent_rows(success: pd.DataFrame, failure: pd.DataFrame) -> int:
    """How many rows were sent: every success, every failure that is not a row problem."""
    return len(success) + int((~failure["ErrorType"].isin(ROW_PROBLEMS)).sum())


def route_counts(server) -> Counter:
    return Counter(server.stats()["routes"])


def created_id(response: str) -> str:
    """The id in a create's answer: a bare JSON string (collections) or an object with ``id`` (users)."""
    value = json.loads(response)
    return value if isinstance(value, str) else value["id"]
