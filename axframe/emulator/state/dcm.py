"""Data Connection Manager (DCM) connections and connection-handling rules.

DCM objects carry GUIDs, not 24-hex ids.  Secret values are stored but never
returned: views hold only a secret's expiry and parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .actor import Actor
from .core import Created, Invalid, NotFound, Record, project
from .store import Store

__all__ = ["Dcm", "DcmFields"]


@dataclass(frozen=True)
class DcmFields:
    """A connection as an upsert sends it (``id`` given: an update of that connection)."""

    name: str
    schema_name: str
    parameters: dict
    data_source: dict
    credentials: dict
    id: str | None = None
    allow_in_sdks: bool | None = None


class Dcm:
    """DCM connections and rules.  Uses the store's users and groups; no other family."""

    def __init__(self, store: Store):
        self.store = store

    # ----------------------------------------------------------------- views
    def _user_ref(self, user_id: str) -> Record:
        return {"id": user_id, "email": self.store.users.get(user_id, {}).get("email", "")}

    def _group_ref(self, group_id: str) -> Record:
        return {"id": group_id, "name": self.store.groups.get(group_id, {}).get("name", "")}

    def view(self, conn: Record) -> Record:
        """The ``DCMEGetConnectionView``: secrets reduced to their expiry and parameters."""
        execution = conn["sharing"]["execution"]
        credentials = {}
        for key, cred in conn["credentials"].items():
            secrets = {name: {k: v for k, v in (("expiresOn", s.get("expiresOn")),
                                                ("parameters", s.get("parameters") or {})) if v is not None}
                       for name, s in (cred.get("secrets") or {}).items() if isinstance(s, dict)}
            credentials[key] = dict(project(cred, "DCMECredentialView"), secrets=secrets)
        full = dict(conn, owner=self._user_ref(conn["ownerId"]),
                    sharing={"execution": {"users": [self._user_ref(u) for u in execution["userIds"]],
                                           "userGroups": [self._group_ref(g) for g in execution["userGroupIds"]]},
                             "collaboration": self._collaboration_view(conn)},
                    credentials=credentials)
        return project(full, "DCMEGetConnectionView")

    def _collaboration_view(self, conn: Record) -> Record:
        collaboration = conn["sharing"]["collaboration"]
        return {"borrowedCredentials": [], "sharedCredentials": list(collaboration["sharedCredentials"]),
                "users": [self._user_ref(u) for u in collaboration["userIds"]],
                "userGroups": [self._group_ref(g) for g in collaboration["userGroupIds"]]}

    def _can_see(self, viewer_id: str, conn: Record) -> bool:
        if conn["ownerId"] == viewer_id:
            return True
        groups = self.store.groups_of(viewer_id)
        return any(viewer_id in share["userIds"] or groups & set(share["userGroupIds"])
                   for share in (conn["sharing"]["execution"], conn["sharing"]["collaboration"]))

    def _any(self, connection_id: Any) -> Record:
        return self.store.find(self.store.dcm_connections, connection_id, "DCM connection")

    def _own(self, actor: Actor, connection_id: Any, *, visible: bool = False) -> Record:
        conn = self._any(connection_id)
        allowed = self._can_see(actor.id, conn) if visible else conn["ownerId"] == actor.id
        if not allowed:
            raise NotFound(f"DCM connection '{connection_id}' does not exist or access is denied.")
        return conn

    # ------------------------------------------------------------ connections
    def add_connection(self, contract: dict, owner_id: str) -> Record:
        """Store a connection from an upsert contract (the Server's names) for *owner_id*."""
        store = self.store
        now = store.now_iso()
        data_source = dict(contract["dataSource"]["object"])
        data_source.setdefault("id", store.new_guid())
        credentials = _credential_objects(contract.get("credentials"))
        for cred in credentials.values():
            cred.setdefault("id", store.new_guid())
        conn = {"id": contract.get("id") or store.new_guid(), "name": contract["name"],
                "schemaName": contract["schemaName"], "allowInSdks": bool(contract.get("allowInSdks", False)),
                "parameters": contract.get("parameters") or {}, "dataSource": data_source,
                "credentials": credentials, "ownerId": owner_id, "createdOn": now, "lastChangedOn": now,
                "connectionId": contract.get("connectionId") or store.new_id(), "assignedConnectionIds": [],
                "sharing": {"execution": {"userIds": [], "userGroupIds": []},
                            "collaboration": {"userIds": [], "userGroupIds": [], "sharedCredentials": []}}}
        store.dcm_connections[conn["id"]] = conn
        return conn

    def _upsert(self, actor: Actor, owner_id: str, fields: DcmFields, admin: bool) -> Record | Created:
        self.store.require(self.store.users, owner_id, "ownerId", "User")
        contract = {"id": fields.id, "name": fields.name, "schemaName": fields.schema_name,
                    "allowInSdks": fields.allow_in_sdks, "parameters": fields.parameters,
                    "dataSource": fields.data_source, "credentials": fields.credentials}
        if not fields.id:
            return Created(self.view(self.add_connection(contract, owner_id)))
        conn = self._any(fields.id) if admin else self._own(actor, fields.id)
        credentials = _credential_objects(fields.credentials)  # checked before anything changes
        for key in ("name", "schemaName", "allowInSdks", "parameters"):
            if contract[key] is not None:
                conn[key] = contract[key]
        conn["dataSource"] = dict(conn["dataSource"], **fields.data_source["object"])
        for key, cred in credentials.items():
            cred.setdefault("id", conn["credentials"].get(key, {}).get("id") or self.store.new_guid())
            conn["credentials"][key] = cred
        conn["ownerId"] = owner_id
        conn["lastChangedOn"] = self.store.now_iso()
        return self.view(conn)

    def upsert(self, actor: Actor, *, fields: DcmFields) -> Record | Created:
        """``POST /v3/dcm/connections``: create one for the caller, or update one they own."""
        return self._upsert(actor, actor.id, fields, admin=False)

    def upsert_admin(self, actor: Actor, *, owner_id: str, fields: DcmFields) -> Record | Created:
        """``POST /v3/dcm/admin/connections``: create or update any connection, for *owner_id*."""
        return self._upsert(actor, owner_id, fields, admin=True)

    def get(self, actor: Actor, id: str) -> Record:
        return self.view(self._own(actor, id, visible=True))

    def get_admin(self, actor: Actor, id: str) -> Record:
        return self.view(self._any(id))

    def _delete(self, conn: Record) -> Record:
        del self.store.dcm_connections[conn["id"]]
        now = self.store.now_iso()
        return project({"deletedConnections": [{"id": conn["id"], "deletedOn": now}],
                        "deletedDataSources": [{"id": conn["dataSource"]["id"], "deletedOn": now}],
                        "deletedCredentials": [{"id": c["id"], "deletedOn": now} for c in conn["credentials"].values()]},
                       "DCMEDeleteConnectionView")

    def delete(self, actor: Actor, id: str) -> Record:
        return self._delete(self._own(actor, id))

    def delete_admin(self, actor: Actor, id: str) -> Record:
        return self._delete(self._any(id))

    def lookup(self, actor: Actor, *, connection_id: str | None = None) -> Record:
        """``GET /v3/dcm/connections/lookup``: by the connection id, among those the caller sees."""
        if not connection_id:
            raise Invalid.required("connectionId")
        for conn in self.store.dcm_connections.values():
            if conn["connectionId"] == connection_id and self._can_see(actor.id, conn):
                return self.view(conn)
        raise NotFound(f"No DCM connection with connection id '{connection_id}'.")

    def list_admin(self, actor: Actor, *, connection_id: str | None = None, visible_by: str | None = None) -> list:
        """``GET /v3/dcm/admin/connections``: all, or those one connection id names, or one user sees."""
        conns = list(self.store.dcm_connections.values())
        if connection_id:
            conns = [c for c in conns if connection_id in (c["connectionId"], c["id"])]
        if visible_by:
            viewer = self.store.user(visible_by)
            conns = [c for c in conns if self._can_see(viewer["id"], c)]
        return [self.view(c) for c in conns]

    def _members(self, user_ids: list[str], user_group_ids: list[str]) -> None:
        problems = {}
        for key, ids, table in (("userIds", user_ids, self.store.users), ("userGroupIds", user_group_ids,
                                                                          self.store.groups)):
            unknown = [m for m in ids if m not in table]
            if unknown:
                problems[key] = [f"'{m}' was not found." for m in unknown]
        if problems:
            raise Invalid(problems)

    def share_execution(self, actor: Actor, id: str, *, user_ids: list[str], user_group_ids: list[str]) -> None:
        conn = self._own(actor, id)
        self._members(user_ids, user_group_ids)
        conn["sharing"]["execution"] = {"userIds": list(user_ids), "userGroupIds": list(user_group_ids)}

    def share_collaboration(self, actor: Actor, id: str, *, shared_credentials: list[str], user_ids: list[str],
                            user_group_ids: list[str]) -> Record:
        conn = self._own(actor, id)
        self._members(user_ids, user_group_ids)
        unknown = [c for c in shared_credentials if c not in conn["credentials"]]
        if unknown:
            raise Invalid({"sharedCredentials": [f"'{c}' is not a credential of this connection." for c in unknown]})
        conn["sharing"]["collaboration"] = {"userIds": list(user_ids), "userGroupIds": list(user_group_ids),
                                            "sharedCredentials": list(shared_credentials)}
        return project(self._collaboration_view(conn), "DCMESharingForCollaborationView")

    @staticmethod
    def _unshare(conn: Record, mode: str) -> None:
        empty: dict[str, list] = {"userIds": [], "userGroupIds": []}
        if mode == "collaboration":
            empty["sharedCredentials"] = []
        conn["sharing"][mode] = empty

    def unshare(self, actor: Actor, id: str, *, mode: str) -> None:
        self._unshare(self._own(actor, id), mode)

    def unshare_admin(self, actor: Actor, id: str, *, mode: str) -> None:
        self._unshare(self._any(id), mode)

    def for_connect(self, actor: Actor, connection_id: str) -> Record:
        conn = self._any(connection_id)
        return project({"objectId": conn["id"], "name": conn["name"], "dataSource": conn["dataSource"]},
                       "DCMEGetConnectionForConnectView")

    # -------------------------------------------------------- handling rules
    def _rule(self, rule_id: Any) -> Record:
        return self.store.find(self.store.dcm_rules, rule_id, "Connection-handling rule")

    def _rule_view(self, rule: Record) -> Record:
        return project(dict(rule, createdBy=self._user_ref(rule["createdBy"])), "DCMEConnectionHandlingRuleView")

    def list_rules(self, actor: Actor) -> list[Record]:
        return [self._rule_view(r) for r in self.store.dcm_rules.values()]

    def get_rule(self, actor: Actor, id: str) -> Record:
        return self._rule_view(self._rule(id))

    def upsert_rule(self, actor: Actor, *, source_connection_id: str, id: str | None = None,
                    source_connection_title: str | None = None, target_connection_id: str | None = None,
                    target_connection_title: str | None = None) -> Record | Created:
        """``POST /v3/dcm/admin/connectionhandlingrules``: create one, or update the one *id* names."""
        now = self.store.now_iso()
        fields = {"sourceConnectionId": source_connection_id or "",
                  "sourceConnectionTitle": source_connection_title or "",
                  "targetConnectionId": target_connection_id or "", "targetConnectionTitle": target_connection_title or ""}
        if id:
            rule = self._rule(id)
            rule.update(fields, lastChangedOn=now)
            return self._rule_view(rule)
        rule = dict(fields, id=self.store.new_guid(), createdBy=actor.id, createdOn=now, lastChangedOn=now)
        self.store.dcm_rules[rule["id"]] = rule
        return Created(self._rule_view(rule))

    def delete_rule(self, actor: Actor, id: str) -> Record:
        self._rule(id)
        del self.store.dcm_rules[id]
        return {"id": id, "deletedOn": self.store.now_iso()}


def _credential_objects(credentials: Any) -> dict[str, dict]:
    """Copies of the credentials map's inner objects, by key.

    Validation already refuses a null entry; this refuses it the same way should
    one ever get this far (a seed, a direct call).
    """
    out: dict[str, dict] = {}
    for key, wrapper in (credentials or {}).items():
        inner = wrapper.get("object") if isinstance(wrapper, dict) else None
        if not isinstance(inner, dict):
            raise Invalid.field(f"credentials.{key}", "Must not be null.")
        out[key] = dict(inner)
    return out
