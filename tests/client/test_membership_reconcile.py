"""An add whose outcome is unknown (a user into a group or a collection, a share) is settled by reading its parent:
made once, never twice, and never left unknown when the parent says."""

from __future__ import annotations

import pandas as pd
import pytest

import axframe as ax


def _members(conn, collection_id):
    return [u["userId"] for u in conn.request("GET", f"/v3/collections/{collection_id}").json()["users"]]


@pytest.mark.parametrize("fault", ["reset_after", "reset_before"])
def test_a_collection_add_whose_answer_was_lost_is_settled_by_reading_the_collection(server, socket_conn, ids, fault):
    collection, user = ids["collection:fin"], ids["user:omar"]
    assert user not in _members(socket_conn, collection)
    server.faults.script(fault)
    result = ax.post(socket_conn, "collections.add_user", pd.DataFrame({
        "RecordID": [1], "collectionId": [collection], "userId": [user],
        "collectionsPermissions.isAdmin": ["false"], "collectionsPermissions.canAddAssets": ["true"],
        "collectionsPermissions.canUpdateAssets": ["false"]}))
    assert result.failure.empty, result.failure[["ErrorType", "Error"]].to_dict("records")
    assert result.summary.reconciled == 1
    assert _members(socket_conn, collection).count(user) == 1  # made once, whether the lost call took effect or not


def test_a_group_add_whose_answer_was_lost_is_settled_by_reading_the_group(server, socket_conn, ids):
    group, user = ids["group:viewers"], ids["user:mia"]
    server.faults.script("reset_after")
    result = ax.post(socket_conn, "usergroups.add_users",
                     pd.DataFrame({"RecordID": [1], "userGroupId": [group], "contract": [f'["{user}"]']}))
    assert result.failure.empty and result.summary.reconciled == 1
    members = socket_conn.request("GET", f"/v3/usergroups/{group}").json()["members"]
    assert [m["userId"] for m in members].count(user) == 1


def test_an_add_is_left_unknown_when_its_parent_cannot_be_read(server, socket_conn, ids):
    collection, group = ids["collection:opscol"], ids["group:viewers"]
    groups = socket_conn.request("GET", f"/v3/collections/{collection}").json()["userGroupIds"]
    assert group not in groups
    server.faults.script("reset_after", *["reset_before"] * 12)  # the add took effect; every look is cut off
    result = ax.post(socket_conn, "collections.add_group", pd.DataFrame({
        "RecordID": [1], "collectionId": [collection], "userGroupId": [group],
        "collectionsPermissions.isAdmin": ["false"], "collectionsPermissions.canAddAssets": ["false"],
        "collectionsPermissions.canUpdateAssets": ["false"]}))
    assert result.success.empty and result.failure.loc[0, "ErrorType"] == "OutcomeUnknown"
    assert "could not" in result.failure.loc[0, "Error"]
    server.faults.clear()
    groups = socket_conn.request("GET", f"/v3/collections/{collection}").json()["userGroupIds"]
    assert groups.count(group) == 1  # made once, and not sent again blindly
