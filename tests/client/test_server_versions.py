"""An older Server: what it lacks is learned from its own Swagger document or from its answers, and a row of an
action it lacks fails as NotAvailable before anything is sent; everything else works as on the newest."""

from __future__ import annotations

import pandas as pd
import pytest

import axframe as ax
from axframe import catalogue
from axframe.emulator import Emulator

from ..conftest import fast_retry

OLD = "2021.4"


@pytest.fixture(scope="module")
def old():
    with Emulator(server_version=OLD) as server:
        yield server


@pytest.fixture
def conn(old):
    with ax.authenticate(old.url, *old.curator, retry=fast_retry()) as connection:
        yield connection


def _routes(server) -> dict:
    return server.stats()["routes"]


@pytest.mark.parametrize("action, macro, frame", [
    ("jobs.list", ax.get, None),
    ("credentials.create", ax.create, pd.DataFrame({"RecordID": [1, 2], "userName": ["a", "b"],
                                                     "password": ["p1", "p2"]})),
    ("usage.download", ax.get, None),
])
def test_an_action_the_server_lacks_fails_every_row_before_sending(old, conn, action, macro, frame):
    endpoint = catalogue.find(action)
    before = dict(_routes(old))
    success, failure = macro(conn, action, frame)
    assert success.empty and set(failure["ErrorType"]) == {"NotAvailable"}
    assert failure["Error"].str.startswith(f"this Server has no {action} ({endpoint.spelling})").all()
    assert "Swagger document (/swagger/docs/3)" in failure.loc[0, "Error"]
    assert _routes(old).get(endpoint.operation_id, 0) == before.get(endpoint.operation_id, 0)  # nothing sent
    assert conn.server.document == "/swagger/docs/3" and conn.server.lacks(endpoint)
    assert "90 operations" in repr(conn.server)


def test_the_document_is_asked_for_once_and_only_for_operations_not_every_server_has(old):
    with ax.authenticate(old.url, *old.curator) as conn:
        ax.get(conn, "workflows.list")
        assert not conn.server.asked  # every Server has it: no document read
        for _ in range(3):
            ax.get(conn, "jobs.list")
        assert conn.server.asked and conn.server.document == "/swagger/docs/3"


def test_the_newest_server_serves_them_all(server, socket_conn):
    success, failure = ax.get(socket_conn, "jobs.list")
    assert failure.empty and not socket_conn.server.lacks(catalogue.find("jobs.list"))
    assert socket_conn.server.document == "/swagger/docs/3" and len(socket_conn.server.operations) == 97


def test_without_a_document_the_first_unknown_route_teaches_and_the_rest_are_not_sent(old, conn, monkeypatch):
    monkeypatch.setattr(conn, "_read_document", lambda path: None)  # a Server that serves no document
    endpoint = catalogue.find("jobs.list")
    ax.get(conn, "workflows.list")  # the token, so that the count below is the listing's calls alone
    before = old.stats()["requests"]
    frame = pd.DataFrame({"RecordID": [1, 2, 3]})
    success, failure = ax.get(conn, "jobs.list", frame, max_workers=1)
    assert set(failure["ErrorType"]) == {"NotAvailable"} and len(failure) == 3
    assert "answered it as a route it does not have" in failure.loc[0, "Error"]
    assert conn.server.missing == {endpoint.operation_id}
    assert old.stats()["requests"] - before == 1  # one call taught it; the others were not sent


def test_a_job_that_times_out_on_an_older_server_says_it_could_not_be_cancelled(old, conn):
    refresh = old.refs["workflow:refresh"]
    with old.state.lock:
        saved = old.state.workflows[refresh].get("behaviour")
        old.state.workflows[refresh]["behaviour"] = {"runSeconds": 3600}
    try:
        success, failure = ax.run_jobs(conn, pd.DataFrame({"RecordID": [1], "workflowId": [refresh]}),
                                       job_timeout=0.2, poll_interval=(0.02, 0.1))
    finally:
        with old.state.lock:
            old.state.workflows[refresh]["behaviour"] = saved
    assert failure.loc[0, "ErrorType"] == "JobTimeout", failure.to_dict("records")
    assert "this Server has no jobs.cancel" in failure.loc[0, "Error"]


def test_the_macros_jobs_and_a_workbook_work_on_an_older_server(old, conn):
    made = ax.create(conn, "collections.create", pd.DataFrame({"RecordID": [1], "name": ["Old Server Team"]}))
    assert made.failure.empty
    added = ax.post(conn, "collections.add_user", pd.DataFrame({
        "RecordID": [1], "collection": ["Old Server Team"], "user": ["mia.member@example.com"],
        "collectionsPermissions.isAdmin": ["false"], "collectionsPermissions.canAddAssets": ["true"],
        "collectionsPermissions.canUpdateAssets": ["false"]}))
    assert added.failure.empty, added.failure[["ErrorType", "Error"]].to_dict("records")
    jobs = ax.run_jobs(conn, pd.DataFrame({"RecordID": [1], "workflow": ["Regional Sales Report"], "Region": ["West"]}),
                       poll_interval=(0.02, 0.1))
    assert jobs.failure.empty, jobs.failure[["ErrorType", "Error"]].to_dict("records")
    book = ax.export(conn)
    assert not ax.plan(conn, book).pending
    desired = {"UserGroups": pd.DataFrame({"name": ["Old Server Group"], "role": ["Viewer"]})}
    assert ax.apply(conn, ax.plan(conn, desired)).failure.empty
    gone = ax.delete(conn, "collections.delete", pd.DataFrame({"RecordID": [1], "collection": ["Old Server Team"],
                                                                  "forceDelete": ["true"]}))
    assert gone.failure.empty


def test_a_viewers_rehearsal_of_v1_calls_fails_as_on_a_real_server_naming_the_role(server, ids):
    with ax.authenticate(server.url, *server.keys("Viewer"), retry=fast_retry()) as viewer:
        listed = ax.get(viewer, "v1.workflows")
        assert listed.failure.loc[0, "ErrorType"] == "Unauthorized"
        error = listed.failure.loc[0, "Error"]
        assert "v1.workflows needs the API key of an Artisan or above" in error
        assert "refuse Viewers' and Members' keys on the V1 and User V2 APIs" in error
        jobs = ax.run_jobs(viewer, pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]],
                                                 "Region": ["West"]}), api="v1", poll_interval=(0.02, 0.1))
        assert jobs.failure.loc[0, "ErrorType"] == "Unauthorized" and "Artisan" in jobs.failure.loc[0, "Error"]
        assert ax.get(viewer, "workflows.list").failure.empty  # V3 is open to a Viewer


def test_on_a_windows_authentication_server_each_user_row_says_the_path_that_works():
    with Emulator(auth="windows") as windows, ax.authenticate(windows.url, *windows.curator) as conn:
        success, failure = ax.create(conn, "users.create", pd.DataFrame({
            "RecordID": [1, 2], "firstName": ["Ann", "Bo"], "lastName": ["Lee", "Ng"],
            "email": ["ann.lee@example.com", "bo.ng@example.com"], "role": ["Viewer", "Member"]}))
        assert success.empty and list(failure["ErrorType"]) == ["BadRequest", "BadRequest"]
        assert failure["Error"].str.contains("Windows authentication").all()
        assert failure["Error"].str.contains("usergroups.add_ad_group").all()
        groups = ax.post(conn, "usergroups.add_ad_group", pd.DataFrame({
            "RecordID": [1], "group": ["Report Viewers"], "contract": ['"S-1-5-21-1004336348-1177238915-682003330-512"']}))
        assert groups.failure.empty, groups.failure[["ErrorType", "Error"]].to_dict("records")
