"""Seeds: the emulator's starting content, as JSON (or YAML when PyYAML is installed).

A seed names records by a short ``ref`` and links them by ref; ids are made
when the seed is loaded (or taken from an ``id`` field).  Sections, all
optional, loaded in this order::

    {
      "settings": {"tokenLifetime": 3599, "jobSlots": 4, "defaultRunSeconds": 0.2},
      "subscriptions": [{"ref": "finance", "name": "Finance", "canShareSchedules": true}],
      "credentials":   [{"ref": "svc", "username": "CORP\\\\svc", "password": "...",
                         "owner": "admin", "users": ["ana"], "groups": ["analysts"]}],
      "users":         [{"ref": "ana", "firstName": "Ana", "lastName": "Lee", "email": "...",
                         "role": "Artisan", "subscription": "finance",
                         "apiKey": "...", "apiSecret": "...", ...any UserView field}],
      "userGroups":    [{"ref": "analysts", "name": "Analysts", "role": "Artisan", "members": ["ana"]}],
      "dataConnections": [{"ref": "dw", "name": "Warehouse", "connectionType": "ODBC",
                           "connectionString": "...", "users": ["ana"], "groups": []}],
      "workflows":     [{"ref": "sales", "name": "Sales", "owner": "ana", "type": "app",
                         "questions": [{"name": "Region", "items": ["West", "East"]}],
                         "versions": 2, "runSeconds": 0.2, "disposition": "Success",
                         "isReadyForMigration": true, ...}],
      "collections":   [{"ref": "fin", "name": "Finance", "owner": "admin",
                         "users": [{"user": "ana", "permissions": {"canAddAssets": true}}],
                         "groups": [{"group": "analysts"}], "workflows": ["sales"], "schedules": []}],
      "schedules":     [{"ref": "nightly", "name": "Nightly", "workflow": "sales", "owner": "ana",
                         "iteration": {"iterationType": "Daily", "startTime": "2030-01-01T02:00:00Z"}}],
      "dcmConnections": [{"ref": "snow", "name": "Snowflake", "owner": "admin", "schemaName": "..."}],
      "bulkUsers": {"count": 100000, "emailDomain": "example.com"}
    }

``bulkUsers`` adds many plain users quickly (for large-listing benchmarks).
A DCM connection's ``parameters`` (and its data source's) hold objects, as
the Swagger declares: a seed that gives another value is a :class:`SeedError`,
like a request would be a 400.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from collections.abc import Callable
from typing import Any

from ..packages import build_package
from .binding import problems_of, wire_schema
from .control import apply_settings
from .state import State
from .state.core import Record
from .state.people import USER_DEFAULTS
from .state.sharing import permissions
from .state.workflows import read
from .state.zones import zone_info

__all__ = ["apply_seed", "resolve_seed", "default_seed", "load_seed_file", "add_bulk_users", "SeedError"]

DEFAULT_SEED_NAME = "default_seed.json"


def load_seed_file(path: str | Path) -> dict:
    """Read a seed from a JSON or YAML file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - depends on the environment
            raise ValueError("YAML seeds need PyYAML (pip install pyyaml); or use JSON") from None
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed is a JSON object")
    return data


def default_seed() -> dict:
    text = resources.files(__package__).joinpath(DEFAULT_SEED_NAME).read_text("utf-8")
    return json.loads(text)


def resolve_seed(seed: "str | Path | dict | None") -> dict:
    if seed is None or seed == "empty":
        return {}
    if seed == "default":
        return default_seed()
    if isinstance(seed, dict):
        return seed
    return load_seed_file(seed)


class SeedError(ValueError):
    """A seed that cannot be loaded: an unknown ref, a zone or a shape the Server refuses."""


class _Loading:
    """One seed being loaded: the state, the refs made so far, links made once their targets exist."""

    def __init__(self, state: State):
        self.state = state
        self.services = state.services
        self.refs: dict[str, str] = {}
        self.credentials: list[tuple[Record, dict]] = []  # their users and groups come later

    def ref(self, kind: str, name: Any) -> str:
        key = f"{kind}:{name}"
        if key not in self.refs:
            raise SeedError(f"seed: unknown {kind} ref {name!r}")
        return self.refs[key]

    def remember(self, kind: str, item: dict, record_id: str) -> None:
        if "ref" in item:
            self.refs[f"{kind}:{item['ref']}"] = record_id


def _settings(load: _Loading, settings: Any) -> None:
    apply_settings(load.state, settings or {}, ("tokenLifetime", "jobSlots", "defaultRunSeconds"))


def _subscriptions(load: _Loading, items: list) -> None:
    for item in items:
        load.remember("subscription", item, load.services.studios.add(dict(item), None)["id"])


def _credentials(load: _Loading, items: list) -> None:
    for item in items:
        cred = load.services.credentials.add_credential(
            {"id": item.get("id"), "username": item["username"], "password": item.get("password", "")}, None)
        load.remember("credential", item, cred["id"])
        load.credentials.append((cred, item))


def _users(load: _Loading, items: list) -> None:
    for item in items:
        fields = {k: v for k, v in item.items() if k not in ("ref", "subscription", "defaultCredential")}
        if "subscription" in item:
            fields["subscriptionId"] = load.ref("subscription", item["subscription"])
        if "defaultCredential" in item:
            fields["defaultCredentialId"] = load.ref("credential", item["defaultCredential"])
        load.remember("user", item, load.services.people.add_user(fields, None)["id"])


def _credential_users(load: _Loading, _: Any) -> None:
    for cred, item in load.credentials:
        cred["ownerId"] = load.ref("user", item["owner"]) if "owner" in item else ""
        cred["userIds"] = [load.ref("user", u) for u in item.get("users", [])]


def _groups(load: _Loading, items: list) -> None:
    for item in items:
        group = load.services.people.add_group(
            {"id": item.get("id"), "name": item["name"], "role": item.get("role", "Viewer")}, None)
        for member in item.get("members", []):
            group["members"][load.ref("user", member)] = {"dateAdded": load.state.now_iso(), "addedBy": ""}
        load.remember("group", item, group["id"])


def _credential_groups(load: _Loading, _: Any) -> None:
    for cred, item in load.credentials:
        cred["userGroupIds"] = [load.ref("group", g) for g in item.get("groups", [])]


def _data_connections(load: _Loading, items: list) -> None:
    for item in items:
        conn = load.services.credentials.add_data_connection(
            {k: v for k, v in item.items() if k not in ("ref", "users", "groups")})
        conn["userIds"] = [load.ref("user", u) for u in item.get("users", [])]
        conn["userGroupIds"] = [load.ref("group", g) for g in item.get("groups", [])]
        load.remember("connection", item, conn["id"])


_NOT_SETTINGS = ("ref", "owner", "type", "questions", "versions", "runSeconds", "disposition", "message", "name",
                 "description", "credential")


def _workflows(load: _Loading, items: list) -> None:
    workflows = load.services.workflows
    for item in items:
        owner = load.ref("user", item["owner"])
        kind = item.get("type", "workflow")
        hints = {k: item[k] for k in ("runSeconds", "disposition", "message") if k in item}
        settings = {k: v for k, v in item.items() if k not in _NOT_SETTINGS}
        if "credential" in item:
            settings["credentialId"] = load.ref("credential", item["credential"])
            settings.setdefault("workflowCredentialType", "Specific")

        def package(description: str) -> bytes:
            return build_package(item["name"], kind=kind, questions=item.get("questions", ()),
                                 description=description, hints=hints)

        wf = workflows.add_workflow(name=item["name"], owner_id=owner, package=package(item.get("description", "")),
                                    settings=settings, actor=None, source_app_id=item.get("sourceAppId", ""),
                                    workflow_id=item.get("id"), upload_source=item.get("uploadSource", "Designer"))
        for number in range(2, int(item.get("versions", 1)) + 1):
            extra = package(f"{item.get('description', '')} (version {number})".strip())
            version = workflows.new_version(wf, read(extra), extra,
                                            dict(settings, ownerId=owner, comments=f"Version {number}"), None)
            workflows.publish_version(wf, version)
        load.remember("workflow", item, wf["id"])


def _schedules(load: _Loading, items: list) -> None:
    for item in items:
        if zone_info(item.get("timeZone", "UTC")) is None:
            raise SeedError(f"seed: schedule {item.get('ref') or item.get('name')!r} has an unknown "
                            f"timeZone {item['timeZone']!r}")
        sched = load.services.schedules.add_schedule(
            {"id": item.get("id"), "name": item.get("name"), "workflowId": load.ref("workflow", item["workflow"]),
             "ownerId": load.ref("user", item["owner"]) if "owner" in item else None,
             "iteration": item["iteration"], "comment": item.get("comment", ""),
             "priority": item.get("priority", "Default"), "enabled": item.get("enabled", True),
             "timeZone": item.get("timeZone", "UTC"), "questions": item.get("questions", [])}, None)
        load.remember("schedule", item, sched["id"])


def _membership(load: _Loading, member: dict) -> dict:
    return {"permissions": permissions(member.get("permissions")), "expirationDate": member.get("expirationDate"),
            "dateAdded": load.state.now_iso(), "addedBy": ""}


def _collections(load: _Loading, items: list) -> None:
    for item in items:
        col = load.services.sharing.add_collection(
            {"id": item.get("id"), "name": item["name"], "ownerId": load.ref("user", item["owner"])}, None)
        for member in item.get("users", []):
            col["users"][load.ref("user", member["user"])] = _membership(load, member)
        for member in item.get("groups", []):
            col["groups"][load.ref("group", member["group"])] = _membership(load, member)
        col["workflowIds"] = [load.ref("workflow", w) for w in item.get("workflows", [])]
        col["scheduleIds"] = [load.ref("schedule", s) for s in item.get("schedules", [])]
        load.remember("collection", item, col["id"])


def _dcm_connections(load: _Loading, items: list) -> None:
    schema = wire_schema({"$ref": "DCMEUpsertConnectionContract"})
    for item in items:
        contract = {"id": item.get("id"), "name": item["name"], "schemaName": item.get("schemaName", "odbc"),
                    "allowInSdks": item.get("allowInSdks", False), "parameters": item.get("parameters", {}),
                    "connectionId": item.get("connectionId"),
                    "dataSource": {"object": item.get("dataSource", {"name": item["name"], "schemaName": "odbc",
                                                                     "parameters": {}})},
                    "credentials": item.get("credentials", {})}
        problems = problems_of(contract, schema)
        if problems:
            where, texts = next(iter(problems.items()))
            raise SeedError(f"seed: DCM connection {item.get('ref') or item['name']!r}: {where}: {texts[0]}")
        load.remember("dcm", item, load.services.dcm.add_connection(contract, load.ref("user", item["owner"]))["id"])


def _bulk_users(load: _Loading, bulk: Any) -> None:
    if bulk:
        add_bulk_users(load.state, int(bulk.get("count", 0)), bulk.get("emailDomain", "example.com"))


# The sections in loading order (links wait for what they link to); None: a step of links only.
LOADERS: tuple[tuple[str | None, Callable[[_Loading, Any], None]], ...] = (
    ("settings", _settings), ("subscriptions", _subscriptions), ("credentials", _credentials),
    ("users", _users), (None, _credential_users), ("userGroups", _groups), (None, _credential_groups),
    ("dataConnections", _data_connections), ("workflows", _workflows), ("schedules", _schedules),
    ("collections", _collections), ("dcmConnections", _dcm_connections), ("bulkUsers", _bulk_users),
)


def apply_seed(state: State, seed: dict) -> dict[str, str]:
    """Load *seed* into *state* (the caller holds its lock); return the map of refs to ids."""
    load = _Loading(state)
    for section, loader in LOADERS:
        loader(load, seed.get(section, []) if section else None)
    return load.refs


def add_bulk_users(state: State, count: int, domain: str = "example.com") -> None:
    """Add *count* plain users fast (no audit events); for large-listing benchmarks."""
    sub_id = state.services.studios.default_id()
    now = state.now_iso()
    roles = ("Viewer", "Member", "Artisan")
    for i in range(count):
        user = dict(USER_DEFAULTS)
        user.update(id=state.new_id(), firstName=f"User{i:06d}", lastName="Bulk",
                    email=f"user{i:06d}@{domain}", role=roles[i % 3], dateCreated=now, subscriptionId=sub_id)
        state.users[user["id"]] = user
