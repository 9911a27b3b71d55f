"""The Server as a workbook: export, plan, apply, diff -- round trips, scripted edits, safety, stale plans."""

from __future__ import annotations

import pandas as pd
import pytest

import axframe as ax
from axframe.emulator import Emulator
from axframe.emulator.seed import default_seed

from ..conftest import fast_retry


def _added(frame: pd.DataFrame, *rows: dict) -> pd.DataFrame:
    return pd.concat([frame, pd.DataFrame(list(rows))], ignore_index=True)


def test_an_export_planned_against_the_same_server_changes_nothing(server, conn, tmp_path):
    book = ax.export(conn, tmp_path / "server.xlsx")
    assert set(book) >= {"Users", "UserGroups", "GroupMembers", "Collections", "CollectionUsers", "CollectionGroups",
                         "CollectionWorkflows", "Workflows", "Schedules", "Credentials", "CredentialShares",
                         "DataConnections", "DataConnectionShares"}
    for frame in (book, ax.read_workbook(tmp_path / "server.xlsx")):  # in memory, and through Excel
        plan = ax.plan(conn, frame)
        assert plan.pending == 0 and plan.counts == {"unchanged": len(plan.frame)}, plan.diff()
    ax.export(conn, tmp_path / "csv", format="csv")
    assert ax.plan(conn, ax.read_workbook(tmp_path / "csv")).pending == 0


def test_an_export_names_everything_and_holds_no_secret(server, conn):
    book = ax.export(conn)
    ids = set(server.state.users) | set(server.state.collections) | set(server.state.workflows)
    text = "\n".join(frame.to_csv(index=False) for frame in book.values())
    assert not any(i in text for i in ids)  # names, never ids
    members = book["GroupMembers"]
    assert {"Finance Analysts", "ana.artisan@example.com"} <= set(members["group"]) | set(members["user"])
    assert server.curator[1] not in text and server.artisan[1] not in text
    assert "connectionString" not in text and "password" not in text.lower()


def test_scripted_edits_give_exactly_the_expected_plan_and_applying_it_leaves_nothing(server, conn):
    book = ax.export(conn)
    users = book["Users"].copy()
    users.loc[users["email"] == "mia.member@example.com", "role"] = "Artisan"
    users = _added(users, {"email": "new.person@example.com", "firstName": "New", "lastName": "Person",
                           "role": "Viewer"})
    desired = {
        "Users": users,
        "UserGroups": _added(book["UserGroups"], {"name": "Data Team", "role": "Member"}),
        "GroupMembers": _added(book["GroupMembers"], {"group": "Data Team", "user": "new.person@example.com"},
                               {"group": "Operations", "user": "mia.member@example.com"}),
        "Collections": _added(book["Collections"], {"name": "Data Products", "owner": "ana.artisan@example.com"}),
        "CollectionUsers": _added(book["CollectionUsers"], {"collection": "Data Products",
                                                            "user": "new.person@example.com", "isAdmin": "false",
                                                            "canAddAssets": "true"}),
        "CollectionGroups": _added(book["CollectionGroups"], {"collection": "Data Products", "group": "Data Team",
                                                              "isAdmin": "true"}),
    }
    plan = ax.plan(conn, desired)
    pending = plan.frame[plan.frame["Action"] != "unchanged"][["Sheet", "Key", "Action", "Changes"]]
    assert sorted(map(tuple, pending[["Sheet", "Key", "Action"]].values.tolist())) == sorted([
        ("Users", "mia.member@example.com", "update"),
        ("Users", "new.person@example.com", "create"),
        ("UserGroups", "Data Team", "create"),
        ("GroupMembers", "Data Team / new.person@example.com", "create"),
        ("GroupMembers", "Operations / mia.member@example.com", "create"),
        ("Collections", "Data Products", "create"),
        ("CollectionUsers", "Data Products / new.person@example.com", "create"),
        ("CollectionGroups", "Data Products / Data Team", "create"),
    ])
    assert pending.set_index("Key").loc["mia.member@example.com", "Changes"] == "role: Member -> Artisan"
    result = ax.apply(conn, plan)
    assert result.failure.empty, result.failure[["Sheet", "Key", "ErrorType", "Error"]].to_dict("records")
    assert len(result.success) == 8
    again = ax.plan(conn, desired)
    assert again.pending == 0, again.diff()
    collection = next(c for c in server.state.collections.values() if c["name"] == "Data Products")
    owner = next(u for u in server.state.users.values() if u["email"] == "ana.artisan@example.com")
    assert collection["ownerId"] == owner["id"]


def test_only_the_columns_given_are_compared(server, conn):
    roles = pd.DataFrame({"email": ["mia.member@example.com", "victor.viewer@example.com"],
                          "role": ["Member", "Artisan"]})
    plan = ax.plan(conn, {"Users": roles})
    assert plan.counts == {"unchanged": 1, "update": 1}
    assert "firstName" not in plan.frame["Changes"].str.cat()


def test_nothing_is_removed_unless_asked_and_then_only_within_the_sheet_and_its_parents(server, conn):
    members = pd.DataFrame({"group": ["Operations"], "user": ["new.one@example.com"]})
    assert ax.plan(conn, {"GroupMembers": members}).counts.get("remove", 0) == 0
    pruned = ax.plan(conn, {"GroupMembers": members}, prune=True, force=True)
    removed = pruned.frame[pruned.frame["Action"] == "remove"]["Key"].tolist()
    operations = [f"Operations / {u}" for u in ax.export(conn)["GroupMembers"].query("group == 'Operations'")["user"]]
    assert sorted(removed) == sorted(operations)  # members of other groups are not touched


def test_a_leaver_is_deactivated_not_deleted_and_your_own_account_is_safe(server, conn):
    users = ax.export(conn)["Users"]
    keep = users[~users["email"].isin(["leo.leaver@example.com", "ada.admin@example.com"])]
    plan = ax.plan(conn, {"Users": keep}, prune=True, force=True, me="ada.admin@example.com")
    rows = plan.frame.set_index("Key")
    assert rows.loc["leo.leaver@example.com", "Action"] == "remove"
    assert "deactivated, not deleted" in rows.loc["leo.leaver@example.com", "Note"]
    assert rows.loc["ada.admin@example.com", "Action"] == "skipped"
    result = ax.apply(conn, plan)
    assert result.failure.empty
    leo = next(u for u in server.state.users.values() if u["email"] == "leo.leaver@example.com")
    ada = next(u for u in server.state.users.values() if u["email"] == "ada.admin@example.com")
    assert leo["isActive"] is False and ada["isActive"] is True
    # without me=, no Curator is removed, deactivated or demoted
    blind = ax.plan(conn, {"Users": pd.DataFrame({"email": ["ada.admin@example.com"], "role": ["Viewer"]})})
    assert blind.frame.loc[0, "Action"] == "skipped" and "me=" in blind.frame.loc[0, "Note"]


def test_deleting_a_user_needs_someone_to_receive_their_assets(server, conn):
    users = ax.export(conn)["Users"]
    keep = users[users["email"] != "omar.ops@example.com"]
    refused = ax.plan(conn, {"Users": keep}, prune=True, delete_users=True, force=True, me="ada.admin@example.com")
    assert refused.frame.set_index("Key").loc["omar.ops@example.com", "Action"] == "skipped"
    plan = ax.plan(conn, {"Users": keep}, prune=True, delete_users=True, transfer_to="ana.artisan@example.com",
                   force=True, me="ada.admin@example.com")
    owned_before = [w for w in server.state.workflows.values() if w["ownerId"] == server.refs["user:omar"]]
    result = ax.apply(conn, plan)
    omar = [u for u in server.state.users.values() if u["email"] == "omar.ops@example.com"]
    assert not omar, result.failure[["Key", "Error"]].to_dict("records")  # deleted (out of their groups first)
    assert all(server.state.workflows[w["id"]]["ownerId"] == server.refs["user:ana"] for w in owned_before)


def test_a_prune_over_the_threshold_is_blocked_until_forced(server, conn):
    plan = ax.plan(conn, {"UserGroups": pd.DataFrame({"name": ["Operations"], "role": ["Member"]})}, prune=True)
    assert plan.blocked and "max_prune" in plan.blocked[0]
    with pytest.raises(ax.ConfigurationError, match="blocked"):
        ax.apply(conn, plan)
    assert len(server.state.groups) == 3  # nothing was sent


def test_a_stale_plan_is_refused_per_row(server, conn, ids):
    plan = ax.plan(conn, {"Users": pd.DataFrame({"email": ["omar.ops@example.com", "mia.member@example.com"],
                                                 "role": ["Viewer", "Viewer"]})})
    ax.post(conn, "users.update", pd.DataFrame({"RecordID": [1], "userId": [ids["user:omar"]], "role": ["Member"]}))
    result = ax.apply(conn, plan)
    assert result.failure["Key"].tolist() == ["omar.ops@example.com"]
    assert result.failure.loc[0, "ErrorType"] == "ChangedSincePlan" and "role changed" in result.failure.loc[0, "Error"]
    assert server.state.users[ids["user:omar"]]["role"] == "Member"  # not sent
    assert server.state.users[ids["user:mia"]]["role"] == "Viewer"  # the other change was made


def test_a_change_the_server_already_has_is_done_not_stale(server, conn, ids):
    desired = {"Users": pd.DataFrame({"email": ["omar.ops@example.com", "mia.member@example.com"],
                                      "role": ["Viewer", "Viewer"]}),
               "GroupMembers": pd.DataFrame({"group": ["Operations"], "user": ["mia.member@example.com"]})}
    plan = ax.plan(conn, desired)
    ax.post(conn, "users.update", pd.DataFrame({"RecordID": [1], "userId": [ids["user:omar"]], "role": ["Viewer"]}))
    first = ax.apply(conn, plan)  # omar was made a Viewer by someone else: done, nothing sent for him
    assert first.failure.empty and first.summary.reconciled == 1
    changes = server.stats()["routes"].get("Users_UpdateUser", 0)
    again = ax.apply(conn, plan)  # the whole plan again, as after a crash without a journal: nothing twice
    assert again.failure.empty and again.summary.reconciled == len(again.success) == 3
    assert server.stats()["routes"].get("Users_UpdateUser", 0) == changes
    assert server.state.users[ids["user:mia"]]["role"] == "Viewer"


def test_a_plan_survives_a_file_and_is_applied_from_it(server, conn, tmp_path):
    plan = ax.plan(conn, {"UserGroups": pd.DataFrame({"name": ["From A File"], "role": ["Viewer"]})})
    path = ax.write_frame(plan.frame, tmp_path / "plan.xlsx")
    result = ax.apply(conn, ax.read_frame(path))
    assert result.failure.empty and any(g["name"] == "From A File" for g in server.state.groups.values())


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".parquet"])
def test_a_blocked_plan_stays_blocked_in_its_file(server, conn, tmp_path, suffix):
    plan = ax.plan(conn, {"UserGroups": pd.DataFrame({"name": ["Operations"], "role": ["Member"]})}, prune=True)
    assert plan.blocked
    written = ax.write_frame(plan.frame, tmp_path / f"plan{suffix}")
    read = ax.read_frame(written if suffix != ".csv" else tmp_path / "plan.csv")
    with pytest.raises(ax.ConfigurationError, match="blocked"):
        ax.apply(conn, read)
    assert len(server.state.groups) == 3  # nothing was sent
    # filtered in a spreadsheet, a plan still carries its options on every row
    kept = read[read["Action"] != "unchanged"]
    with pytest.raises(ax.ConfigurationError, match="blocked"):
        ax.apply(conn, kept)
    forced = ax.apply(conn, kept, force=True)
    assert forced.failure.empty and len(server.state.groups) == 1


def test_a_plan_read_back_deletes_users_as_planned(server, conn, tmp_path):
    users = ax.export(conn)["Users"]
    keep = users[users["email"] != "mia.member@example.com"]
    plan = ax.plan(conn, {"Users": keep}, prune=True, delete_users=True, transfer_to="ana.artisan@example.com",
                   me="ada.admin@example.com")
    read = ax.read_frame(ax.write_frame(plan.frame, tmp_path / "plan.xlsx"))
    result = ax.apply(conn, read)
    assert result.failure.empty, result.failure[["Key", "Error"]].to_dict("records")
    assert not [u for u in server.state.users.values() if u["email"] == "mia.member@example.com"]  # deleted,
    # not deactivated: the options of the plan came back with it


def test_rows_of_two_plans_are_not_applied_as_one(server, conn):
    one = ax.plan(conn, {"UserGroups": pd.DataFrame({"name": ["New One"], "role": ["Viewer"]})})
    two = ax.plan(conn, {"UserGroups": pd.DataFrame({"name": ["New Two"], "role": ["Viewer"]})}, prune=True,
                  force=True)
    mixed = pd.concat([one.frame, two.frame], ignore_index=True)
    with pytest.raises(ax.ConfigurationError, match="more than one plan"):
        ax.apply(conn, mixed)


def test_diff_of_two_servers_by_name(tmp_path):
    with Emulator() as dev, Emulator(random_seed=5) as prod:
        a = ax.authenticate(dev.url, *dev.curator)
        b = ax.authenticate(prod.url, *prod.curator)
        ax.create(b, "usergroups.create", pd.DataFrame({"RecordID": [1], "name": ["Prod Only"], "role": ["Viewer"]}))
        same = ax.diff(ax.export(a), ax.export(a))
        assert same.pending == 0
        both = ax.diff(ax.export(a), ax.export(b))  # ids differ between the two; names do not
        assert both.frame.query("Action != 'unchanged'")[["Sheet", "Key", "Action"]].values.tolist() == \
            [["UserGroups", "Prod Only", "create"]]
        promotion = ax.plan(b, ax.export(a))  # what promoting dev to prod would change, by name
        assert promotion.pending == 0
        assert "<table" in both._repr_html_() and "Prod Only" in both._repr_html_()


def _large_seed(users: int, groups: int, collections: int, per_group: int) -> dict:
    seed = default_seed()
    seed["users"] += [{"ref": f"u{i}", "firstName": f"U{i}", "lastName": "Bulk", "email": f"u{i:05d}@big.example.com",
                       "role": "Viewer"} for i in range(users)]
    seed["userGroups"] += [{"ref": f"g{g}", "name": f"Group {g:03d}", "role": "Viewer",
                            "members": [f"u{(g * 37 + k) % users}" for k in range(per_group)]} for g in range(groups)]
    seed["collections"] += [{"ref": f"c{c}", "name": f"Collection {c:03d}", "owner": "admin",
                             "users": [{"user": f"u{(c * 11 + k) % users}"} for k in range(10)],
                             "groups": [{"group": f"g{c % groups}"}]} for c in range(collections)]
    return seed


@pytest.mark.slow
def test_a_membership_sync_on_a_large_server_adds_and_removes_exactly_the_difference():
    with Emulator(_large_seed(2000, 60, 40, 50)) as server:
        conn = ax.authenticate(server.url, *server.curator, retry=fast_retry())
        members = ax.export(conn)["GroupMembers"]
        wanted = members[members["group"] != "Group 007"].sample(frac=0.9, random_state=1)
        extra = pd.DataFrame({"group": ["Group 001"] * 30, "user": [f"u{i:05d}@big.example.com" for i in range(1900,
                                                                                                             1930)]})
        desired = pd.concat([wanted, extra], ignore_index=True)
        desired = desired.drop_duplicates(["group", "user"])
        touched = set(desired["group"])
        before = set(map(tuple, members.values.tolist()))
        goal = set(map(tuple, desired.values.tolist()))
        expected_adds = goal - before
        expected_removes = {m for m in before - goal if m[0] in touched}
        plan = ax.plan(conn, {"GroupMembers": desired}, prune=True, force=True)
        frame = plan.frame
        assert set(frame[frame["Action"] == "create"]["Key"]) == {f"{g} / {u}" for g, u in expected_adds}
        assert set(frame[frame["Action"] == "remove"]["Key"]) == {f"{g} / {u}" for g, u in expected_removes}
        server.faults.configure(error_rates={503: 0.03, 429: 0.02}, retry_after=0.01, reset_before=0.02, seed=4)
        result = ax.apply(conn, plan)
        server.faults.clear()
        assert result.failure.empty or set(result.failure["ErrorType"]) <= {"OutcomeUnknown"}
        after = set(map(tuple, ax.export(conn)["GroupMembers"].values.tolist()))
        untouched = {m for m in before if m[0] not in touched}
        assert after == goal | untouched  # exactly the desired state, nothing extra removed, nothing twice
