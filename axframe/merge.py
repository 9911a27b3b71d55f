"""Partial updates for PUT endpoints that replace the whole record.

The Server's PUT contracts for workflows, users, schedules, collections, user
groups and subscriptions require every field.  A row usually holds only the
fields it changes, so axframe reads the current record (the matching GET),
turns it into the update contract, lays the row's fields over it (nested
objects merge, lists and values replace), and sends the whole contract.

The catalogue declares which endpoints merge (``Endpoint.merge``, a
:class:`Merge`); these are its pure functions.  The engine does the GET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import schemas

__all__ = ["Merge", "deep_merge", "merged_contract", "project", "workflow_contract", "user_contract",
           "schedule_contract"]


@dataclass(frozen=True)
class Merge:
    """How a full-record PUT is made from a partial row.

    Attributes
    ----------
    getter : str
        The catalogue name of the GET that reads the current record.
    to_contract : callable
        ``(current view, the row's changes) -> the update contract`` before the changes are laid over it.
    hint : str
        Said with a validation failure after merging (what the merge cannot know).
    """

    getter: str
    to_contract: Callable[[dict, dict], dict]
    hint: str = ""


def deep_merge(base: dict, changes: dict) -> dict:
    """*base* with *changes* laid over it; nested dicts merge, anything else replaces."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def project(definition: str) -> Callable[[dict, dict], dict]:
    """A ``to_contract`` that keeps the fields of the contract *definition* the current view has."""

    def to_contract(view: dict, changes: dict) -> dict:
        return _project(view, definition)

    return to_contract


def _project(view: dict, definition: str) -> dict:
    props = schemas.definition(definition).get("properties", {})
    return {k: view[k] for k in props if view.get(k) is not None}


def workflow_contract(view: dict, changes: dict) -> dict:
    """A workflow's update contract: its settings, and the published (or named) version's run-as credential."""
    contract = _project(view, "UpdateWorkflowContract")
    version_id = changes.get("versionId") or view.get("publishedVersionId")
    version: dict = next((v for v in view.get("versions") or [] if v.get("versionId") == version_id), {})
    contract.update(versionId=version_id, makePublished=True,
                    workflowCredentialType=version.get("workflowCredentialType") or "Default",
                    credentialId=version.get("credentialId") or "")
    return contract


def user_contract(view: dict, changes: dict) -> dict:
    """A user's update contract; the fields a user view may lack get the Server's defaults."""
    contract = _project(view, "UpdateUserContract")
    contract.setdefault("defaultCredentialId", "")
    contract.setdefault("timeZone", "UTC")
    contract.setdefault("language", "en-us")
    return contract


def schedule_contract(view: dict, changes: dict) -> dict:
    """A schedule's update contract, its iteration without empty fields."""
    contract = _project(view, "UpdateScheduleContract")
    iteration = view.get("iteration") or {}
    contract["iteration"] = {k: v for k, v in iteration.items() if v}
    return contract


def merged_contract(spec: Merge, current: Any, changes: dict) -> dict:
    """The full contract: the current record as a contract, with *changes* laid over it."""
    if not isinstance(current, dict):
        raise ValueError("the current record is not a JSON object")
    return deep_merge(spec.to_contract(current, changes), changes)
