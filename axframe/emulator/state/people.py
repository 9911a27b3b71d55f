"""Users and user groups."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .actor import Actor
from .core import Conflict, Created, Forbidden, Invalid, NotEmpty, NotFound, Record, Refused, parse_time, project, wire
from .store import Store
from .studios import Studios
from .tokens import Auth

if TYPE_CHECKING:  # pragma: no cover - only for the annotations
    from .credentials import Credentials
    from .workflows import Workflows

__all__ = ["People", "UserSettings", "USER_DEFAULTS"]

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


WINDOWS_NO_CREATE = ("Users cannot be created through the API on a Server that uses Windows authentication; "
                     "they are added from Active Directory when they first sign in.")
WINDOWS_NO_PASSWORD = "Passwords of a Server that uses Windows authentication are managed in Active Directory."


@dataclass(frozen=True)
class UserSettings:
    """A user's settings and permissions as a create or update sends them (``None``: not sent)."""

    default_worker_tag: str | None = None
    can_schedule_jobs: bool | None = None
    can_prioritize_jobs: bool | None = None
    can_assign_jobs: bool | None = None
    can_create_collections: bool | None = None
    is_api_enabled: bool | None = None
    default_credential_id: str | None = None
    is_account_locked: bool | None = None
    is_active: bool | None = None
    is_validated: bool | None = None
    time_zone: str | None = None
    language: str | None = None
    can_create_and_update_dcm: bool | None = None
    can_share_for_execution_dcm: bool | None = None
    can_share_for_collaboration_dcm: bool | None = None
    can_manage_generic_vaults_dcm: bool | None = None


def _snapshot(record: dict, keys: tuple[str, ...]) -> dict:
    return {k: record.get(k) for k in keys}


class People:
    """Users and user groups.

    Uses :class:`Studios` (the default studio of a new user), :class:`Auth`
    (a removed user's tokens), :class:`Credentials` (what is shared with a
    user) and :class:`Workflows` (transferring a user's workflows).
    """

    def __init__(self, store: Store, *, studios: Studios, auth: Auth, credentials: Credentials,
                 workflows: Workflows):
        self.store = store
        self.studios = studios
        self.auth = auth
        self.credentials = credentials
        self.workflows = workflows

    # ------------------------------------------------------------------ users
    def add_user(self, fields: dict, actor: Actor | None = None) -> Record:
        """Create a user record from *fields* (stored names; already checked)."""
        store = self.store
        user = dict(USER_DEFAULTS)
        user.update({k: v for k, v in fields.items() if v is not None})
        user["id"] = fields.get("id") or store.new_id()
        user.setdefault("dateCreated", store.now_iso())
        if not user.get("subscriptionId"):
            user["subscriptionId"] = self.studios.default_id()
        if user.get("isApiEnabled") and not user.get("apiKey"):
            user["apiKey"], user["apiSecret"] = store.new_secret(16), store.new_secret(32)
        store.users[user["id"]] = user
        store.record("User", user["id"], "Insert", actor, None, _snapshot(user, _USER_AUDITED))
        return user

    # ------------------------------------------------------- Windows authentication
    def _new_sid(self) -> str:
        rng = self.store.rng
        return f"S-1-5-21-{rng.randrange(10**9, 4 * 10**9)}-{rng.randrange(10**9, 4 * 10**9)}-" \
               f"{rng.randrange(10**9, 4 * 10**9)}-{rng.randrange(1000, 100000)}"

    def from_directory(self) -> None:
        """Make every user a directory account (an Active Directory SID), as on a Windows-auth Server."""
        for user in list(self.store.users.values()):
            if not user.get("sId"):
                user["sId"] = self._new_sid()

    def directory_sign_in(self, email: str, first_name: str, last_name: str) -> Record:
        """A directory account signs in for the first time: the Server adds it as a user (role Evaluated,
        the Server's default), or finds the user it already is."""
        found = self.store.users.with_email(email)
        if found:
            return found[0]
        return self.add_user({"firstName": first_name, "lastName": last_name, "email": email, "role": "Evaluated",
                              "sId": self._new_sid()}, None)

    def user_view(self, user: Record) -> Record:
        full = dict(user, sharedCredentialIds=self.credentials.shared_with(user["id"]),
                    dataConnectionIds=[c["id"] for c in self.store.data_connections.values()
                                       if user["id"] in c["userIds"]])
        return project(full, "UserView")

    def _email_free(self, email: str, except_id: str | None = None) -> None:
        if any(u["id"] != except_id for u in self.store.users.with_email(email)):
            raise Invalid.field("email", f"A user with the email '{email}' already exists.")

    def _credential(self, credential_id: str | None) -> None:
        if credential_id:
            self.store.require(self.store.credentials, credential_id, "defaultCredentialId", "Credential")

    def create_user(self, actor: Actor, *, first_name: str, last_name: str, email: str, role: str | None = None,
                    settings: UserSettings) -> Created:
        """``POST /v3/users``: emails are unique (any letter case); the role defaults to Evaluated.

        Refused (400) on a Windows-authentication Server, whose users come from the directory.
        """
        if self.store.auth_mode == "windows":
            raise Refused(WINDOWS_NO_CREATE)
        self._email_free(email)
        self._credential(settings.default_credential_id)
        fields = dict(wire(settings), firstName=first_name, lastName=last_name, email=email,
                      role=role or "Evaluated")
        return Created(self.user_view(self.add_user(fields, actor)))

    def get_user(self, actor: Actor, user_id: str) -> Record:
        return self.user_view(self.store.user(user_id))

    def list_users(self, actor: Actor, *, view: str | None = None, active: bool | None = None,
                   email: str | None = None, role: str | None = None, first_name: str | None = None,
                   last_name: str | None = None, created_after: str | None = None,
                   created_before: str | None = None) -> list[Record]:
        """``GET /v3/users``: the reduced view unless ``view=Full``; every filter given must hold."""
        after = parse_time(created_after, "createdAfter") if created_after else None
        before = parse_time(created_before, "createdBefore") if created_before else None

        def same(wanted: str | None, key: str) -> Callable[[Record], bool]:
            return lambda u: not wanted or u[key].lower() == wanted.lower()

        def created(u: Record) -> bool:
            if after is None and before is None:
                return True
            when = parse_time(u["dateCreated"], "dateCreated")
            return (after is None or when >= after) and (before is None or when <= before)

        tests = [same(email, "email"), same(first_name, "firstName"), same(last_name, "lastName"),
                 lambda u: active is None or u["isActive"] == active, lambda u: not role or u["role"] == role,
                 created]
        chosen = [u for u in self.store.users.values() if all(test(u) for test in tests)]
        if view == "Full":
            return [self.user_view(u) for u in chosen]
        return [project(u, "ReducedUserView") for u in chosen]

    def update_user(self, actor: Actor, user_id: str, *, email: str, role: str, first_name: str | None = None,
                    last_name: str | None = None, settings: UserSettings) -> Record:
        """``PUT /v3/users/{id}``: the whole record; names must not be empty."""
        user = self.store.user(user_id)
        for name, value in (("firstName", first_name), ("lastName", last_name)):
            if not value:
                raise Invalid.required(name)
        self._email_free(email, except_id=user_id)
        self._credential(settings.default_credential_id)
        before = _snapshot(user, _USER_AUDITED)
        changes = wire(settings)
        if changes.get("defaultCredentialId") == "":
            # an empty id means "none", as the Server stores it (no false audit change from null to "")
            changes["defaultCredentialId"] = None
        user.update(changes, role=role, firstName=first_name, lastName=last_name, email=email)
        self.store.users.reindex(user_id)
        if user["isApiEnabled"] and not user.get("apiKey"):
            user["apiKey"], user["apiSecret"] = self.store.new_secret(16), self.store.new_secret(32)
        self.store.record("User", user_id, "Update", actor, before, _snapshot(user, _USER_AUDITED))
        return self.user_view(user)

    def owned(self, user_id: str) -> dict[str, list[Record]]:
        """The workflows, schedules and collections *user_id* owns."""
        store = self.store
        return {"workflows": [w for w in store.workflows.values() if w["ownerId"] == user_id],
                "schedules": [s for s in store.schedules.values() if s["ownerId"] == user_id],
                "collections": [c for c in store.collections.values() if c["ownerId"] == user_id]}

    def delete_user(self, actor: Actor, user_id: str) -> None:
        """``DELETE /v3/users/{id}``: only a user who owns nothing and is in no group."""
        store = self.store
        user = store.user(user_id)
        if any(self.owned(user_id).values()) or store.groups_of(user_id):
            raise Conflict("The user owns workflows, schedules or collections, or is in a user "
                           "group, and cannot be deleted.")
        del store.users[user_id]
        for collection in store.collections.values():
            collection["users"].pop(user_id, None)
        for shared in (*store.credentials.values(), *store.data_connections.values()):
            if user_id in shared["userIds"]:
                shared["userIds"].remove(user_id)
        self.auth.drop_user(user_id)
        store.record("User", user_id, "Delete", actor, _snapshot(user, _USER_AUDITED), None)

    def assets(self, actor: Actor, user_id: str, *, asset_type: str | None = None) -> Record:
        """``GET /v3/users/{id}/assets``: all, or one kind."""
        self.store.user(user_id)
        owned = self.owned(user_id)
        kind = asset_type or "All"
        out = {key: [{"name": a["name"], "id": a["id"]} for a in owned[key]]
               for key, label in (("workflows", "Workflows"), ("schedules", "Schedules"),
                                  ("collections", "Collections")) if kind in ("All", label)}
        return project(out, "AssetsView")

    def transfer_assets(self, actor: Actor, user_id: str, *, owner_id: str, transfer_workflows: bool,
                        transfer_schedules: bool, transfer_collections: bool) -> list[Record]:
        """``PUT /v3/users/{id}/assetTransfer``: answers the schedules left behind on moved workflows."""
        store = self.store
        if user_id not in store.users:
            raise NotFound(f"User '{user_id}' was not found.")
        if not actor.is_curator and actor.id != user_id:
            raise Forbidden("You can only transfer your own assets.")
        if owner_id not in store.users:
            raise Refused(f"The new owner '{owner_id}' was not found.")
        moved = set()
        if transfer_workflows:
            for wf in [w for w in store.workflows.values() if w["ownerId"] == user_id]:
                self.workflows.set_owner(wf, owner_id, actor)
                moved.add(wf["id"])
        affected = []
        for sched in (s for s in store.schedules.values() if s["ownerId"] == user_id):
            if transfer_schedules:
                sched["ownerId"] = owner_id
            elif sched["workflowId"] in moved:
                affected.append({"affectedScheduleId": sched["id"]})
        if transfer_collections:
            for col in (c for c in store.collections.values() if c["ownerId"] == user_id):
                col["ownerId"] = owner_id
                store.record("Collection", col["id"], "Update", actor, {"ownerId": user_id}, {"ownerId": owner_id})
        return affected

    def deactivate(self, actor: Actor, user_id: str) -> list[str]:
        """``POST /v3/users/{id}/deactivate``: answers the groups the user was taken out of."""
        store = self.store
        user = store.user(user_id)
        removed = sorted(store.groups_of(user_id))
        for gid in removed:
            store.groups[gid]["members"].pop(user_id, None)
        before = _snapshot(user, _USER_AUDITED)
        user["isActive"] = False
        self.auth.drop_user(user_id)
        store.record("User", user_id, "Update", actor, before, _snapshot(user, _USER_AUDITED))
        return removed

    def reset_password(self, actor: Actor, user_id: str) -> None:
        """``POST /v3/users/{id}/passwordReset``: counted as an email sent (refused under Windows authentication)."""
        if self.store.auth_mode == "windows":
            raise Refused(WINDOWS_NO_PASSWORD)
        if not self.store.user(user_id)["isActive"]:
            raise Refused("The user is not active.")
        self.store.counters["password_reset_emails"] += 1

    # ----------------------------------------------------------- user groups
    def _name_free(self, name: str, except_id: str | None = None) -> None:
        lowered = name.lower()
        if any(g["name"].lower() == lowered and g["id"] != except_id for g in self.store.groups.values()):
            raise Invalid.field("name", f"A user group named '{name}' already exists.")

    def add_group(self, fields: dict, actor: Actor | None) -> Record:
        """Store a user group from its fields (already checked)."""
        store = self.store
        group = {"id": fields.get("id") or store.new_id(), "name": fields["name"],
                 "role": fields.get("role", "Viewer"), "dateAdded": store.now_iso(),
                 "members": {}, "adGroups": [], "credentialIds": [], "connectionIds": []}
        store.groups[group["id"]] = group
        store.record("UserGroup", group["id"], "Insert", actor, None, {"name": group["name"], "role": group["role"]})
        return group

    def group_view(self, group: Record) -> Record:
        store = self.store
        members = [{"userId": uid, "dateAddedToGroup": m["dateAdded"], "addedByUserId": m["addedBy"]}
                   for uid, m in group["members"].items()]
        members += [{"activeDirectoryObject": {"sid": sid, "category": "Group", "displayName": sid,
                                               "domainName": "", "sidAccountName": sid},
                     "userId": "", "dateAddedToGroup": group["dateAdded"], "addedByUserId": ""}
                    for sid in group["adGroups"]]
        full = dict(group, members=members,
                    credentialIds=[c["id"] for c in store.credentials.values() if group["id"] in c["userGroupIds"]],
                    connectionIds=[c["id"] for c in store.data_connections.values()
                                   if group["id"] in c["userGroupIds"]])
        return project(full, "UserGroupView")

    def create_group(self, actor: Actor, *, name: str, role: str) -> Created:
        """``POST /v3/usergroups``: names are unique (any letter case)."""
        self._name_free(name)
        return Created(self.add_group({"name": name, "role": role}, actor)["id"])

    def list_groups(self, actor: Actor) -> list[Record]:
        return [project(g, "ReducedUserGroupView") for g in self.store.groups.values()]

    def get_group(self, actor: Actor, user_group_id: str) -> Record:
        return self.group_view(self.store.group(user_group_id))

    def update_group(self, actor: Actor, user_group_id: str, *, name: str, role: str) -> None:
        group = self.store.group(user_group_id)
        self._name_free(name, except_id=user_group_id)
        before = {"name": group["name"], "role": group["role"]}
        group["name"], group["role"] = name, role
        self.store.record("UserGroup", user_group_id, "Update", actor, before, {"name": name, "role": role})

    def delete_group(self, actor: Actor, user_group_id: str, *, force_delete: bool | None = None) -> None:
        """``DELETE /v3/usergroups/{id}``: one with members only with ``forceDelete``."""
        store = self.store
        group = store.group(user_group_id)
        if (group["members"] or group["adGroups"]) and not force_delete:
            raise NotEmpty("The user group is not empty; use forceDelete=true to delete it anyway.")
        del store.groups[user_group_id]
        for collection in store.collections.values():
            collection["groups"].pop(user_group_id, None)
        for shared in (*store.credentials.values(), *store.data_connections.values()):
            if user_group_id in shared["userGroupIds"]:
                shared["userGroupIds"].remove(user_group_id)
        store.record("UserGroup", user_group_id, "Delete", actor, {"name": group["name"], "role": group["role"]},
                     None)

    def add_users(self, actor: Actor, user_group_id: str, *, user_ids: list[str]) -> Record:
        """``POST /v3/usergroups/{id}/users``: unknown or inactive users are reported, not refused."""
        store = self.store
        group = store.group(user_group_id)
        failed: dict[str, str] = {}
        added = 0
        for uid in user_ids:
            user = store.users.get(uid)
            if user is None or not user["isActive"]:
                failed[uid] = "User not found." if user is None else "User is not active."
                continue
            if uid not in group["members"]:
                group["members"][uid] = {"dateAdded": store.now_iso(), "addedBy": actor.id}
                store.record("UserGroup", user_group_id, "Update", actor, {}, {"addedUserId": uid})
            added += 1
        return project({"successfullyAddedUserCount": added, "totalUsersSubmittedCount": len(user_ids),
                        "failedUserReasons": failed or None}, "UserGroupAddedUsersView")

    def remove_user(self, actor: Actor, user_group_id: str, user_id: str) -> Record:
        group = self.store.group(user_group_id)
        if group["members"].pop(user_id, None) is not None:
            self.store.record("UserGroup", user_group_id, "Update", actor, {"removedUserId": user_id}, {})
        return self.group_view(group)

    def add_ad_group(self, actor: Actor, user_group_id: str, *, sid: str) -> None:
        """``POST /v3/usergroups/{id}/activedirectorygroups``: the body is the SID as a JSON string."""
        group = self.store.group(user_group_id)
        if not sid:
            raise Invalid.field("", "The SID must be sent as a JSON string, such as \"S-1-5-21-1\".")
        if not _SID.match(sid):
            raise NotFound(f"Active Directory group '{sid}' was not found.")
        if sid not in group["adGroups"]:
            group["adGroups"].append(sid)
            self.store.record("UserGroup", user_group_id, "Update", actor, {}, {"addedAdGroup": sid})

    def remove_ad_group(self, actor: Actor, user_group_id: str, ad_group_sid: str) -> None:
        group = self.store.group(user_group_id)
        if ad_group_sid not in group["adGroups"]:
            raise Refused(f"Active Directory group '{ad_group_sid}' is not a member of this user group.")
        group["adGroups"].remove(ad_group_sid)
        self.store.record("UserGroup", user_group_id, "Update", actor, {"removedAdGroup": ad_group_sid}, {})
