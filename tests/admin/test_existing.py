"""migrate(existing=...): a target workflow of the same name and owner that was not migrated from the source one
(published by hand, or by deploy) fails the row by default, gets a new version, or gets a copy beside it; the
sourceAppId match always comes first, and a same-named workflow of another owner is no match."""

from __future__ import annotations

import pandas as pd
import pytest

import axframe as ax
from axframe.admin import deploy, migrate
from axframe.packages import build_package, content_hash

from .conftest import routes

SALES = "Regional Sales Report"  # the source's, owned by ana.artisan@example.com
PUBLISHES = ("admin_v1.publish", "Workflows_AddVersionToWorkflow")


def published(server) -> int:
    return sum(routes(server, key) for key in PUBLISHES)


def by_hand(target, tgt, tmp_path, owner: str = "user:ana", name: str = SALES) -> str:
    """Publish a workflow on the target the V3 way (as the Gallery does); its id."""
    path = tmp_path / f"{name} by hand.yxzp"
    path.write_bytes(build_package(name, description="published by hand"))
    frame = pd.DataFrame({"RecordID": [1], "file": [str(path)], "name": [name], "ownerId": [target.refs[owner]],
                          "isPublic": [False], "isReadyForMigration": [False], "othersMayDownload": [True],
                          "othersCanExecute": [True], "executionMode": ["Standard"],
                          "workflowCredentialType": ["Default"]})
    created, failed = ax.create(tgt, "workflows.upload", frame, progress=False)
    assert failed.empty, failed.to_dict("records")
    return created.loc[0, "Response"].strip('"')


def sales(source) -> pd.DataFrame:
    return pd.DataFrame({"RecordID": [1], "workflowId": [source.refs["workflow:sales"]]})


def named(target, name: str = SALES) -> list[dict]:
    return [w for w in target.state.workflows.values() if w["name"] == name]


def test_by_default_a_same_named_workflow_of_the_owner_fails_the_row_and_nothing_is_published(
        source, target, src, tgt, tmp_path):
    existing_id = by_hand(target, tgt, tmp_path)
    before, downloads = published(target), routes(source, "admin_v1.package")
    success, failure = migrate(src, tgt, sales(source))
    assert success.empty
    row = failure.iloc[0]
    assert row["ErrorType"] == "Conflict" and row["Action"] == "failed" and row["TargetWorkflowId"] == ""
    assert existing_id in row["Error"] and repr(SALES) in row["Error"] and "ana.artisan@example.com" in row["Error"]
    assert "existing='version'" in row["Error"] and "existing='copy'" in row["Error"]
    assert published(target) == before and routes(source, "admin_v1.package") == downloads  # not even downloaded
    assert [w["id"] for w in named(target)] == [existing_id]
    assert len(target.state.workflows[existing_id]["versions"]) == 1
    # explicitly, and in a dry run too
    _, failure = migrate(src, tgt, sales(source), existing="fail", dry_run=True)
    assert failure.loc[0, "ErrorType"] == "Conflict"


def test_existing_version_adds_the_package_to_the_same_named_workflow(source, target, src, tgt, tmp_path):
    folder = tmp_path / "deployed"
    folder.mkdir()
    (folder / f"{SALES}.yxzp").write_bytes(build_package(SALES, description="deployed"))
    deployed, failed = deploy(tgt, folder, owner="ana.artisan@example.com", progress=False)
    assert failed.empty, failed.to_dict("records")
    existing_id = deployed.loc[0, "WorkflowId"]

    plan, failure = migrate(src, tgt, sales(source), existing="version", dry_run=True)
    assert failure.empty and plan.loc[0, "Action"] == "new version" and plan.loc[0, "TargetWorkflowId"] == existing_id
    assert routes(target, "Workflows_AddVersionToWorkflow") == 0

    count = len(target.state.workflows)
    success, failure = migrate(src, tgt, sales(source), existing="version", collections=["Finance Reporting"])
    assert failure.empty, failure.to_dict("records")
    assert success.loc[0, "Action"] == "new version" and success.loc[0, "TargetWorkflowId"] == existing_id
    assert len(target.state.workflows) == count and routes(target, "admin_v1.publish") == 0
    workflow = target.state.workflows[existing_id]
    assert len(workflow["versions"]) == 2 and workflow["name"] == SALES
    assert content_hash(target.state.published(workflow)["package"]) == \
        content_hash(source.state.published(source.state.workflows[source.refs["workflow:sales"]])["package"])
    assert existing_id in target.state.collections[target.refs["collection:fin"]]["workflowIds"]

    # two of them: which one is meant is not for axframe to guess
    other = by_hand(target, tgt, tmp_path)
    _, failure = migrate(src, tgt, sales(source), existing="version")
    assert failure.loc[0, "ErrorType"] == "Conflict"
    assert existing_id in failure.loc[0, "Error"] and other in failure.loc[0, "Error"]
    assert len(target.state.workflows[existing_id]["versions"]) == 2


def test_existing_copy_publishes_a_second_workflow(source, target, src, tgt, tmp_path):
    existing_id = by_hand(target, tgt, tmp_path)
    success, failure = migrate(src, tgt, sales(source), existing="copy")
    assert failure.empty, failure.to_dict("records")
    assert success.loc[0, "Action"] == "created" and success.loc[0, "TargetWorkflowId"] != existing_id
    assert sorted(w["id"] for w in named(target)) == sorted([existing_id, success.loc[0, "TargetWorkflowId"]])
    assert target.state.workflows[success.loc[0, "TargetWorkflowId"]]["sourceAppId"] == source.refs["workflow:sales"]
    assert len(target.state.workflows[existing_id]["versions"]) == 1


def test_a_same_named_workflow_of_another_owner_is_no_match(source, target, src, tgt, tmp_path):
    someone_elses = by_hand(target, tgt, tmp_path, owner="user:omar")
    success, failure = migrate(src, tgt, sales(source))
    assert failure.empty, failure.to_dict("records")
    assert success.loc[0, "Action"] == "created" and success.loc[0, "TargetWorkflowId"] != someone_elses
    assert len(named(target)) == 2


@pytest.mark.parametrize("existing", ["fail", "version", "copy"])
def test_the_source_id_match_comes_first(source, target, src, tgt, tmp_path, existing):
    first, failure = migrate(src, tgt, sales(source))
    assert failure.empty and first.loc[0, "Action"] == "created"
    migrated = first.loc[0, "TargetWorkflowId"]
    by_hand(target, tgt, tmp_path)  # now two of the owner's workflows are named alike
    again, failure = migrate(src, tgt, sales(source), existing=existing)
    assert failure.empty, failure.to_dict("records")
    assert again.loc[0, "Action"] == "new version" and again.loc[0, "TargetWorkflowId"] == migrated
    assert len(target.state.workflows[migrated]["versions"]) == 2 and len(named(target)) == 2


def test_a_target_that_lists_no_source_id_is_matched_by_its_detail_views(source, target, src, tgt, tmp_path):
    target.set_quirks(list_without_source_app_id=True)  # as some real Servers answer GET /v3/workflows
    first, failure = migrate(src, tgt, sales(source))
    assert failure.empty and first.loc[0, "Action"] == "created"
    listed = tgt.request("GET", "/v3/workflows", params={"view": "Full"}).json()
    assert listed and not any("sourceAppId" in v for v in listed)
    by_hand(target, tgt, tmp_path)  # two of the owner's workflows are named alike: only the source id can tell
    again, failure = migrate(src, tgt, sales(source))
    assert failure.empty, failure.to_dict("records")
    assert again.loc[0, "Action"] == "new version" and again.loc[0, "TargetWorkflowId"] == first.loc[0,
                                                                                                   "TargetWorkflowId"]
    assert len(named(target)) == 2


def test_an_unknown_existing_value_raises_before_anything_is_sent(source, target, src, tgt):
    with pytest.raises(ax.ConfigurationError, match="existing must be 'fail', 'version' or 'copy'"):
        migrate(src, tgt, sales(source), existing="overwrite")
    assert published(target) == 0
