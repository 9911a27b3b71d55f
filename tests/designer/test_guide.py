"""The cells of docs/alteryx-python-tool.md, run as they are against the emulator and the stand-in ``ayx``.

Each cell is taken from the guide (the ```python block after a
``<!-- designer-cell: NAME -->`` marker), so the guide and this test cannot
drift apart.  Input #1 is fed as Designer would feed it; every frame the cell
writes must pass the stand-in's ``Alteryx.write``; nothing printed may be a
progress bar, and the secret (and the key, and the token) may appear in
nothing written or printed.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

import axframe as ax
from axframe import samples

DOC = Path(__file__).resolve().parents[2] / "docs" / "alteryx-python-tool.md"
CELL = re.compile(r"<!-- designer-cell: ([\w-]+) -->\n```python\n(.*?)```", re.DOTALL)

MACRO_FAILURE = ["StatusCode", "ErrorType", "Error", "Response"]
JOB_COLUMNS = ["JobId", "Status", "Disposition", "QueuedAt", "EndedAt", "Seconds", "StatusRequests", "Messages",
               "Outputs"]


def cells() -> dict[str, str]:
    found = CELL.findall(DOC.read_text(encoding="utf-8"))
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), f"a cell name appears twice: {names}"
    return dict(found)


def test_the_guide_has_its_cells():
    assert set(cells()) == {"versions", "install", "install-offline", "macro", "jobs"}


# --------------------------------------------------------------------------
# running a cell
# --------------------------------------------------------------------------


@pytest.fixture
def designer_env(server, monkeypatch, tmp_path):
    """No AXFRAME_* settings and no key file from the machine running the tests; the emulator's keys instead."""
    for name in list(os.environ):
        if name.startswith("AXFRAME_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    work = tmp_path / "workflow"
    work.mkdir()
    monkeypatch.chdir(work)
    key, secret = server.curator
    monkeypatch.setenv("AXFRAME_BASE_URL", server.url)
    monkeypatch.setenv("AXFRAME_CLIENT_ID", key)
    monkeypatch.setenv("AXFRAME_CLIENT_SECRET", secret)
    return home


class Run:
    """What one run of a cell wrote and printed."""

    def __init__(self, written: dict[int, pd.DataFrame], printed: str):
        self.written = written
        self.printed = printed

    def __getitem__(self, anchor: int) -> pd.DataFrame:
        return self.written[anchor]


def run_cell(name: str, inputs: dict[str, pd.DataFrame], designer, capsys, server) -> Run:
    code = cells()[name]
    designer.Alteryx.feed(inputs)
    capsys.readouterr()
    try:
        exec(compile(code, f"{DOC.name} cell {name}", "exec"), {"__name__": "__main__"})
    finally:
        captured = capsys.readouterr()
        printed = captured.out + captured.err
        check_printed(printed)
        check_no_secret(server, printed, designer.Alteryx.writes)
    return Run(dict(designer.Alteryx.written), printed)


def check_printed(printed: str) -> None:
    assert "\r" not in printed, f"a progress bar was printed: {printed!r}"
    assert "%|" not in printed and "it/s" not in printed and "row/s" not in printed, printed
    for line in printed.splitlines():
        assert line.startswith("axframe: "), f"unexpected output line in Designer: {line!r}"


def check_no_secret(server, printed: str, writes: list) -> None:
    key, secret = server.curator
    hidden = {"the secret": secret, "the key": key}
    hidden.update({f"token {i}": token for i, token in enumerate(server.state.tokens)})
    texts = [printed] + [frame.to_csv(index=False) for _, frame in writes]
    for what, value in hidden.items():
        for text in texts:
            assert value not in text, f"{what} appears in what the cell wrote or printed"


def designer_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as Designer's Python tool reads it: text fields as object columns."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype(object)
    return out


def columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns]


# --------------------------------------------------------------------------
# Cell 1: one call per row
# --------------------------------------------------------------------------


def test_macro_cell_splits_success_and_failure(designer, designer_env, server, capsys):
    users = designer_frame(samples.users())
    run = run_cell("macro", {"#1": users}, designer, capsys, server)
    assert sorted(run.written) == [1, 2, 3]
    assert list(run[1]["RecordID"]) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert list(run[2]["RecordID"]) == [9, 10, 11, 12]
    assert columns(run[1]) == columns(users) + ["StatusCode", "Response"]
    assert columns(run[2]) == columns(users) + MACRO_FAILURE
    assert set(run[2]["ErrorType"]) == {"InvalidContract", "BadRequest"}
    pd.testing.assert_frame_equal(run[2][columns(users)].reset_index(drop=True),
                                  users.iloc[8:].reset_index(drop=True))
    summary = run[3]
    assert len(summary) == 1
    assert summary.loc[0, ["action", "rows", "succeeded", "failed"]].tolist() == ["users.create", 12, 8, 4]
    assert json.loads(summary.loc[0, "error_types"]) == {"BadRequest": 1, "InvalidContract": 3}
    assert "axframe: users.create: " in run.printed
    assert "12 rows, 8 succeeded, 4 failed" in run.printed
    emails = {u["email"] for u in server.state.users.values()}
    assert set(run[1]["email"]) <= emails and "sam.smith(at)example.com" not in emails


def test_macro_cell_failures_fixed_and_fed_back(designer, designer_env, server, capsys):
    first = run_cell("macro", {"#1": designer_frame(samples.users())}, designer, capsys, server)
    failed = first[2]
    retry = failed[~failed["Error"].str.contains("already exists")].copy()  # RecordID 11: nothing to retry
    retry.loc[retry["RecordID"] == 9, "email"] = "sam.smith@example.com"
    retry.loc[retry["RecordID"] == 10, "lastName"] = "Haddad"
    retry.loc[retry["RecordID"] == 12, "role"] = "Member"
    second = run_cell("macro", {"#1": retry}, designer, capsys, server)
    assert list(second[1]["RecordID"]) == [9, 10, 12]
    assert len(second[2]) == 0
    assert columns(second[1]) == columns(samples.users()) + ["StatusCode", "Response"]  # axframe's columns dropped


def test_macro_cell_with_no_failures_still_writes_the_failure_columns(designer, designer_env, server, capsys):
    people = pd.DataFrame({"firstName": ["Ines", "Raj"], "lastName": ["Duarte", "Patel"],
                           "email": ["ines.duarte@example.com", "raj.patel@example.com"], "role": ["Viewer", "Member"]})
    run = run_cell("macro", {"#1": people}, designer, capsys, server)  # no RecordID: the cell numbers the rows
    assert list(run[1]["RecordID"]) == [1, 2]
    assert len(run[2]) == 0
    assert columns(run[2]) == ["RecordID"] + columns(people) + MACRO_FAILURE
    assert run[3].loc[0, "failed"] == 0 and json.loads(run[3].loc[0, "error_types"]) == {}


def test_macro_cell_with_no_successes_still_writes_the_success_columns(designer, designer_env, server, capsys):
    people = designer_frame(pd.DataFrame({"RecordID": [1, 2], "firstName": ["A", "B"], "lastName": ["One", "Two"],
                                          "email": ["not-an-email", "also(at)wrong"]}))
    run = run_cell("macro", {"#1": people}, designer, capsys, server)
    assert len(run[1]) == 0
    assert columns(run[1]) == columns(people) + ["StatusCode", "Response"]
    assert list(run[2]["ErrorType"]) == ["InvalidContract", "InvalidContract"]
    assert run[3].loc[0, "succeeded"] == 0


def test_macro_cell_with_an_empty_input_writes_empty_frames_with_their_columns(designer, designer_env, server,
                                                                              capsys):
    empty = designer_frame(samples.users().iloc[:0])  # upstream tools sent no rows
    run = run_cell("macro", {"#1": empty}, designer, capsys, server)
    assert len(run[1]) == len(run[2]) == 0
    assert columns(run[1]) == columns(empty) + ["StatusCode", "Response"]
    assert columns(run[2]) == columns(empty) + MACRO_FAILURE
    assert run[3].loc[0, "rows"] == 0


def test_macro_cell_reads_the_keys_from_a_file_only_you_can_read(designer, designer_env, server, capsys,
                                                                  monkeypatch):
    key, secret = server.curator
    for name in ("AXFRAME_BASE_URL", "AXFRAME_CLIENT_ID", "AXFRAME_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    folder = designer_env / ".axframe"
    folder.mkdir()
    (folder / "axframe.env").write_text(f"# axframe keys\nAXFRAME_BASE_URL={server.url}\nAXFRAME_CLIENT_ID={key}\n"
                                        f'AXFRAME_CLIENT_SECRET="{secret}"\n', encoding="utf-8")
    people = pd.DataFrame({"RecordID": [1], "firstName": ["Ines"], "lastName": ["Duarte"],
                           "email": ["ines.duarte@example.com"]})
    run = run_cell("macro", {"#1": people}, designer, capsys, server)
    assert list(run[1]["RecordID"]) == [1]


def test_macro_cell_with_a_wrong_secret_stops_before_anything_is_written(designer, designer_env, server, capsys,
                                                                        monkeypatch):
    wrong = "not-the-secret-" + server.curator[1][::-1]
    monkeypatch.setenv("AXFRAME_CLIENT_SECRET", wrong)
    with pytest.raises(ax.AuthenticationError) as caught:
        run_cell("macro", {"#1": designer_frame(samples.users())}, designer, capsys, server)
    assert wrong not in str(caught.value) and server.curator[1] not in str(caught.value)
    assert designer.Alteryx.written == {}


def test_macro_cell_without_keys_says_what_is_missing(designer, designer_env, server, capsys, monkeypatch):
    monkeypatch.delenv("AXFRAME_BASE_URL")
    with pytest.raises(ax.ConfigurationError, match="AXFRAME_BASE_URL"):
        run_cell("macro", {"#1": designer_frame(samples.users())}, designer, capsys, server)


# --------------------------------------------------------------------------
# Cell 2: one job per row
# --------------------------------------------------------------------------


@pytest.fixture
def app_id(server, tmp_path):
    """The sample analytic app (questions Region and Horizon), published on the emulator."""
    folder = tmp_path / "packages"
    folder.mkdir()
    name = "Regional Sales Forecast.yxzp"
    (folder / name).write_bytes(samples.workflow_packages()[name])
    conn = ax.authenticate(server.url, *server.curator)
    try:
        owner = server.refs["user:admin"]
        ok, failed = ax.create(conn, "workflows.upload", ax.package_frame(folder, ownerId=owner), progress=False)
    finally:
        conn.close()
    assert failed.empty, failed.to_dict("records")
    return json.loads(ok.loc[0, "Response"])


def answers(app_id: str, regions: list[str]) -> pd.DataFrame:
    return designer_frame(pd.DataFrame({"RecordID": range(1, len(regions) + 1), "workflowId": app_id,
                                        "Region": regions, "Horizon": [6] * len(regions)}))


def test_jobs_cell_splits_jobs_and_gathers_outputs(designer, designer_env, server, capsys, app_id):
    frame = answers(app_id, ["West", "East", "ERROR: no data for region Atlantis", "North"])
    run = run_cell("jobs", {"#1": frame}, designer, capsys, server)
    assert sorted(run.written) == [1, 2, 3, 4]
    assert list(run[1]["RecordID"]) == [1, 2, 4]
    assert list(run[2]["RecordID"]) == [3] and list(run[2]["ErrorType"]) == ["JobFailed"]
    assert "no data for region Atlantis" in run[2].loc[0, "Error"]
    assert columns(run[1]) == columns(frame) + JOB_COLUMNS
    assert columns(run[2]) == columns(frame) + JOB_COLUMNS + MACRO_FAILURE
    outputs = run[3]
    assert columns(outputs) == ["RecordID", "JobId", "Output", "Region", "Horizon"]
    assert sorted(outputs["Region"]) == ["East", "North", "West"]
    assert set(outputs["JobId"]) == set(run[1]["JobId"])
    assert run[4].loc[0, ["rows", "succeeded", "failed", "jobs", "outputs"]].tolist() == [4, 3, 1, 4, 3]
    assert "axframe: run_jobs: sending 4 of 4 rows" in run.printed and "4 rows, 3 succeeded, 1 failed" in run.printed


def test_jobs_cell_with_no_failures(designer, designer_env, server, capsys, app_id):
    run = run_cell("jobs", {"#1": answers(app_id, ["West", "South"])}, designer, capsys, server)
    assert list(run[1]["RecordID"]) == [1, 2]
    assert len(run[2]) == 0
    assert columns(run[2]) == ["RecordID", "workflowId", "Region", "Horizon"] + JOB_COLUMNS + MACRO_FAILURE
    assert len(run[3]) == 2


def test_jobs_cell_with_no_successes(designer, designer_env, server, capsys, app_id):
    frame = answers(app_id, ["ERROR: one", "ERROR: two"])
    frame.loc[1, "workflowId"] = ""  # refused before sending: nothing is queued for it
    run = run_cell("jobs", {"#1": frame}, designer, capsys, server)
    assert len(run[1]) == 0
    assert columns(run[1]) == columns(frame) + JOB_COLUMNS
    assert list(run[2]["ErrorType"]) == ["JobFailed", "MissingParameter"]
    assert len(run[3]) == 0 and columns(run[3]) == ["RecordID", "JobId", "Output"]
    assert run[4].loc[0, "succeeded"] == 0


# --------------------------------------------------------------------------
# the smaller cells
# --------------------------------------------------------------------------


def test_version_and_install_cells(designer, capsys):
    exec(compile(cells()["versions"], "versions", "exec"), {})
    assert sys.version.split()[0] in capsys.readouterr().out
    exec(compile(cells()["install"], "install", "exec"), {})
    exec(compile(cells()["install-offline"], "install-offline", "exec"), {})
    online, offline = designer.Package.installs
    designer.Package.installs.clear()
    # axframe is not on the public index: online, its wheel is named by file (pip cannot prefer an index
    # package of that name); offline, nothing but the local folder is looked at
    assert len(online[0]) == 1 and online[0][0].endswith(f"axframe-{ax.__version__}-py3-none-any.whl")
    assert " " not in online[0][0] and online[1] is None
    assert offline[0] == ["axframe"] and "--no-index" in offline[1] and "--find-links=" in offline[1]
    assert " " not in offline[1].split("--find-links=", 1)[1], "the tool splits install_type at spaces"


def test_expanded_answers_go_straight_to_an_anchor(designer, conn):
    result = ax.create(conn, "users.create", samples.users().iloc[:2], progress=False)
    designer.Alteryx.write(result.expand(), 4)
