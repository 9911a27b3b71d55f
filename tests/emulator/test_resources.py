"""Create, read, update and delete of each resource over HTTP, and collection membership."""

from __future__ import annotations

import pytest


def test_users_crud(api):
    r = api.post("/v3/users", json={"firstName": "Nia", "lastName": "New", "email": "nia@example.com"})
    assert r.status_code == 201
    user = r.json()
    assert user["role"] == "Evaluated"  # the Server's default
    uid = user["id"]
    assert len(uid) == 24 and int(uid, 16) >= 0
    assert api.get(f"/v3/users/{uid}").json()["email"] == "nia@example.com"
    full = dict(user, role="Member", defaultCredentialId="", timeZone="UTC", language="en-us")
    r = api.put(f"/v3/users/{uid}", json=full)
    assert r.status_code == 200 and r.json()["role"] == "Member"
    listed = api.get("/v3/users", params={"email": "NIA@example.com"}).json()
    assert [u["id"] for u in listed] == [uid]
    assert set(listed[0]) == {"id", "firstName", "lastName", "email", "isActive", "role", "dateCreated"}
    assert "canScheduleJobs" in api.get("/v3/users", params={"view": "Full", "email": "nia@example.com"}).json()[0]
    assert api.delete(f"/v3/users/{uid}").status_code == 200
    assert api.get(f"/v3/users/{uid}").status_code == 404


def test_duplicate_email_is_a_400_with_model_state(api):
    r = api.post("/v3/users", json={"firstName": "A", "lastName": "B", "email": "ada.admin@example.com"})
    assert r.status_code == 400
    body = r.json()
    assert body["message"] and "userContract.email" in body["modelState"]


def test_update_user_requires_every_field(api, ids):
    r = api.put(f"/v3/users/{ids['user:mia']}", json={"email": "mia2@example.com"})
    assert r.status_code == 400
    assert "updateContract.role" in r.json()["modelState"]


def test_user_with_assets_cannot_be_deleted(api, ids):
    r = api.delete(f"/v3/users/{ids['user:ana']}")
    assert r.status_code == 409
    assert isinstance(r.json(), str)


def test_user_assets_and_transfer(api, ids):
    assets = api.get(f"/v3/users/{ids['user:ana']}/assets").json()
    assert {w["id"] for w in assets["workflows"]} == {ids["workflow:sales"], ids["workflow:churn"]}
    only = api.get(f"/v3/users/{ids['user:ana']}/assets", params={"assetType": "Schedules"}).json()
    assert {k for k, v in only.items() if v is not None} == {"schedules"}  # the others absent, or null (Json.NET)
    r = api.put(f"/v3/users/{ids['user:ana']}/assetTransfer",
                json={"ownerId": ids["user:mia"], "transferWorkflows": True, "transferSchedules": False,
                      "transferCollections": True})
    assert r.status_code == 200
    assert r.json() == [{"affectedScheduleId": ids["schedule:weekly"]}]
    assert api.get(f"/v3/workflows/{ids['workflow:sales']}").json()["ownerId"] == ids["user:mia"]


def test_deactivate_removes_from_groups(api, ids):
    r = api.post(f"/v3/users/{ids['user:mia']}/deactivate")
    assert r.status_code == 200
    assert r.json() == [ids["group:analysts"]]
    assert api.get(f"/v3/users/{ids['user:mia']}").json()["isActive"] is False


def test_password_reset(api, ids, server):
    assert api.post(f"/v3/users/{ids['user:mia']}/passwordReset").status_code == 200
    assert server.state.counters["password_reset_emails"] == 1


def test_user_groups(api, ids):
    r = api.post("/v3/usergroups", json={"name": "Auditors", "role": "Viewer"})
    assert r.status_code == 201
    gid = r.json()
    assert isinstance(gid, str)
    assert api.post("/v3/usergroups", json={"name": "auditors", "role": "Viewer"}).status_code == 400
    r = api.post(f"/v3/usergroups/{gid}/users", json=[ids["user:mia"], ids["user:vic"], "000000000000000000000000"])
    assert r.status_code == 200
    assert r.json()["successfullyAddedUserCount"] == 2
    assert r.json()["totalUsersSubmittedCount"] == 3
    assert "000000000000000000000000" in r.json()["failedUserReasons"]
    members = {m["userId"] for m in api.get(f"/v3/usergroups/{gid}").json()["members"]}
    assert members == {ids["user:mia"], ids["user:vic"]}
    assert api.put(f"/v3/usergroups/{gid}", json={"name": "Auditors 2", "role": "Member"}).status_code == 200
    assert api.get(f"/v3/usergroups/{gid}").json()["role"] == "Member"
    r = api.delete(f"/v3/usergroups/{gid}/users/{ids['user:vic']}")
    assert r.status_code == 200 and len(r.json()["members"]) == 1
    assert api.delete(f"/v3/usergroups/{gid}").status_code == 400  # not empty
    assert api.delete(f"/v3/usergroups/{gid}", params={"forceDelete": "true"}).status_code == 200
    assert api.get(f"/v3/usergroups/{gid}").status_code == 404


def test_add_users_body_must_be_a_list(api, ids):
    r = api.post(f"/v3/usergroups/{ids['group:analysts']}/users", json={"userIds": [ids["user:vic"]]})
    assert r.status_code == 400


def test_active_directory_groups(api, ids):
    gid = ids["group:viewers"]
    assert api.post(f"/v3/usergroups/{gid}/activedirectorygroups", json="S-1-5-21-1004").status_code == 200
    assert api.post(f"/v3/usergroups/{gid}/activedirectorygroups", json="not-a-sid").status_code == 404
    assert api.delete(f"/v3/usergroups/{gid}/activedirectorygroups/S-1-5-21-1004").status_code == 200
    assert api.delete(f"/v3/usergroups/{gid}/activedirectorygroups/S-1-5-21-1004").status_code == 400


def test_collections_and_membership(api, ids):
    r = api.post("/v3/collections", json={"name": "Quarter Close"})
    assert r.status_code == 200
    cid = r.json()
    perms = {"isAdmin": False, "canAddAssets": True}
    r = api.post(f"/v3/collections/{cid}/users", json={"userId": ids["user:mia"], "collectionsPermissions": perms})
    assert r.status_code == 200
    assert [_present(u) for u in r.json()["users"]] == [{"userId": ids["user:mia"]}]
    assert api.post(f"/v3/collections/{cid}/users",
                    json={"userId": ids["user:mia"], "collectionsPermissions": perms}).status_code == 400
    assert api.post(f"/v3/collections/{cid}/userGroups",
                    json={"userGroupId": ids["group:viewers"], "collectionsPermissions": {}}).status_code == 200
    assert api.post(f"/v3/collections/{cid}/workflows", json={"workflowId": ids["workflow:sales"]}).status_code == 200
    assert api.post(f"/v3/collections/{cid}/schedules", json={"scheduleId": ids["schedule:weekly"]}).status_code == 200
    view = api.get(f"/v3/collections/{cid}").json()
    assert view["workflowIds"] == [ids["workflow:sales"]]
    assert view["scheduleIds"] == [ids["schedule:weekly"]]
    assert view["userGroupIds"] == [ids["group:viewers"]]
    r = api.put(f"/v3/collections/{cid}/users/{ids['user:mia']}/permissions",
                json={"collectionsPermissions": {"isAdmin": True}})
    assert r.status_code == 200
    r = api.put(f"/v3/collections/{cid}/userGroups/{ids['group:viewers']}/permissions",
                json={"collectionsPermissions": {"canAddUsers": True}, "expirationDate": "2030-01-01T00:00:00Z"})
    assert r.status_code == 200
    assert api.delete(f"/v3/collections/{cid}").status_code == 400  # not empty
    for path in (f"users/{ids['user:mia']}", f"userGroups/{ids['group:viewers']}",
                 f"workflows/{ids['workflow:sales']}", f"schedules/{ids['schedule:weekly']}"):
        assert api.delete(f"/v3/collections/{cid}/{path}").status_code == 200
        assert api.delete(f"/v3/collections/{cid}/{path}").status_code == 404
    assert api.put(f"/v3/collections/{cid}", json={"name": "Q4 Close", "ownerId": ids["user:ana"]}).status_code == 200
    assert api.get(f"/v3/collections/{cid}").json()["name"] == "Q4 Close"
    assert api.delete(f"/v3/collections/{cid}").status_code == 200
    assert api.get(f"/v3/collections/{cid}").status_code == 404


def test_add_unknown_user_to_collection_is_400_unknown_collection_404(api, ids):
    r = api.post(f"/v3/collections/{ids['collection:fin']}/users",
                 json={"userId": "ffffffffffffffffffffffff", "collectionsPermissions": {}})
    assert r.status_code == 400
    r = api.post("/v3/collections/ffffffffffffffffffffffff/users",
                 json={"userId": ids["user:mia"], "collectionsPermissions": {}})
    assert r.status_code == 404


def test_collection_needs_create_permission(server, api, ids):
    server.state.users[ids["user:admin"]]["canCreateCollections"] = False
    assert api.post("/v3/collections", json={"name": "X"}).status_code == 401


def test_credentials(api, artisan_api, ids):
    r = api.post("/v3/credentials", json={"username": "svc_new", "password": "pw"})
    assert r.status_code == 200
    cid = r.json()["credentialId"]
    assert "password" not in r.text
    assert api.post(f"/v3/credentials/{cid}/users", json={"userId": ids["user:ana"]}).status_code == 200
    assert api.post(f"/v3/credentials/{cid}/userGroups", json={"userGroupId": ids["group:ops"]}).status_code == 200
    view = api.get(f"/v3/credentials/{cid}").json()
    assert view["userIds"] == [ids["user:ana"]] and view["userGroupIds"] == [ids["group:ops"]]
    assert cid in {c["id"] for c in artisan_api.get("/v3/credentials").json()}
    assert api.put(f"/v3/credentials/{cid}", json={"newPassword": "pw2"}).status_code == 200
    assert api.delete(f"/v3/credentials/{cid}").status_code == 400  # shared
    assert api.delete(f"/v3/credentials/{cid}/users/{ids['user:ana']}").status_code == 200
    assert api.delete(f"/v3/credentials/{cid}/userGroups/{ids['group:ops']}").status_code == 200
    r = api.delete(f"/v3/credentials/{cid}")
    assert r.status_code == 200 and all(c["id"] != cid for c in r.json())


def test_data_connections(api, ids):
    cid = ids["connection:dw"]
    assert api.get("/v3/serverDataConnections").json()[0].keys() == {"id", "name", "connectionString", "connectionType"}
    assert api.put(f"/v3/serverDataConnections/{cid}", json={"name": "DW"}).json()["name"] == "DW"
    assert api.post(f"/v3/serverDataConnections/{cid}/users", json={"userId": ids["user:vic"]}).status_code == 200
    r = api.post(f"/v3/serverDataConnections/{cid}/userGroups", json={"userGroupId": ids["group:ops"]})
    assert r.status_code == 200 and ids["group:ops"] in r.json()["userGroupIds"]
    assert api.delete(f"/v3/serverDataConnections/{cid}/users/{ids['user:vic']}").status_code == 200
    assert api.delete(f"/v3/serverDataConnections/{cid}/userGroups/{ids['group:ops']}").status_code == 200
    assert api.delete(f"/v3/serverDataConnections/{cid}").status_code == 200
    assert api.get(f"/v3/serverDataConnections/{cid}").status_code == 404


def test_subscriptions(api, ids):
    r = api.post("/v3/subscriptions", json={"name": "Marketing", "canShareSchedule": True})
    assert r.status_code == 201
    sid = r.json()["id"]
    r = api.put(f"/v3/subscriptions/{sid}/users", json={"userIds": [ids["user:vic"]]})
    assert r.status_code == 200
    detail = api.get(f"/v3/subscriptions/{sid}").json()
    assert [u["id"] for u in detail["users"]] == [ids["user:vic"]]
    counts = {s["id"]: s for s in api.get("/v3/subscriptions", params={"userCountGreaterThanEquals": 1}).json()}
    assert counts[sid]["userCount"] == 1
    assert api.put(f"/v3/subscriptions/{sid}", json={"name": "Mktg", "credentialId": "",
                                                      "canShareSchedules": False}).json()["name"] == "Mktg"
    assert api.delete("/v3/subscriptions", params={"subscriptionId": sid}).status_code == 400  # has a user
    api.put(f"/v3/subscriptions/{ids['subscription:finance']}/users", json={"userIds": [ids["user:vic"]]})
    assert api.delete("/v3/subscriptions", params={"subscriptionId": sid}).status_code == 200
    assert api.get(f"/v3/subscriptions/{sid}").status_code == 404


def test_schedules(api, artisan_api, ids):
    body = {"workflowId": ids["workflow:sales"], "name": "Hourly sales",
            "iteration": {"iterationType": "Hourly", "startTime": "2031-01-01T00:00:00Z",
                          "hourlyContract": {"hours": 2, "minutes": 0}}}
    r = artisan_api.post("/v3/schedules", json=body)
    assert r.status_code == 201
    sid = r.json()
    view = artisan_api.get(f"/v3/schedules/{sid}").json()
    assert view["iteration"]["startTime"] == "2031-01-01T00:00:00Z"
    assert view["runDateTime"].startswith("2031-01-01T00:00")
    r = artisan_api.patch(f"/v3/schedules/{sid}", json={"name": "Two-hourly sales", "enabled": False})
    assert r.status_code == 200 and r.json()["name"] == "Two-hourly sales" and r.json()["enabled"] is False
    window = {"runsAfter": "2031-01-01T00:00:00Z", "runsBefore": "2031-01-02T00:00:00Z"}
    assert sid in [s["id"] for s in api.get("/v3/schedules", params=window).json()]
    assert api.get("/v3/schedules", params={"runsAfter": "2031-01-01T00:00:00Z"}).status_code == 400
    assert api.get("/v3/schedules", params={"runsAfter": "2031-01-01T00:00:00Z",
                                           "runsBefore": "2031-03-01T00:00:00Z"}).status_code == 400
    full = {"workflowId": ids["workflow:sales"], "ownerId": ids["user:ana"], "iteration": body["iteration"],
            "name": "Put", "comment": "", "priority": "Default", "workerTag": "", "enabled": True,
            "credentialId": ""}
    assert artisan_api.put(f"/v3/schedules/{sid}", json=full).json()["name"] == "Put"
    assert artisan_api.delete(f"/v3/schedules/{sid}").status_code == 200
    assert artisan_api.get(f"/v3/schedules/{sid}").status_code == 404


def test_schedule_in_the_past_and_missing_subcontract_are_400(api, ids):
    base = {"workflowId": ids["workflow:sales"]}
    past = dict(base, iteration={"iterationType": "Once", "startTime": "2001-01-01T00:00:00Z"})
    assert api.post("/v3/schedules", json=past).status_code == 400
    weekly = dict(base, iteration={"iterationType": "Weekly", "startTime": "2031-01-01T00:00:00Z"})
    r = api.post("/v3/schedules", json=weekly)
    assert r.status_code == 400 and "contract.iteration.weeklyContract" in r.json()["modelState"]


def test_dcm_connections(api, artisan_api, ids):
    contract = {"name": "Postgres", "schemaName": "odbc-postgres", "parameters": {"db": {"value": "x"}},
                "dataSource": {"object": {"name": "pg", "schemaName": "postgres", "parameters": {}}},
                "credentials": {"main": {"object": {"name": "pg-user", "schemaName": "userpwd", "parameters": {},
                                                    "secrets": {"password": {"value": {"text": "s3cr3t"},
                                                                             "parameters": {}}}}}}}
    r = artisan_api.post("/v3/dcm/connections", json=contract)
    assert r.status_code == 201
    conn = r.json()
    assert "s3cr3t" not in r.text
    cid = conn["id"]
    assert len(cid) == 36
    assert api.get(f"/v3/dcm/connections/{cid}").status_code == 404  # not shared with the curator
    assert api.get(f"/v3/dcm/admin/connections/{cid}").status_code == 200
    r = artisan_api.put(f"/v3/dcm/connections/{cid}/sharing/execution",
                        json={"userIds": [ids["user:admin"]], "userGroupIds": []})
    assert r.status_code == 200
    assert api.get(f"/v3/dcm/connections/{cid}").status_code == 200
    r = artisan_api.put(f"/v3/dcm/connections/{cid}/sharing/collaboration",
                        json={"sharedCredentials": ["main"], "userIds": [], "userGroupIds": [ids["group:ops"]]})
    assert r.status_code == 200 and r.json()["sharedCredentials"] == ["main"]
    r = artisan_api.post("/v3/dcm/connections", json=dict(contract, id=cid, name="Postgres 2"))
    assert r.status_code == 200 and r.json()["name"] == "Postgres 2"
    assert artisan_api.get("/v3/dcm/connections/lookup", params={"connectionId": conn["connectionId"]}).status_code == 200
    assert artisan_api.delete(f"/v3/dcm/connections/{cid}/sharing/execution").status_code == 200
    assert api.delete(f"/v3/dcm/admin/connections/{cid}/sharing/collaboration").status_code == 200
    assert len(api.get("/v3/dcm/admin/connections", params={"visibleBy": ids["user:ana"]}).json()) == 1
    assert api.get(f"/v3/DCMEConnections/{cid}").json()["objectId"] == cid
    r = artisan_api.delete(f"/v3/dcm/connections/{cid}")
    assert r.status_code == 200 and r.json()["deletedConnections"][0]["id"] == cid


def test_dcm_handling_rules(api):
    r = api.post("/v3/dcm/admin/connectionhandlingrules", json={"sourceConnectionId": "a", "targetConnectionId": "b"})
    assert r.status_code == 201
    rid = r.json()["id"]
    r = api.post("/v3/dcm/admin/connectionhandlingrules", json={"id": rid, "sourceConnectionId": "a2"})
    assert r.status_code == 200 and r.json()["sourceConnectionId"] == "a2"
    assert [x["id"] for x in api.get("/v3/dcm/admin/connectionhandlingrules").json()] == [rid]
    assert api.get(f"/v3/dcm/admin/connectionhandlingrules/{rid}").status_code == 200
    assert api.delete(f"/v3/dcm/admin/connectionhandlingrules/{rid}").json()["id"] == rid
    assert api.get(f"/v3/dcm/admin/connectionhandlingrules/{rid}").status_code == 404


@pytest.mark.parametrize("path", ["/v3/users/{id}", "/v3/usergroups/{id}", "/v3/collections/{id}",
                                  "/v3/workflows/{id}", "/v3/schedules/{id}", "/v3/credentials/{id}",
                                  "/v3/serverDataConnections/{id}", "/v3/jobs/{id}", "/v3/subscriptions/{id}"])
def test_unknown_ids_are_404(api, path):
    r = api.get(path.format(id="0123456789abcdef01234567"))
    assert r.status_code == 404
    assert r.json()["message"]


def test_create_subscription_reads_only_the_singular_field(api):
    r = api.post("/v3/subscriptions", json={"name": "Singular", "canShareSchedule": True})
    assert r.status_code == 201 and r.json()["canShareSchedules"] is True
    # the update contract's plural spelling is not a field of the create contract: ignored
    r = api.post("/v3/subscriptions", json={"name": "Plural", "canShareSchedules": True})
    assert r.status_code == 201, r.text
    assert r.json()["canShareSchedules"] is False
    assert api.get(f"/v3/subscriptions/{r.json()['id']}").json()["canShareSchedules"] is False


def test_update_subscription_reads_only_the_plural_field(api, ids):
    sid = ids["subscription:ops"]
    r = api.put(f"/v3/subscriptions/{sid}", json={"name": "Ops", "credentialId": "", "canShareSchedule": True})
    assert r.status_code == 400  # the required canShareSchedules is missing
    assert "subscription.canShareSchedules" in r.json()["modelState"]


def _present(view: dict) -> dict:
    """A view without its null properties (realistic answers carry them, as Json.NET writes nulls)."""
    return {k: v for k, v in view.items() if v is not None}
