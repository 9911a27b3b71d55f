"""Data Connection Manager (DCM) connections and connection-handling rules.

DCM objects carry GUIDs, not 24-hex ids.  Secret values are stored but never
returned: views hold only a secret's expiry and parameters.
"""

from __future__ import annotations

import uuid
from typing import Any

from .core import Core, NotFound, check, invalid, project


class Dcm(Core):
    def new_guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # ----------------------------------------------------------------- views
    def _user_ref(self, user_id: str) -> dict:
        user = self.users.get(user_id, {})
        return {"id": user_id, "email": user.get("email", "")}

    def _group_ref(self, group_id: str) -> dict:
        return {"id": group_id, "name": self.groups.get(group_id, {}).get("name", "")}

    def dcm_view(self, conn: dict) -> dict:
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

    def _collaboration_view(self, conn: dict) -> dict:
        collaboration = conn["sharing"]["collaboration"]
        return {"borrowedCredentials": [], "sharedCredentials": list(collaboration["sharedCredentials"]),
                "users": [self._user_ref(u) for u in collaboration["userIds"]],
                "userGroups": [self._group_ref(g) for g in collaboration["userGroupIds"]]}

    def _can_see(self, actor: dict, conn: dict) -> bool:
        if conn["ownerId"] == actor["id"]:
            return True
        groups = self.groups_of(actor["id"])
        for mode in ("execution", "collaboration"):
            share = conn["sharing"][mode]
            if actor["id"] in share["userIds"] or groups & set(share["userGroupIds"]):
                return True
        return False

    def _dcm(self, connection_id: Any) -> dict:
        return self._get(self.dcm_connections, connection_id, "DCM connection")

    def _own_dcm(self, actor: dict, connection_id: Any, *, visible: bool = False) -> dict:
        conn = self._dcm(connection_id)
        allowed = self._can_see(actor, conn) if visible else conn["ownerId"] == actor["id"]
        if not allowed:
            raise NotFound(f"DCM connection '{connection_id}' does not exist or access is denied.")
        return conn

    # ------------------------------------------------------------ operations
    def add_dcm_connection(self, contract: dict, owner_id: str) -> dict:
        now = self.now_iso()
        data_source = dict(contract["dataSource"]["object"])
        data_source.setdefault("id", self.new_guid())
        credentials = _credential_objects(contract)
        for cred in credentials.values():
            cred.setdefault("id", self.new_guid())
        conn = {"id": contract.get("id") or self.new_guid(), "name": contract["name"],
                "schemaName": contract["schemaName"], "allowInSdks": bool(contract.get("allowInSdks", False)),
                "parameters": contract.get("parameters") or {}, "dataSource": data_source,
                "credentials": credentials, "ownerId": owner_id, "createdOn": now, "lastChangedOn": now,
                "connectionId": contract.get("connectionId") or self.new_id(), "assignedConnectionIds": [],
                "sharing": {"execution": {"userIds": [], "userGroupIds": []},
                            "collaboration": {"userIds": [], "userGroupIds": [], "sharedCredentials": []}}}
        self.dcm_connections[conn["id"]] = conn
        return conn

    def upsert_dcm(self, actor: dict, contract: Any, *, admin: bool = False) -> tuple[int, dict]:
        definition = "DCMEUpsertConnectionAdminContract" if admin else "DCMEUpsertConnectionContract"
        check(contract, {"$ref": definition}, "upsertConnectionContract")
        owner_id = contract["ownerId"] if admin else actor["id"]
        if owner_id not in self.users:
            raise invalid({"upsertConnectionContract.ownerId": [f"User '{owner_id}' was not found."]})
        if contract.get("id"):
            conn = self._dcm(contract["id"]) if admin else self._own_dcm(actor, contract["id"])
            credentials = _credential_objects(contract)  # checked before anything changes
            for key in ("name", "schemaName", "allowInSdks", "parameters"):
                if contract.get(key) is not None:
                    conn[key] = contract[key]
            conn["dataSource"] = dict(conn["dataSource"], **contract["dataSource"]["object"])
            for key, cred in credentials.items():
                cred.setdefault("id", conn["credentials"].get(key, {}).get("id") or self.new_guid())
                conn["credentials"][key] = cred
            conn["ownerId"] = owner_id
            conn["lastChangedOn"] = self.now_iso()
            return 200, self.dcm_view(conn)
        return 201, self.dcm_view(self.add_dcm_connection(contract, owner_id))

    def get_dcm(self, actor: dict, connection_id: str, *, admin: bool = False) -> dict:
        conn = self._dcm(connection_id) if admin else self._own_dcm(actor, connection_id, visible=True)
        return self.dcm_view(conn)

    def delete_dcm(self, actor: dict, connection_id: str, *, admin: bool = False) -> dict:
        conn = self._dcm(connection_id) if admin else self._own_dcm(actor, connection_id)
        del self.dcm_connections[connection_id]
        now = self.now_iso()
        return project({"deletedConnections": [{"id": conn["id"], "deletedOn": now}],
                        "deletedDataSources": [{"id": conn["dataSource"]["id"], "deletedOn": now}],
                        "deletedCredentials": [{"id": c["id"], "deletedOn": now}
                                               for c in conn["credentials"].values()]},
                       "DCMEDeleteConnectionView")

    def lookup_dcm(self, actor: dict, connectionId: str | None = None) -> dict:
        if not connectionId:
            raise invalid({"connectionId": ["The connectionId query parameter is required."]})
        for conn in self.dcm_connections.values():
            if conn["connectionId"] == connectionId and self._can_see(actor, conn):
                return self.dcm_view(conn)
        raise NotFound(f"No DCM connection with connection id '{connectionId}'.")

    def list_dcm(self, actor: dict, connectionId: str | None = None, visibleBy: str | None = None) -> list[dict]:
        conns = list(self.dcm_connections.values())
        if connectionId:
            conns = [c for c in conns if connectionId in (c["connectionId"], c["id"])]
        if visibleBy:
            viewer = self.user(visibleBy)
            conns = [c for c in conns if self._can_see(viewer, c)]
        return [self.dcm_view(c) for c in conns]

    def _check_members(self, contract: dict, param: str) -> None:
        problems = {}
        for key, table in (("userIds", self.users), ("userGroupIds", self.groups)):
            unknown = [m for m in contract.get(key) or [] if m not in table]
            if unknown:
                problems[f"{param}.{key}"] = [f"'{m}' was not found." for m in unknown]
        if problems:
            raise invalid(problems)

    def share_dcm_execution(self, actor: dict, connection_id: str, contract: Any) -> None:
        conn = self._own_dcm(actor, connection_id)
        check(contract, {"$ref": "DCMEShareForExecutionContract"}, "sharingContract")
        self._check_members(contract, "sharingContract")
        conn["sharing"]["execution"] = {"userIds": list(contract["userIds"]),
                                        "userGroupIds": list(contract["userGroupIds"])}

    def share_dcm_collaboration(self, actor: dict, connection_id: str, contract: Any) -> dict:
        conn = self._own_dcm(actor, connection_id)
        check(contract, {"$ref": "DCMEShareForCollaborationContract"}, "sharingContract")
        self._check_members(contract, "sharingContract")
        unknown = [c for c in contract["sharedCredentials"] if c not in conn["credentials"]]
        if unknown:
            raise invalid({"sharingContract.sharedCredentials": [f"'{c}' is not a credential of this connection."
                                                                  for c in unknown]})
        conn["sharing"]["collaboration"] = {"userIds": list(contract["userIds"]),
                                            "userGroupIds": list(contract["userGroupIds"]),
                                            "sharedCredentials": list(contract["sharedCredentials"])}
        return project(self._collaboration_view(conn), "DCMESharingForCollaborationView")

    def unshare_dcm(self, actor: dict, connection_id: str, mode: str, *, admin: bool = False) -> None:
        conn = self._dcm(connection_id) if admin else self._own_dcm(actor, connection_id)
        empty = {"userIds": [], "userGroupIds": []}
        if mode == "collaboration":
            empty["sharedCredentials"] = []
        conn["sharing"][mode] = empty

    def dcm_for_connect(self, actor: dict, connection_id: str) -> dict:
        conn = self._dcm(connection_id)
        return project({"objectId": conn["id"], "name": conn["name"], "dataSource": conn["dataSource"]},
                       "DCMEGetConnectionForConnectView")

    # -------------------------------------------------------- handling rules
    def _rule_view(self, rule: dict) -> dict:
        return project(dict(rule, createdBy=self._user_ref(rule["createdBy"])), "DCMEConnectionHandlingRuleView")

    def list_rules(self, actor: dict) -> list[dict]:
        return [self._rule_view(r) for r in self.dcm_rules.values()]

    def get_rule(self, actor: dict, rule_id: str) -> dict:
        return self._rule_view(self._get(self.dcm_rules, rule_id, "Connection-handling rule"))

    def upsert_rule(self, actor: dict, contract: Any) -> tuple[int, dict]:
        check(contract, {"$ref": "DCMEConnectionHandlingRuleContract"}, "handlingRule")
        now = self.now_iso()
        fields = {k: contract.get(k) or "" for k in ("sourceConnectionId", "sourceConnectionTitle",
                                                    "targetConnectionId", "targetConnectionTitle")}
        if contract.get("id"):
            rule = self._get(self.dcm_rules, contract["id"], "Connection-handling rule")
            rule.update(fields, lastChangedOn=now)
            return 200, self._rule_view(rule)
        rule = dict(fields, id=self.new_guid(), createdBy=actor["id"], createdOn=now, lastChangedOn=now)
        self.dcm_rules[rule["id"]] = rule
        return 201, self._rule_view(rule)

    def delete_rule(self, actor: dict, rule_id: str) -> dict:
        self._get(self.dcm_rules, rule_id, "Connection-handling rule")
        del self.dcm_rules[rule_id]
        return {"id": rule_id, "deletedOn": self.now_iso()}


def _credential_objects(contract: dict) -> dict[str, dict]:
    """Copies of the credentials map's inner objects, by key.

    The validator already refuses a null entry; this answers the same 400
    rather than failing on it should one ever get this far.
    """
    out: dict[str, dict] = {}
    for key, wrapper in (contract.get("credentials") or {}).items():
        inner = wrapper.get("object") if isinstance(wrapper, dict) else None
        if not isinstance(inner, dict):
            raise invalid({f"upsertConnectionContract.credentials.{key}": ["must not be null"]})
        out[key] = dict(inner)
    return out
