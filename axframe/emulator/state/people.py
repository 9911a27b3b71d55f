"""Subscriptions (studios), users and user groups."""

from __future__ import annotations

import re
from typing import Any

from .core import (ROLES, BadRequest, Conflict, Core, Forbidden, NotFound, Unauthorized, check,
                   invalid, parse_time, project)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SID = re.compile(r"^S-\d(-\d+)+$")

USER_DEFAULTS: dict[str, Any] = {
    "role": "Evaluated", "defaultWorkerTag": "", "canScheduleJobs": False,
    "canPrioritizeJobs": False, "canAssignJobs": False, "canCreateCollections": False,
    "isApiEnabled": False, "defaultCredentialId": None, "isAccountLocked": False,
    "isActive": True, "lastLoginDateTime": None, "isValidated": True, "timeZone": "UTC",
    "language": "en-us", "canCreateAndUpdateDcm": False, "canShareForExecutionDcm": False,
    "canShareForCollaborationDcm": False, "canManageGenericVaultsDcm": False,
}
_USER_AUDITED = ("firstName", "lastName", "email", "role", "defaultWorkerTag", "canScheduleJobs",
                 "canPrioritizeJobs", "canAssignJobs", "canCreateCollections", "isApiEnabled",
                 "defaultCredentialId", "isAccountLocked", "isActive", "isValidated", "timeZone",
                 "language", "subscriptionId")


def _snapshot(record: dict, keys: tuple[str, ...]) -> dict:
    return {k: record.get(k) for k in keys}


class People(Core):
    # ------------------------------------------------------------------ users
    def _email_taken(self, email: str, except_id: str | None = None) -> bool:
        lowered = email.lower()
        return any(u["email"].lower() == lowered and u["id"] != except_id for u in self.users.values())

    def _check_email(self, email: str, field: str, except_id: str | None = None) -> None:
        if not _EMAIL.match(email):
            raise invalid({field: [f"'{email}' is not a valid email address."]})
        if self._email_taken(email, except_id):
            raise invalid({field: [f"A user with the email '{email}' already exists."]})

    def add_user(self, fields: dict, actor: dict | None = None) -> dict:
        """Create a user record from *fields* (already validated)."""
        user = dict(USER_DEFAULTS)
        user.update({k: v for k, v in fields.items() if v is not None})
        user["id"] = fields.get("id") or self.new_id()
        user.setdefault("dateCreated", self.now_iso())
        if not user.get("subscriptionId"):
            user["subscriptionId"] = self.default_subscription_id()
        if user.get("isApiEnabled") and not user.get("apiKey"):
            user["apiKey"] = self.new_secret(16)
            user["apiSecret"] = self.new_secret(32)
        self.users[user["id"]] = user
        self.record("User", user["id"], "Insert", actor, None, _snapshot(user, _USER_AUDITED))
        return user

    def default_subscription_id(self) -> str:
        if not self.subscriptions:
            sub = self.add_subscription({"name": "Default"}, None)
            return sub["id"]
        return next(iter(self.subscriptions))

    def user_view(self, user: dict) -> dict:
        full = dict(user)
        full["sharedCredentialIds"] = self.credentials_shared_with(user["id"])
        full["dataConnectionIds"] = [c["id"] for c in self.data_connections.values()
                                     if user["id"] in c["userIds"]]
        return project(full, "UserView")

    def create_user(self, actor: dict, contract: Any) -> dict:
        check(contract, {"$ref": "CreateUserContract"}, "userContract")
        role = contract.get("role") or "Evaluated"
        if role not in ROLES:
            raise invalid({"userContract.role": [f"'{role}' is not a valid role."]})
        self._check_email(contract["email"], "userContract.email")
        self._check_credential_ref(contract.get("defaultCredentialId"), "userContract.defaultCredentialId")
        fields = {k: contract.get(k) for k in USER_DEFAULTS if k in contract}
        fields.update(firstName=contract["firstName"], lastName=contract["lastName"],
                      email=contract["email"], role=role)
        return self.user_view(self.add_user(fields, actor))

    def get_user(self, actor: dict, user_id: str) -> dict:
        return self.user_view(self.user(user_id))

    def list_users(self, actor: dict, view: str | None = None, active: bool | None = None,
                   email: str | None = None, role: str | None = None, firstName: str | None = None,
                   lastName: str | None = None, createdAfter: str | None = None,
                   createdBefore: str | None = None) -> list[dict]:
        after = parse_time(createdAfter, "createdAfter") if createdAfter else None
        before = parse_time(createdBefore, "createdBefore") if createdBefore else None
        out = []
        for user in self.users.values():
            if active is not None and user["isActive"] != active:
                continue
            if email and user["email"].lower() != email.lower():
                continue
            if role and user["role"] != role:
                continue
            if firstName and user["firstName"].lower() != firstName.lower():
                continue
            if lastName and user["lastName"].lower() != lastName.lower():
                continue
            if after is not None or before is not None:
                created = parse_time(user["dateCreated"], "dateCreated")
                if (after is not None and created < after) or (before is not None and created > before):
                    continue
            if view == "Full":
                out.append(self.user_view(user))
            else:
                out.append(project(user, "ReducedUserView"))
        return out

    def update_user(self, actor: dict, user_id: str, contract: Any) -> dict:
        user = self.user(user_id)
        check(contract, {"$ref": "UpdateUserContract"}, "updateContract")
        for name in ("firstName", "lastName"):
            if not contract.get(name):
                raise invalid({f"updateContract.{name}": [f"The {name} field is required."]})
        self._check_email(contract["email"], "updateContract.email", except_id=user_id)
        self._check_credential_ref(contract.get("defaultCredentialId"), "updateContract.defaultCredentialId")
        before = _snapshot(user, _USER_AUDITED)
        for key in USER_DEFAULTS:
            if key in contract and key != "lastLoginDateTime":
                # an empty id means "none", as the Server stores it (no false audit change from null to "")
                user[key] = None if key == "defaultCredentialId" and contract[key] == "" else contract[key]
        user["firstName"], user["lastName"] = contract["firstName"], contract["lastName"]
        user["email"] = contract["email"]
        if user["isApiEnabled"] and not user.get("apiKey"):
            user["apiKey"], user["apiSecret"] = self.new_secret(16), self.new_secret(32)
        self.record("User", user_id, "Update", actor, before, _snapshot(user, _USER_AUDITED))
        return self.user_view(user)

    def _check_credential_ref(self, credential_id: Any, field: str) -> None:
        if credential_id and credential_id not in self.credentials:
            raise invalid({field: [f"Credential '{credential_id}' was not found."]})

    def user_assets(self, user_id: str) -> dict:
        return {
            "workflows": [w for w in self.workflows.values() if w["ownerId"] == user_id],
            "schedules": [s for s in self.schedules.values() if s["ownerId"] == user_id],
            "collections": [c for c in self.collections.values() if c["ownerId"] == user_id],
        }

    def delete_user(self, actor: dict, user_id: str) -> None:
        user = self.user(user_id)
        assets = self.user_assets(user_id)
        if any(assets.values()) or self.groups_of(user_id):
            raise Conflict("The user owns workflows, schedules or collections, or is in a user "
                           "group, and cannot be deleted.", plain=True)
        del self.users[user_id]
        for collection in self.collections.values():
            collection["users"].pop(user_id, None)
        for cred in self.credentials.values():
            if user_id in cred["userIds"]:
                cred["userIds"].remove(user_id)
        for conn in self.data_connections.values():
            if user_id in conn["userIds"]:
                conn["userIds"].remove(user_id)
        self.tokens = {t: e for t, e in self.tokens.items() if e["userId"] != user_id}
        self.record("User", user_id, "Delete", actor, _snapshot(user, _USER_AUDITED), None)

    def get_user_assets(self, actor: dict, user_id: str, assetType: str | None = None) -> dict:
        self.user(user_id)
        assets = self.user_assets(user_id)
        kind = assetType or "All"
        out = {}
        for key, label in (("workflows", "Workflows"), ("schedules", "Schedules"),
                           ("collections", "Collections")):
            if kind in ("All", label):
                out[key] = [{"name": a["name"], "id": a["id"]} for a in assets[key]]
        return project(out, "AssetsView")

    def transfer_assets(self, actor: dict, user_id: str, contract: Any) -> list[dict]:
        if user_id not in self.users:
            raise NotFound(f"User '{user_id}' was not found.", plain=True)
        if not self.is_curator(actor) and actor["id"] != user_id:
            raise Forbidden("You can only transfer your own assets.", plain=True)
        problems = [p for p in _validate_plain(contract, "TransferUserAssetsContract")]
        if problems:
            raise BadRequest("; ".join(problems), plain=True)
        target_id = contract["ownerId"]
        if target_id not in self.users:
            raise BadRequest(f"The new owner '{target_id}' was not found.", plain=True)
        moved_workflows = set()
        if contract["transferWorkflows"]:
            for wf in list(self.workflows.values()):
                if wf["ownerId"] == user_id:
                    self._set_workflow_owner(wf, target_id, actor)
                    moved_workflows.add(wf["id"])
        affected = []
        for sched in self.schedules.values():
            if sched["ownerId"] != user_id:
                continue
            if contract["transferSchedules"]:
                sched["ownerId"] = target_id
            elif sched["workflowId"] in moved_workflows:
                affected.append({"affectedScheduleId": sched["id"]})
        if contract["transferCollections"]:
            for col in self.collections.values():
                if col["ownerId"] == user_id:
                    before = {"ownerId": col["ownerId"]}
                    col["ownerId"] = target_id
                    self.record("Collection", col["id"], "Update", actor, before, {"ownerId": target_id})
        return affected

    def deactivate_user(self, actor: dict, user_id: str) -> list[str]:
        user = self.user(user_id)
        removed = sorted(self.groups_of(user_id))
        for gid in removed:
            self.groups[gid]["members"].pop(user_id, None)
        before = _snapshot(user, _USER_AUDITED)
        user["isActive"] = False
        self.tokens = {t: e for t, e in self.tokens.items() if e["userId"] != user_id}
        self.record("User", user_id, "Update", actor, before, _snapshot(user, _USER_AUDITED))
        return removed

    def reset_password(self, actor: dict, user_id: str) -> None:
        user = self.user(user_id)
        if not user["isActive"]:
            raise BadRequest("The user is not active.")
        self.counters["password_reset_emails"] += 1

    # ----------------------------------------------------------- user groups
    def _group_name_taken(self, name: str, except_id: str | None = None) -> bool:
        lowered = name.lower()
        return any(g["name"].lower() == lowered and g["id"] != except_id for g in self.groups.values())

    def add_group(self, fields: dict, actor: dict | None) -> dict:
        group = {"id": fields.get("id") or self.new_id(), "name": fields["name"],
                 "role": fields.get("role", "Viewer"), "dateAdded": self.now_iso(),
                 "members": {}, "adGroups": [], "credentialIds": [], "connectionIds": []}
        self.groups[group["id"]] = group
        self.record("UserGroup", group["id"], "Insert", actor, None,
                    {"name": group["name"], "role": group["role"]})
        return group

    def group_view(self, group: dict) -> dict:
        members = [{"userId": uid, "dateAddedToGroup": m["dateAdded"], "addedByUserId": m["addedBy"]}
                   for uid, m in group["members"].items()]
        members += [{"activeDirectoryObject": {"sid": sid, "category": "Group", "displayName": sid,
                                               "domainName": "", "sidAccountName": sid},
                     "userId": "", "dateAddedToGroup": group["dateAdded"], "addedByUserId": ""}
                    for sid in group["adGroups"]]
        full = dict(group, members=members,
                    credentialIds=[c["id"] for c in self.credentials.values()
                                   if group["id"] in c["userGroupIds"]],
                    connectionIds=[c["id"] for c in self.data_connections.values()
                                   if group["id"] in c["userGroupIds"]])
        return project(full, "UserGroupView")

    def create_group(self, actor: dict, contract: Any) -> str:
        check(contract, {"$ref": "CreateUserGroupContract"}, "contract")
        if self._group_name_taken(contract["name"]):
            raise invalid({"contract.name": [f"A user group named '{contract['name']}' already exists."]})
        return self.add_group(contract, actor)["id"]

    def list_groups(self, actor: dict) -> list[dict]:
        return [project(g, "ReducedUserGroupView") for g in self.groups.values()]

    def get_group(self, actor: dict, group_id: str) -> dict:
        return self.group_view(self.group(group_id))

    def update_group(self, actor: dict, group_id: str, contract: Any) -> None:
        group = self.group(group_id)
        check(contract, {"$ref": "UpdateUserGroupContract"}, "contract")
        if self._group_name_taken(contract["name"], except_id=group_id):
            raise invalid({"contract.name": [f"A user group named '{contract['name']}' already exists."]})
        before = {"name": group["name"], "role": group["role"]}
        group["name"], group["role"] = contract["name"], contract["role"]
        self.record("UserGroup", group_id, "Update", actor, before,
                    {"name": group["name"], "role": group["role"]})

    def delete_group(self, actor: dict, group_id: str, forceDelete: bool | None = None) -> None:
        group = self.group(group_id)
        if (group["members"] or group["adGroups"]) and not forceDelete:
            raise BadRequest("The user group is not empty; use forceDelete=true to delete it anyway.")
        del self.groups[group_id]
        for collection in self.collections.values():
            collection["groups"].pop(group_id, None)
        for table in (self.credentials, self.data_connections):
            for record in table.values():
                if group_id in record["userGroupIds"]:
                    record["userGroupIds"].remove(group_id)
        self.record("UserGroup", group_id, "Delete", actor,
                    {"name": group["name"], "role": group["role"]}, None)

    def add_users_to_group(self, actor: dict, group_id: str, user_ids: Any) -> dict:
        group = self.group(group_id)
        if not isinstance(user_ids, list) or not all(isinstance(u, str) for u in user_ids):
            raise invalid({"userIds": ["A JSON array of user id strings is required."]})
        failed: dict[str, str] = {}
        added = 0
        for uid in user_ids:
            user = self.users.get(uid)
            if user is None:
                failed[uid] = "User not found."
                continue
            if not user["isActive"]:
                failed[uid] = "User is not active."
                continue
            if uid not in group["members"]:
                group["members"][uid] = {"dateAdded": self.now_iso(), "addedBy": actor["id"]}
                self.record("UserGroup", group_id, "Update", actor, {}, {"addedUserId": uid})
            added += 1
        return project({"successfullyAddedUserCount": added, "totalUsersSubmittedCount": len(user_ids),
                        "failedUserReasons": failed or None}, "UserGroupAddedUsersView")

    def remove_user_from_group(self, actor: dict, group_id: str, user_id: str) -> dict:
        group = self.group(group_id)
        if group["members"].pop(user_id, None) is not None:
            self.record("UserGroup", group_id, "Update", actor, {"removedUserId": user_id}, {})
        return self.group_view(group)

    def add_ad_group(self, actor: dict, group_id: str, sid: Any) -> None:
        group = self.group(group_id)
        if not isinstance(sid, str) or not sid:
            raise invalid({"sid": ["The SID must be sent as a JSON string, such as \"S-1-5-21-1\"."]})
        if not _SID.match(sid):
            raise NotFound(f"Active Directory group '{sid}' was not found.")
        if sid not in group["adGroups"]:
            group["adGroups"].append(sid)
            self.record("UserGroup", group_id, "Update", actor, {}, {"addedAdGroup": sid})

    def remove_ad_group(self, actor: dict, group_id: str, sid: str) -> None:
        group = self.group(group_id)
        if sid not in group["adGroups"]:
            raise BadRequest(f"Active Directory group '{sid}' is not a member of this user group.")
        group["adGroups"].remove(sid)
        self.record("UserGroup", group_id, "Update", actor, {"removedAdGroup": sid}, {})

    # --------------------------------------------------------- subscriptions
    def add_subscription(self, fields: dict, actor: dict | None) -> dict:
        """Store a subscription from its stored fields (``canShareSchedules``, as seeds spell it)."""
        sub = {"id": fields.get("id") or self.new_id(), "name": fields["name"],
               "canShareSchedules": bool(fields.get("canShareSchedules", False)),
               "credentialId": fields.get("credentialId") or "", "active": True,
               "apiEnabled": True, "apiKey": self.new_secret(16), "apiSecret": self.new_secret(32),
               "dateCreated": self.now_iso(), "dateUpdated": self.now_iso(),
               "expirationDate": "2099-12-31T00:00:00.000Z"}
        self.subscriptions[sub["id"]] = sub
        self.record("Subscription", sub["id"], "Insert", actor, None,
                    {"name": sub["name"], "canShareSchedules": sub["canShareSchedules"],
                     "credentialId": sub["credentialId"]})
        return sub

    def _sub_members(self, sub_id: str) -> tuple[list[dict], list[dict]]:
        users = [u for u in self.users.values() if u.get("subscriptionId") == sub_id]
        user_ids = {u["id"] for u in users}
        workflows = [w for w in self.workflows.values() if w["ownerId"] in user_ids]
        return users, workflows

    def create_subscription(self, actor: dict, contract: Any) -> dict:
        check(contract, {"$ref": "CreateSubscriptionContract"}, "contract")
        if any(s["name"].lower() == contract["name"].lower() for s in self.subscriptions.values()):
            raise invalid({"contract.name": [f"A subscription named '{contract['name']}' already exists."]})
        self._check_credential_ref(contract.get("credentialId"), "contract.credentialId")
        # CreateSubscriptionContract spells it canShareSchedule; any other field is ignored
        fields = {"name": contract["name"], "credentialId": contract.get("credentialId"),
                  "canShareSchedules": contract.get("canShareSchedule") is True}
        sub = self.add_subscription(fields, actor)
        full = dict(sub, expDate=sub["expirationDate"], credentials=[], dataConnections=[])
        return project(full, "Subscription")

    def list_subscriptions(self, actor: dict, name: str | None = None,
                           canShareSchedule: bool | None = None,
                           defaultWorkflowCredentialId: str | None = None,
                           userCountGreaterThanEquals: int | None = None,
                           userCountLessThanEquals: int | None = None,
                           workflowCountGreaterThanEquals: int | None = None,
                           workflowCountLessThanEquals: int | None = None) -> list[dict]:
        out = []
        for sub in self.subscriptions.values():
            users, workflows = self._sub_members(sub["id"])
            nu, nw = len(users), len(workflows)
            if name and name.lower() not in sub["name"].lower():
                continue
            if canShareSchedule is not None and sub["canShareSchedules"] != canShareSchedule:
                continue
            if defaultWorkflowCredentialId and sub["credentialId"] != defaultWorkflowCredentialId:
                continue
            if userCountGreaterThanEquals is not None and nu < userCountGreaterThanEquals:
                continue
            if userCountLessThanEquals is not None and nu > userCountLessThanEquals:
                continue
            if workflowCountGreaterThanEquals is not None and nw < workflowCountGreaterThanEquals:
                continue
            if workflowCountLessThanEquals is not None and nw > workflowCountLessThanEquals:
                continue
            out.append(project(dict(sub, userCount=nu, workflowCount=nw), "SubscriptionUserWorkflowCountView"))
        return out

    def get_subscription(self, actor: dict, sub_id: str) -> dict:
        sub = self.subscription(sub_id)
        users, workflows = self._sub_members(sub_id)
        return project(dict(sub,
                            users=[{"id": u["id"], "name": f"{u['firstName']} {u['lastName']}".strip()}
                                   for u in users],
                            workflows=[{"id": w["id"], "name": w["name"]} for w in workflows]),
                       "SubscriptionUserWorkflowDetailsView")

    def update_subscription(self, actor: dict, sub_id: str, contract: Any) -> dict:
        sub = self.subscription(sub_id)
        check(contract, {"$ref": "UpdateSubscriptionContract"}, "subscription")
        self._check_credential_ref(contract.get("credentialId"), "subscription.credentialId")
        keys = ("name", "credentialId", "canShareSchedules")
        before = {k: sub[k] for k in keys}
        for k in keys:
            sub[k] = contract[k]
        sub["dateUpdated"] = self.now_iso()
        self.record("Subscription", sub_id, "Update", actor, before, {k: sub[k] for k in keys})
        return project(sub, "SubscriptionView")

    def delete_subscription(self, actor: dict, subscriptionId: str | None = None) -> None:
        if not subscriptionId:
            raise invalid({"subscriptionId": ["The subscriptionId query parameter is required."]})
        sub = self.subscription(subscriptionId)
        users, workflows = self._sub_members(subscriptionId)
        if users or workflows:
            raise BadRequest("The subscription still has users or workflows and cannot be deleted.")
        del self.subscriptions[subscriptionId]
        self.record("Subscription", subscriptionId, "Delete", actor, {"name": sub["name"]}, None)

    def change_users_subscription(self, actor: dict, sub_id: str, contract: Any) -> None:
        self.subscription(sub_id)
        check(contract, {"$ref": "ChangeUsersSubscriptionContract"}, "contract")
        unknown = [u for u in contract["userIds"] if u not in self.users]
        if unknown:
            raise invalid({"contract.userIds": [f"User '{u}' was not found." for u in unknown]})
        for uid in contract["userIds"]:
            user = self.users[uid]
            if user["subscriptionId"] != sub_id:
                before = {"subscriptionId": user["subscriptionId"]}
                user["subscriptionId"] = sub_id
                self.record("User", uid, "Update", actor, before, {"subscriptionId": sub_id})


def _validate_plain(contract: Any, definition: str) -> list[str]:
    from ... import schemas

    return schemas.validate(contract, {"$ref": definition}, "contract")


__all__ = ["People", "USER_DEFAULTS", "Unauthorized"]
