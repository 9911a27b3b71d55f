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
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ..packages import build_package
from .state import State
from .state.zones import zone_info

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
    pass


def apply_seed(state: State, seed: dict) -> dict[str, str]:
    """Load *seed* into *state*; return the map of refs to ids."""
    refs: dict[str, str] = {}

    def ref(kind: str, name: Any) -> str:
        key = f"{kind}:{name}"
        if key not in refs:
            raise SeedError(f"seed: unknown {kind} ref {name!r}")
        return refs[key]

    def remember(kind: str, item: dict, record_id: str) -> None:
        if "ref" in item:
            refs[f"{kind}:{item['ref']}"] = record_id

    settings = seed.get("settings", {})
    if "tokenLifetime" in settings:
        state.token_lifetime = int(settings["tokenLifetime"])
    if "jobSlots" in settings:
        state.job_slots = int(settings["jobSlots"])
    if "defaultRunSeconds" in settings:
        state.default_run_seconds = float(settings["defaultRunSeconds"])

    for item in seed.get("subscriptions", []):
        sub = state.add_subscription(dict(item), None)
        remember("subscription", item, sub["id"])

    pending_credentials = []
    for item in seed.get("credentials", []):
        cred = state.add_credential({"id": item.get("id"), "username": item["username"],
                                     "password": item.get("password", "")}, None)
        remember("credential", item, cred["id"])
        pending_credentials.append((cred, item))

    for item in seed.get("users", []):
        fields = {k: v for k, v in item.items() if k not in ("ref", "subscription", "defaultCredential")}
        if "subscription" in item:
            fields["subscriptionId"] = ref("subscription", item["subscription"])
        if "defaultCredential" in item:
            fields["defaultCredentialId"] = ref("credential", item["defaultCredential"])
        user = state.add_user(fields, None)
        remember("user", item, user["id"])

    for cred, item in pending_credentials:
        cred["ownerId"] = ref("user", item["owner"]) if "owner" in item else ""
        cred["userIds"] = [ref("user", u) for u in item.get("users", [])]

    for item in seed.get("userGroups", []):
        group = state.add_group({"id": item.get("id"), "name": item["name"], "role": item.get("role", "Viewer")},
                                None)
        for member in item.get("members", []):
            group["members"][ref("user", member)] = {"dateAdded": state.now_iso(), "addedBy": ""}
        remember("group", item, group["id"])

    for cred, item in pending_credentials:
        cred["userGroupIds"] = [ref("group", g) for g in item.get("groups", [])]

    for item in seed.get("dataConnections", []):
        conn = state.add_data_connection({k: v for k, v in item.items() if k not in ("ref", "users", "groups")})
        conn["userIds"] = [ref("user", u) for u in item.get("users", [])]
        conn["userGroupIds"] = [ref("group", g) for g in item.get("groups", [])]
        remember("connection", item, conn["id"])

    for item in seed.get("workflows", []):
        owner = ref("user", item["owner"])
        kind = item.get("type", "workflow")
        hints = {k: item[k] for k in ("runSeconds", "disposition", "message") if k in item}
        settings = {k: v for k, v in item.items()
                    if k not in ("ref", "owner", "type", "questions", "versions", "runSeconds",
                                 "disposition", "message", "name", "description", "credential")}
        if "credential" in item:
            settings["credentialId"] = ref("credential", item["credential"])
            settings.setdefault("workflowCredentialType", "Specific")
        package = build_package(item["name"], kind=kind, questions=item.get("questions", ()),
                                description=item.get("description", ""), hints=hints)
        wf = state.add_workflow(name=item["name"], owner_id=owner, package=package, settings=settings,
                                actor=None, source_app_id=item.get("sourceAppId", ""),
                                workflow_id=item.get("id"),
                                upload_source=item.get("uploadSource", "Designer"))
        for number in range(2, int(item.get("versions", 1)) + 1):
            extra = build_package(item["name"], kind=kind, questions=item.get("questions", ()),
                                  description=f"{item.get('description', '')} (version {number})".strip(),
                                  hints=hints)
            info_version = state._new_version(wf, _info(extra), extra,
                                              dict(settings, ownerId=owner, comments=f"Version {number}"), None)
            state._publish_version(wf, info_version)
        remember("workflow", item, wf["id"])

    for item in seed.get("schedules", []):
        if zone_info(item.get("timeZone", "UTC")) is None:
            raise SeedError(f"seed: schedule {item.get('ref') or item.get('name')!r} has an unknown "
                            f"timeZone {item['timeZone']!r}")
        sched = state.add_schedule({"id": item.get("id"), "name": item.get("name"),
                                    "workflowId": ref("workflow", item["workflow"]),
                                    "ownerId": ref("user", item["owner"]) if "owner" in item else None,
                                    "iteration": item["iteration"], "comment": item.get("comment", ""),
                                    "priority": item.get("priority", "Default"),
                                    "enabled": item.get("enabled", True),
                                    "timeZone": item.get("timeZone", "UTC"),
                                    "questions": item.get("questions", [])}, None)
        remember("schedule", item, sched["id"])

    for item in seed.get("collections", []):
        col = state.add_collection({"id": item.get("id"), "name": item["name"],
                                    "ownerId": ref("user", item["owner"])}, None)
        for member in item.get("users", []):
            col["users"][ref("user", member["user"])] = _membership(state, member)
        for member in item.get("groups", []):
            col["groups"][ref("group", member["group"])] = _membership(state, member)
        col["workflowIds"] = [ref("workflow", w) for w in item.get("workflows", [])]
        col["scheduleIds"] = [ref("schedule", s) for s in item.get("schedules", [])]
        remember("collection", item, col["id"])

    for item in seed.get("dcmConnections", []):
        contract = {"id": item.get("id"), "name": item["name"],
                    "schemaName": item.get("schemaName", "odbc"), "allowInSdks": item.get("allowInSdks", False),
                    "parameters": item.get("parameters", {}), "connectionId": item.get("connectionId"),
                    "dataSource": {"object": item.get("dataSource", {"name": item["name"],
                                                                      "schemaName": "odbc", "parameters": {}})},
                    "credentials": item.get("credentials", {})}
        conn = state.add_dcm_connection(contract, ref("user", item["owner"]))
        remember("dcm", item, conn["id"])

    bulk = seed.get("bulkUsers")
    if bulk:
        add_bulk_users(state, int(bulk.get("count", 0)), bulk.get("emailDomain", "example.com"))
    return refs


def _membership(state: State, member: dict) -> dict:
    from .state.sharing import PERMISSION_KEYS

    given = member.get("permissions", {})
    return {"permissions": {k: bool(given.get(k, False)) for k in PERMISSION_KEYS},
            "expirationDate": member.get("expirationDate"), "dateAdded": state.now_iso(), "addedBy": ""}


def _info(package: bytes):
    from ..packages import read_package

    return read_package(package)


def add_bulk_users(state: State, count: int, domain: str = "example.com") -> None:
    """Add *count* plain users fast (no audit events); for large-listing benchmarks."""
    from .state.people import USER_DEFAULTS

    sub_id = state.default_subscription_id()
    now = state.now_iso()
    roles = ("Viewer", "Member", "Artisan")
    for i in range(count):
        user = dict(USER_DEFAULTS)
        user.update(id=state.new_id(), firstName=f"User{i:06d}", lastName="Bulk",
                    email=f"user{i:06d}@{domain}", role=roles[i % 3], dateCreated=now, subscriptionId=sub_id)
        state.users[user["id"]] = user
