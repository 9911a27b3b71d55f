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


def test_the_files_in_order_fail_exactly_their_documented_rows(conn):
    """The sample README's tour, in Python: each file after the ones it depends on; only the listed rows fail."""
    documented = {file.split(",")[0].split(" ")[0]: {r for r, _ in rows}
                  for file, rows in samples.DELIBERATE_ERRORS.items() if not file.startswith("onboarding")}
    for sheet, action in (("UserGroups", "usergroups.create"), ("Collections", "collections.create")):
        ax.create(conn, action, ax.read_frame(SAMPLE / "onboarding.xlsx", sheet=sheet))
    users = ax.create(conn, "users.create", ax.read_frame(SAMPLE / "users.csv"))
    assert set(users.failure["RecordID"]) == documented["users.csv"]
    members = ax.post(conn, "collections.add_user", ax.read_frame(SAMPLE / "memberships.csv"))
    assert set(members.failure["RecordID"]) == documented["memberships.csv"]
    assert set(members.failure["ErrorType"]) == {"NotFound"} and members.summary.not_sent == 2  # names, unsent
    deployed = ax.deploy(conn, SAMPLE / "workflows", owner="ada.admin@example.com", manifest=None)
    assert deployed.failure.empty, deployed.failure[["Path", "Error"]]
    jobs = ax.run_jobs(conn, ax.read_frame(SAMPLE / "job_answers.csv"), poll_interval=(0.02, 0.2))
    assert set(jobs.failure["RecordID"]) == documented["job_answers.csv"]
    assert set(jobs.failure["ErrorType"]) == {"JobFailed"}
