"""Partial updates for PUT endpoints that replace the whole record.

The Server's PUT contracts for workflows, users, schedules, collections, user
groups and subscriptions require every field.  A row usually holds only the
fields it changes, so axframe reads the current record (the matching GET),
turns it into the update contract, lays the row's fields over it (nested
objects merge, lists and values replace), and sends the whole contract.

Pure functions; the bulk engine does the GET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import schemas
from .catalogue import Endpoint

__all__ = ["MergeSpec", "MERGES", "merge_spec", "deep_merge"]


def deep_merge(base: dict, changes: dict) -> dict:
    """*base* with *changes* laid over it; nested dicts merge, anything else replaces."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _project(view: dict, definition: str) -> dict:
    props = schemas.definition(definition).get("properties", {})
    return {k: view[k] for k in props if view.get(k) is not None}


def _workflow(view: dict, changes: dict) -> dict:
    contract = _project(view, "UpdateWorkflowContract")
    version_id = changes.get("versionId") or view.get("publishedVersionId")
    version = next((v for v in view.get("versions") or [] if v.get("versionId") == version_id), {})
    contract.update(versionId=version_id, makePublished=True,
                    workflowCredentialType=version.get("workflowCredentialType") or "Default",
                    credentialId=version.get("credentialId") or "")
    return contract


def _user(view: dict, changes: dict) -> dict:
    contract = _project(view, "UpdateUserContract")
    contract.setdefault("defaultCredentialId", "")
    contract.setdefault("timeZone", "UTC")
    contract.setdefault("language", "en-us")
    return contract


def _schedule(view: dict, changes: dict) -> dict:
    contract = _project(view, "UpdateScheduleContract")
    iteration = view.get("iteration") or {}
    contract["iteration"] = {k: v for k, v in iteration.items() if v}
    return contract


@dataclass(frozen=True)
class MergeSpec:
    getter: str  # catalogue name of the GET that reads the current record
    to_contract: Callable[[dict, dict], dict]
    hint: str = ""


MERGES: dict[str, MergeSpec] = {
    "workflows.update": MergeSpec("workflows.get", _workflow),
    "users.update": MergeSpec("users.get", _user),
    "schedules.update": MergeSpec("schedules.get", _schedule,
                                  "the Server does not answer a schedule's iteration type, so give the whole "
                                  "iteration, or use schedules.patch to change other fields"),
    "collections.update": MergeSpec("collections.get", lambda v, c: _project(v, "UpdateCollectionContract")),
    "usergroups.update": MergeSpec("usergroups.get", lambda v, c: _project(v, "UpdateUserGroupContract")),
    "subscriptions.update": MergeSpec("subscriptions.get", lambda v, c: _project(v, "UpdateSubscriptionContract")),
}


def merge_spec(endpoint: Endpoint) -> MergeSpec | None:
    return MERGES.get(endpoint.name)


def merged_contract(spec: MergeSpec, current: Any, changes: dict) -> dict:
    """The full contract: the current record as a contract, with *changes* laid over it."""
    if not isinstance(current, dict):
        raise ValueError("the current record is not a JSON object")
    return deep_merge(spec.to_contract(current, changes), changes)
