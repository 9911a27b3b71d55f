"""Collections: who may use which workflows and schedules, with what permissions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .actor import Actor
from .core import Created, Denied, Invalid, NotEmpty, NotFound, Record, Refused, parse_time, project
from .store import Store

__all__ = ["Sharing", "PERMISSION_KEYS", "permissions"]

PERMISSION_KEYS = ("isAdmin", "canAddAssets", "canRemoveAssets", "canUpdateAssets", "canAddUsers",
                   "canRemoveUsers")


def permissions(given: dict | None) -> dict[str, bool]:
    """Every collection permission, those not given off."""
    given = given or {}
    return {k: bool(given.get(k, False)) for k in PERMISSION_KEYS}


class Sharing:
    """Collections and their members.  Uses the store's users, groups, workflows, schedules; no other family."""

    def __init__(self, store: Store):
        self.store = store

    # records ---------------------------------------------------------------------------
    def add_collection(self, fields: dict, actor: Actor | None) -> Record:
        """Store a collection from its fields (already checked)."""
        store = self.store
        col = {"id": fields.get("id") or store.new_id(), "name": fields["name"],
               "ownerId": fields.get("ownerId") or (actor.id if actor else ""),
               "dateAdded": store.now_iso(), "users": {}, "groups": {},
               "workflowIds": [], "scheduleIds": [], "subscriptionIds": []}
        store.collections[col["id"]] = col
        store.record("Collection", col["id"], "Insert", actor, None, {"name": col["name"], "ownerId": col["ownerId"]})
        return col

    def collection_view(self, col: Record) -> Record:
        full = dict(col, users=[{"userId": uid} for uid in col["users"]], userGroupIds=list(col["groups"]))
        return project(full, "CollectionView")

    def collections_of(self, user_id: str) -> list[Record]:
        """The collections *user_id* owns or is in, directly or through a group."""
        groups = self.store.groups_of(user_id)
        return [c for c in self.store.collections.values()
                if user_id in c["users"] or c["ownerId"] == user_id or groups & set(c["groups"])]

    def _member_entry(self, actor: Actor, collections_permissions: dict, expiration_date: str | None) -> dict:
        if expiration_date:
            parse_time(expiration_date, "expirationDate")
        return {"permissions": permissions(collections_permissions), "expirationDate": expiration_date,
                "dateAdded": self.store.now_iso(), "addedBy": actor.id}

    # operations ------------------------------------------------------------------------
    def list_collections(self, actor: Actor, *, view: str | None = None) -> list[Record]:
        reduced = [project(c, "ReducedCollectionView") for c in self.store.collections.values()]
        if view != "Full":
            return reduced
        return [dict(r, **self.collection_view(c)) for r, c in zip(reduced, self.store.collections.values())]

    def get_collection(self, actor: Actor, collection_id: str) -> Record:
        return self.collection_view(self.store.collection(collection_id))

    def create_collection(self, actor: Actor, *, name: str) -> Created:
        """``POST /v3/collections``: needs the Create Collections permission; answers the new id."""
        if not actor.can_create_collections:
            raise Denied("You do not have the Create Collections permission.")
        if not name.strip():
            raise Invalid.field("name", "The name must not be empty.")
        return Created(self.add_collection({"name": name}, actor)["id"])

    def update_collection(self, actor: Actor, collection_id: str, *, name: str, owner_id: str) -> Record:
        col = self.store.collection(collection_id)
        self.store.require(self.store.users, owner_id, "ownerId", "User")
        before = {"name": col["name"], "ownerId": col["ownerId"]}
        col["name"], col["ownerId"] = name, owner_id
        self.store.record("Collection", collection_id, "Update", actor, before, {"name": name, "ownerId": owner_id})
        return self.collection_view(col)

    def delete_collection(self, actor: Actor, collection_id: str, *, force_delete: bool | None = None) -> None:
        """``DELETE /v3/collections/{id}``: one with members or assets only with ``forceDelete``."""
        col = self.store.collection(collection_id)
        if (col["users"] or col["groups"] or col["workflowIds"] or col["scheduleIds"]) and not force_delete:
            raise NotEmpty("The collection is not empty; use forceDelete=true to delete it anyway.")
        del self.store.collections[collection_id]
        self.store.record("Collection", collection_id, "Delete", actor,
                          {"name": col["name"], "ownerId": col["ownerId"]}, None)

    def add_user(self, actor: Actor, collection_id: str, *, user_id: str, collections_permissions: dict,
                 expiration_date: str | None = None) -> Record:
        col = self.store.collection(collection_id)
        self.store.require(self.store.users, user_id, "userId", "User")
        if user_id in col["users"]:
            raise Refused(f"User '{user_id}' is already in the collection.")
        col["users"][user_id] = self._member_entry(actor, collections_permissions, expiration_date)
        self.store.record("Collection", collection_id, "Update", actor, {}, {"addedUserId": user_id})
        return self.collection_view(col)

    def add_group(self, actor: Actor, collection_id: str, *, user_group_id: str, collections_permissions: dict,
                  expiration_date: str | None = None) -> Record:
        col = self.store.collection(collection_id)
        self.store.require(self.store.groups, user_group_id, "userGroupId", "User group")
        if user_group_id in col["groups"]:
            raise Refused(f"User group '{user_group_id}' is already in the collection.")
        col["groups"][user_group_id] = self._member_entry(actor, collections_permissions, expiration_date)
        self.store.record("Collection", collection_id, "Update", actor, {}, {"addedUserGroupId": user_group_id})
        return self.collection_view(col)

    def _add_asset(self, actor: Actor, collection_id: str, key: str, asset_id: str, field: str,
                   table: dict[str, Record], what: str) -> Record:
        col = self.store.collection(collection_id)
        self.store.require(table, asset_id, field, what)
        if asset_id in col[key]:
            raise Refused(f"{what} '{asset_id}' is already in the collection.")
        col[key].append(asset_id)
        self.store.record("Collection", collection_id, "Update", actor, {}, {f"added{field[0].upper()}{field[1:]}":
                                                                              asset_id})
        return self.collection_view(col)

    def add_workflow(self, actor: Actor, collection_id: str, *, workflow_id: str) -> Record:
        return self._add_asset(actor, collection_id, "workflowIds", workflow_id, "workflowId",
                               self.store.workflows, "Workflow")

    def add_schedule(self, actor: Actor, collection_id: str, *, schedule_id: str) -> Record:
        return self._add_asset(actor, collection_id, "scheduleIds", schedule_id, "scheduleId",
                               self.store.schedules, "Schedule")

    def _update_permissions(self, actor: Actor, collection_id: str, key: str, member_id: str, label: str,
                            lookup: Callable[[Any], Record], collections_permissions: dict,
                            expiration_date: str | None) -> Record:
        col = self.store.collection(collection_id)
        if member_id not in col[key]:
            lookup(member_id)  # NotFound when there is no such member at all
            what = "User" if key == "users" else "User group"
            raise NotFound(f"{what} '{member_id}' is not in the collection.")
        entry = col[key][member_id]
        before = dict(entry["permissions"])
        entry.update(self._member_entry(actor, collections_permissions, expiration_date))
        self.store.record("Collection", collection_id, "Update", actor, {f"{label}:{member_id}": before},
                          {f"{label}:{member_id}": entry["permissions"]})
        return self.collection_view(col)

    def update_user_permissions(self, actor: Actor, collection_id: str, user_id: str, *,
                                collections_permissions: dict, expiration_date: str | None = None) -> Record:
        return self._update_permissions(actor, collection_id, "users", user_id, "user", self.store.user,
                                        collections_permissions, expiration_date)

    def update_group_permissions(self, actor: Actor, collection_id: str, user_group_id: str, *,
                                 collections_permissions: dict, expiration_date: str | None = None) -> Record:
        return self._update_permissions(actor, collection_id, "groups", user_group_id, "group", self.store.group,
                                        collections_permissions, expiration_date)

    def _remove(self, actor: Actor, collection_id: str, key: str, member_id: str, label: str,
                lookup: Callable[[Any], Record]) -> Record:
        col = self.store.collection(collection_id)
        members = col[key]
        if member_id not in members:
            lookup(member_id)  # NotFound when there is no such member at all
            raise NotFound(f"'{member_id}' is not in the collection.")
        if isinstance(members, dict):
            del members[member_id]
        else:
            members.remove(member_id)
        self.store.record("Collection", collection_id, "Update", actor, {f"removed:{label}": member_id}, {})
        return self.collection_view(col)

    def remove_user(self, actor: Actor, collection_id: str, user_id: str) -> Record:
        return self._remove(actor, collection_id, "users", user_id, "userId", self.store.user)

    def remove_group(self, actor: Actor, collection_id: str, user_group_id: str) -> Record:
        return self._remove(actor, collection_id, "groups", user_group_id, "userGroupId", self.store.group)

    def remove_workflow(self, actor: Actor, collection_id: str, workflow_id: str) -> Record:
        return self._remove(actor, collection_id, "workflowIds", workflow_id, "workflowId", self.store.workflow)

    def remove_schedule(self, actor: Actor, collection_id: str, schedule_id: str) -> Record:
        return self._remove(actor, collection_id, "scheduleIds", schedule_id, "scheduleId", self.store.schedule)
