"""Collections, credentials and server data connections: what is shared with whom."""

from __future__ import annotations

from typing import Any

from .core import BadRequest, Core, NotFound, Unauthorized, check, invalid, parse_time, project

PERMISSION_KEYS = ("isAdmin", "canAddAssets", "canRemoveAssets", "canUpdateAssets",
                   "canAddUsers", "canRemoveUsers")


def _permissions(contract: dict) -> dict:
    given = contract.get("collectionsPermissions") or {}
    return {k: bool(given.get(k, False)) for k in PERMISSION_KEYS}


class Sharing(Core):
    # ------------------------------------------------------------ collections
    def add_collection(self, fields: dict, actor: dict | None) -> dict:
        col = {"id": fields.get("id") or self.new_id(), "name": fields["name"],
               "ownerId": fields.get("ownerId") or (actor["id"] if actor else ""),
               "dateAdded": self.now_iso(), "users": {}, "groups": {},
               "workflowIds": [], "scheduleIds": [], "subscriptionIds": []}
        self.collections[col["id"]] = col
        self.record("Collection", col["id"], "Insert", actor, None,
                    {"name": col["name"], "ownerId": col["ownerId"]})
        return col

    def collection_view(self, col: dict) -> dict:
        full = dict(col, users=[{"userId": uid} for uid in col["users"]],
                    userGroupIds=list(col["groups"]))
        return project(full, "CollectionView")

    def list_collections(self, actor: dict, view: str | None = None) -> list[dict]:
        if view == "Full":
            return [dict(project(c, "ReducedCollectionView"), **self.collection_view(c))
                    for c in self.collections.values()]
        return [project(c, "ReducedCollectionView") for c in self.collections.values()]

    def get_collection(self, actor: dict, collection_id: str) -> dict:
        return self.collection_view(self.collection(collection_id))

    def create_collection(self, actor: dict, contract: Any) -> str:
        if not actor.get("canCreateCollections"):
            raise Unauthorized("You do not have the Create Collections permission.")
        check(contract, {"$ref": "CreateCollectionContract"}, "contract")
        if not contract["name"].strip():
            raise invalid({"contract.name": ["The name must not be empty."]})
        return self.add_collection({"name": contract["name"]}, actor)["id"]

    def update_collection(self, actor: dict, collection_id: str, contract: Any) -> dict:
        col = self.collection(collection_id)
        check(contract, {"$ref": "UpdateCollectionContract"}, "updateCollectionContract")
        if contract["ownerId"] not in self.users:
            raise invalid({"updateCollectionContract.ownerId": [f"User '{contract['ownerId']}' was not found."]})
        before = {"name": col["name"], "ownerId": col["ownerId"]}
        col["name"], col["ownerId"] = contract["name"], contract["ownerId"]
        self.record("Collection", collection_id, "Update", actor, before,
                    {"name": col["name"], "ownerId": col["ownerId"]})
        return self.collection_view(col)

    def delete_collection(self, actor: dict, collection_id: str, forceDelete: bool | None = None) -> None:
        col = self.collection(collection_id)
        if (col["users"] or col["groups"] or col["workflowIds"] or col["scheduleIds"]) and not forceDelete:
            raise BadRequest("The collection is not empty; use forceDelete=true to delete it anyway.")
        del self.collections[collection_id]
        self.record("Collection", collection_id, "Delete", actor,
                    {"name": col["name"], "ownerId": col["ownerId"]}, None)

    def _member_entry(self, contract: dict, actor: dict, param: str) -> dict:
        expiration = contract.get("expirationDate")
        if expiration:
            parse_time(expiration, f"{param}.expirationDate")
        return {"permissions": _permissions(contract), "expirationDate": expiration,
                "dateAdded": self.now_iso(), "addedBy": actor["id"]}

    def add_user_to_collection(self, actor: dict, collection_id: str, contract: Any) -> dict:
        col = self.collection(collection_id)
        check(contract, {"$ref": "AddUserContract"}, "addUsersContract")
        uid = contract["userId"]
        if uid not in self.users:
            raise invalid({"addUsersContract.userId": [f"User '{uid}' was not found."]})
        if uid in col["users"]:
            raise BadRequest(f"User '{uid}' is already in the collection.")
        col["users"][uid] = self._member_entry(contract, actor, "addUsersContract")
        self.record("Collection", collection_id, "Update", actor, {}, {"addedUserId": uid})
        return self.collection_view(col)

    def add_group_to_collection(self, actor: dict, collection_id: str, contract: Any) -> dict:
        col = self.collection(collection_id)
        check(contract, {"$ref": "AddUserGroupContract"}, "addUserGroupsContract")
        gid = contract["userGroupId"]
        if gid not in self.groups:
            raise invalid({"addUserGroupsContract.userGroupId": [f"User group '{gid}' was not found."]})
        if gid in col["groups"]:
            raise BadRequest(f"User group '{gid}' is already in the collection.")
        col["groups"][gid] = self._member_entry(contract, actor, "addUserGroupsContract")
        self.record("Collection", collection_id, "Update", actor, {}, {"addedUserGroupId": gid})
        return self.collection_view(col)

    def add_workflow_to_collection(self, actor: dict, collection_id: str, contract: Any) -> dict:
        col = self.collection(collection_id)
        check(contract, {"$ref": "AddWorkflowContract"}, "contract")
        wid = contract["workflowId"]
        if wid not in self.workflows:
            raise invalid({"contract.workflowId": [f"Workflow '{wid}' was not found."]})
        if wid in col["workflowIds"]:
            raise BadRequest(f"Workflow '{wid}' is already in the collection.")
        col["workflowIds"].append(wid)
        self.record("Collection", collection_id, "Update", actor, {}, {"addedWorkflowId": wid})
        return self.collection_view(col)

    def add_schedule_to_collection(self, actor: dict, collection_id: str, contract: Any) -> dict:
        col = self.collection(collection_id)
        check(contract, {"$ref": "AddScheduleContract"}, "contract")
        sid = contract["scheduleId"]
        if sid not in self.schedules:
            raise invalid({"contract.scheduleId": [f"Schedule '{sid}' was not found."]})
        if sid in col["scheduleIds"]:
            raise BadRequest(f"Schedule '{sid}' is already in the collection.")
        col["scheduleIds"].append(sid)
        self.record("Collection", collection_id, "Update", actor, {}, {"addedScheduleId": sid})
        return self.collection_view(col)

    def update_collection_user_permissions(self, actor: dict, collection_id: str, user_id: str,
                                           contract: Any) -> dict:
        col = self.collection(collection_id)
        check(contract, {"$ref": "UpdatePermissionsContract"}, "updatePermissionsContract")
        if user_id not in col["users"]:
            self.user(user_id)  # NotFound when there is no such user at all
            raise NotFound(f"User '{user_id}' is not in the collection.")
        entry = col["users"][user_id]
        before = dict(entry["permissions"])
        entry.update(self._member_entry(contract, actor, "updatePermissionsContract"))
        self.record("Collection", collection_id, "Update", actor, {f"user:{user_id}": before},
                    {f"user:{user_id}": entry["permissions"]})
        return self.collection_view(col)

    def update_collection_group_permissions(self, actor: dict, collection_id: str, group_id: str,
                                            contract: Any) -> dict:
        col = self.collection(collection_id)
        check(contract, {"$ref": "UpdatePermissionsContract"}, "updatePermissionsContract")
        if group_id not in col["groups"]:
            self.group(group_id)
            raise NotFound(f"User group '{group_id}' is not in the collection.")
        entry = col["groups"][group_id]
        before = dict(entry["permissions"])
        entry.update(self._member_entry(contract, actor, "updatePermissionsContract"))
        self.record("Collection", collection_id, "Update", actor, {f"group:{group_id}": before},
                    {f"group:{group_id}": entry["permissions"]})
        return self.collection_view(col)

    def _remove_member(self, actor: dict, collection_id: str, key: str, member_id: str, label: str,
                       lookup) -> dict:
        col = self.collection(collection_id)
        members = col[key]
        if member_id not in members:
            lookup(member_id)  # NotFound when there is no such member at all
            raise NotFound(f"'{member_id}' is not in the collection.")
        if isinstance(members, dict):
            del members[member_id]
        else:
            members.remove(member_id)
        self.record("Collection", collection_id, "Update", actor, {f"removed:{label}": member_id}, {})
        return self.collection_view(col)

    def remove_user_from_collection(self, actor: dict, collection_id: str, user_id: str) -> dict:
        return self._remove_member(actor, collection_id, "users", user_id, "userId", self.user)

    def remove_group_from_collection(self, actor: dict, collection_id: str, group_id: str) -> dict:
        return self._remove_member(actor, collection_id, "groups", group_id, "userGroupId", self.group)

    def remove_workflow_from_collection(self, actor: dict, collection_id: str, workflow_id: str) -> dict:
        return self._remove_member(actor, collection_id, "workflowIds", workflow_id, "workflowId",
                                   self.workflow)

    def remove_schedule_from_collection(self, actor: dict, collection_id: str, schedule_id: str) -> dict:
        return self._remove_member(actor, collection_id, "scheduleIds", schedule_id, "scheduleId",
                                   self.schedule)

    def collections_of(self, user_id: str) -> list[dict]:
        groups = self.groups_of(user_id)
        return [c for c in self.collections.values()
                if user_id in c["users"] or c["ownerId"] == user_id or groups & set(c["groups"])]

    # ------------------------------------------------------------ credentials
    def add_credential(self, fields: dict, actor: dict | None) -> dict:
        cred = {"id": fields.get("id") or self.new_id(), "userName": fields["username"],
                "password": fields["password"], "ownerId": actor["id"] if actor else "",
                "userIds": list(fields.get("userIds", [])),
                "userGroupIds": list(fields.get("userGroupIds", [])),
                "dateCreated": self.now_iso(), "lastUpdatedDate": self.now_iso()}
        self.credentials[cred["id"]] = cred
        self.record("Credential", cred["id"], "Insert", actor, None, {"userName": cred["userName"]})
        return cred

    def credentials_shared_with(self, user_id: str) -> list[str]:
        groups = self.groups_of(user_id)
        return [c["id"] for c in self.credentials.values()
                if user_id in c["userIds"] or groups & set(c["userGroupIds"])]

    def _visible_credential(self, actor: dict, credential_id: str) -> dict:
        cred = self.credential(credential_id)
        if not self.is_curator(actor) and cred["ownerId"] != actor["id"] \
                and credential_id not in self.credentials_shared_with(actor["id"]):
            raise NotFound(f"Credential '{credential_id}' was not found.")
        return cred

    def _credential_view(self, cred: dict) -> dict:
        owner = self.users.get(cred["ownerId"])
        return project({"userIds": cred["userIds"], "userGroupIds": cred["userGroupIds"],
                        "isAdmin": bool(owner and owner["role"] == "Curator"),
                        "createdByEmail": owner["email"] if owner else "",
                        "lastUpdatedDate": cred["lastUpdatedDate"], "status": "Active",
                        "credentialId": cred["id"], "username": cred["userName"]}, "CredentialView")

    def list_credentials(self, actor: dict, view: str | None = None, userId: str | None = None,
                         userGroupId: str | None = None) -> list[dict]:
        if not self.is_curator(actor):
            shared = set(self.credentials_shared_with(actor["id"]))
            creds = [c for c in self.credentials.values() if c["id"] in shared or c["ownerId"] == actor["id"]]
            return [project(c, "ReducedCredentialsView") for c in creds]
        creds = list(self.credentials.values())
        if userId:
            creds = [c for c in creds if userId in c["userIds"]]
        if userGroupId:
            creds = [c for c in creds if userGroupId in c["userGroupIds"]]
        if view == "Full":
            return [project(c, "CredentialsView") for c in creds]
        return [project(c, "ReducedCredentialsView") for c in creds]

    def get_credential(self, actor: dict, credential_id: str) -> dict:
        return project(self._visible_credential(actor, credential_id), "CredentialsView")

    def create_credential(self, actor: dict, contract: Any) -> dict:
        check(contract, {"$ref": "CredentialAddContract"}, "addContract")
        if not contract["username"].strip():
            raise invalid({"addContract.username": ["The username must not be empty."]})
        return self._credential_view(self.add_credential(contract, actor))

    def update_credential(self, actor: dict, credential_id: str, contract: Any) -> dict:
        cred = self._visible_credential(actor, credential_id)
        if not self.is_curator(actor) and cred["ownerId"] != actor["id"]:
            raise Unauthorized("Only the credential's owner or a Curator can change its password.")
        check(contract, {"$ref": "CredentialUpdateContract"}, "updateContract")
        cred["password"] = contract["newPassword"]
        cred["lastUpdatedDate"] = self.now_iso()
        self.record("Credential", credential_id, "Update", actor, {"password": "***"},
                    {"password": "*** (changed)"})
        return self._credential_view(cred)

    def delete_credential(self, actor: dict, credential_id: str, force: bool | None = None) -> list[dict]:
        cred = self.credential(credential_id)
        if (cred["userIds"] or cred["userGroupIds"]) and not force:
            raise BadRequest("The credential is shared; use force=true to remove its shares and delete it.")
        del self.credentials[credential_id]
        self.record("Credential", credential_id, "Delete", actor, {"userName": cred["userName"]}, None)
        return [project(c, "CredentialsView") for c in self.credentials.values()]

    def _share(self, actor: dict, record: dict, key: str, member_id: Any, field: str,
               entity: str | None, param: str) -> None:
        table = self.users if key == "userIds" else self.groups
        if member_id not in table:
            raise invalid({f"{param}.{field}": [f"'{member_id}' was not found."]})
        if member_id in record[key]:
            raise BadRequest(f"'{member_id}' already has access.")
        record[key].append(member_id)
        if entity:
            self.record(entity, record["id"], "Update", actor, {}, {f"shared:{field}": member_id})

    def _unshare(self, actor: dict, record: dict, key: str, member_id: str, entity: str | None) -> None:
        table = self.users if key == "userIds" else self.groups
        if member_id not in record[key]:
            if member_id not in table:
                raise NotFound(f"'{member_id}' was not found.")
            raise NotFound(f"'{member_id}' does not have access.")
        record[key].remove(member_id)
        if entity:
            self.record(entity, record["id"], "Update", actor, {f"shared:{key}": member_id}, {})

    def share_credential_with_user(self, actor: dict, credential_id: str, contract: Any) -> dict:
        cred = self.credential(credential_id)
        check(contract, {"$ref": "AddCredentialsUserContract"}, "contract")
        self._share(actor, cred, "userIds", contract["userId"], "userId", "Credential", "contract")
        return project(cred, "CredentialsView")

    def share_credential_with_group(self, actor: dict, credential_id: str, contract: Any) -> dict:
        cred = self.credential(credential_id)
        check(contract, {"$ref": "AddCredentialsUserGroupContract"}, "contract")
        self._share(actor, cred, "userGroupIds", contract["userGroupId"], "userGroupId", "Credential", "contract")
        return project(cred, "CredentialsView")

    def remove_user_from_credential(self, actor: dict, credential_id: str, user_id: str) -> dict:
        cred = self.credential(credential_id)
        self._unshare(actor, cred, "userIds", user_id, "Credential")
        return project(cred, "CredentialsView")

    def remove_group_from_credential(self, actor: dict, credential_id: str, group_id: str) -> dict:
        cred = self.credential(credential_id)
        self._unshare(actor, cred, "userGroupIds", group_id, "Credential")
        return project(cred, "CredentialsView")

    # ------------------------------------------------------ data connections
    def add_data_connection(self, fields: dict, actor: dict | None = None) -> dict:
        conn = {"id": fields.get("id") or self.new_id(), "name": fields["name"],
                "connectionString": fields.get("connectionString", ""),
                "connectionType": fields.get("connectionType", "ODBC"),
                "dcmConnectionId": fields.get("dcmConnectionId"),
                "dcmConnectionTitle": fields.get("dcmConnectionTitle"),
                "userIds": list(fields.get("userIds", [])),
                "userGroupIds": list(fields.get("userGroupIds", [])),
                "dateAdded": self.now_iso()}
        self.data_connections[conn["id"]] = conn
        return conn

    def list_data_connections(self, actor: dict, view: str | None = None) -> list[dict]:
        name = "ServerConnectionView" if view == "Full" else "ReducedServerConnectionView"
        return [project(c, name) for c in self.data_connections.values()]

    def get_data_connection(self, actor: dict, connection_id: str) -> dict:
        return project(self.data_connection(connection_id), "ServerConnectionView")

    def rename_data_connection(self, actor: dict, connection_id: str, contract: Any) -> dict:
        conn = self.data_connection(connection_id)
        check(contract, {"$ref": "UpdateServerConnectionContract"}, "updateServerConnectionContract")
        conn["name"] = contract["name"]
        return project(conn, "ServerConnectionView")

    def delete_data_connection(self, actor: dict, connection_id: str) -> None:
        self.data_connection(connection_id)
        del self.data_connections[connection_id]

    def share_data_connection_with_user(self, actor: dict, connection_id: str, contract: Any) -> dict:
        conn = self.data_connection(connection_id)
        check(contract, {"$ref": "AddServerConnectionUserContract"}, "contract")
        self._share(actor, conn, "userIds", contract["userId"], "userId", None, "contract")
        return project(conn, "ServerConnectionView")

    def share_data_connection_with_group(self, actor: dict, connection_id: str, contract: Any) -> dict:
        conn = self.data_connection(connection_id)
        check(contract, {"$ref": "AddServerConnectionUserGroupContract"}, "contract")
        self._share(actor, conn, "userGroupIds", contract["userGroupId"], "userGroupId", None, "contract")
        return project(conn, "ServerConnectionView")

    def remove_user_from_data_connection(self, actor: dict, connection_id: str, user_id: str) -> dict:
        conn = self.data_connection(connection_id)
        self._unshare(actor, conn, "userIds", user_id, None)
        return project(conn, "ServerConnectionView")

    def remove_group_from_data_connection(self, actor: dict, connection_id: str, group_id: str) -> dict:
        conn = self.data_connection(connection_id)
        self._unshare(actor, conn, "userGroupIds", group_id, None)
        return project(conn, "ServerConnectionView")

