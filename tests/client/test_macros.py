"""The five macros against the emulator: each macro on several resources, validation, dry run,
partial-update merges, uploads, downloads, and what reaches the Server."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import axframe as ax
from axframe.packages import build_package



def requests_seen(server, key):
    return server.stats()["routes"].get(key, 0)


def ids_of(success):
    return [json.loads(t) for t in success["Response"]]


def test_get_listing_and_expand(conn, ids):
    result = ax.get(conn, "workflows.list")
    success, failure = result
    assert len(success) == 1 and failure.empty
    workflows = result.expand()
    assert set(workflows["id"]) == {ids[k] for k in ids if k.startswith("workflow:")}
    assert (workflows["RecordID"] == 1).all()
    assert result.summary.calls == 1 and result.summary.succeeded == 1


def test_get_per_row_with_path_and_query_params(conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2, 3],
                          "userId": [ids["user:ana"], ids["user:mia"], "0123456789abcdef01234567"],
                          "assetType": ["Workflows", "All", None]})
    success, failure = ax.get(conn, "users.assets", frame)
    assert list(success["RecordID"]) == [1, 2]
    assert list(failure["RecordID"]) == [3]
    assert failure.loc[0, "StatusCode"] == 404 and failure.loc[0, "ErrorType"] == "NotFound"
    assert "0123456789abcdef01234567" in failure.loc[0, "Error"]
    expanded = ax.get(conn, "users.assets", frame.iloc[:1]).expand()
    assert set(expanded.columns) >= {"RecordID", "workflows"}


def test_create_collections_from_plain_columns(server, conn):
    frame = ax.add_record_id(pd.DataFrame({"name": ["Finance EMEA", "Finance APAC"]}))
    success, failure = ax.create(conn, "collections.create", frame)
    assert failure.empty
    assert list(success.columns) == ["RecordID", "name", "StatusCode", "Response"]
    assert success["StatusCode"].tolist() == [200, 200]
    names = {c["name"] for c in server.state.collections.values()}
    assert {"Finance EMEA", "Finance APAC"} <= names


def test_create_users_from_contract_json_and_columns(server, conn):
    frame = pd.DataFrame({
        "RecordID": ["a", "b", "c", "d"],
        "contract": [json.dumps({"firstName": "Kim", "lastName": "Ito", "email": "kim@example.com"}),
                     json.dumps({"firstName": "Lou", "lastName": "Ng", "email": "lou@example.com", "role": "Boss"}),
                     "{not json",
                     json.dumps({"firstName": "Max", "lastName": "Ro", "email": "not-an-email"})],
    })
    before = requests_seen(server, "Users_CreateUser")
    success, failure = ax.create(conn, "users.create", frame)
    assert list(success["RecordID"]) == ["a"]
    assert success.loc[0, "StatusCode"] == 201
    assert failure.set_index("RecordID")["ErrorType"].to_dict() == {
        "b": "InvalidContract", "c": "InvalidContract", "d": "InvalidContract"}
    errors = failure.set_index("RecordID")["Error"]
    assert "userContract.role: must be one of" in errors["b"]
    assert "not valid JSON" in errors["c"]
    assert "not an email address" in errors["d"]
    assert requests_seen(server, "Users_CreateUser") == before + 1  # nothing sent for invalid rows
    assert failure["contract"].tolist() == frame["contract"].iloc[1:].tolist()  # input kept unchanged


def test_contract_columns_are_typed_by_the_schema(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1], "collectionId": [ids["collection:opscol"]], "userId": [ids["user:vic"]],
                          "collectionsPermissions.isAdmin": ["true"], "collectionsPermissions.canAddAssets": ["no"]})
    success, failure = ax.post(conn, "collections.add_user", frame)
    assert failure.empty, failure.to_dict("records")
    member = server.state.collections[ids["collection:opscol"]]["users"][ids["user:vic"]]
    assert member["permissions"]["isAdmin"] is True and member["permissions"]["canAddAssets"] is False


def test_explicit_contract_columns(server, conn):
    frame = pd.DataFrame({"RecordID": [1], "group_name": ["x"], "name": ["Explicit"], "role": ["Viewer"]})
    success, failure = ax.create(conn, "usergroups.create", frame, contract_columns=["name", "role"])
    assert failure.empty
    with pytest.raises(ax.FrameError, match="nope"):
        ax.create(conn, "usergroups.create", frame, contract_columns=["nope"])


def test_bare_array_and_bare_string_bodies(server, conn, ids):
    gid = ids["group:viewers"]
    frame = pd.DataFrame({"RecordID": [1, 2], "userGroupId": [gid, gid],
                          "contract": [json.dumps([ids["user:mia"]]), f"{ids['user:omar']}, {ids['user:eve']}"]})
    success, failure = ax.post(conn, "usergroups.add_users", frame)
    assert failure.empty
    assert json.loads(success.loc[1, "Response"])["successfullyAddedUserCount"] == 2
    sid = pd.DataFrame({"RecordID": [1, 2], "userGroupId": [gid, gid], "contract": ['"S-1-5-21-1"', "S-1-5-21-2"]})
    success, failure = ax.post(conn, "usergroups.add_ad_group", sid)
    assert failure.empty
    assert sorted(server.state.groups[gid]["adGroups"]) == ["S-1-5-21-1", "S-1-5-21-2"]


def test_delete_macro(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "collectionId": [ids["collection:fin"]] * 2,
                          "userId": [ids["user:ana"], ids["user:vic"]]})
    success, failure = ax.delete(conn, "collections.remove_user", frame)
    assert list(success["RecordID"]) == [1]
    assert list(failure["ErrorType"]) == ["NotFound"]
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:refresh"]], "force": [True]})
    success, failure = ax.delete(conn, "workflows.delete", frame)
    assert failure.empty and ids["workflow:refresh"] not in server.state.workflows


def test_missing_path_parameter_and_odd_ids(server, conn):
    frame = pd.DataFrame({"RecordID": [1, 2, 3, 4, 5],
                          "collectionId": [None, "..", "a/b", "x?y#z", "%2Fetc"]})
    success, failure = ax.get(conn, "collections.get", frame)
    failed = failure.set_index("RecordID")
    assert failed.loc[1, "ErrorType"] == "MissingParameter"
    assert failed.loc[2, "ErrorType"] == "InvalidParameter"
    # the others were sent, each as one exact path segment
    for rid, raw in ((3, "a/b"), (4, "x?y#z"), (5, "%2Fetc")):
        assert failed.loc[rid, "StatusCode"] == 404
        assert f"Collection '{raw}' was not found." in failed.loc[rid, "Error"]


def test_invalid_query_value_is_a_row_problem(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "view": ["Full", "Everything"]})
    success, failure = ax.get(conn, "users.list", frame)
    assert list(success["RecordID"]) == [1]
    assert failure.loc[0, "ErrorType"] == "InvalidParameter"
    assert "view: must be one of Default, Full" in failure.loc[0, "Error"]


def test_record_ids_missing_duplicate_and_frame_level_errors(server, conn):
    frame = pd.DataFrame({"RecordID": [1, 1, None, 2], "name": ["a", "b", "c", "d"]})
    success, failure = ax.create(conn, "collections.create", frame)
    assert list(success["RecordID"]) == [2]
    assert sorted(failure["ErrorType"]) == ["DuplicateRecordID", "DuplicateRecordID", "InvalidRecordID"]
    with pytest.raises(ax.FrameError, match="add_record_id"):
        ax.create(conn, "collections.create", pd.DataFrame({"name": ["x"]}))
    with pytest.raises(ax.FrameError, match="Record_ID"):
        ax.create(conn, "collections.create", pd.DataFrame({"Record_ID": [1], "name": ["x"]}))


def test_failure_frame_feeds_straight_back_in(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "name": ["Good", ""]})
    success, failure = ax.create(conn, "collections.create", frame)
    assert list(failure["RecordID"]) == [2]
    fixed = failure.assign(name="Fixed")
    again, still = ax.create(conn, "collections.create", fixed)
    assert still.empty and list(again["RecordID"]) == [2]
    assert list(again.columns) == ["RecordID", "name", "StatusCode", "Response"]


def test_dry_run_sends_nothing(server, conn, ids):
    before = server.stats()["requests"]
    frame = pd.DataFrame({"RecordID": [1, 2], "collectionId": [ids["collection:fin"], None],
                          "userId": [ids["user:vic"], ids["user:vic"]],
                          "contract": ['{"userId": "x", "collectionsPermissions": {}}'] * 2})
    success, failure = ax.post(conn, "collections.add_user", frame, dry_run=True)
    assert server.stats()["requests"] == before
    assert success.loc[0, "Method"] == "POST"
    assert success.loc[0, "URL"] == f"{conn.base_url}/v3/collections/{ids['collection:fin']}/users"
    assert json.loads(success.loc[0, "Body"]) == {"userId": "x", "collectionsPermissions": {}}
    assert failure.loc[0, "ErrorType"] == "MissingParameter"


def test_partial_update_merges_into_the_current_record(server, conn, ids):
    uid = ids["user:mia"]
    frame = pd.DataFrame({"RecordID": [1], "userId": [uid], "role": ["Artisan"]})
    success, failure = ax.post(conn, "users.update", frame)
    assert failure.empty, failure.to_dict("records")
    user = server.state.users[uid]
    assert user["role"] == "Artisan" and user["email"] == "mia.member@example.com"
    # workflows: a one-field change keeps every other setting
    wid = ids["workflow:sales"]
    before = dict(server.state.workflows[wid])
    success, failure = ax.post(conn, "workflows.update", pd.DataFrame(
        {"RecordID": [1], "workflowId": [wid], "isReadyForMigration": ["false"]}))
    assert failure.empty, failure.to_dict("records")
    after = server.state.workflows[wid]
    assert after["isReadyForMigration"] is False
    assert after["name"] == before["name"] and after["publishedVersionId"] == before["publishedVersionId"]
    # collections and groups
    assert ax.post(conn, "collections.update", pd.DataFrame(
        {"RecordID": [1], "collectionId": [ids["collection:fin"]], "name": ["Finance Renamed"]})).failure.empty
    assert server.state.collections[ids["collection:fin"]]["name"] == "Finance Renamed"


def test_merge_can_be_switched_off(conn, ids):
    frame = pd.DataFrame({"RecordID": [1], "userId": [ids["user:mia"]], "role": ["Artisan"]})
    success, failure = ax.post(conn, "users.update", frame, merge=False)
    assert failure.loc[0, "ErrorType"] == "InvalidContract"
    assert "updateContract.email: is required" in failure.loc[0, "Error"]


def test_schedule_update_without_iteration_explains(conn, ids):
    frame = pd.DataFrame({"RecordID": [1], "scheduleId": [ids["schedule:weekly"]], "name": ["x"]})
    success, failure = ax.post(conn, "schedules.update", frame)
    assert failure.loc[0, "ErrorType"] == "InvalidContract"
    assert "schedules.patch" in failure.loc[0, "Error"]
    ok, bad = ax.post(conn, "schedules.patch", frame)
    assert bad.empty


def test_merge_of_unknown_record_fails_cleanly(conn):
    frame = pd.DataFrame({"RecordID": [1], "userId": ["0123456789abcdef01234567"], "role": ["Viewer"]})
    success, failure = ax.post(conn, "users.update", frame)
    assert failure.loc[0, "ErrorType"] == "MergeFailed" and failure.loc[0, "StatusCode"] == 404


def test_upload_new_workflow_and_new_version_then_download(tmp_path, server, conn, ids):
    package = build_package("Budget App", kind="app", questions=[{"name": "Year"}])
    path = tmp_path / "budget.yxzp"
    path.write_bytes(package)
    frame = pd.DataFrame({"RecordID": [1, 2, 3], "file": [str(path), str(tmp_path / "missing.yxzp"), str(path)],
                          "name": ["Budget App"] * 3, "ownerId": [ids["user:ana"]] * 3,
                          "isPublic": ["false"] * 3, "isReadyForMigration": [False] * 3,
                          "othersMayDownload": ["true"] * 3, "othersCanExecute": ["true"] * 3,
                          "executionMode": ["Standard", "Standard", "Turbo"], "workflowCredentialType": ["Default"] * 3,
                          "districtTags": ['["emea"]', None, None]})
    success, failure = ax.create(conn, "workflows.upload", frame)
    assert list(success["RecordID"]) == [1]
    assert failure.set_index("RecordID")["ErrorType"].to_dict() == {2: "InvalidFile", 3: "InvalidContract"}
    wid = json.loads(success.loc[0, "Response"])
    assert server.state.workflows[wid]["districtTags"] == ["emea"]
    v2 = tmp_path / "budget_v2.yxzp"
    v2.write_bytes(build_package("Budget App", kind="app", description="v2", questions=[{"name": "Year"}]))
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [wid], "file": [str(v2)], "name": ["Budget App"],
                          "ownerId": [ids["user:ana"]], "othersMayDownload": [True], "othersCanExecute": [True],
                          "executionMode": ["Safe"], "makePublished": [True], "workflowCredentialType": ["Default"]})
    success, failure = ax.post(conn, "workflows.add_version", frame)
    assert failure.empty, failure.to_dict("records")
    downloads = ax.get(conn, "workflows.download", pd.DataFrame({"RecordID": [7], "workflowId": [wid]}),
                       download_dir=tmp_path / "out").success
    saved = downloads.loc[0, "File"]
    assert open(saved, "rb").read() == v2.read_bytes()
    assert downloads.loc[0, "Bytes"] == len(v2.read_bytes())
    assert saved.startswith(str(tmp_path / "out"))


def test_upload_rejects_files_that_are_not_packages(tmp_path, conn, ids):
    bogus = tmp_path / "notes.yxzp"
    bogus.write_text("hello")
    frame = pd.DataFrame({"RecordID": [1], "file": [str(bogus)], "name": ["X"], "ownerId": [ids["user:ana"]],
                          "isPublic": [False], "isReadyForMigration": [False], "othersMayDownload": [True],
                          "othersCanExecute": [True], "executionMode": ["Safe"], "workflowCredentialType": ["Default"]})
    success, failure = ax.create(conn, "workflows.upload", frame)
    assert failure.loc[0, "ErrorType"] == "InvalidFile"


def test_curator_only_endpoint_with_artisan_key_explains(artisan_conn):
    result = ax.get(artisan_conn, "users.list", ax.add_record_id(pd.DataFrame({"x": range(5)})))
    failure = result.failure
    assert set(failure["ErrorType"]) == {"Unauthorized"}
    assert "needs a Curator's API key" in failure.loc[0, "Error"]
    # one renewal during the run proves the refusal is not an expiry; the rows racing to renew share it
    assert result.summary.tokens_requested == 1


@pytest.mark.parametrize("latency", [0.0, 0.002])
def test_concurrent_refusals_share_one_renewal(server, latency):
    """Many rows refused at once: whichever thread sends the renewed token, its refusal ends the doubt."""
    server.faults.configure(latency=latency)
    for trial in range(5):
        with ax.authenticate(server.url, *server.artisan) as artisan:
            result = ax.get(artisan, "users.list", ax.add_record_id(pd.DataFrame({"x": range(40)})),
                            max_workers=8)
            assert len(result.failure) == 40 and set(result.failure["ErrorType"]) == {"Unauthorized"}
            assert artisan.tokens_requested == 2, trial


def test_outputs_hold_plain_types(conn, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "collectionId": [ids["collection:fin"], "nope"]})
    success, failure = ax.get(conn, "collections.get", frame)
    assert str(success["StatusCode"].dtype) == "int64"
    assert failure["StatusCode"].dtype == object and failure.loc[0, "StatusCode"] == 404
    for frame_ in (success, failure):
        for column in ("Response",) + (("ErrorType", "Error") if frame_ is failure else ()):
            assert all(isinstance(v, str) for v in frame_[column])


def test_empty_outputs_keep_their_columns(conn):
    success, failure = ax.create(conn, "collections.create", pd.DataFrame({"RecordID": [1], "name": ["Only"]}))
    assert failure.empty and list(failure.columns) == ["RecordID", "name", "StatusCode", "ErrorType", "Error",
                                                       "Response"]
    success, failure = ax.create(conn, "collections.create", pd.DataFrame({"RecordID": [1], "name": [""]}))
    assert success.empty and list(success.columns) == ["RecordID", "name", "StatusCode", "Response"]


def test_secret_fields_in_answers_are_masked(conn):
    success, failure = ax.create(conn, "subscriptions.create", pd.DataFrame({"RecordID": [1], "name": ["Masked"]}))
    body = json.loads(success.loc[0, "Response"])
    assert body["apiSecret"] == "***" and body["apiKey"] == "***" and body["name"] == "Masked"


def test_many_rows_concurrently(server, conn):
    frame = ax.add_record_id(pd.DataFrame({"name": [f"Bulk {i}" for i in range(300)]}))
    result = ax.create(conn, "collections.create", frame, max_workers=8)
    assert len(result.success) == 300 and result.failure.empty
    assert list(result.success["RecordID"]) == list(range(1, 301))  # input order
    assert result.summary.tokens_requested == 0  # the token from authenticate() served the whole run


def test_legacy_oauth1_mode(server):
    conn = ax.authenticate(server.root, *server.curator, legacy=True)
    assert conn.base_url == f"{server.root}/gallery/api"
    result = ax.get(conn, "admin_v1.users", pd.DataFrame({"RecordID": [1], "page": [1], "pageSize": [3]}))
    assert result.failure.empty
    assert len(json.loads(result.success.loc[0, "Response"])) == 3
    success, failure = ax.get(conn, "users.list")
    assert failure.loc[0, "ErrorType"] == "NotAvailable"


@pytest.mark.parametrize("accepted", [{"header"}, {"query"}])
def test_legacy_signature_goes_where_the_server_takes_it(server, accepted, caplog):
    """The reference is sure of the query string and less so of the header: "auto" tries both."""
    server.state.oauth1_transports = frozenset(accepted)
    with caplog.at_level("DEBUG", logger="urllib3"):
        conn = ax.authenticate(server.root, *server.curator, legacy=True)
    assert conn.auth.transport == next(iter(accepted))
    result = ax.get(conn, "admin_v1.users", pd.DataFrame({"RecordID": [1], "page": [1], "pageSize": [2]}))
    assert result.failure.empty
    if accepted == {"query"}:
        assert "oauth_consumer_key=" in caplog.text  # urllib3 logged the signed URLs...
    assert server.curator[0] not in caplog.text  # ...with the key redacted
    other = ({"header", "query"} - accepted).pop()
    with pytest.raises(ax.AuthenticationError, match="OAuth1 signature"):
        ax.authenticate(server.root, *server.curator, legacy=True, oauth1_transport=other)


def test_frame_of_dicts_and_no_frame(conn):
    assert ax.get(conn, "usergroups.list").failure.empty
    assert ax.create(conn, "collections.create", [{"RecordID": 1, "name": "From dicts"}]).failure.empty


def test_expand_keeps_plain_cells_and_input_columns(conn):
    result = ax.create(conn, "collections.create", pd.DataFrame({"RecordID": [1, 2], "name": ["Kept A", "Kept B"]}))
    ids = result.expand(keep="name")
    assert list(ids.columns) == ["RecordID", "name", "value"]
    assert list(ids["name"]) == ["Kept A", "Kept B"]
    users = ax.get(conn, "users.list", pd.DataFrame({"RecordID": [1], "view": ["Full"]})).expand()
    assert users["sharedCredentialIds"].map(type).eq(str).all()  # lists become JSON text
    assert json.loads(users["sharedCredentialIds"].iloc[0]) == []
    with pytest.raises(KeyError, match="nope"):
        result.expand(keep=["nope"])


def test_summary_as_a_plain_one_row_frame(conn):
    result = ax.create(conn, "collections.create", pd.DataFrame({"RecordID": [1, 2], "name": ["S", ""]}))
    frame = result.summary.as_frame()
    assert len(frame) == 1 and frame.loc[0, "failed"] == 1
    assert json.loads(frame.loc[0, "error_types"]) == {"InvalidContract": 1}


def test_the_jobs_of_one_workflow_sort_by_their_own_fields(server, conn, ids):
    """The catalogue once lent this listing the workflow list's sort fields, so createdate was refused."""
    frame = pd.DataFrame({"RecordID": [1, 2], "appId": [ids["workflow:sales"]] * 2,
                          "sortField": ["createdate", "CreateDate"]})
    success, failure = ax.get(conn, "v1.workflow_jobs", frame)
    assert failure.empty and len(success) == 2
    bad = ax.get(conn, "v1.workflow_jobs", pd.DataFrame({"RecordID": [1], "appId": [ids["workflow:sales"]],
                                                          "sortField": ["uploaddate"]}))
    assert bad.failure.loc[0, "ErrorType"] == "InvalidParameter"  # refused before sending
