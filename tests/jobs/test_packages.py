"""Publishing a folder of packages with package_frame, and saving packages with download_packages."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import axframe as ax
from axframe.jobs import download_packages, run_jobs, package_frame
from axframe.packages import build_package


def write_packages(folder):
    folder.mkdir()
    files = {
        "b_churn.yxzp": build_package("Churn Model", kind="app", questions=[{"name": "Threshold", "default": "0.5"}]),
        "a_report.yxzp": build_package("Monthly Report", description="numbers"),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "notes.txt").write_text("not a package")
    return files


def test_package_frame_defaults_and_overrides(tmp_path, ids):
    write_packages(tmp_path / "pkgs")
    frame = package_frame(tmp_path / "pkgs", ownerId=ids["user:ana"])
    assert frame["RecordID"].tolist() == [1, 2]
    assert [p.rsplit("/", 1)[-1] for p in frame["file"]] == ["a_report.yxzp", "b_churn.yxzp"]
    assert frame["name"].tolist() == ["Monthly Report", "Churn Model"]  # from MetaInfo
    assert list(frame.columns) == ["RecordID", "file", "name", "ownerId", "isPublic", "isReadyForMigration",
                                   "othersMayDownload", "othersCanExecute", "executionMode",
                                   "workflowCredentialType"]
    assert frame.loc[0, "executionMode"] == "Standard" and not frame.loc[0, "isPublic"]
    custom = package_frame(tmp_path / "pkgs", ownerId="x", isPublic=True, executionMode="Safe", comments="v1")
    assert custom["isPublic"].all() and set(custom["executionMode"]) == {"Safe"}
    assert custom["comments"].tolist() == ["v1", "v1"]
    for dtype in custom.dtypes:
        assert dtype.kind in "ibO"
    with pytest.raises(ax.ConfigurationError, match="ispublic|isPublic"):
        package_frame(tmp_path / "pkgs", ownerId="x", ispublic=True)
    with pytest.raises(ax.ConfigurationError):
        package_frame(tmp_path / "nowhere", ownerId="x")
    with pytest.raises(ax.ConfigurationError):
        package_frame(tmp_path / "pkgs", action="workflows.delete")


def test_package_frame_names_the_owner_by_email(tmp_path, server, conn):
    write_packages(tmp_path / "pkgs")
    frame = package_frame(tmp_path / "pkgs", owner="ana.artisan@example.com")
    assert "ownerId" not in frame.columns and set(frame["owner"]) == {"ana.artisan@example.com"}
    success, failure = ax.create(conn, "workflows.upload", frame)
    assert failure.empty, failure[["RecordID", "Error"]]
    owners = {server.state.workflows[json.loads(r)]["ownerId"] for r in success["Response"]}
    assert owners == {server.refs["user:ana"]}
    nobody, failure = ax.create(conn, "workflows.upload", package_frame(tmp_path / "pkgs", owner="no@example.com"))
    assert nobody.empty and set(failure["ErrorType"]) == {"NotFound"}  # refused before sending
    with pytest.raises(ax.ConfigurationError, match="not both"):
        package_frame(tmp_path / "pkgs", owner="ana.artisan@example.com", ownerId="x")


def test_upload_then_download_gives_the_same_bytes(tmp_path, server, conn, ids):
    files = write_packages(tmp_path / "pkgs")
    frame = package_frame(tmp_path / "pkgs", ownerId=ids["user:ana"])
    success, failure = ax.create(conn, "workflows.upload", frame)
    assert failure.empty, failure[["RecordID", "Error"]]
    workflow_ids = [json.loads(r) for r in success["Response"]]
    assert [server.state.workflows[w]["name"] for w in workflow_ids] == ["Monthly Report", "Churn Model"]

    wanted = pd.DataFrame({"RecordID": [1, 2, 3], "workflowId": workflow_ids + ["000000000000000000000000"]})
    saved, failure = download_packages(conn, wanted, tmp_path / "saved")
    assert failure["ErrorType"].tolist() == ["NotFound"] and failure.loc[0, "RecordID"] == 3
    assert saved["RecordID"].tolist() == [1, 2]
    for _, row in saved.iterrows():
        original = files["a_report.yxzp" if row["RecordID"] == 1 else "b_churn.yxzp"]
        with open(row["File"], "rb") as handle:
            assert handle.read() == original
        assert row["Bytes"] == len(original)
        assert str(tmp_path / "saved") in row["File"]

    # the uploaded app runs
    result = run_jobs(conn, pd.DataFrame({"RecordID": [1], "workflowId": [workflow_ids[1]], "Threshold": [0.8]}),
                      outputs="Csv", poll_interval=(0.02, 0.2))
    assert result.outputs.loc[0, "Threshold"] == 0.8


def test_new_versions_and_downloading_a_chosen_version(tmp_path, server, conn, ids):
    first = tmp_path / "v1"
    first.mkdir()
    (first / "report.yxzp").write_bytes(build_package("Report", description="first"))
    success, _ = ax.create(conn, "workflows.upload", package_frame(first, ownerId=ids["user:ana"]))
    workflow_id = json.loads(success.loc[0, "Response"])
    second = tmp_path / "v2"
    second.mkdir()
    newer = build_package("Report", description="second")
    (second / "report.yxzp").write_bytes(newer)
    frame = package_frame(second, action="workflows.add_version", ownerId=ids["user:ana"], workflowId=workflow_id)
    assert frame.loc[0, "makePublished"] and frame.loc[0, "workflowId"] == workflow_id
    success, failure = ax.post(conn, "workflows.add_version", frame)
    assert failure.empty, failure[["RecordID", "Error"]]
    versions = json.loads(success.loc[0, "Response"])["versions"]
    assert len(versions) == 2

    wanted = pd.DataFrame({"RecordID": [1, 2, 3], "workflowId": [workflow_id] * 3,
                           "versionId": [None, versions[0]["versionId"], "no-such-version"]})
    saved, failure = download_packages(conn, wanted, tmp_path / "saved")
    assert failure["ErrorType"].tolist() == ["BadRequest"]
    contents = {row["RecordID"]: open(row["File"], "rb").read() for _, row in saved.iterrows()}
    assert contents[1] == newer  # the published version
    assert contents[2] == (first / "report.yxzp").read_bytes()


def test_a_package_that_cannot_be_read_fails_its_row(tmp_path, conn, ids):
    folder = tmp_path / "pkgs"
    folder.mkdir()
    (folder / "broken.yxzp").write_bytes(b"not a zip")
    frame = package_frame(folder, ownerId=ids["user:ana"])
    assert frame.loc[0, "name"] == "broken"
    success, failure = ax.create(conn, "workflows.upload", frame)
    assert success.empty and failure.loc[0, "ErrorType"] == "InvalidFile"
    # without an owner, the rows say so
    frame = package_frame([str(folder / "broken.yxzp")])
    assert frame["ownerId"].isna().all()
