"""Bad input, generated: axframe never crashes on a row, sends nothing for an invalid row, and every id
reaches the Server as one exact path segment.

Frames are built by hypothesis with missing, duplicate and null RecordIDs, broken and non-object JSON
contracts, wrong types, NaN, huge strings, unicode, unknown columns and ids holding ``/``, ``..``, ``?``,
``#`` and ``%2F``, for endpoints with path parameters, query parameters, object, array and string bodies,
and multipart uploads.  What reached the emulator is counted there (``server.stats()``), and the id it
received is read back from its 404 message ("Collection 'a/b' was not found.").
``AXFRAME_FUZZ_EXAMPLES`` raises the number of frames per endpoint (default 20).
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import axframe as ax
from axframe import catalogue
from axframe.emulator.app import ROUTES
from axframe.frames import OUTPUT_COLUMNS, as_text
from axframe.packages import build_package

from .helpers import ROW_PROBLEMS, assert_partition, sent_rows

EXAMPLES = int(os.environ.get("AXFRAME_FUZZ_EXAMPLES", "20"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

ODD_IDS = ["a/b", "..", ".", "?", "#", "%2F", "a%2Fb", "x?y#z", "../../etc/passwd", "%", "%%41", "a b",
           " padded ", "ü/ß", "日本/語", "😀", "\\", "a;b", "&x=1", "+", "%00", "/", "//", "a/../b", "#frag", "?q=1",
           "~", "*", "'quoted'", '"dq"', "\u2028", "\x7f", "line\nbreak", "tab\there", "x" * 2000]
HUGE = "é" * 70_000


def _plain_text(max_size: int = 12):
    return st.text(max_size=max_size)


CELLS = st.one_of(
    st.none(), st.just(float("nan")), st.just(pd.NA), st.booleans(), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True), _plain_text(), st.sampled_from(ODD_IDS), st.just(HUGE),
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(np.int64(7)), st.just(np.float64(2.5)), st.just(pd.Timestamp("2030-01-01")),
)
IDS = st.one_of(st.sampled_from(ODD_IDS), _plain_text(8), st.just(HUGE), st.integers(-10, 10**20), st.floats(),
                st.none(), st.just(float("nan")), st.booleans(), st.lists(st.integers(0, 3), max_size=2))
RECORD_IDS = st.one_of(st.integers(0, 12), st.text("abc", min_size=1, max_size=2), st.none(),
                       st.just(float("nan")), st.just(pd.NA), st.floats(0, 12).map(float), st.just(" "))
CONTRACTS = st.one_of(
    st.sampled_from(["{", '{"name": ', "[]", "5", '"s"', "null", "true", "NaN", '{"name": NaN}', "", "  ",
                     '{"name": "ok"}', '{"name": 5}', '{"name": ["a"]}', '{"name": null}', "[1, 2]",
                     '["a", "b"]', "a, b", "S-1-5-21-1", '{"name": "' + HUGE + '"}']),
    st.builds(lambda n: {"name": n}, CELLS),
    st.builds(lambda n: json.dumps({"name": n}), _plain_text()),
    st.just({"name": "has a set", "extra": {1, 2}}), st.just({"name": "np", "count": np.int64(3)}),
    st.just({"name": "nan", "x": float("nan")}), st.just(["u1", np.int64(2)]), st.lists(_plain_text(4), max_size=3),
    CELLS,
)


def _endpoint(name: str) -> catalogue.Endpoint:
    return catalogue.find(name)


def _route_key(endpoint: catalogue.Endpoint) -> str:
    return next(r.key for r in ROUTES if r.endpoint.name == endpoint.name)


def _unknown_columns(taken: set[str]):
    reserved = taken | {"RecordID", "contract", "file", *OUTPUT_COLUMNS}
    names = st.text(min_size=1, max_size=8).filter(lambda n: n not in reserved)
    return st.dictionaries(names, CELLS, max_size=2)


def _mostly(good, bad, share: int = 8):
    """*good* in about share/10 of the draws, else *bad* (the middle draws: hypothesis favours the ends)."""
    first = 5 - (10 - share) // 2
    middle = range(first, first + 10 - share)
    return st.integers(0, 9).flatmap(lambda k: bad if k in middle else good)


@st.composite
def frames(draw, columns: dict, rows: int = 10) -> pd.DataFrame:
    """A frame of up to *rows* rows: RecordID, the endpoint's columns (each from its strategy), unknown columns."""
    n = draw(st.integers(0, rows))
    unknown = draw(_unknown_columns(set(columns)))
    data: dict = {"RecordID": [draw(_mostly(st.just(i + 1), RECORD_IDS)) for i in range(n)]}
    dropped = draw(_mostly(st.none(), st.sampled_from(list(columns))))  # some frames lack a column
    for column, strategy in columns.items():
        if column != dropped:
            data[column] = [draw(strategy) for _ in range(n)]
    for column, value in unknown.items():
        data[column] = [value] * n
    return pd.DataFrame(data, dtype=object) if n else pd.DataFrame({k: [] for k in data}, dtype=object)


def either(valid, share: int = 8):
    """Mostly valid values (so that some rows are sent), else anything."""
    return _mostly(st.sampled_from(valid), CELLS, share)


def check_run(server, endpoint_name: str, frame: pd.DataFrame, run, id_param: str | None = None,
              known: frozenset = frozenset()):
    """Run once, then: no crash, one output row per input row, and exactly the valid rows reached the route.

    An id not in *known* that was sent comes back in the 404's message whole: one exact path segment.
    """
    endpoint = _endpoint(endpoint_name)
    route = _route_key(endpoint)
    before = server.stats()
    result = run(frame)
    success, failure = result
    after = server.stats()
    assert_partition(frame, success, failure)
    sent = sent_rows(success, failure)
    event(f"rows sent: {'some' if sent else 'none'}; succeeded: {'some' if len(success) else 'none'}")
    # a URL longer than the Server takes (64 KiB on the emulator) is turned away with 414 before routing,
    # where the emulator counts nothing: a clear row failure, not a crash
    too_long = failure[failure["StatusCode"] == 414]
    assert too_long["Error"].str.contains("request line is too long").all()
    # nothing for an invalid row, one request for each valid one, each on the intended route
    assert after["requests"] - before["requests"] == sent - len(too_long)
    assert after["routes"].get(route, 0) - before["routes"].get(route, 0) == sent - len(too_long)
    assert result.summary.not_sent == int(failure["ErrorType"].isin(ROW_PROBLEMS).sum())
    assert failure["Error"].map(lambda e: isinstance(e, str) and e != "").all()  # every failure says why
    if id_param is not None:
        for _, row in failure[failure["StatusCode"] == 404].iterrows():
            if as_text(row[id_param]) in known:
                continue
            assert f"'{as_text(row[id_param])}' was not found" in row["Error"], (row[id_param], row["Error"])
    return result


@pytest.fixture
def packages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packages")
    good = folder / "good.yxzp"
    good.write_bytes(build_package("Fuzzed", kind="workflow"))
    empty = folder / "empty.yxzp"
    empty.write_bytes(b"")
    notes = folder / "notes.yxzp"
    notes.write_text("not a package")
    return [str(good), str(empty), str(notes), str(folder / "missing.yxzp"), str(folder), "", "~/nope.yxzp",
            HUGE[:300]]


# ---------------------------------------------------------------------------
# path parameters
# ---------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_path_ids_get(server, conn, data):
    frame = data.draw(frames({"collectionId": IDS}))
    result = check_run(server, "collections.get", frame, lambda f: ax.get(conn, "collections.get", f, max_workers=3),
                       "collectionId")
    # a sent id always comes back as a 404 quoting it whole (no id here exists)
    failure = result.failure
    sent = failure[~failure["ErrorType"].isin(ROW_PROBLEMS)]
    assert sent["StatusCode"].isin([404, 414]).all(), sent[["collectionId", "StatusCode", "Error"]]


@FUZZ
@given(data=st.data())
def test_path_ids_with_a_query_parameter_delete(server, conn, data):
    frame = data.draw(frames({"workflowId": IDS, "force": either([True, False, "true", "no", "1"])}))
    before = len(server.state.workflows)
    result = check_run(server, "workflows.delete", frame,
                       lambda f: ax.delete(conn, "workflows.delete", f, max_workers=3), "workflowId")
    assert len(server.state.workflows) == before and result.success.empty


@FUZZ
@given(data=st.data())
def test_two_path_ids_and_a_required_query_parameter(server, conn, data):
    frame = data.draw(frames({"jobId": IDS, "outputId": IDS, "format": either(["Csv", "Raw", "csv"])}))
    check_run(server, "v1.job_output", frame, lambda f: ax.get(conn, "v1.job_output", f, max_workers=3), "jobId")


# ---------------------------------------------------------------------------
# query parameters
# ---------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_query_parameters(server, conn, data):
    frame = data.draw(frames({"view": either(["Default", "Full", "full"]), "active": either([True, "false", 0]),
                              "role": either(["Curator", "Viewer"]), "email": CELLS,
                              "createdAfter": either(["2020-01-01T00:00:00Z", "2020-01-01"])}))
    result = check_run(server, "users.list", frame, lambda f: ax.get(conn, "users.list", f, max_workers=3))
    # the client checks query values as the Server does: nothing it sends is refused (but a URL too long)
    failure = result.failure
    refused = failure[~failure["ErrorType"].isin(ROW_PROBLEMS) & (failure["StatusCode"] != 414)]
    assert refused.empty, refused[["ErrorType", "Error"]]


# ---------------------------------------------------------------------------
# bodies: object, array, string
# ---------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_object_bodies(server, conn, data):
    frame = data.draw(frames({"name": _mostly(_plain_text().filter(str.strip), CELLS, 5),
                              "contract": _mostly(st.builds(lambda n: json.dumps({"name": n}), _plain_text()),
                                                  CONTRACTS, 5)}))
    before = len(server.state.collections)
    result = check_run(server, "collections.create", frame,
                       lambda f: ax.create(conn, "collections.create", f, max_workers=3))
    # what was sent and refused was refused for the Server's own rules (a blank name), with its message
    failure = result.failure
    refused = failure[~failure["ErrorType"].isin(ROW_PROBLEMS)]
    assert (refused["StatusCode"] == 400).all() and refused["Error"].str.contains("name").all(), refused
    assert len(server.state.collections) == before + len(result.success)


@FUZZ
@given(data=st.data())
def test_array_bodies_with_a_path_id(server, conn, ids, data):
    group = ids["group:analysts"]
    user = ids["user:ana"]
    frame = data.draw(frames({"userGroupId": _mostly(st.just(group), IDS, 6),
                              "contract": _mostly(st.sampled_from([json.dumps([user]), [user], user]), CONTRACTS, 5),
                              "userIds": either([json.dumps([user]), user, f"{user}, {user}"])}))
    check_run(server, "usergroups.add_users", frame,
              lambda f: ax.post(conn, "usergroups.add_users", f, max_workers=3), "userGroupId", frozenset({group}))


@FUZZ
@given(data=st.data())
def test_string_bodies_with_a_path_id(server, conn, data):
    group = next(iter(server.state.groups))
    frame = data.draw(frames({"userGroupId": _mostly(st.just(group), IDS, 6),
                              "contract": _mostly(st.sampled_from(['"S-1-5-21-9"', "S-1-5-21-9"]), CONTRACTS, 5),
                              "sid": either(["S-1-5-21-1-2-3", "nope"])}))
    check_run(server, "usergroups.add_ad_group", frame,
              lambda f: ax.post(conn, "usergroups.add_ad_group", f, max_workers=3), "userGroupId", frozenset({group}))


# ---------------------------------------------------------------------------
# multipart uploads
# ---------------------------------------------------------------------------


def _upload_columns(packages, owner):
    """The form fields, nearly always valid each (there are many), and the package's path."""
    return {"file": _mostly(st.just(packages[0]), st.sampled_from(packages[1:]), 7),
            "name": either(["Fuzzed", "Zoë ✓"], 9), "ownerId": either([owner], 9),
            "isPublic": either([False, "true"], 9), "isReadyForMigration": either([False], 9),
            "othersMayDownload": either([True], 9), "othersCanExecute": either([True], 9),
            "executionMode": either(["Safe", "Standard"], 9), "workflowCredentialType": either(["Default"], 9),
            "makePublished": either([True], 9), "districtTags": either(['["emea"]', "a, b"])}


@FUZZ
@given(data=st.data())
def test_multipart_uploads(server, conn, ids, packages, data):
    frame = data.draw(frames(_upload_columns(packages, ids["user:ana"]), rows=6))
    before = len(server.state.workflows)
    result = check_run(server, "workflows.upload", frame,
                       lambda f: ax.create(conn, "workflows.upload", f, max_workers=3))
    assert len(server.state.workflows) == before + len(result.success)


@FUZZ
@given(data=st.data())
def test_multipart_uploads_with_a_path_id(server, conn, ids, packages, data):
    columns = _upload_columns(packages, ids["user:ana"])
    columns["workflowId"] = _mostly(st.just(ids["workflow:sales"]), IDS, 6)
    frame = data.draw(frames(columns, rows=6))
    check_run(server, "workflows.add_version", frame,
              lambda f: ax.post(conn, "workflows.add_version", f, max_workers=3), "workflowId",
              frozenset({ids["workflow:sales"]}))


# ---------------------------------------------------------------------------
# frame-level problems: one clear exception, nothing sent
# ---------------------------------------------------------------------------


FRAME_PROBLEMS = [
    (pd.DataFrame({"name": ["x"]}), ax.FrameError, "no 'RecordID' column"),
    (pd.DataFrame({"record id": [1], "name": ["x"]}), ax.FrameError, "rename it to 'RecordID'"),
    (pd.DataFrame([[1, "a", "b"]], columns=["RecordID", "name", "name"]), ax.FrameError, "duplicate column names"),
    (pd.DataFrame([[1, 2]], columns=["RecordID", "RecordID"]), ax.FrameError, "duplicate column names"),
    ("RecordID,name\n1,x", ax.FrameError, "expected a pandas DataFrame"),
    ([1, 2, 3], ax.FrameError, "expected a pandas DataFrame"),
    (pd.Series([1, 2]), ax.FrameError, "expected a pandas DataFrame"),
    (pd.DataFrame(), ax.FrameError, "no 'RecordID' column"),
]


@pytest.mark.parametrize("frame, error, message", FRAME_PROBLEMS, ids=range(len(FRAME_PROBLEMS)))
def test_frame_level_problems_raise_one_clear_error_before_any_call(server, conn, frame, error, message):
    before = server.stats()["requests"]
    with pytest.raises(error, match=re.escape(message)):
        ax.create(conn, "collections.create", frame)
    assert server.stats()["requests"] == before


@pytest.mark.parametrize("call, error, message", [
    (lambda c, f: ax.create(c, "collections.create", f, contract_columns=["nope"]), ax.FrameError,
     "contract_columns not in the frame: nope"),
    (lambda c, f: ax.create(c, "collections.create_it", f), ax.UnknownActionError, "collections.create"),
    (lambda c, f: ax.get(c, "collections.create", f), ax.WrongMacroError, "ax.create"),
    (lambda c, f: ax.create(c, "collections.create", f, max_workers="many"), ax.ConfigurationError, "max_workers"),
    (lambda c, f: ax.create(c, "collections.create", f, max_workers=0), ax.ConfigurationError, "at least 1"),
], ids=["contract_columns", "unknown action", "wrong macro", "workers text", "workers zero"])
def test_set_up_problems_raise_before_any_call(tmp_path, server, conn, call, error, message):
    frame = pd.DataFrame({"RecordID": [1, 2], "name": ["a", "b"]})
    before = server.stats()["requests"]
    with pytest.raises(error, match=re.escape(message)):
        call(conn, frame)
    assert server.stats()["requests"] == before
    assert len(server.state.collections) == len([c for c in server.state.collections.values()])


def test_contract_values_json_cannot_carry_are_row_problems_not_crashes(server, conn):
    """Regression: a dict contract holding numpy numbers, a set or a date crashed the whole run."""
    frame = pd.DataFrame({"RecordID": [1, 2, 3, 4, 5, 6],
                          "contract": [{"name": "np", "count": np.int64(3)}, {"name": "set", "x": {1, 2}},
                                       {"name": "when", "at": pd.Timestamp("2030-01-01")},
                                       {"name": "nan", "x": float("nan")}, '{"name": "nan text", "x": NaN}',
                                       {"name": "inf", "x": float("inf")}]})
    before = server.stats()["requests"]
    success, failure = ax.create(conn, "collections.create", frame)
    assert list(success["RecordID"]) == [1]  # numpy numbers are plain numbers
    assert set(failure["ErrorType"]) == {"InvalidContract"}
    assert failure["Error"].str.startswith("contract cannot be sent as JSON").all()
    assert "NaN or infinity" in failure.set_index("RecordID").loc[4, "Error"]
    assert server.stats()["requests"] - before == 1  # nothing was sent for the others
    made = [c["name"] for c in server.state.collections.values() if c["name"] in ("np", "set", "when", "nan")]
    assert made == ["np"]


def test_contracts_nested_thousands_deep_are_row_problems_not_crashes(server, conn):
    """Regression: JSON nested ~50,000 levels deep raised RecursionError out of the run."""
    deep: dict = {"name": "deep"}
    for _ in range(5000):
        deep = {"x": deep}
    frame = pd.DataFrame({"RecordID": [1, 2, 3],
                          "contract": ["[" * 50_000 + "]" * 50_000, deep, '{"name": "shallow"}']})
    before = server.stats()["requests"]
    success, failure = ax.create(conn, "collections.create", frame)
    assert list(success["RecordID"]) == [3]
    assert list(failure["ErrorType"]) == ["InvalidContract"] * 2
    assert failure["Error"].str.contains("nested too deeply").all()
    assert server.stats()["requests"] - before == 1


def test_ids_that_json_cannot_carry_still_reach_the_server_as_one_segment(server, conn):
    frame = pd.DataFrame({"RecordID": [1, 2], "collectionId": [[pd.Timestamp("2030-01-01")], {"a": np.int64(1)}]})
    success, failure = ax.get(conn, "collections.get", frame)
    errors = failure.set_index("RecordID")["Error"]
    assert "Collection '[\"2030-01-01 00:00:00\"]' was not found." in errors[1]
    assert "Collection '{\"a\": 1}' was not found." in errors[2]


def test_job_answers_holding_numpy_numbers_do_not_crash_the_run(server, conn, ids):
    """Regression: a questions cell whose answer was a list holding numpy numbers crashed run_jobs."""
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2,
                          "questions": [{"Region": [np.int64(1), "North"]}, {"Region": {"set": {1, 2}}}]})
    result = ax.run_jobs(conn, frame, poll_interval=(0.02, 0.2))
    assert_partition(frame, result.success, result.failure)
    assert len(result.success) == 2, result.failure.to_dict("records")
    answers = [{a["name"]: a["value"] for a in job["questions"]} for job in server.state.jobs.values()]
    assert sorted(a["Region"] for a in answers) == ['[1, "North"]', '{"set": "{1, 2}"}']
