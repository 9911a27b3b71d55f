"""What a Server holds, read once: the records of every kind the workbook format knows, with their ids.

:func:`read_server` makes one listing per kind, and a detail read only where
no listing serves (a user group's members, a credential's and a data
connection's shares); a collection's members and their permissions come from
the paged Admin listing of collections, which holds them all (the V3 detail
view holds no permissions).  The detail reads run concurrently on the engine.
A :class:`Snapshot` turns ids into names and back.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .. import catalogue
from ..admin.listings import Pager
from ..client.call import Call, Outcome
from ..client.connection import Connection
from ..engine.progress import Progress
from ..engine.rows import Engine, Program, Row, Send, workers_for
from ..engine.shape import Ending
from ..errors import ListingError
from .sheets import PERMISSIONS

__all__ = ["Snapshot", "read_server", "permissions_of"]


def _key(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


@dataclass
class Snapshot:
    """The records of one Server (or of a workbook, read as one), by kind, and the names of their ids."""

    users: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)  # each with "memberIds"
    collections: list[dict] = field(default_factory=list)  # with "userPermissions", "groupPermissions", "workflowIds"
    workflows: list[dict] = field(default_factory=list)
    schedules: list[dict] = field(default_factory=list)
    credentials: list[dict] = field(default_factory=list)  # with "userIds", "userGroupIds"
    connections: list[dict] = field(default_factory=list)  # with "userIds", "userGroupIds"
    calls: int = 0
    warnings: list[str] = field(default_factory=list)

    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # ---------------------------------------------------------------- names
    def _kind(self, kind: str) -> tuple[list[dict], str]:
        return {"user": (self.users, "email"), "group": (self.groups, "name"),
                "collection": (self.collections, "name"), "workflow": (self.workflows, "name"),
                "credential": (self.credentials, "userName"), "dataConnection": (self.connections, "name"),
                "schedule": (self.schedules, "name")}[kind]

    def _index(self, kind: str) -> tuple[dict[str, dict], dict[str, list[str]]]:
        """``({id: record}, {name: [ids]})`` of *kind*, made once (a snapshot is not changed once read)."""
        if kind not in self._cache:
            records, name_field = self._kind(kind)
            by_id = {str(r.get("id")): r for r in records}
            by_name: dict[str, list[str]] = {}
            for record in records:
                by_name.setdefault(_key(record.get(name_field)), []).append(str(record.get("id")))
            self._cache[kind] = (by_id, by_name)
        return self._cache[kind]

    def name_of(self, kind: str, record_id: Any) -> str:
        """The name a workbook gives the record *record_id* of *kind* ("" when unknown)."""
        _, name_field = self._kind(kind)
        return str(self.record(kind, record_id).get(name_field) or "")

    def ids_of(self, kind: str, name: Any) -> list[str]:
        """The ids of the records of *kind* named *name* (letter case and spaces aside)."""
        return self._index(kind)[1].get(_key(name), [])

    def record(self, kind: str, record_id: Any) -> dict:
        return self._index(kind)[0].get(str(record_id), {})

    def workflow_ids(self, name: Any, owner: Any) -> list[str]:
        """The ids of the workflows named *name* owned by the user with the email *owner*."""
        owners = set(self.ids_of("user", owner)) if owner not in (None, "") else None
        return [w for w in self.ids_of("workflow", name)
                if owners is None or str(self.record("workflow", w).get("ownerId")) in owners]


def permissions_of(entry: dict) -> dict[str, Any]:
    """A collection member's permissions, from either shape a Server answers.

    The V3 shape (``permissions.collection.{isAdmin, canAddAssets...}``) and the Admin V1 shape real Servers
    were seen to answer (``collection.isAdmin``, ``applications.{canAdd,canRemove,canUpdate}``,
    ``users.{canAdd,canRemove}``), at the entry's top level or under ``permissions``.
    """
    nested = entry.get("permissions")
    raw: dict = nested if isinstance(nested, dict) else entry
    collection: dict = raw["collection"] if isinstance(raw.get("collection"), dict) else {}
    apps: dict = raw["applications"] if isinstance(raw.get("applications"), dict) else {}
    users: dict = raw["users"] if isinstance(raw.get("users"), dict) else {}
    found = {name: collection.get(name) for name in PERMISSIONS}
    for name, value in (("canAddAssets", apps.get("canAdd")), ("canRemoveAssets", apps.get("canRemove")),
                        ("canUpdateAssets", apps.get("canUpdate")), ("canAddUsers", users.get("canAdd")),
                        ("canRemoveUsers", users.get("canRemove"))):
        if found.get(name) is None and value is not None:
            found[name] = value
    found["expirationDate"] = entry.get("expirationDate")
    return found


# --------------------------------------------------------------------------
# reading a Server
# --------------------------------------------------------------------------


def _listing(conn: Connection, name: str, params: Iterable[tuple[str, str]] = ()) -> list[dict]:
    endpoint = catalogue.find(name)
    outcome = conn.send(Call("GET", endpoint.path, endpoint, list(params)))
    if not outcome.ok:
        raise ListingError(f"reading the Server ({name}): {outcome.error}", outcome.status)
    return [r for r in outcome.value() or [] if isinstance(r, dict)]


def _detail(conn: Connection, name: str, param: str, record_id: str, into: dict) -> Program:
    endpoint = catalogue.find(name)
    outcome: Outcome = yield Send(Call("GET", endpoint.path.replace("{" + param + "}", record_id), endpoint))
    if outcome.ok and isinstance(outcome.value(), dict):
        into.update(outcome.value())
    else:
        into["__error__"] = outcome.error or str(outcome.status)
    return Ending(True)


def _details(conn: Connection, name: str, param: str, records: list[dict], workers: int,
             bar: Callable[[int], None]) -> int:
    """Read the detail view of each record (concurrently) into it; the calls made."""
    rows = [Row(i, str(r.get("id")), functools.partial(_detail, conn, name, param, str(r.get("id")), r))
            for i, r in enumerate(records)]
    Engine(conn, workers=workers, on_row=lambda pos, ending: bar(1)).run(rows)
    failed = [r.pop("__error__") for r in records if "__error__" in r]
    if failed:
        raise ListingError(f"reading the Server ({name}): {failed[0]}")
    return len(rows)


def read_server(conn: Connection, *, max_workers: int | str | None = None, progress: bool | None = None,
                kinds: Iterable[str] | None = None) -> Snapshot:
    """Read every kind the workbook format knows from *conn* (or only *kinds*: "users", "groups"...)."""
    wanted = set(kinds) if kinds is not None else {"users", "groups", "collections", "workflows", "schedules",
                                                    "credentials", "connections"}
    workers, _ = workers_for(conn, max_workers if max_workers != "auto" else None)
    snap = Snapshot()
    bar = Progress(0, "reading the Server", progress)
    step = bar.update
    before = conn.stats["calls"]
    if "users" in wanted or "collections" in wanted or "workflows" in wanted:
        snap.users = _listing(conn, "users.list", [("view", "Full")])
    if "groups" in wanted:
        snap.groups = _listing(conn, "usergroups.list")
        _details(conn, "usergroups.get", "userGroupId", snap.groups, workers, step)
        for group in snap.groups:
            group["memberIds"] = [m.get("userId") for m in group.get("members") or [] if isinstance(m, dict)]
    if "workflows" in wanted or "collections" in wanted:
        snap.workflows = _listing(conn, "workflows.list", [("view", "Full")])
    if "collections" in wanted:
        snap.collections = _collections(conn, workers, step, snap)
    if "schedules" in wanted:
        snap.schedules = _listing(conn, "schedules.list")
    if "credentials" in wanted:
        snap.credentials = _listing(conn, "credentials.list")
        _details(conn, "credentials.get", "credentialId", snap.credentials, workers, step)
    if "connections" in wanted:
        snap.connections = _listing(conn, "data_connections.list")
        _details(conn, "data_connections.get", "dataConnectionId", snap.connections, workers, step)
    snap.calls = conn.stats["calls"] - before
    if bar.bar is not None:
        bar.bar.close()
    return snap


def _collections(conn: Connection, workers: int, step: Callable[[int], None], snap: Snapshot) -> list[dict]:
    """The collections with their members' permissions: the Admin listing, else the V3 detail views."""
    listed = _listing(conn, "collections.list")
    try:
        admin = {str(c.get("collectionId") or c.get("id")): c
                 for c in Pager(conn, "admin_v1.collections", page_size=500).all()}
    except ListingError as exc:
        admin = {}
        snap.warnings.append(f"the Admin listing of collections could not be read ({exc}); members are read from "
                             "each collection, without their permissions")
    plain = [c for c in listed if str(c.get("id")) not in admin]
    if plain:
        _details(conn, "collections.get", "collectionId", plain, workers, step)
    for collection in listed:
        full = admin.get(str(collection.get("id")))
        if full is not None:
            _members_from_admin(collection, full)
        else:
            _members_from_detail(collection)
    return listed


def _members_from_admin(collection: dict, full: dict) -> None:
    """Members and their permissions from the Admin V1 listing's record of *collection*."""
    collection["userPermissions"] = {str(u.get("userId")): permissions_of(u) for u in full.get("users") or []}
    collection["groupPermissions"] = {str(g.get("userGroupId")): permissions_of(g)
                                      for g in full.get("userGroups") or []}
    collection["workflowIds"] = [str(a.get("appId")) for a in full.get("apps") or [] if a.get("appId")]


def _members_from_detail(collection: dict) -> None:
    """Members from the V3 detail view, which gives no permissions."""
    collection["userPermissions"] = {str(u.get("userId")): {} for u in collection.get("users") or []}
    collection["groupPermissions"] = {str(g): {} for g in collection.get("userGroupIds") or []}
    collection["workflowIds"] = [str(w) for w in collection.get("workflowIds") or []]
