"""Subscriptions (studios): who belongs to which, and their shared settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .actor import Actor
from .core import Created, Invalid, NotEmpty, Record, project
from .store import Store

__all__ = ["Studios"]


class Studios:
    """Subscriptions.  Uses the store's ``users`` and ``workflows`` to count members; no other family."""

    def __init__(self, store: Store):
        self.store = store

    # records -------------------------------------------------------------------------
    def add(self, fields: dict, actor: Actor | None) -> Record:
        """Store a subscription from its stored fields (``canShareSchedules``, as seeds spell it)."""
        store = self.store
        sub = {"id": fields.get("id") or store.new_id(), "name": fields["name"],
               "canShareSchedules": bool(fields.get("canShareSchedules", False)),
               "credentialId": fields.get("credentialId") or "", "active": True,
               "apiEnabled": True, "apiKey": store.new_secret(16), "apiSecret": store.new_secret(32),
               "dateCreated": store.now_iso(), "dateUpdated": store.now_iso(),
               "expirationDate": "2099-12-31T00:00:00.000Z"}
        store.subscriptions[sub["id"]] = sub
        store.record("Subscription", sub["id"], "Insert", actor, None,
                     {"name": sub["name"], "canShareSchedules": sub["canShareSchedules"],
                      "credentialId": sub["credentialId"]})
        return sub

    def default_id(self) -> str:
        """The subscription new users join when none is named (made on first need)."""
        if not self.store.subscriptions:
            return self.add({"name": "Default"}, None)["id"]
        return next(iter(self.store.subscriptions))

    def members(self, sub_id: str) -> tuple[list[Record], list[Record]]:
        """The users of a subscription, and the workflows they own."""
        users = [u for u in self.store.users.values() if u.get("subscriptionId") == sub_id]
        user_ids = {u["id"] for u in users}
        workflows = [w for w in self.store.workflows.values() if w["ownerId"] in user_ids]
        return users, workflows

    def _credential(self, credential_id: str | None) -> None:
        if credential_id:
            self.store.require(self.store.credentials, credential_id, "credentialId", "Credential")

    # operations ----------------------------------------------------------------------
    def create(self, actor: Actor, *, name: str, can_share_schedule: bool | None = None,
               credential_id: str | None = None) -> Created:
        """``POST /v3/subscriptions``: names are unique (any letter case)."""
        if any(s["name"].lower() == name.lower() for s in self.store.subscriptions.values()):
            raise Invalid.field("name", f"A subscription named '{name}' already exists.")
        self._credential(credential_id)
        # CreateSubscriptionContract spells it canShareSchedule; the plural is not its field
        sub = self.add({"name": name, "credentialId": credential_id, "canShareSchedules": can_share_schedule is True},
                       actor)
        full = dict(sub, expDate=sub["expirationDate"], credentials=[], dataConnections=[])
        return Created(project(full, "Subscription"))

    def listing(self, actor: Actor, *, name: str | None = None, can_share_schedule: bool | None = None,
             default_workflow_credential_id: str | None = None,
             user_count_greater_than_equals: int | None = None, user_count_less_than_equals: int | None = None,
             workflow_count_greater_than_equals: int | None = None,
             workflow_count_less_than_equals: int | None = None) -> list[Record]:
        """``GET /v3/subscriptions`` with its filters (all optional, all must hold)."""
        def at_least(bound: int | None) -> Callable[[int], bool]:
            return lambda n: bound is None or n >= bound

        def at_most(bound: int | None) -> Callable[[int], bool]:
            return lambda n: bound is None or n <= bound

        counts = (at_least(user_count_greater_than_equals), at_most(user_count_less_than_equals))
        workflows = (at_least(workflow_count_greater_than_equals), at_most(workflow_count_less_than_equals))
        out = []
        for sub in self.store.subscriptions.values():
            users, owned = self.members(sub["id"])
            keep = (not name or name.lower() in sub["name"].lower()) \
                and (can_share_schedule is None or sub["canShareSchedules"] == can_share_schedule) \
                and (not default_workflow_credential_id or sub["credentialId"] == default_workflow_credential_id) \
                and all(test(len(users)) for test in counts) and all(test(len(owned)) for test in workflows)
            if keep:
                out.append(project(dict(sub, userCount=len(users), workflowCount=len(owned)),
                                   "SubscriptionUserWorkflowCountView"))
        return out

    def get(self, actor: Actor, subscription_id: str) -> Record:
        """``GET /v3/subscriptions/{id}``: with its users and their workflows."""
        sub = self.store.subscription(subscription_id)
        users, workflows = self.members(subscription_id)
        return project(dict(sub,
                            users=[{"id": u["id"], "name": f"{u['firstName']} {u['lastName']}".strip()}
                                   for u in users],
                            workflows=[{"id": w["id"], "name": w["name"]} for w in workflows]),
                       "SubscriptionUserWorkflowDetailsView")

    def update(self, actor: Actor, subscription_id: str, *, name: str, credential_id: str,
               can_share_schedules: bool) -> Record:
        """``PUT /v3/subscriptions/{id}``: the whole record (UpdateSubscriptionContract spells it plural)."""
        sub = self.store.subscription(subscription_id)
        self._credential(credential_id)
        keys = ("name", "credentialId", "canShareSchedules")
        before = {k: sub[k] for k in keys}
        sub.update(name=name, credentialId=credential_id, canShareSchedules=can_share_schedules,
                   dateUpdated=self.store.now_iso())
        self.store.record("Subscription", subscription_id, "Update", actor, before, {k: sub[k] for k in keys})
        return project(sub, "SubscriptionView")

    def delete(self, actor: Actor, *, subscription_id: str | None = None) -> None:
        """``DELETE /v3/subscriptions?subscriptionId=``: only an empty one."""
        if not subscription_id:
            raise Invalid.required("subscriptionId")
        sub = self.store.subscription(subscription_id)
        users, workflows = self.members(subscription_id)
        if users or workflows:
            raise NotEmpty("The subscription still has users or workflows and cannot be deleted.")
        del self.store.subscriptions[subscription_id]
        self.store.record("Subscription", subscription_id, "Delete", actor, {"name": sub["name"]}, None)

    def move_users(self, actor: Actor, subscription_id: str, *, user_ids: list[str]) -> None:
        """``PUT /v3/subscriptions/{id}/users``: every user must exist, or none moves."""
        self.store.subscription(subscription_id)
        unknown = [u for u in user_ids if u not in self.store.users]
        if unknown:
            raise Invalid({"userIds": [f"User '{u}' was not found." for u in unknown]})
        for uid in user_ids:
            user = self.store.users[uid]
            if user["subscriptionId"] != subscription_id:
                before: dict[str, Any] = {"subscriptionId": user["subscriptionId"]}
                user["subscriptionId"] = subscription_id
                self.store.record("User", uid, "Update", actor, before, {"subscriptionId": subscription_id})
