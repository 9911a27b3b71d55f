"""Credentials and server data connections: what is shared with which users and groups."""

from __future__ import annotations

from .actor import Actor
from .core import Created, Denied, Invalid, NotEmpty, NotFound, Record, Refused, project
from .store import Store

__all__ = ["Credentials"]


class Credentials:
    """Credentials and server data connections.  Uses the store's users and groups; no other family."""

    def __init__(self, store: Store):
        self.store = store

    # sharing, for both kinds -----------------------------------------------------------
    def _share(self, actor: Actor, record: Record, key: str, member_id: str, field: str,
               entity: str | None) -> None:
        table = self.store.users if key == "userIds" else self.store.groups
        if member_id not in table:
            raise Invalid.field(field, f"'{member_id}' was not found.")
        if member_id in record[key]:
            raise Refused(f"'{member_id}' already has access.")
        record[key].append(member_id)
        if entity:
            self.store.record(entity, record["id"], "Update", actor, {}, {f"shared:{field}": member_id})

    def _unshare(self, actor: Actor, record: Record, key: str, member_id: str, entity: str | None) -> None:
        table = self.store.users if key == "userIds" else self.store.groups
        if member_id not in record[key]:
            if member_id not in table:
                raise NotFound(f"'{member_id}' was not found.")
            raise NotFound(f"'{member_id}' does not have access.")
        record[key].remove(member_id)
        if entity:
            self.store.record(entity, record["id"], "Update", actor, {f"shared:{key}": member_id}, {})

    # ------------------------------------------------------------ credentials
    def add_credential(self, fields: dict, actor: Actor | None) -> Record:
        """Store a credential from its fields (``username``, ``password``; already checked)."""
        store = self.store
        cred = {"id": fields.get("id") or store.new_id(), "userName": fields["username"],
                "password": fields["password"], "ownerId": actor.id if actor else "",
                "userIds": list(fields.get("userIds", [])), "userGroupIds": list(fields.get("userGroupIds", [])),
                "dateCreated": store.now_iso(), "lastUpdatedDate": store.now_iso()}
        store.credentials[cred["id"]] = cred
        store.record("Credential", cred["id"], "Insert", actor, None, {"userName": cred["userName"]})
        return cred

    def shared_with(self, user_id: str) -> list[str]:
        """The ids of the credentials shared with *user_id*, directly or through a group."""
        groups = self.store.groups_of(user_id)
        return [c["id"] for c in self.store.credentials.values()
                if user_id in c["userIds"] or groups & set(c["userGroupIds"])]

    def _visible(self, actor: Actor, credential_id: str) -> Record:
        cred = self.store.credential(credential_id)
        if not actor.is_curator and cred["ownerId"] != actor.id and credential_id not in self.shared_with(actor.id):
            raise NotFound(f"Credential '{credential_id}' was not found.")
        return cred

    def _view(self, cred: Record) -> Record:
        owner = self.store.users.get(cred["ownerId"])
        return project({"userIds": cred["userIds"], "userGroupIds": cred["userGroupIds"],
                        "isAdmin": bool(owner and owner["role"] == "Curator"),
                        "createdByEmail": owner["email"] if owner else "",
                        "lastUpdatedDate": cred["lastUpdatedDate"], "status": "Active",
                        "credentialId": cred["id"], "username": cred["userName"]}, "CredentialView")

    def list_credentials(self, actor: Actor, *, view: str | None = None, user_id: str | None = None,
                         user_group_id: str | None = None) -> list[Record]:
        """``GET /v3/credentials``: a non-curator sees their own and those shared with them."""
        if not actor.is_curator:
            shared = set(self.shared_with(actor.id))
            return [project(c, "ReducedCredentialsView") for c in self.store.credentials.values()
                    if c["id"] in shared or c["ownerId"] == actor.id]
        creds = [c for c in self.store.credentials.values()
                 if (not user_id or user_id in c["userIds"])
                 and (not user_group_id or user_group_id in c["userGroupIds"])]
        name = "CredentialsView" if view == "Full" else "ReducedCredentialsView"
        return [project(c, name) for c in creds]

    def get_credential(self, actor: Actor, credential_id: str) -> Record:
        return project(self._visible(actor, credential_id), "CredentialsView")

    def create_credential(self, actor: Actor, *, username: str, password: str) -> Created:
        """``POST /v3/credentials``: the user name must not be blank; the password is never answered."""
        if not username.strip():
            raise Invalid.field("username", "The username must not be empty.")
        return Created(self._view(self.add_credential({"username": username, "password": password}, actor)))

    def update_credential(self, actor: Actor, credential_id: str, *, new_password: str) -> Record:
        """``PUT /v3/credentials/{id}``: a new password, by the owner or a Curator."""
        cred = self._visible(actor, credential_id)
        if not actor.is_curator and cred["ownerId"] != actor.id:
            raise Denied("Only the credential's owner or a Curator can change its password.")
        cred["password"] = new_password
        cred["lastUpdatedDate"] = self.store.now_iso()
        self.store.record("Credential", credential_id, "Update", actor, {"password": "***"},
                          {"password": "*** (changed)"})
        return self._view(cred)

    def delete_credential(self, actor: Actor, credential_id: str, *, force: bool | None = None) -> list[Record]:
        """``DELETE /v3/credentials/{id}``: a shared one only with ``force``; answers those left."""
        cred = self.store.credential(credential_id)
        if (cred["userIds"] or cred["userGroupIds"]) and not force:
            raise NotEmpty("The credential is shared; use force=true to remove its shares and delete it.")
        del self.store.credentials[credential_id]
        self.store.record("Credential", credential_id, "Delete", actor, {"userName": cred["userName"]}, None)
        return [project(c, "CredentialsView") for c in self.store.credentials.values()]

    def share_credential_with_user(self, actor: Actor, credential_id: str, *, user_id: str) -> Record:
        cred = self.store.credential(credential_id)
        self._share(actor, cred, "userIds", user_id, "userId", "Credential")
        return project(cred, "CredentialsView")

    def share_credential_with_group(self, actor: Actor, credential_id: str, *, user_group_id: str) -> Record:
        cred = self.store.credential(credential_id)
        self._share(actor, cred, "userGroupIds", user_group_id, "userGroupId", "Credential")
        return project(cred, "CredentialsView")

    def unshare_credential_with_user(self, actor: Actor, credential_id: str, user_id: str) -> Record:
        cred = self.store.credential(credential_id)
        self._unshare(actor, cred, "userIds", user_id, "Credential")
        return project(cred, "CredentialsView")

    def unshare_credential_with_group(self, actor: Actor, credential_id: str, user_group_id: str) -> Record:
        cred = self.store.credential(credential_id)
        self._unshare(actor, cred, "userGroupIds", user_group_id, "Credential")
        return project(cred, "CredentialsView")

    # ------------------------------------------------------ data connections
    def add_data_connection(self, fields: dict) -> Record:
        """Store a server data connection from its fields (seeds)."""
        store = self.store
        conn = {"id": fields.get("id") or store.new_id(), "name": fields["name"],
                "connectionString": fields.get("connectionString", ""),
                "connectionType": fields.get("connectionType", "ODBC"),
                "dcmConnectionId": fields.get("dcmConnectionId"),
                "dcmConnectionTitle": fields.get("dcmConnectionTitle"),
                "userIds": list(fields.get("userIds", [])), "userGroupIds": list(fields.get("userGroupIds", [])),
                "dateAdded": store.now_iso()}
        store.data_connections[conn["id"]] = conn
        return conn

    def list_connections(self, actor: Actor, *, view: str | None = None) -> list[Record]:
        name = "ServerConnectionView" if view == "Full" else "ReducedServerConnectionView"
        return [project(c, name) for c in self.store.data_connections.values()]

    def get_connection(self, actor: Actor, data_connection_id: str) -> Record:
        return project(self.store.data_connection(data_connection_id), "ServerConnectionView")

    def rename_connection(self, actor: Actor, data_connection_id: str, *, name: str) -> Record:
        conn = self.store.data_connection(data_connection_id)
        conn["name"] = name
        return project(conn, "ServerConnectionView")

    def delete_connection(self, actor: Actor, data_connection_id: str) -> None:
        self.store.data_connection(data_connection_id)
        del self.store.data_connections[data_connection_id]

    def share_connection_with_user(self, actor: Actor, data_connection_id: str, *, user_id: str) -> Record:
        conn = self.store.data_connection(data_connection_id)
        self._share(actor, conn, "userIds", user_id, "userId", None)
        return project(conn, "ServerConnectionView")

    def share_connection_with_group(self, actor: Actor, data_connection_id: str, *, user_group_id: str) -> Record:
        conn = self.store.data_connection(data_connection_id)
        self._share(actor, conn, "userGroupIds", user_group_id, "userGroupId", None)
        return project(conn, "ServerConnectionView")

    def unshare_connection_with_user(self, actor: Actor, data_connection_id: str, user_id: str) -> Record:
        conn = self.store.data_connection(data_connection_id)
        self._unshare(actor, conn, "userIds", user_id, None)
        return project(conn, "ServerConnectionView")

    def unshare_connection_with_group(self, actor: Actor, data_connection_id: str, user_group_id: str) -> Record:
        conn = self.store.data_connection(data_connection_id)
        self._unshare(actor, conn, "userGroupIds", user_group_id, None)
        return project(conn, "ServerConnectionView")
