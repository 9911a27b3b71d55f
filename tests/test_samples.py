"""The committed sample_data/ is what axframe.samples writes, and its deliberate errors are real."""

from __future__ import annotations

import pandas as pd
import pytest

import axframe as ax
from axframe import samples

from .conftest import ROOT

SAMPLE = ROOT / "sample_data"


def test_sample_data_is_in_sync_with_the_generator(tmp_path):
    written = samples.write_samples(tmp_path)
    for path in written:
        committed = SAMPLE / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} is missing: run python tools/make_sample_data.py"
        if path.suffix in (".csv", ".md", ".json", ".yxzp"):
            assert committed.read_bytes() == path.read_bytes(), committed
        elif path.suffix == ".xlsx":
            for sheet in ax.sheet_names(path):
                pd.testing.assert_frame_equal(ax.read_frame(committed, sheet=sheet), ax.read_frame(path, sheet=sheet))


def test_readme_lists_every_deliberate_error():
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    for rows in samples.DELIBERATE_ERRORS.values():
        for _, why in rows:
            assert why in text


@pytest.mark.parametrize("action,reader,bad", [
    ("users.create", lambda: ax.read_frame(SAMPLE / "users.csv"), {"9", "10", "11", "12"}),
    ("users.create", lambda: ax.read_frame(SAMPLE / "users.xlsx"), {"9", "10", "11", "12"}),
    ("usergroups.create", lambda: ax.read_frame(SAMPLE / "onboarding.xlsx", sheet="UserGroups"), {"4"}),
    ("collections.create", lambda: ax.read_frame(SAMPLE / "onboarding.xlsx", sheet="Collections"), {"4"}),
])
def test_exactly_the_documented_rows_fail(conn, action, reader, bad):
    success, failure = ax.create(conn, action, reader())
    assert set(failure["RecordID"]) == bad
    assert len(success) + len(failure) == len(reader())
