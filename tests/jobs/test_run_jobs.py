"""run_jobs and job_outputs against the emulator: success, warnings, failures, File Browse uploads,
timeouts and cancelling, a bounded queue, the older job paths, and outputs gathered into frames."""

from __future__ import annotations

import json
import os
import threading
import time

import openpyxl
import pandas as pd
import pytest

import axframe as ax
from axframe import jobs
from axframe.jobs import program as job_program
from axframe.jobs import job_outputs, run_jobs

from ..conftest import fast_retry

FAST = (0.02, 0.2)  # poll quickly: the emulator's jobs last a fraction of a second


def routes(server) -> dict:
    return server.stats()["routes"]


def behaviour(server, workflow_id, **settings):
    with server.state.lock:
        server.state.workflows[workflow_id]["behaviour"] = settings


def plain(frame: pd.DataFrame) -> None:
    """Every column of an output frame is int64, float64, bool or object/str."""
    for column, dtype in frame.dtypes.items():
        assert dtype.kind in "ifbO" or str(dtype) == "str", (column, dtype)


def test_jobs_that_succeed_warn_and_fail(server, conn, ids):
    sales = ids["workflow:sales"]
    frame = pd.DataFrame({
        "RecordID": [1, 2, 3, 4, 5, 6, 7, 8, 9],
        "workflowId": [sales, sales, sales, ids["workflow:broken"], None, sales, sales, sales, sales],
        "Region": ["North", "WARNING: old data", "ERROR: bad region", None, "East", "West", None, "South", "East"],
        "priority": ["High", None, None, None, None, "Urgent", None, "2", None],
        "questions": [None, None, None, None, None, None, '[{"name": "Nope", "value": "1"}]', None, "{not json"],
    })
    result = run_jobs(conn, frame, poll_interval=FAST)
    success, failure = result
    assert sorted(success["RecordID"].tolist() + failure["RecordID"].tolist()) == list(range(1, 10))
    assert success["RecordID"].tolist() == [1, 2, 8]
    assert success["Status"].tolist() == ["Completed"] * 3
    assert success["Disposition"].tolist() == ["Success", "Warning", "Success"]
    assert "Warning (tool 2): old data" in success.loc[1, "Messages"]
    # input columns unchanged and first, then the job's
    assert list(success.columns[:5]) == ["RecordID", "workflowId", "Region", "priority", "questions"]
    assert list(success.columns[5:]) == list(jobs.JOB_COLUMNS)
    assert list(failure.columns[5:]) == list(jobs.JOB_COLUMNS) + ["StatusCode", "ErrorType", "Error", "Response"]
    plain(success)
    plain(failure)
    assert str(success["StatusRequests"].dtype) == "int64" and str(success["Seconds"].dtype) == "float64"
    assert (success["Seconds"] > 0).all() and (success["StatusRequests"] >= 1).all()
    assert all(q.endswith("Z") for q in success["QueuedAt"]) and all(e.endswith("Z") for e in success["EndedAt"])

    by_id = failure.set_index("RecordID")
    assert by_id.loc[3, "ErrorType"] == "JobFailed" and by_id.loc[3, "Disposition"] == "Error"
    assert by_id.loc[3, "Status"] == "Completed" and "bad region" in by_id.loc[3, "Error"]
    assert "legacy-db" in by_id.loc[4, "Error"] and by_id.loc[4, "ErrorType"] == "JobFailed"
    assert by_id.loc[5, "ErrorType"] == "MissingParameter" and by_id.loc[5, "JobId"] == ""
    assert by_id.loc[6, "ErrorType"] == "InvalidParameter" and "Urgent" in by_id.loc[6, "Error"]
    assert by_id.loc[7, "ErrorType"] == "BadRequest" and by_id.loc[7, "StatusCode"] == 400
    assert "Nope" in by_id.loc[7, "Error"]
    assert by_id.loc[9, "ErrorType"] == "InvalidContract" and "JSON" in by_id.loc[9, "Error"]

    # nothing was sent for invalid rows: 6 requests to queue (one refused), 5 jobs
    assert routes(server)["Workflows_Enqueue"] == 6
    assert len(server.state.jobs) == 5
    job = server.state.jobs[success.loc[0, "JobId"]]
    assert job["priority"] == "High" and {"name": "Region", "value": "North"} in job["questions"]
    assert server.state.jobs[success.loc[2, "JobId"]]["priority"] == "High"  # "2" is High

    summary = result.summary
    assert (summary.succeeded, summary.failed, summary.not_sent, summary.jobs, summary.warnings) == (3, 6, 3, 5, 1)
    assert summary.status_requests == routes(server)["Jobs_GetJobV3"]
    assert summary.status_requests == int(success["StatusRequests"].sum() + failure["StatusRequests"].sum())
    assert summary.status_requests_per_job == summary.status_requests / 5
    assert "status requests" in str(summary) and summary.as_dict()["status_requests_per_job"] > 0
    assert server.curator[1] not in repr(result) + success.to_csv() + failure.to_csv()


def test_warnings_can_count_as_failures(conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2,
                          "Region": ["WARNING: stale extract", "West"]})
    success, failure = run_jobs(conn, frame, warnings_fail=True, poll_interval=FAST)
    assert success["RecordID"].tolist() == [2]
    assert failure["ErrorType"].tolist() == ["JobFailed"]
    assert failure.loc[0, "Disposition"] == "Warning" and "stale extract" in failure.loc[0, "Error"]


def test_answers_reach_the_outputs(server, conn, ids):
    sales = ids["workflow:sales"]
    frame = pd.DataFrame({
        "RecordID": ["a", "b", "c"],
        "workflowId": [sales] * 3,
        "Region": ["North", None, "South"],
        "questions": ['[{"name": "Year", "value": 2024}]', '{"Region": "East", "Year": "2025"}',
                      '[{"name": "Region", "value": "overridden"}]'],
    })
    result = run_jobs(conn, frame, outputs="Csv", poll_interval=FAST)
    assert result.failure.empty, result.failure[["RecordID", "Error"]]
    data, problems = result.outputs, result.output_failures
    assert problems.empty
    assert list(data.columns[:3]) == ["RecordID", "JobId", "Output"]
    assert set(data.columns[3:]) == {"Region", "Year"}  # in the order of the first output
    rows = data.set_index("RecordID")
    assert rows.loc["a", "Region"] == "North" and rows.loc["a", "Year"] == 2024
    assert rows.loc["b", "Region"] == "East" and rows.loc["b", "Year"] == 2025
    assert rows.loc["c", "Region"] == "South"  # a column answer wins over the JSON one
    assert str(data["Year"].dtype) == "int64"
    assert set(data["JobId"]) == set(result.success["JobId"]) and set(data["Output"]) == {"Output.csv"}
    assert result.summary.outputs == 3
    # the same, afterwards, from the success frame alone
    again, problems = job_outputs(conn, result.success)
    assert problems.empty
    pd.testing.assert_frame_equal(again.sort_values("RecordID").reset_index(drop=True),
                                  data.sort_values("RecordID").reset_index(drop=True))


def test_outputs_of_many_jobs_form_one_frame(server, conn, ids):
    behaviour(server, ids["workflow:sales"], runSeconds=0.01)
    regions = ["West", "East", "North", "South"]
    frame = pd.DataFrame({"RecordID": range(1, 13), "workflowId": [ids["workflow:sales"]] * 12,
                          "Region": [regions[i % 4] for i in range(12)], "Year": range(2000, 2012)})
    success, failure = run_jobs(conn, frame, poll_interval=FAST)
    assert len(success) == 12
    data, problems = job_outputs(conn, success)
    assert problems.empty and len(data) == 12
    assert data.sort_values("RecordID")["Year"].tolist() == list(range(2000, 2012))
    assert (data.set_index("RecordID")["Region"] == frame.set_index("RecordID")["Region"]).all()
    plain(data)


def test_outputs_in_other_formats_are_saved_as_files(tmp_path, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2, "Region": ["West", "East"]})
    success, _ = run_jobs(conn, frame, poll_interval=FAST)
    files, problems = job_outputs(conn, success[["RecordID", "JobId"]], "xlsx", folder=tmp_path / "out")
    assert problems.empty
    assert list(files.columns) == ["RecordID", "JobId", "Output", "Format", "File", "Bytes"]
    assert files["Format"].tolist() == ["Xlsx", "Xlsx"]
    for _, row in files.iterrows():
        assert os.path.getsize(row["File"]) == row["Bytes"] > 0
        assert os.path.basename(row["File"]).startswith(f"{row['RecordID']}_{row['JobId']}_")
        sheet = openpyxl.load_workbook(row["File"]).active
        assert sheet["A2"].value == frame.set_index("RecordID").loc[row["RecordID"], "Region"]
    plain(files)
    # a format the output does not offer, an unknown job, and a row without a job
    broken = pd.DataFrame({"RecordID": [1, 2, 3],
                           "JobId": [success.loc[0, "JobId"], "000000000000000000000000", None]})
    files, problems = job_outputs(conn, broken, "Pdf", folder=tmp_path / "out2")
    assert files.empty
    assert problems["ErrorType"].tolist() == ["NotAvailable", "NotFound", "MissingParameter"]
    assert not (tmp_path / "out2").exists()
    with pytest.raises(ax.ConfigurationError):
        job_outputs(conn, broken, "Excel")
    # the same through run_jobs, while the jobs run
    result = run_jobs(conn, frame, outputs="Html", output_folder=tmp_path / "html", poll_interval=FAST)
    assert result.output_failures.empty and result.outputs["Format"].tolist() == ["Html", "Html"]
    assert all(open(f, encoding="utf-8").read().startswith("<html>") for f in result.outputs["File"])
    result = run_jobs(conn, frame, outputs="Pdf", poll_interval=FAST)
    assert result.outputs.empty and result.output_failures["ErrorType"].tolist() == ["NotAvailable"] * 2
    assert result.summary.output_failures == 2 and len(result.success) == 2


def test_file_browse_answers_are_uploaded_first(tmp_path, server, conn, ids):
    customers = tmp_path / "customers.csv"
    customers.write_bytes(b"id,name\n1,Ann\n2,Bo\n")
    churn = ids["workflow:churn"]
    frame = pd.DataFrame({"RecordID": [1, 2, 3], "workflowId": [churn] * 3,
                          "Customer File": [str(customers), str(tmp_path / "missing.csv"), None],
                          "Threshold": [0.7, 0.7, 0.9]})
    result = run_jobs(conn, frame, files=["Customer File"], outputs="Csv", poll_interval=FAST, files_root=tmp_path)
    success, failure = result
    assert success["RecordID"].tolist() == [1, 3]
    assert failure.loc[0, "ErrorType"] == "InvalidFile" and "missing.csv" in failure.loc[0, "Error"]
    assert success.loc[0, "Customer File"] == str(customers)  # the input is unchanged
    assert len(server.state.input_files) == 1 and result.summary.uploads == 1
    rows = result.outputs.set_index("RecordID")
    assert rows.loc[1, "Customer File"].startswith("inputfiles/")
    assert rows.loc[1, "Customer File"].endswith("customers.csv")
    assert rows.loc[1, "Customer File_bytes"] == customers.stat().st_size
    assert rows.loc[1, "Threshold"] == 0.7
    assert pd.isna(rows.loc[3, "Customer File_bytes"])  # no file: no upload, no size


def test_file_browse_answers_are_found_and_uploaded_by_default(tmp_path, server, conn, ids):
    customers = tmp_path / "customers.csv"
    customers.write_bytes(b"id\n1\n")
    churn, sales = ids["workflow:churn"], ids["workflow:sales"]
    frame = pd.DataFrame({"RecordID": [1, 2, 3], "workflowId": [churn, churn, sales],
                          "Customer File": [str(customers), "D:\\server\\share\\customers.csv", None],
                          "Region": [None, None, str(customers)]})  # a path answering a text question
    before = server.stats()["routes"].get("Workflows_GetWorkflowQuestions", 0)
    success, failure = run_jobs(conn, frame, poll_interval=FAST, files_root=tmp_path)
    assert failure.empty and len(success) == 3
    assert len(server.state.input_files) == 1  # row 1's local file; row 2's path is not a local file
    # the Server was asked once per workflow where some answer is a local file (sales: its Region question
    # is not File Browse, so that path went as text)
    assert server.stats()["routes"]["Workflows_GetWorkflowQuestions"] - before == 2


def test_without_uploads_a_path_is_just_text(tmp_path, server, conn, ids):
    customers = tmp_path / "customers.csv"
    customers.write_bytes(b"id\n1\n")
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:churn"]], "Customer File": [str(customers)]})
    success, _ = run_jobs(conn, frame, files=[], poll_interval=FAST)
    assert len(success) == 1 and not server.state.input_files
    assert server.stats()["routes"].get("Workflows_GetWorkflowQuestions", 0) == 0  # nothing asked either
    with pytest.raises(ax.FrameError):
        run_jobs(conn, frame, files=["Customer Fiel"])


def test_timeout_cancels_running_and_queued_jobs(server, conn, ids):
    server.state.job_slots = 1
    sales = ids["workflow:sales"]
    behaviour(server, sales, runSeconds=3600)
    blocker = conn.request("POST", f"/v3/workflows/{sales}/jobs", json={}).json()["id"]  # holds the only slot
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [sales] * 2})
    started = time.monotonic()
    result = run_jobs(conn, frame, job_timeout=0.3, poll_interval=FAST)
    assert time.monotonic() - started >= 0.3
    success, failure = result
    assert success.empty
    assert failure["ErrorType"].tolist() == ["JobTimeout", "JobTimeout"]
    assert failure["Status"].tolist() == ["Queued", "Queued"]
    assert all("cancelled on the Server" in e for e in failure["Error"])
    assert routes(server)["Jobs_CancelJob"] == 2
    assert not set(failure["JobId"]) & set(server.state.jobs)  # queued jobs are removed when cancelled
    assert result.summary.timed_out == 2 and result.summary.cancelled == 2
    # a running job is cancelled
    conn.request("DELETE", f"/v3/jobs/{blocker}")
    success, failure = run_jobs(conn, frame.iloc[:1], job_timeout=0.2, poll_interval=FAST)
    assert failure.loc[0, "ErrorType"] == "JobTimeout" and failure.loc[0, "Status"] == "Running"
    assert server.state.jobs[failure.loc[0, "JobId"]]["status"] == "Cancelled"


def test_timeout_can_leave_the_job_running(server, conn, ids):
    behaviour(server, ids["workflow:sales"], runSeconds=3600)
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]]})
    success, failure = run_jobs(conn, frame, job_timeout=0.2, cancel_on_timeout=False, poll_interval=FAST)
    assert failure.loc[0, "ErrorType"] == "JobTimeout" and "not cancelled" in failure.loc[0, "Error"]
    assert failure.loc[0, "Status"] == "Running"
    assert server.state.jobs[failure.loc[0, "JobId"]]["status"] == "Running"
    assert "Jobs_CancelJob" not in routes(server)


def test_a_job_that_ends_while_being_cancelled_is_looked_at_again(server, conn, ids, monkeypatch):
    """The emulator's clock jumps between the last look and the cancel: the job has ended by then."""
    behaviour(server, ids["workflow:sales"], runSeconds=30)
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]]})
    original = job_program._cancel

    def late_cancel(connection, job_id):
        server.advance(60)
        return original(connection, job_id)

    monkeypatch.setattr(job_program, "_cancel", late_cancel)
    success, failure = run_jobs(conn, frame, job_timeout=0.2, poll_interval=FAST)
    assert failure.empty and success.loc[0, "Status"] == "Completed"
    assert success.loc[0, "StatusRequests"] >= 2  # the look after the refused cancel counts too


def test_ctrl_c_cancels_the_jobs_in_flight(server, conn, ids, monkeypatch):
    behaviour(server, ids["workflow:sales"], runSeconds=3600)
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2})

    original = conn.send
    queued = []

    def interrupted(connection, api, job_id):
        raise KeyboardInterrupt

    def slow_send(call):
        if call.method == "POST" and call.path.endswith("/jobs"):
            queued.append(call)
            if len(queued) == 2:
                time.sleep(0.3)  # the second row is still queuing when Ctrl-C comes
        return original(call)

    monkeypatch.setattr(job_program, "_look", interrupted)
    monkeypatch.setattr(conn, "send", slow_send)
    with pytest.raises(KeyboardInterrupt):
        run_jobs(conn, frame, poll_interval=FAST)
    assert len(server.state.jobs) == 2
    assert {j["status"] for j in server.state.jobs.values()} == {"Cancelled"}


def test_status_that_cannot_be_read(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]]})
    server.faults.configure(error_rates={500: 1.0}, methods=["GET"], path_pattern=r"/v3/jobs/")
    success, failure = run_jobs(conn, frame, poll_interval=FAST)
    assert failure.loc[0, "ErrorType"] == "ServerError"
    assert f"after {jobs.MAX_POLL_FAILURES} tries" in failure.loc[0, "Error"]
    assert failure.loc[0, "StatusRequests"] == jobs.MAX_POLL_FAILURES


def test_a_bounded_queue_of_many_jobs(server, conn, ids):
    server.state.job_slots = 4
    behaviour(server, ids["workflow:sales"], runSeconds=0.05)
    n, bound, workers = 60, 10, 4
    frame = pd.DataFrame({"RecordID": range(1, n + 1), "workflowId": [ids["workflow:sales"]] * n,
                          "Region": ["West", "East", "North", "South"] * (n // 4)})
    def client_threads():  # the emulator serves each connection on a thread of its own; leave those out
        return [t for t in threading.enumerate() if "process_request" not in t.name]

    baseline = len(client_threads())
    peak_threads, done = [baseline], threading.Event()

    def sample():
        while not done.is_set():
            peak_threads.append(len(client_threads()))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = run_jobs(conn, frame, max_queued=bound, max_workers=workers, poll_interval=FAST)
    finally:
        done.set()
        sampler.join()
    success, failure = result
    assert len(success) == n and failure.empty
    assert result.summary.max_in_flight == bound
    # the Server's own timeline: never more than `bound` of the run's jobs queued or running at once
    spans = [(j["_created"], j["_end"]) for j in server.state.jobs.values()]
    assert len(spans) == n
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    held = most = 0
    for _, step in events:
        held += step
        most = max(most, held)
    assert most <= bound
    # one scheduler and a fixed pool of workers, not a thread per row
    assert max(peak_threads) <= baseline + 1 + workers + 1
    assert result.summary.status_requests == routes(server)["Jobs_GetJobV3"] >= n


@pytest.mark.parametrize("api,route,poll_route", [("v1", "v1.run", "v1.job"), ("user_v2", "user_v2.run", "v1.job")])
def test_older_job_paths(server, conn, ids, api, route, poll_route):
    sales = ids["workflow:sales"]
    frame = pd.DataFrame({"RecordID": [1, 2, 3], "workflowId": [sales] * 3, "Region": ["East", "West", "North"],
                          "priority": ["Critical", None, "Default"], "workerTag": [None, "gpu", None]})
    success, failure = run_jobs(conn, frame, api=api, outputs="Csv", poll_interval=FAST)
    assert success["RecordID"].tolist() == [1, 3]
    assert failure.loc[0, "ErrorType"] == "NotAvailable" and "workerTag" in failure.loc[0, "Error"]
    assert routes(server)[route] == 2 and routes(server)[poll_route] >= 2
    assert "Workflows_Enqueue" not in routes(server)
    assert server.state.jobs[success.loc[0, "JobId"]]["priority"] == "Critical"
    assert success["QueuedAt"].str.endswith("Z").all()


def test_user_v2_sends_the_credential(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]],
                          "credentialId": [ids["credential:etl"]]})
    success, failure = run_jobs(conn, frame, api="user_v2", poll_interval=FAST)
    assert failure.empty
    assert server.state.jobs[success.loc[0, "JobId"]]["credentialId"] == ids["credential:etl"]
    failure = run_jobs(conn, frame, api="v1", poll_interval=FAST).failure
    assert failure.loc[0, "ErrorType"] == "NotAvailable"


def test_legacy_connection_uses_the_v1_paths(server, ids):
    with ax.authenticate(server.url, *server.curator, legacy=True, retry=fast_retry()) as legacy:
        frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]], "Region": ["South"]})
        result = run_jobs(legacy, frame, outputs="Csv", poll_interval=FAST)
        assert result.failure.empty
        assert result.outputs.loc[0, "Region"] == "South"
        with pytest.raises(ax.ConfigurationError):
            run_jobs(legacy, frame, api="v3")


def test_a_failure_frame_runs_again_as_it_is(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2,
                          "Region": ["West", "ERROR: first try"]})
    _, failure = run_jobs(conn, frame, poll_interval=FAST)
    retry = failure.copy()
    retry["Region"] = "East"
    success, failure = run_jobs(conn, retry, poll_interval=FAST)
    assert failure.empty and success["RecordID"].tolist() == [2]
    assert list(success.columns) == ["RecordID", "workflowId", "Region"] + list(jobs.JOB_COLUMNS)


def test_question_columns_can_be_chosen(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]], "Region": ["North"],
                          "Customer": ["carried along"]})
    success, failure = run_jobs(conn, frame, poll_interval=FAST)
    assert failure.loc[0, "ErrorType"] == "BadRequest"  # the app has no question 'Customer'
    success, failure = run_jobs(conn, frame, question_columns=["Region"], poll_interval=FAST)
    assert failure.empty and success.loc[0, "Customer"] == "carried along"


def test_set_up_problems_raise_before_anything_is_sent(server, conn, ids):
    good = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]]})
    with pytest.raises(ax.FrameError, match="workflowId"):
        run_jobs(conn, pd.DataFrame({"RecordID": [1], "appid": ["x"]}))
    with pytest.raises(ax.FrameError, match="RecordID"):
        run_jobs(conn, pd.DataFrame({"workflowId": ["x"]}))
    with pytest.raises(ax.FrameError):
        run_jobs(conn, good, question_columns=["Nope"])
    for options in ({"max_queued": 0}, {"job_timeout": -1}, {"poll_interval": (1, 0.5)}, {"api": "v4"},
                    {"outputs": "Word"}, {"max_workers": 0}):
        with pytest.raises(ax.ConfigurationError):
            run_jobs(conn, good, **options)
    assert "Workflows_Enqueue" not in routes(server)


def test_duplicate_and_empty_record_ids(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 1, None], "workflowId": [ids["workflow:sales"]] * 3})
    success, failure = run_jobs(conn, frame, poll_interval=FAST)
    assert success.empty
    assert failure["ErrorType"].tolist() == ["DuplicateRecordID", "DuplicateRecordID", "InvalidRecordID"]
    assert not server.state.jobs


def test_an_empty_frame(conn):
    result = run_jobs(conn, pd.DataFrame({"RecordID": [], "workflowId": []}), outputs="Csv")
    assert result.success.empty and result.failure.empty and result.summary.rows == 0
    assert list(result.outputs.columns) == ["RecordID", "JobId", "Output"] and result.output_failures.empty


def test_output_columns_named_like_ours_get_a_suffix(server, conn, ids):
    # a workflow without questions: the emulator's output has its own JobId column
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:refresh"]]})
    result = run_jobs(conn, frame, outputs="Csv", poll_interval=FAST)
    data = result.outputs
    assert list(data.columns) == ["RecordID", "JobId", "Output", "Workflow", "JobId.1", "RunCount"]
    assert data.loc[0, "JobId.1"] == data.loc[0, "JobId"]
    assert json.loads(result.success.loc[0, "Outputs"])[0]["formats"][0] == "Csv"


@pytest.mark.parametrize("regions, years, region_dtype, expected", [
    # ids and codes stay text, exactly as the workflow wrote them
    (["02134", "10001"], ["2024", "2025"], "object", ["02134", "10001"]),
    (["+44", "7"], ["2024", "2025"], "object", ["+44", "7"]),
    (["1,234", "5"], ["2024", "2025"], "object", ["1,234", "5"]),
    (["12345678901234567890123", "1"], ["2024", "2025"], "object", ["12345678901234567890123", "1"]),
    (["1234567890123456", "1"], ["2024", "2025"], "object", ["1234567890123456", "1"]),
    # numbers become numbers: whole numbers int64, float64 only where a decimal point appears
    (["0", "-12"], ["2024", "2025"], "int64", [0, -12]),
    (["0.5", "2"], ["2024", "2025"], "float64", [0.5, 2.0]),
    (["123456789012345", "-1"], ["2024", "2025"], "int64", [123456789012345, -1]),
])
def test_outputs_keep_ids_as_text(server, conn, ids, regions, years, region_dtype, expected):
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2, "Region": regions,
                          "Year": years})
    result = run_jobs(conn, frame, outputs="Csv", poll_interval=FAST)
    assert result.failure.empty and result.output_failures.empty, result.failure
    data = result.outputs.sort_values("RecordID").reset_index(drop=True)
    assert str(data["Region"].dtype) == region_dtype and data["Region"].tolist() == expected
    assert str(data["Year"].dtype) == "int64" and data["Year"].tolist() == [2024, 2025]
    plain(data)
    again, _ = job_outputs(conn, result.success)
    assert again.sort_values("RecordID")["Region"].tolist() == expected


def test_whole_numbers_with_gaps_stay_whole(server, conn, ids):
    # one job answers only Region: its output has no Year, so the gathered Year column has a gap
    sales = ids["workflow:sales"]
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [sales, ids["workflow:refresh"]],
                          "Year": ["2024", None]})
    data = run_jobs(conn, frame, outputs="Csv", poll_interval=FAST).outputs.sort_values("RecordID")
    assert data["Year"].tolist() == [2024, None]
    assert str(data["Year"].dtype) == "object" and isinstance(data["Year"].iloc[0], int)
    plain(data)


def test_outputs_as_text_when_asked(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2, "Region": ["1.50", "2"],
                          "Year": ["2024", "2025"]})
    result = run_jobs(conn, frame, outputs="Csv", poll_interval=FAST, infer_types=False)
    data = result.outputs.sort_values("RecordID")
    assert data["Region"].tolist() == ["1.50", "2"] and data["Year"].tolist() == ["2024", "2025"]
    assert result.summary.outputs == 2
    inferred = run_jobs(conn, frame, outputs="Csv", poll_interval=FAST).outputs.sort_values("RecordID")
    assert inferred["Region"].tolist() == [1.5, 2.0] and inferred["Year"].tolist() == [2024, 2025]


def test_on_row_reports_each_row_sent(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2, 3, 3], "workflowId": [ids["workflow:sales"], None,
                                                                  ids["workflow:sales"], ids["workflow:sales"]],
                          "Region": ["West", "East", "ERROR: closed", "North"]})
    seen = []
    success, failure = run_jobs(conn, frame, poll_interval=FAST, on_row=lambda pos, end: seen.append((pos, end.ok)))
    assert sorted(seen) == [(0, True)]  # no workflowId and duplicate RecordIDs: refused before sending
    seen.clear()
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2,
                          "Region": ["West", "ERROR: closed"]})
    run_jobs(conn, frame, poll_interval=FAST, on_row=lambda pos, end: seen.append((pos, end.ok, end.error_type)))
    assert sorted(seen) == [(0, True, None), (1, False, "JobFailed")]


def test_no_job_timeout(server, conn, ids):
    behaviour(server, ids["workflow:sales"], runSeconds=0.3)
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]], "Region": ["West"]})
    for no_limit in (None, 0):  # 0 means no limit, as --job-timeout 0 does
        success, failure = run_jobs(conn, frame, poll_interval=FAST, job_timeout=no_limit)
        assert failure.empty and success.loc[0, "Status"] == "Completed"
        assert success.loc[0, "StatusRequests"] >= 1 and success.loc[0, "Seconds"] > 0
    with pytest.raises(ax.ConfigurationError, match="job_timeout"):
        run_jobs(conn, frame, job_timeout=-1)


def test_questions_given_as_lists_come_back_as_json_text(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"], "nope"],
                          "questions": [[{"name": "Region", "value": "East"}], [{"name": "Region", "value": "W"}]]})
    success, failure = run_jobs(conn, frame, poll_interval=FAST)
    assert success["questions"].tolist() == ['[{"name": "Region", "value": "East"}]']
    assert failure["questions"].tolist() == ['[{"name": "Region", "value": "W"}]']  # plain text: Alteryx.write takes it


def test_an_input_file_cannot_send_files_from_outside_the_root_or_hidden_ones(tmp_path, server, conn, ids):
    """The input may come from someone else: it must not be able to upload the user's secrets."""
    root = tmp_path / "work"
    (root / ".secret").mkdir(parents=True)
    (root / ".env").write_text("AXFRAME_CLIENT_SECRET=do-not-send\n")
    (root / ".secret" / "key.csv").write_text("k\n1\n")
    (root / "ok.csv").write_text("id\n1\n")
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("id\n2\n")
    (root / "link.csv").symlink_to(outside)
    churn = ids["workflow:churn"]
    answers = [str(root / ".env"), str(root / ".secret" / "key.csv"), str(outside), str(root / "link.csv"),
               str(root / "ok.csv")]
    frame = pd.DataFrame({"RecordID": range(1, 6), "workflowId": [churn] * 5, "Customer File": answers})
    for files in ("auto", ["Customer File"]):
        server.state.input_files.clear()
        success, failure = run_jobs(conn, frame, files=files, files_root=root, poll_interval=FAST)
        assert success["RecordID"].tolist() == [5]
        assert failure["ErrorType"].tolist() == ["InvalidFile"] * 4
        errors = failure.set_index("RecordID")["Error"]
        assert "hidden" in errors[1] and "hidden" in errors[2]
        assert "outside the folder" in errors[3] and "outside the folder" in errors[4]  # a link is followed
        assert len(server.state.input_files) == 1
        assert not any(b"do-not-send" in f["data"] for f in server.state.input_files.values())


def test_workflows_named_instead_of_ids(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2, 3], "workflow": ["regional sales report ", "Nowhere", "Regional Sales Report"],
                          "Region": ["East", "West", "North"]})
    result = run_jobs(conn, frame, outputs="Csv", poll_interval=FAST)
    assert result.success["RecordID"].tolist() == [1, 3]
    assert result.success["workflowId"].tolist() == [ids["workflow:sales"]] * 2  # the id found joins the row
    failed = result.failure.set_index("RecordID")
    assert failed.loc[2, "ErrorType"] == "NotFound" and "'Nowhere'" in failed.loc[2, "Error"]
    assert "the workflow column" in failed.loc[2, "Error"]
    jobs_made = [j for j in server.state.jobs.values() if j["appId"] == ids["workflow:sales"]]
    assert len(jobs_made) == 2  # nothing queued for the name that matched nothing
    asked = [{q["name"] for q in j.get("questions") or []} for j in jobs_made]
    assert all("workflow" not in names for names in asked)  # the name column is not sent as an answer
    assert set(result.outputs["Region"]) == {"East", "North"}


def test_with_a_workflowId_column_a_workflow_column_is_a_question(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]], "workflow": ["not a name"]})
    result = run_jobs(conn, frame, poll_interval=FAST)
    # sent as the answer to a question 'workflow', which this app does not have
    assert result.failure.loc[0, "ErrorType"] == "BadRequest"
    assert "no question named 'workflow'" in result.failure.loc[0, "Error"]
