"""Schedules: which workflow runs when, in which time zone, for whom."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from .actor import Actor
from .calendar import check_iteration, frequency, next_run, occurrences
from .core import Created, Denied, Invalid, NotFound, Record, Refused, iso, parse_time, project
from .store import Store
from .workflows import Workflows
from .zones import UTC, resolve_zone, zone_info

__all__ = ["Schedules", "ScheduleFields"]


@dataclass(frozen=True)
class ScheduleFields:
    """A schedule's fields as a create, PUT or PATCH sends them (``None``: not sent)."""

    workflow_id: str | None = None
    owner_id: str | None = None
    iteration: dict | None = None
    name: str | None = None
    comment: str | None = None
    priority: str | None = None
    worker_tag: str | None = None
    enabled: bool | None = None
    credential_id: str | None = None
    time_zone: str | None = None
    questions: list | None = None


def _zone_name(fields: ScheduleFields, existing: Record | None, partial: bool) -> str:
    """The zone name a create, PUT or PATCH leaves: a given one as written; else UTC, but a PATCH keeps it."""
    if fields.time_zone and fields.time_zone.strip():
        return fields.time_zone
    if partial and existing is not None:
        return str(existing["timeZone"])
    return "UTC"


def _zone(sched: Record) -> tzinfo:
    """The zone a stored schedule's date-time fields are read in."""
    return zone_info(sched.get("timeZone")) or UTC


class Schedules:
    """Schedules.  Uses :class:`Workflows` (a schedule's workflow must be visible to its owner)."""

    def __init__(self, store: Store, *, workflows: Workflows):
        self.store = store
        self.workflows = workflows

    # records ---------------------------------------------------------------------------
    def add_schedule(self, fields: dict, actor: Actor | None) -> Record:
        """Store a schedule from its stored-name *fields* (already checked)."""
        store = self.store
        wf = store.workflows[fields["workflowId"]]
        now = store.now_iso()
        sched = {"id": fields.get("id") or store.new_id(), "name": fields.get("name") or wf["name"],
                 "workflowId": wf["id"], "versionId": wf["publishedVersionId"],
                 "ownerId": fields.get("ownerId") or (actor.id if actor else wf["ownerId"]),
                 "comment": fields.get("comment") or "", "enabled": fields.get("enabled", True),
                 "priority": fields.get("priority") or "Default", "workerTag": fields.get("workerTag") or "",
                 "status": "Active", "credentialId": fields.get("credentialId") or "", "creationTime": now,
                 "lastRunTime": None, "state": "Active", "runCount": 0, "iteration": fields["iteration"],
                 "lastError": "", "cpuName": "", "lastModifiedId": actor.id if actor else "",
                 "lastModifiedDate": now, "canEdit": True, "timeZone": fields.get("timeZone") or "UTC",
                 "questions": fields.get("questions") or []}
        store.schedules[sched["id"]] = sched
        return sched

    def view(self, sched: Record) -> Record:
        """The ``ScheduleView`` of a stored schedule, with its next run."""
        iteration = sched["iteration"]
        full = dict(sched, iteration={"startTime": iteration.get("startTime"), "endTime": iteration.get("endTime")},
                    runDateTime=iso(next_run(iteration, self.store.clock.now(), _zone(sched))) or "",
                    frequency=frequency(iteration))
        return project(full, "ScheduleView")

    def runs(self, sched: Record, after: float, before: float, limit: int = 400) -> Iterator[float]:
        """The UTC epoch seconds at which *sched* runs in ``[after, before)``, in order."""
        return occurrences(sched["iteration"], after, before, limit, _zone(sched))

    def _stored(self, fields: ScheduleFields, existing: Record | None = None, partial: bool = False) -> dict:
        """The stored fields a create, PUT or PATCH sets, each reference checked."""
        store = self.store
        out: dict[str, Any] = {"timeZone": _zone_name(fields, existing, partial)}
        zone = resolve_zone(out["timeZone"], "timeZone")
        if fields.workflow_id is not None:
            out["workflowId"] = store.require(store.workflows, fields.workflow_id, "workflowId", "Workflow")["id"]
        if fields.owner_id is not None:
            out["ownerId"] = store.require(store.users, fields.owner_id, "ownerId", "User")["id"]
        if fields.credential_id:
            store.require(store.credentials, fields.credential_id, "credentialId", "Credential")
        if fields.iteration is not None:
            check_iteration(fields.iteration, "iteration", store.clock.now(), existing is None, zone)
            out["iteration"] = fields.iteration
        for key, value in (("name", fields.name), ("comment", fields.comment), ("priority", fields.priority),
                           ("workerTag", fields.worker_tag), ("enabled", fields.enabled),
                           ("credentialId", fields.credential_id), ("questions", fields.questions)):
            if value is not None:
                out[key] = value
        return out

    def _own(self, actor: Actor, schedule_id: str) -> Record:
        sched = self.store.schedule(schedule_id)
        if not actor.is_curator and sched["ownerId"] != actor.id:
            raise NotFound(f"Schedule '{schedule_id}' was not found.")
        return sched

    # operations ------------------------------------------------------------------------
    def create_schedule(self, actor: Actor, *, fields: ScheduleFields) -> Created:
        """``POST /v3/schedules``: for the caller, who needs the schedule permission and to see the workflow."""
        if not actor.is_curator and not actor.can_schedule_jobs:
            raise Denied("You do not have permission to schedule jobs.")
        stored = self._stored(fields)
        wf = self.store.workflows[stored["workflowId"]]
        if not self.workflows.can_see(actor, wf):
            raise Invalid.field("workflowId", f"Workflow '{wf['id']}' was not found.")
        if not actor.may_prioritize:
            stored.pop("priority", None)
        if not actor.may_assign:
            stored.pop("workerTag", None)
        stored["ownerId"] = actor.id
        return Created(self.add_schedule(stored, actor)["id"])

    def get_schedule(self, actor: Actor, schedule_id: str) -> Record:
        return self.view(self._own(actor, schedule_id))

    def list_schedules(self, actor: Actor, *, owner_id: str | None = None, workflow_id: str | None = None,
                       runs_after: str | None = None, runs_before: str | None = None,
                       view: str | None = None) -> list[Record]:
        """``GET /v3/schedules``: a run window needs both ends, in order, at most 45 days apart."""
        if bool(runs_after) != bool(runs_before):
            raise Refused("runsAfter and runsBefore must be used together.")
        window = None
        if runs_after:
            start, end = parse_time(runs_after, "runsAfter"), parse_time(runs_before, "runsBefore")
            if end < start or end - start > 45 * 86400:
                raise Refused("runsAfter and runsBefore must be at most 45 days apart, in order.")
            window = (start, end)
        out = []
        for sched in self.store.schedules.values():
            if (not actor.is_curator and sched["ownerId"] != actor.id) or (owner_id and sched["ownerId"] != owner_id) \
                    or (workflow_id and sched["workflowId"] != workflow_id):
                continue
            if window and next(self.runs(sched, *window), None) is None:
                continue
            full = self.view(sched)
            reduced = project(full, "ReducedScheduleView")
            out.append(dict(reduced, **full) if view == "Full" else reduced)
        return out

    def _change(self, actor: Actor, schedule_id: str, fields: ScheduleFields, partial: bool) -> Record:
        sched = self._own(actor, schedule_id)
        stored = self._stored(fields, existing=sched, partial=partial)
        sched.update(stored)
        if "workflowId" in stored:
            sched["versionId"] = self.store.workflows[stored["workflowId"]]["publishedVersionId"]
        sched["lastModifiedId"] = actor.id
        sched["lastModifiedDate"] = self.store.now_iso()
        return self.view(sched)

    def update_schedule(self, actor: Actor, schedule_id: str, *, fields: ScheduleFields) -> Record:
        """``PUT /v3/schedules/{id}``: the whole record (a missing zone means UTC)."""
        return self._change(actor, schedule_id, fields, partial=False)

    def patch_schedule(self, actor: Actor, schedule_id: str, *, fields: ScheduleFields) -> Record:
        """``PATCH /v3/schedules/{id}``: the fields given (the zone is kept unless given)."""
        return self._change(actor, schedule_id, fields, partial=True)

    def delete_schedule(self, actor: Actor, schedule_id: str) -> None:
        self._own(actor, schedule_id)
        del self.store.schedules[schedule_id]
        for col in self.store.collections.values():
            if schedule_id in col["scheduleIds"]:
                col["scheduleIds"].remove(schedule_id)
