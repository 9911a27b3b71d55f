"""Deployment from a folder against a live emulator: create, unchanged, new version, dry runs, the manifest,
unreadable files and name clashes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import axframe as ax
from axframe.admin import HASH_MARKER, deploy
from axframe.packages import build_package, content_hash

from ..conftest import fast_retry
from .conftest import routes

OWNER = "ana.artisan@example.com"
WRITES = ("Workflows_CreateWorkflow", "Workflows_AddVersionToWorkflow")


def writes(server) -> int:
    return sum(routes(server, key) for key in WRITES)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "checkout"
    (root / "finance").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "Margin Check.yxzp").write_bytes(build_package("Margin Check"))
    (root / "finance" / "Quarter Close.yxzp").write_bytes(build_package("Quarter Close", kind="app",
                                                                          questions=[{"name": "Quarter"}]))
    (root / "finance" / "Cost Split.yxzp").write_bytes(build_package("Cost Split", kind="macro"))
    (root / ".git" / "Ignored.yxzp").write_bytes(build_package("Ignored"))
    (root / "notes.txt").write_text("not a package")
    return root


def workflow_named(server, name):
    found = [w for w in server.state.workflows.values() if w["name"] == name]
    assert len(found) == 1, found
    return found[0]


def test_deploy_twice_then_change_one_file(server, conn, folder):
    before = len(server.state.workflows)
    result = deploy(conn, folder, owner=OWNER)
    success, failure = result
    assert failure.empty, failure.to_dict("records")
    assert list(success.columns) == ["RecordID", "Path", "Name", "WorkflowId", "Action", "Version", "ContentHash",
                                     "ServerHash", "Warning", "StatusCode"]
    assert list(success["Path"]) == ["finance/Cost Split.yxzp", "finance/Quarter Close.yxzp", "Margin Check.yxzp"]
    assert list(success["Action"]) == ["created"] * 3
    assert success["Version"].dtype == "int64" and success["StatusCode"].dtype == "int64"
    assert len(server.state.workflows) == before + 3
    margin = workflow_named(server, "Margin Check")
    assert margin["id"] == success.loc[2, "WorkflowId"]
    assert server.state.users[margin["ownerId"]]["email"] == OWNER
    digest = content_hash((folder / "Margin Check.yxzp").read_bytes())
    assert success.loc[2, "ContentHash"] == digest
    assert f"[{HASH_MARKER}{digest}]" in server.state.published(margin)["comments"]
    assert result.summary.succeeded == 3

    written = writes(server)
    success, failure = deploy(conn, folder, owner=OWNER)
    assert failure.empty
    assert list(success["Action"]) == ["unchanged"] * 3
    assert list(success["ServerHash"]) == list(success["ContentHash"])
    assert writes(server) == written
    assert routes(server, "Workflows_DownloadWorkflow") == 0  # the markers were enough

    (folder / "finance" / "Quarter Close.yxzp").write_bytes(
        build_package("Quarter Close", kind="app", questions=[{"name": "Quarter"}], description="Now with notes"))
    success, failure = deploy(conn, folder, owner=OWNER)
    assert failure.empty
    assert success.set_index("Path")["Action"].to_dict() == {"finance/Cost Split.yxzp": "unchanged",
                                                             "finance/Quarter Close.yxzp": "new version",
                                                             "Margin Check.yxzp": "unchanged"}
    assert writes(server) == written + 1
    quarter = workflow_named(server, "Quarter Close")
    assert len(quarter["versions"]) == 2 and success.loc[1, "Version"] == 2
    assert server.state.published(quarter)["versionNumber"] == 2
    assert len(server.state.workflows) == before + 3


def test_a_dry_run_shows_the_plan_and_sends_nothing(server, conn, folder):
    count, written = len(server.state.workflows), writes(server)
    result = deploy(conn, folder, owner=OWNER, dry_run=True)
    success, failure = result
    assert result.summary.dry_run and failure.empty
    assert list(success["Action"]) == ["created"] * 3 and list(success["WorkflowId"]) == [""] * 3
    assert len(server.state.workflows) == count and writes(server) == written
    deploy(conn, folder, owner=OWNER)
    (folder / "Margin Check.yxzp").write_bytes(build_package("Margin Check", description="v2"))
    success, _ = deploy(conn, folder, owner=OWNER, dry_run=True)
    assert list(success["Action"]) == ["unchanged", "unchanged", "new version"]
    assert len(workflow_named(server, "Margin Check")["versions"]) == 1


def test_a_workflow_published_by_hand_is_compared_by_downloading_it(server, conn, tmp_path):
    package = build_package("Hand Made")
    path = tmp_path / "Hand Made.yxzp"
    path.write_bytes(package)
    frame = ax.add_record_id(pd.DataFrame([{
        "file": str(path), "name": "Hand Made", "ownerId": server.refs["user:ana"], "isPublic": False,
        "isReadyForMigration": False, "othersMayDownload": True, "othersCanExecute": False,
        "executionMode": "Safe", "workflowCredentialType": "Default"}]))
    created, failed = ax.create(conn, "workflows.upload", frame)
    assert failed.empty
    success, failure = deploy(conn, tmp_path, owner=server.refs["user:ana"])  # owner by id
    assert failure.empty and success.loc[0, "Action"] == "unchanged"
    assert routes(server, "Workflows_DownloadWorkflow") == 1
    path.write_bytes(build_package("Hand Made", description="changed"))
    success, failure = deploy(conn, tmp_path, owner=OWNER)
    assert success.loc[0, "Action"] == "new version"
    wf = workflow_named(server, "Hand Made")
    assert wf["executionMode"] == "Safe" and wf["othersCanExecute"] is False  # the workflow's settings are kept


def test_the_manifest_maps_files_to_workflows(server, conn, folder):
    sales = server.refs["workflow:sales"]
    manifest = {"workflows": {
        "Margin Check.yxzp": {"workflowId": sales},
        "finance/Cost Split.yxzp": {"name": "Cost Allocation", "collections": ["Finance Reporting"]},
        "finance/Quarter Close.yxzp": {"workflowId": "0123456789abcdef01234567"},
    }}
    (folder / "axframe-deploy.json").write_text(json.dumps(manifest))
    success, failure = deploy(conn, folder, owner=OWNER)
    result = success.set_index("Path")
    assert result.loc["Margin Check.yxzp", "Action"] == "new version"
    assert result.loc["Margin Check.yxzp", "WorkflowId"] == sales
    assert result.loc["Margin Check.yxzp", "Name"] == "Regional Sales Report"
    assert server.state.workflows[sales]["name"] == "Regional Sales Report"
    allocation = workflow_named(server, "Cost Allocation")
    assert allocation["id"] in server.state.collections[server.refs["collection:fin"]]["workflowIds"]
    assert failure.loc[0, "Path"] == "finance/Quarter Close.yxzp" and failure.loc[0, "ErrorType"] == "NotFound"
    assert "manifest maps" in failure.loc[0, "Error"] and failure.loc[0, "Action"] == "failed"
    (folder / "axframe-deploy.json").write_text(json.dumps({"workflows": {"x.yxzp": {"workflowID": "y"}}}))
    with pytest.raises(ax.ConfigurationError, match="unknown keys workflowID"):
        deploy(conn, folder, owner=OWNER)


def test_bad_files_and_clashing_names_fail_alone(server, conn, folder):
    (folder / "Broken.yxzp").write_bytes(b"not a zip at all")
    (folder / "finance" / "margin check.yxzp").write_bytes(build_package("margin check"))
    written = writes(server)
    success, failure = deploy(conn, folder, owner=OWNER)
    assert list(success["Path"]) == ["finance/Cost Split.yxzp", "finance/Quarter Close.yxzp"]
    errors = failure.set_index("Path")["ErrorType"].to_dict()
    assert errors == {"Broken.yxzp": "InvalidFile", "finance/margin check.yxzp": "InvalidParameter",
                      "Margin Check.yxzp": "InvalidParameter"}
    assert list(failure["Action"]) == ["failed"] * 3
    assert writes(server) == written + 2
    assert failure["StatusCode"].tolist() == [None, None, None]
    for frame in (success, failure):
        assert all(str(t) in ("int64", "bool", "object", "str") for t in frame.dtypes), frame.dtypes


def test_set_up_problems_raise(server, conn, folder, tmp_path):
    with pytest.raises(ax.ConfigurationError, match="no account"):
        deploy(conn, folder, owner="nobody@example.com")
    with pytest.raises(ax.ConfigurationError, match="no such folder"):
        deploy(conn, tmp_path / "missing", owner=OWNER)
    with pytest.raises(ax.ConfigurationError, match="no collection"):
        deploy(conn, folder, owner=OWNER, collections=["Nope"])
    assert writes(server) == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    success, failure = deploy(conn, empty, owner=OWNER)
    assert success.empty and failure.empty


def test_not_recursive(server, conn, folder):
    success, failure = deploy(conn, folder, owner=OWNER, recursive=False, dry_run=True)
    assert list(success["Path"]) == ["Margin Check.yxzp"] and failure.empty


def test_an_artisan_deploys_their_own_workflows_by_user_id(server, conn, folder):
    artisan = ax.authenticate(server.url, *server.artisan, retry=fast_retry())
    ana = server.refs["user:ana"]
    assert server.state.users[ana]["apiKey"] == server.artisan[0]
    with pytest.raises(ax.AxframeError, match="give the owner's user id"):
        deploy(artisan, folder, owner=OWNER)
    success, failure = deploy(artisan, folder, owner=ana)
    assert failure.empty and list(success["Action"]) == ["created"] * 3
    success, failure = deploy(artisan, folder, owner=ana)
    assert failure.empty and list(success["Action"]) == ["unchanged"] * 3
