"""Migration between two live emulators: the migratable list, publishing with sourceId, new versions on a
second run, owners missing on the target, content that cannot move, collections, the flag reset."""

from __future__ import annotations

import pandas as pd
import pytest

import axframe as ax
from axframe.admin import migratable, migrate
from axframe.packages import build_package, content_hash

from ..conftest import fast_retry
from .conftest import routes

WRITES = ("admin_v1.publish", "Workflows_UpdateWorkflow", "Collections_AddWorkflowToCollection")


def plain(frame: pd.DataFrame) -> bool:
    """Only int64, float64, bool and object/str columns."""
    return all(str(t) in ("int64", "float64", "bool", "object", "str") for t in frame.dtypes)


def writes(server) -> int:
    return sum(routes(server, key) for key in WRITES)


def flag(conn, workflow_id: str) -> None:
    """Mark a workflow ready to migrate the V3 way (PUT /v3/workflows, merged)."""
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [workflow_id], "isReadyForMigration": [True]})
    ok, failed = ax.post(conn, "workflows.update", frame)
    assert failed.empty, failed.to_dict("records")


def test_migratable_lists_the_flagged_workflows_with_details(source, src):
    frame = migratable(src)
    ids = source.refs
    assert list(frame["RecordID"]) == [1, 2]
    assert set(frame["workflowId"]) == {ids["workflow:sales"], ids["workflow:refresh"]}
    row = frame.set_index("workflowId").loc[ids["workflow:refresh"]]
    assert row["name"] == "Nightly Data Refresh"
    assert row["ownerEmail"] == "ada.admin@example.com"
    assert row["workflowCredentialType"] == "Specific" and row["credentialId"] == ids["credential:etl"]
    assert frame["RecordID"].dtype == "int64" and plain(frame)
    only = migratable(src, [ids["subscription:finance"]])
    assert list(only["workflowId"]) == [ids["workflow:sales"]]
    assert list(migratable(src, details=False).columns) == ["RecordID", "workflowId", "publishedVersionId",
                                                            "subscriptionId"]


def test_migrate_several_then_again_adds_versions_not_duplicates(source, target, src, tgt):
    ids = source.refs
    flag(src, ids["workflow:churn"])
    frame = pd.DataFrame({"RecordID": [1, 2, 3],
                          "workflowId": [ids["workflow:sales"], ids["workflow:churn"], ids["workflow:macro"]],
                          "owner": ["ana.artisan@example.com", None, "omar.ops@example.com"]})
    before = len(target.state.workflows)
    result = migrate(src, tgt, frame)
    success, failure = result
    assert failure.empty, failure.to_dict("records")
    assert list(success.columns) == ["RecordID", "workflowId", "owner", "SourceWorkflowId", "TargetWorkflowId",
                                     "Name", "Owner", "Action", "FlagReset", "Warning", "StatusCode"]
    assert list(success["Action"]) == ["created"] * 3
    assert success["StatusCode"].dtype == "int64" and success["FlagReset"].dtype == bool
    assert plain(success) and plain(failure)
    assert success["owner"].isna().tolist() == [False, True, False]  # the input column is unchanged
    assert list(success["Owner"]) == ["ana.artisan@example.com", "ana.artisan@example.com", "omar.ops@example.com"]
    assert len(target.state.workflows) == before + 3
    for row in success.itertuples():
        moved = target.state.workflows[row.TargetWorkflowId]
        original = source.state.workflows[row.SourceWorkflowId]
        assert moved["sourceAppId"] == row.SourceWorkflowId
        assert moved["name"] == original["name"] == row.Name
        assert target.state.users[moved["ownerId"]]["email"] == row.Owner
        assert content_hash(target.state.published(moved)["package"]) == \
            content_hash(source.state.published(original)["package"])
    assert result.summary.succeeded == 3 and result.summary.calls > 0

    again, failure = migrate(src, tgt, frame)
    assert failure.empty, failure.to_dict("records")
    assert list(again["Action"]) == ["new version"] * 3
    assert list(again["TargetWorkflowId"]) == list(success["TargetWorkflowId"])
    assert len(target.state.workflows) == before + 3  # no duplicates
    for target_id in again["TargetWorkflowId"]:
        assert len(target.state.workflows[target_id]["versions"]) == 2


def test_an_owner_missing_on_the_target_fails_and_nothing_is_sent_for_it(source, target, src, tgt):
    ids = source.refs
    frame = pd.DataFrame({"RecordID": ["a", "b"], "workflowId": [ids["workflow:sales"], ids["workflow:churn"]],
                          "owner": ["ana.artisan@example.com", "nobody@example.com"]})
    published, downloads = routes(target, "admin_v1.publish"), routes(source, "admin_v1.package")
    success, failure = migrate(src, tgt, frame)
    assert list(success["RecordID"]) == ["a"]
    bad = failure.iloc[0]
    assert bad["RecordID"] == "b" and bad["owner"] == "nobody@example.com"
    assert bad["ErrorType"] == "InvalidParameter" and bad["Action"] == "failed"
    assert "nobody@example.com has no account on the target Server" in bad["Error"]
    assert bad["StatusCode"] is None and bad["TargetWorkflowId"] == ""
    assert routes(target, "admin_v1.publish") == published + 1
    assert routes(source, "admin_v1.package") == downloads + 1  # not even downloaded
    assert routes(target, "Users_GetUsers") >= 2
    assert not any(w["sourceAppId"] == ids["workflow:churn"] for w in target.state.workflows.values())


def test_the_flag_is_reset_on_the_source_only_when_it_is_set(source, src, tgt):
    ids = source.refs
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"], ids["workflow:churn"]]})
    success, failure = migrate(src, tgt, frame, reset_flag=True)
    assert failure.empty
    assert success.set_index("workflowId")["FlagReset"].to_dict() == {ids["workflow:sales"]: True,
                                                                        ids["workflow:churn"]: False}
    assert source.state.workflows[ids["workflow:sales"]]["isReadyForMigration"] is False
    assert source.state.workflows[ids["workflow:churn"]]["isReadyForMigration"] is False  # not flipped on
    assert routes(source, "admin_v1.toggle_migratable") == 1
    assert list(migratable(src)["workflowId"]) == [ids["workflow:refresh"]]
    # without reset_flag the source is left alone
    flag(src, ids["workflow:churn"])
    success, _ = migrate(src, tgt, frame.iloc[1:])
    assert not success["FlagReset"].any()
    assert source.state.workflows[ids["workflow:churn"]]["isReadyForMigration"] is True


def test_a_specific_credential_the_target_lacks_is_not_migratable(source, target, src, tgt):
    ids = source.refs
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:refresh"]]})
    before = writes(target)
    success, failure = migrate(src, tgt, frame, reset_flag=True)
    assert success.empty
    assert failure.loc[0, "ErrorType"] == "NotMigratable"
    assert ids["credential:etl"] in failure.loc[0, "Error"] and "credentials=" in failure.loc[0, "Error"]
    assert writes(target) == before
    assert source.state.workflows[ids["workflow:refresh"]]["isReadyForMigration"] is True

    success, failure = migrate(src, tgt, frame, unmovable="warn")
    assert failure.empty and "specific credential" in success.loc[0, "Warning"]
    moved = target.state.workflows[success.loc[0, "TargetWorkflowId"]]
    assert target.state.published(moved)["workflowCredentialType"] == "Default"

    mapped = target.refs["credential:etl"]
    success, failure = migrate(src, tgt, frame, credentials={ids["credential:etl"]: mapped})
    assert failure.empty and success.loc[0, "Action"] == "new version" and success.loc[0, "Warning"] == ""
    version = target.state.published(target.state.workflows[success.loc[0, "TargetWorkflowId"]])
    assert version["workflowCredentialType"] == "Specific" and version["credentialId"] == mapped

    success, failure = migrate(src, tgt, frame, credentials={ids["credential:etl"]: "0123456789abcdef01234567"})
    assert failure.loc[0, "ErrorType"] == "InvalidParameter" and "not a credential on the target" in \
        failure.loc[0, "Error"]


def _with_alias(alias: str, name: str) -> bytes:
    macro = (f'<?xml version="1.0"?><AlteryxDocument yxmdVer="2024.1"><Nodes><Node ToolID="1">'
             f'<Properties><Configuration><File>aka:{alias}|||dbo.Orders</File></Configuration></Properties>'
             f'</Node></Nodes></AlteryxDocument>').encode()
    return build_package(name, extra_files={"Macros/lookup.yxmc": macro})


def test_a_shared_data_connection_the_target_lacks_is_not_migratable(source, target, src, tgt, tmp_path):
    uploads = []
    for alias, name in (("Sales Warehouse", "Uses the warehouse"), ("Retired DB", "Uses a retired DB")):
        path = tmp_path / f"{name}.yxzp"
        path.write_bytes(_with_alias(alias, name))
        uploads.append({"file": str(path), "name": name, "ownerId": source.refs["user:ana"], "isPublic": False,
                        "isReadyForMigration": True, "othersMayDownload": True, "othersCanExecute": True,
                        "executionMode": "Standard", "workflowCredentialType": "Default"})
    created, failed = ax.create(src, "workflows.upload", ax.add_record_id(pd.DataFrame(uploads)))
    assert failed.empty, failed.to_dict("records")
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [r.strip('"') for r in created["Response"]]})
    success, failure = migrate(src, tgt, frame)
    assert success["Name"].tolist() == ["Uses the warehouse"]  # the target has a connection of that name
    assert failure.loc[0, "ErrorType"] == "NotMigratable" and "'Retired DB'" in failure.loc[0, "Error"]


def test_invalid_rows_fail_without_sending_anything(source, target, src, tgt):
    ids = source.refs
    frame = pd.DataFrame({
        "RecordID": [1, 2, 3, 3, 4, 5, 6],
        "workflowId": [None, ids["workflow:sales"], ids["workflow:sales"], ids["workflow:churn"], "a/b",
                       ids["workflow:sales"], ids["workflow:sales"]],
        "owner": [None, "not-an-email", None, None, None, None, None],
        "isPublic": [None, None, "maybe", None, None, True, True],
    })
    before = (source.stats()["requests"], target.stats()["requests"])
    success, failure = migrate(src, tgt, frame.iloc[:5])
    assert success.empty
    assert failure["ErrorType"].tolist() == [
        "MissingParameter", "InvalidParameter", "DuplicateRecordID", "DuplicateRecordID", "InvalidParameter"]
    assert "email" in failure.loc[1, "Error"] and "'3' appears 2 times" in failure.loc[2, "Error"]
    assert failure["isPublic"].tolist()[:3] == [None, None, "maybe"]
    assert (source.stats()["requests"], target.stats()["requests"]) == before
    success, failure = migrate(src, tgt, frame.iloc[5:])
    assert list(success["RecordID"]) == [5]
    assert "already migrated by RecordID 5" in failure.loc[0, "Error"]
    assert plain(success) and plain(failure)


def test_set_up_problems_raise_before_anything_is_sent(source, target, src, tgt):
    with pytest.raises(ax.FrameError, match="workflowId"):
        migrate(src, tgt, pd.DataFrame({"RecordID": [1], "id": ["x"]}))
    with pytest.raises(ax.FrameError, match="RecordID"):
        migrate(src, tgt, pd.DataFrame({"workflowId": ["x"]}))
    with pytest.raises(ax.ConfigurationError, match="unmovable"):
        migrate(src, tgt, pd.DataFrame({"RecordID": [1], "workflowId": ["x"]}), unmovable="ignore")
    with pytest.raises(ax.ConfigurationError, match="email"):
        migrate(src, tgt, pd.DataFrame({"RecordID": [1], "workflowId": ["x"]}), owner="ana")
    legacy = ax.authenticate(target.url, *target.curator, legacy=True)
    with pytest.raises(ax.ConfigurationError, match="OAuth2"):
        migrate(src, legacy, pd.DataFrame({"RecordID": [1], "workflowId": ["x"]}))
    assert routes(target, "admin_v1.publish") == 0


def test_collections_by_name_and_unknown_collections(source, target, src, tgt):
    ids = source.refs
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"], ids["workflow:churn"]],
                          "collections": [None, "Nope"]})
    success, failure = migrate(src, tgt, frame, collections=["Finance Reporting"])
    finance = target.state.collections[target.refs["collection:fin"]]
    assert success.loc[0, "TargetWorkflowId"] in finance["workflowIds"]
    assert failure.loc[0, "ErrorType"] == "InvalidParameter" and "no collection 'Nope'" in failure.loc[0, "Error"]
    assert not any(w["sourceAppId"] == ids["workflow:churn"] for w in target.state.workflows.values())
    # a second migration finds it already there and does not add it twice
    success, failure = migrate(src, tgt, frame.iloc[:1], collections=target.refs["collection:fin"])
    assert failure.empty and success.loc[0, "Action"] == "new version"
    assert finance["workflowIds"].count(success.loc[0, "TargetWorkflowId"]) == 1


def test_a_dry_run_only_reads(source, target, src, tgt):
    ids = source.refs
    before, count = writes(target), len(target.state.workflows)
    result = migrate(src, tgt, dry_run=True)
    success, failure = result
    assert result.summary.dry_run
    assert list(success["Action"]) == ["created"] and success.loc[0, "SourceWorkflowId"] == ids["workflow:sales"]
    assert failure.loc[0, "ErrorType"] == "NotMigratable"  # refresh: its credential
    assert writes(target) == before and len(target.state.workflows) == count
    assert routes(source, "admin_v1.toggle_migratable") == 0


def test_from_a_legacy_source(source, target, tgt, tmp_path):
    legacy = ax.authenticate(source.url, *source.curator, legacy=True, retry=fast_retry())
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [source.refs["workflow:sales"]]})
    success, failure = migrate(legacy, tgt, frame, reset_flag=True, package_dir=tmp_path)
    assert failure.empty, failure.to_dict("records")
    assert success.loc[0, "Action"] == "created" and success.loc[0, "FlagReset"]
    assert "legacy API" in success.loc[0, "Warning"]
    assert success.loc[0, "Owner"] == "ana.artisan@example.com"
    assert (tmp_path / f"{source.refs['workflow:sales']}.yxzp").is_file()  # package_dir keeps the packages
    assert source.state.workflows[source.refs["workflow:sales"]]["isReadyForMigration"] is False


def test_a_server_refusal_is_a_failure_row_and_secrets_stay_out(source, target, src, tgt):
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": ["0123456789abcdef01234567",
                                                             source.refs["workflow:sales"]]})
    result = migrate(src, tgt, frame)
    success, failure = result
    assert failure.loc[0, "StatusCode"] == 404 and failure.loc[0, "ErrorType"] == "NotFound"
    assert "reading workflow 0123456789abcdef01234567 on the source" in failure.loc[0, "Error"]
    text = success.to_csv() + failure.to_csv() + repr(result) + str(result.summary)
    for secret in (*source.curator, *target.curator):
        assert secret not in text
