"""Names instead of ids: a column names the user, group, collection, workflow... and axframe finds its id."""

from __future__ import annotations

import pandas as pd
import pytest

import axframe as ax
from axframe import catalogue
from axframe.names import name_columns


def test_each_kind_of_id_has_a_name_column():
    add_user = catalogue.find("collections.add_user")
    assert {k: c for k, (_, c) in name_columns(add_user, ["email", "collection"]).items()} == \
        {"userId": "email", "collectionId": "collection"}
    assert name_columns(add_user, ["user", "email", "collection"])["userId"][1] == "user"  # the first choice wins
    # a name column that is a body field stays a field: users.update's email changes the email
    assert "userId" not in name_columns(catalogue.find("users.update"), ["email"])
    assert name_columns(catalogue.find("usergroups.remove_user"), ["group", "user"]).keys() == {"userGroupId",
                                                                                                "userId"}


def test_names_are_resolved_once_per_kind_and_fill_the_id_columns(server, conn):
    frame = pd.DataFrame({"RecordID": [1, 2, 3], "email": ["mia.member@example.com", "VICTOR.viewer@example.com ",
                                                           "omar.ops@example.com"],
                          "collection": ["Finance Reporting", "finance reporting", "Finance Reporting"],
                          "collectionsPermissions.isAdmin": ["false"] * 3})
    before = dict(server.stats()["routes"])
    success, failure = ax.post(conn, "collections.add_user", frame)
    assert failure.empty, failure[["ErrorType", "Error"]]
    routes = server.stats()["routes"]
    assert routes["Users_GetUsers"] - before.get("Users_GetUsers", 0) == 1  # one listing per kind, not per row
    assert routes["Collections_GetCollections"] - before.get("Collections_GetCollections", 0) == 1
    users = {u["email"]: u["id"] for u in server.state.users.values()}
    assert success["userId"].tolist() == [users["mia.member@example.com"], users["victor.viewer@example.com"],
                                          users["omar.ops@example.com"]]
    assert success["email"].tolist() == frame["email"].tolist()  # the input columns as they were


def test_a_name_that_matches_nothing_or_several_fails_its_row_and_nothing_is_sent(server, conn, api):
    mia = next(u["id"] for u in server.state.users.values() if u["email"] == "mia.member@example.com")
    for _ in range(2):
        api.post("/v3/collections", json={"name": "Twin"})
    frame = pd.DataFrame({"RecordID": [1, 2, 3], "email": ["ana.artisan@example.com"] * 2 + ["mia.member@example.com"],
                          "collection": ["Twin", "Nowhere", "Finance Reporting"],
                          "collectionsPermissions.isAdmin": ["false"] * 3})
    before = server.stats()["routes"].get("Collections_AddUserToCollection", 0)
    assert "Twin" in {c["name"] for c in server.state.collections.values()}
    success, failure = ax.post(conn, "collections.add_user", frame)
    assert server.stats()["routes"]["Collections_AddUserToCollection"] - before == 1  # only row 3 was sent
    bad = failure.set_index("RecordID")
    assert bad.loc[1, "ErrorType"] == "Ambiguous"
    twins = [c["id"] for c in server.state.collections.values() if c["name"] == "Twin"]
    assert all(t in bad.loc[1, "Error"] for t in twins) and "give the id instead" in bad.loc[1, "Error"]
    assert bad.loc[2, "ErrorType"] == "NotFound" and "'Nowhere'" in bad.loc[2, "Error"]
    assert success["userId"].tolist() == [mia]


def test_an_id_given_wins_over_a_name(server, conn, ids):
    frame = pd.DataFrame({"RecordID": [1], "collectionId": [ids["collection:fin"]], "collection": ["nope"],
                          "userId": [ids["user:mia"]], "collectionsPermissions.isAdmin": ["false"]})
    success, failure = ax.post(conn, "collections.add_user", frame)
    assert failure.empty and success.loc[0, "collectionId"] == ids["collection:fin"]


def test_a_dry_run_shows_names_where_the_ids_will_go_and_reads_nothing(server, conn):
    frame = pd.DataFrame({"RecordID": [1], "email": ["mia.member@example.com"], "collection": ["Finance Reporting"],
                          "collectionsPermissions.isAdmin": ["false"]})
    before = dict(server.stats()["routes"])
    plan = ax.post(conn, "collections.add_user", frame, dry_run=True).success
    assert server.stats()["routes"] == before
    assert plan.loc[0, "URL"].endswith("/v3/collections/<collection 'Finance Reporting'>/users")
    assert "<user 'mia.member@example.com'>" in plan.loc[0, "Body"]


@pytest.mark.parametrize("action,frame,id_column", [
    ("usergroups.remove_user", {"group": ["Finance Analysts"], "user": ["omar.ops@example.com"]}, "userGroupId"),
    ("workflows.get", {"workflow": ["Regional Sales Report"]}, "workflowId"),
    ("credentials.get", {"credential": ["CORP\\svc_etl"]}, "credentialId"),
])
def test_other_kinds_of_name(server, conn, action, frame, id_column):
    frame = pd.DataFrame({"RecordID": [1], **frame})
    macro = catalogue.find(action).macro
    success, failure = getattr(ax, macro)(conn, action, frame)
    assert failure.empty or failure.loc[0, "ErrorType"] not in ("NotFound", "Ambiguous", "MissingParameter"), \
        failure[["ErrorType", "Error"]].to_dict("records")
    resolved = (success if len(success) else failure).loc[0, id_column]
    assert isinstance(resolved, str) and len(resolved) > 8
