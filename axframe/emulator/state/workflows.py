"""Workflows with their versions and packages, and schedules."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from ... import catalogue, schemas
from ...packages import PackageError, PackageInfo, read_package
from .core import (PUBLISHERS, BadRequest, Core, Forbidden, NotFound, Unauthorized, check, invalid,
                   iso, parse_time, project)
from .zones import UTC, resolve_zone, utc_seconds, wall_clock, zone_info

_WORKFLOW_AUDITED = ("name", "ownerId", "workerTag", "districtTags", "comments", "isPublic",
                     "isReadyForMigration", "othersMayDownload", "othersCanViewHistory",
                     "othersCanExecute", "executionMode", "hasPrivateDataExemption",
                     "publishedVersionId", "sourceAppId")
_PRIORITY_RANK = {"Low": 0, "Default": 1, "Medium": 2, "High": 3, "Critical": 4}


def _snapshot(wf: dict) -> dict:
    return {k: wf.get(k) for k in _WORKFLOW_AUDITED}


def _form_problems(endpoint_name: str, form: dict, param_prefix: str = "") -> tuple[dict, dict]:
    """Coerce multipart text fields by the catalogue's form schema and check them."""
    schema = catalogue.find(endpoint_name).form_schema()
    values: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        raw = form.get(name)
        if raw is None or (raw == "" and prop.get("type") != "string"):
            continue
        values[name] = schemas.coerce(raw, prop)
    problems: dict[str, list[str]] = {}
    for message in schemas.validate(values, schema, ""):
        key, _, text = message.partition(": ")
        problems.setdefault(param_prefix + key, []).append(
            f"The {key} field is required." if text == "is required" else text)
    return values, problems


class Workflows(Core):
    # --------------------------------------------------------------- helpers
    def can_see_workflow(self, actor: dict, wf: dict) -> bool:
        if self.is_curator(actor) or wf["ownerId"] == actor["id"] or wf["isPublic"]:
            return True
        owner = self.users.get(wf["ownerId"])
        if owner and owner.get("subscriptionId") == actor.get("subscriptionId"):
            return True
        return any(wf["id"] in c["workflowIds"] for c in self.collections_of(actor["id"]))  # type: ignore[attr-defined]

    def visible_workflow(self, actor: dict, workflow_id: str, *, forbid: bool = False) -> dict:
        wf = self.workflow(workflow_id)
        if not self.can_see_workflow(actor, wf):
            if forbid:
                raise Forbidden("You do not have access to this workflow.")
            raise NotFound(f"Workflow '{workflow_id}' was not found.")
        return wf

    def published(self, wf: dict) -> dict:
        for version in wf["versions"]:
            if version["versionId"] == wf["publishedVersionId"]:
                return version
        return wf["versions"][-1]

    def version(self, wf: dict, version_id: str | None) -> dict:
        if not version_id:
            return self.published(wf)
        for version in wf["versions"]:
            if version["versionId"] == version_id:
                return version
        raise BadRequest(f"Invalid VersionId '{version_id}'.")

    def behaviour(self, wf: dict, version: dict | None = None) -> dict:
        """How the emulator runs this workflow: package hints, overridden by settings."""
        version = version or self.published(wf)
        merged = dict(version.get("hints") or {})
        merged.update(wf.get("behaviour") or {})
        return merged

    def _new_version(self, wf: dict, info: PackageInfo, package: bytes, settings: dict,
                     actor: dict | None, upload_source: str = "ServerUIorServerAPI") -> dict:
        number = max((v["versionNumber"] for v in wf["versions"]), default=0) + 1
        now = self.now_iso()
        version = {
            "versionId": self.new_id(), "versionNumber": number, "dateCreated": now,
            "uploadSource": upload_source, "uploadDate": now, "packageWorkflowType": info.kind,
            "published": False, "comments": settings.get("comments") or "", "runDisabled": False,
            "executionMode": settings.get("executionMode") or "Standard",
            "workflowCredentialType": settings.get("workflowCredentialType") or "Default",
            "credentialId": settings.get("credentialId") or "",
            "hasPrivateDataExemption": bool(settings.get("hasPrivateDataExemption", False)),
            "othersMayDownload": bool(settings.get("othersMayDownload", True)),
            "othersCanViewHistory": bool(settings.get("othersCanViewHistory", False)),
            "details": {"isAmp": True, "fileName": info.main_file, "author": info.author,
                        "copyright": info.copyright, "description": info.description,
                        "name": info.name, "noOutputFilesMessage": info.no_output_message,
                        "outputMessage": info.output_message, "url": info.url, "urlText": info.url_text},
            "package": package, "questions": list(info.questions), "hints": dict(info.hints),
            "ownerId": settings.get("ownerId") or wf["ownerId"], "runCount": 0,
        }
        wf["versions"].append(version)
        return version

    def _publish_version(self, wf: dict, version: dict) -> None:
        for v in wf["versions"]:
            v["published"] = v is version
        wf["publishedVersionId"] = version["versionId"]
        wf["packageWorkflowType"] = version["packageWorkflowType"]
        wf["executionMode"] = version["executionMode"]
        wf["hasPrivateDataExemption"] = version["hasPrivateDataExemption"]
        wf["othersMayDownload"] = version["othersMayDownload"]

    def add_workflow(self, *, name: str, owner_id: str, package: bytes, settings: dict,
                     actor: dict | None, source_app_id: str = "", workflow_id: str | None = None,
                     upload_source: str = "ServerUIorServerAPI") -> dict:
        """Create a workflow with one published version (checks already done)."""
        info = _read(package)
        wf = {
            "id": workflow_id or self.new_id(), "name": name, "ownerId": owner_id,
            "workerTag": settings.get("workerTag") or "",
            "districtTags": list(settings.get("districtTags") or []),
            "comments": settings.get("comments") or "",
            "isPublic": bool(settings.get("isPublic", False)),
            "isReadyForMigration": bool(settings.get("isReadyForMigration", False)),
            "othersMayDownload": bool(settings.get("othersMayDownload", True)),
            "othersCanViewHistory": bool(settings.get("othersCanViewHistory", False)),
            "othersCanExecute": bool(settings.get("othersCanExecute", True)),
            "executionMode": settings.get("executionMode") or "Standard",
            "hasPrivateDataExemption": bool(settings.get("hasPrivateDataExemption", False)),
            "sourceAppId": source_app_id or "", "dateCreated": self.now_iso(), "runCount": 0,
            "publishedVersionId": "", "packageWorkflowType": info.kind, "versions": [],
            "behaviour": {}, "dateMadePublic": None,
        }
        self.workflows[wf["id"]] = wf
        version = self._new_version(wf, info, package, dict(settings, ownerId=owner_id), actor,
                                    upload_source)
        self._publish_version(wf, version)
        if wf["isPublic"]:
            wf["dateMadePublic"] = wf["dateCreated"]
        self.record("AppInfo", wf["id"], "Insert", actor, None, _snapshot(wf))
        return wf

    def workflow_view(self, wf: dict) -> dict:
        return project(wf, "WorkflowView")

    def reduced_workflow_view(self, wf: dict) -> dict:
        published = self.published(wf)
        return project(dict(wf, publishedVersionNumber=published["versionNumber"],
                            isAmp=published["details"]["isAmp"]), "ReducedWorkflowView")

    def _set_workflow_owner(self, wf: dict, owner_id: str, actor: dict | None) -> None:
        before = _snapshot(wf)
        wf["ownerId"] = owner_id
        self.record("AppInfo", wf["id"], "Update", actor, before, _snapshot(wf))

    # ------------------------------------------------------------ operations
    def list_workflows(self, actor: dict, view: str | None = None, name: str | None = None,
                       ownerId: str | None = None, createdAfter: str | None = None,
                       createdBefore: str | None = None) -> list[dict]:
        after = parse_time(createdAfter, "createdAfter") if createdAfter else None
        before = parse_time(createdBefore, "createdBefore") if createdBefore else None
        out = []
        for wf in self.workflows.values():
            if not self.can_see_workflow(actor, wf):
                continue
            if name and wf["name"].lower() != name.lower():
                continue
            if ownerId and wf["ownerId"] != ownerId:
                continue
            created = parse_time(self.published(wf)["dateCreated"], "dateCreated")
            if (after is not None and created < after) or (before is not None and created > before):
                continue
            reduced = self.reduced_workflow_view(wf)
            out.append(dict(reduced, **self.workflow_view(wf)) if view == "Full" else reduced)
        return out

    def get_workflow(self, actor: dict, workflow_id: str) -> dict:
        return self.workflow_view(self.visible_workflow(actor, workflow_id))

    def create_workflow(self, actor: dict, form: dict, file: tuple[str, bytes] | None) -> str:
        values, problems = _form_problems("workflows.upload", form)
        if file is None:
            problems.setdefault("file", []).append("A workflow package (.yxzp) file is required.")
        if problems:
            raise invalid(problems)
        info_package = file[1]  # type: ignore[index]
        _read(info_package)
        owner_id = values["ownerId"]
        if owner_id not in self.users:
            raise invalid({"ownerId": [f"User '{owner_id}' was not found."]})
        if not self.is_curator(actor):
            if actor["role"] not in PUBLISHERS:
                raise Unauthorized("Your role does not allow publishing workflows.")
            if owner_id != actor["id"]:
                raise Unauthorized("Only Curators can publish workflows for another owner.")
        source = values.get("sourceAppId") or ""
        if source and any(w["sourceAppId"] == source for w in self.workflows.values()):
            raise invalid({"sourceAppId": [f"A workflow with sourceAppId '{source}' already exists."]})
        self._check_credential_setting(values, "")
        collection_ids = values.get("collectionIds") or []
        unknown = [c for c in collection_ids if c not in self.collections]
        if unknown:
            raise invalid({"collectionIds": [f"Collection '{c}' was not found." for c in unknown]})
        wf = self.add_workflow(name=values["name"], owner_id=owner_id, package=info_package,
                               settings=values, actor=actor, source_app_id=source)
        for cid in collection_ids:
            self.collections[cid]["workflowIds"].append(wf["id"])
            self.record("Collection", cid, "Update", actor, {}, {"addedWorkflowId": wf["id"]})
        return wf["id"]

    def _check_credential_setting(self, values: dict, prefix: str) -> None:
        kind = values.get("workflowCredentialType")
        cred = values.get("credentialId")
        if kind == "Specific" and not cred:
            raise invalid({f"{prefix}credentialId": ["A credentialId is required when workflowCredentialType is Specific."]})
        if cred and cred not in self.credentials:
            raise invalid({f"{prefix}credentialId": [f"Credential '{cred}' was not found."]})

    def add_version(self, actor: dict, workflow_id: str, form: dict, file: tuple[str, bytes] | None) -> dict:
        wf = self.workflow(workflow_id)
        if not self.is_curator(actor) and wf["ownerId"] != actor["id"]:
            raise Unauthorized("Only the owner or a Curator can add a version.")
        values, problems = _form_problems("workflows.add_version", form)
        if file is None:
            problems.setdefault("file", []).append("A workflow package (.yxzp) file is required.")
        if problems:
            raise invalid(problems)
        info = _read(file[1])  # type: ignore[index]
        if values["ownerId"] not in self.users:
            raise invalid({"ownerId": [f"User '{values['ownerId']}' was not found."]})
        self._check_credential_setting(values, "")
        before = _snapshot(wf)
        version = self._new_version(wf, info, file[1], values, actor)  # type: ignore[index]
        wf["name"] = values["name"]
        wf["ownerId"] = values["ownerId"]
        wf["othersCanExecute"] = values["othersCanExecute"]
        if values.get("makePublished"):
            self._publish_version(wf, version)
        self.record("AppInfo", wf["id"], "Update", actor, before,
                    dict(_snapshot(wf), versionAdded=version["versionNumber"]))
        return self.workflow_view(wf)

    def publish_or_version(self, actor: dict, *, name: str, owner_id: str, package: bytes,
                           settings: dict, source_id: str) -> dict:
        """Admin V1 publish: a new version when *source_id* is known, else a new workflow."""
        info = _read(package)
        if source_id:
            for wf in self.workflows.values():
                if wf["sourceAppId"] == source_id:
                    before = _snapshot(wf)
                    version = self._new_version(wf, info, package, dict(settings, ownerId=owner_id), actor)
                    self._publish_version(wf, version)
                    wf["name"] = name
                    self.record("AppInfo", wf["id"], "Update", actor, before,
                                dict(_snapshot(wf), versionAdded=version["versionNumber"]))
                    return wf
        return self.add_workflow(name=name, owner_id=owner_id, package=package, settings=settings,
                                 actor=actor, source_app_id=source_id)

    def update_workflow(self, actor: dict, workflow_id: str, contract: Any) -> dict:
        wf = self.workflow(workflow_id)
        check(contract, {"$ref": "UpdateWorkflowContract"}, "updateWorkflowContract")
        version = None
        for v in wf["versions"]:
            if v["versionId"] == contract["versionId"]:
                version = v
        if version is None:
            raise invalid({"updateWorkflowContract.versionId": [f"Version '{contract['versionId']}' does not belong to this workflow."]})
        new_owner = contract["ownerId"]
        if new_owner not in self.users:
            raise invalid({"updateWorkflowContract.ownerId": [f"User '{new_owner}' was not found."]})
        if new_owner != wf["ownerId"]:
            old_sub = self.users.get(wf["ownerId"], {}).get("subscriptionId")
            if self.users[new_owner].get("subscriptionId") != old_sub:
                raise invalid({"updateWorkflowContract.ownerId": ["The new owner must be in the same subscription as the current owner."]})
        self._check_credential_setting(contract, "updateWorkflowContract.")
        before = _snapshot(wf)
        for key in ("name", "ownerId", "workerTag", "districtTags", "comments", "isPublic",
                    "isReadyForMigration", "othersMayDownload", "othersCanExecute", "executionMode"):
            wf[key] = contract[key]
        for key in ("othersCanViewHistory", "hasPrivateDataExemption"):
            if contract.get(key) is not None:
                wf[key] = contract[key]
        version["workflowCredentialType"] = contract["workflowCredentialType"]
        version["credentialId"] = contract["credentialId"]
        version["executionMode"] = contract["executionMode"]
        version["othersMayDownload"] = contract["othersMayDownload"]
        if contract["makePublished"]:
            self._publish_version(wf, version)
        if wf["isPublic"] and not wf.get("dateMadePublic"):
            wf["dateMadePublic"] = self.now_iso()
        self.record("AppInfo", wf["id"], "Update", actor, before, _snapshot(wf))
        return self.workflow_view(wf)

    def delete_workflow(self, actor: dict, workflow_id: str, force: bool | None = None) -> None:
        wf = self.workflow(workflow_id)
        scheduled = [s for s in self.schedules.values() if s["workflowId"] == workflow_id]
        if scheduled and not force:
            raise BadRequest("The workflow is scheduled; use force=true to delete its schedules too.")
        for sched in scheduled:
            del self.schedules[sched["id"]]
            for col in self.collections.values():
                if sched["id"] in col["scheduleIds"]:
                    col["scheduleIds"].remove(sched["id"])
        for col in self.collections.values():
            if workflow_id in col["workflowIds"]:
                col["workflowIds"].remove(workflow_id)
        del self.workflows[workflow_id]
        self.record("AppInfo", workflow_id, "Delete", actor, _snapshot(wf), None)

    def download_workflow(self, actor: dict, workflow_id: str, versionId: str | None = None) -> tuple[bytes, str]:
        wf = self.visible_workflow(actor, workflow_id, forbid=True)
        version = self.version(wf, versionId)
        if not (self.is_curator(actor) or wf["ownerId"] == actor["id"] or version["othersMayDownload"]):
            raise Forbidden("The workflow's owner does not allow others to download it.")
        file_name = version["details"]["fileName"].rsplit(".", 1)[0] + ".yxzp"
        return version["package"], file_name

    def workflow_questions(self, actor: dict, workflow_id: str, versionId: str | None = None) -> list[dict]:
        wf = self.visible_workflow(actor, workflow_id, forbid=True)
        version = self.version(wf, versionId)
        return [project({"name": q.name, "questionType": q.type, "description": q.description,
                         "value": q.default, "multiple": q.multiple,
                         "items": [{"key": i, "value": i} for i in q.items]}, "WorkflowQuestionView")
                for q in version["questions"]]

    def transfer_workflow(self, actor: dict, workflow_id: str, contract: Any) -> None:
        if workflow_id not in self.workflows:
            raise NotFound(f"Workflow '{workflow_id}' was not found.", plain=True)
        wf = self.workflows[workflow_id]
        if not self.is_curator(actor) and wf["ownerId"] != actor["id"]:
            raise Forbidden("Only the owner or a Curator can transfer this workflow.", plain=True)
        problems = schemas.validate(contract, {"$ref": "TransferWorkflowContract"}, "contract")
        if problems:
            raise BadRequest("; ".join(problems), plain=True)
        new_owner = contract["ownerId"]
        if new_owner not in self.users:
            raise BadRequest(f"The new owner '{new_owner}' was not found.", plain=True)
        if contract["transferSchedules"]:
            for sched in self.schedules.values():
                if sched["workflowId"] == workflow_id and sched["ownerId"] == wf["ownerId"]:
                    sched["ownerId"] = new_owner
        self._set_workflow_owner(wf, new_owner, actor)

    # -------------------------------------------------------------- schedules
    def _schedule_fields(self, contract: dict, param: str, existing: dict | None = None,
                         partial: bool = False) -> dict:
        fields: dict[str, Any] = {"timeZone": _zone_name(contract, param, existing, partial)}
        zone = resolve_zone(fields["timeZone"], f"{param}.timeZone")
        if "workflowId" in contract and contract["workflowId"] is not None:
            wid = contract["workflowId"]
            if wid not in self.workflows:
                raise invalid({f"{param}.workflowId": [f"Workflow '{wid}' was not found."]})
            fields["workflowId"] = wid
        if contract.get("ownerId") is not None:
            if contract["ownerId"] not in self.users:
                raise invalid({f"{param}.ownerId": [f"User '{contract['ownerId']}' was not found."]})
            fields["ownerId"] = contract["ownerId"]
        if contract.get("credentialId"):
            if contract["credentialId"] not in self.credentials:
                raise invalid({f"{param}.credentialId": [f"Credential '{contract['credentialId']}' was not found."]})
        if contract.get("iteration") is not None:
            iteration = contract["iteration"]
            _check_iteration(iteration, f"{param}.iteration", self.clock.now(), existing is None, zone)
            fields["iteration"] = iteration
        for key in ("name", "comment", "priority", "workerTag", "enabled", "credentialId", "questions"):
            if contract.get(key) is not None:
                fields[key] = contract[key]
        return fields

    def schedule_view(self, sched: dict) -> dict:
        iteration = sched["iteration"]
        full = dict(sched, iteration={"startTime": iteration.get("startTime"),
                                      "endTime": iteration.get("endTime")},
                    runDateTime=iso(_next_run(iteration, self.clock.now(), _sched_zone(sched))) or "",
                    frequency=_frequency(iteration))
        return project(full, "ScheduleView")

    def schedule_runs(self, sched: dict, after: float, before: float, limit: int = 400):
        """The UTC epoch seconds at which *sched* runs in ``[after, before)``, in order."""
        return _occurrences(sched["iteration"], after, before, limit, _sched_zone(sched))

    def add_schedule(self, fields: dict, actor: dict | None) -> dict:
        wf = self.workflows[fields["workflowId"]]
        sched = {"id": fields.get("id") or self.new_id(), "name": fields.get("name") or wf["name"],
                 "workflowId": wf["id"], "versionId": wf["publishedVersionId"],
                 "ownerId": fields.get("ownerId") or (actor["id"] if actor else wf["ownerId"]),
                 "comment": fields.get("comment") or "", "enabled": fields.get("enabled", True),
                 "priority": fields.get("priority") or "Default",
                 "workerTag": fields.get("workerTag") or "", "status": "Active",
                 "credentialId": fields.get("credentialId") or "", "creationTime": self.now_iso(),
                 "lastRunTime": None, "state": "Active", "runCount": 0,
                 "iteration": fields["iteration"], "lastError": "", "cpuName": "",
                 "lastModifiedId": actor["id"] if actor else "", "lastModifiedDate": self.now_iso(),
                 "canEdit": True, "timeZone": fields.get("timeZone") or "UTC",
                 "questions": fields.get("questions") or []}
        self.schedules[sched["id"]] = sched
        return sched

    def create_schedule(self, actor: dict, contract: Any) -> str:
        check(contract, {"$ref": "CreateScheduleContract"}, "contract")
        if not self.is_curator(actor) and not actor.get("canScheduleJobs"):
            raise Unauthorized("You do not have permission to schedule jobs.")
        fields = self._schedule_fields(contract, "contract")
        wf = self.workflows[fields["workflowId"]]
        if not self.can_see_workflow(actor, wf):
            raise invalid({"contract.workflowId": [f"Workflow '{wf['id']}' was not found."]})
        if not (self.is_curator(actor) or actor.get("canPrioritizeJobs")):
            fields.pop("priority", None)
        if not (self.is_curator(actor) or actor.get("canAssignJobs")):
            fields.pop("workerTag", None)
        fields["ownerId"] = actor["id"]
        return self.add_schedule(fields, actor)["id"]

    def _own_schedule(self, actor: dict, schedule_id: str) -> dict:
        sched = self.schedule(schedule_id)
        if not self.is_curator(actor) and sched["ownerId"] != actor["id"]:
            raise NotFound(f"Schedule '{schedule_id}' was not found.")
        return sched

    def get_schedule(self, actor: dict, schedule_id: str) -> dict:
        return self.schedule_view(self._own_schedule(actor, schedule_id))

    def list_schedules(self, actor: dict, ownerId: str | None = None, workflowId: str | None = None,
                       runsAfter: str | None = None, runsBefore: str | None = None,
                       view: str | None = None) -> list[dict]:
        if bool(runsAfter) != bool(runsBefore):
            raise BadRequest("runsAfter and runsBefore must be used together.")
        window = None
        if runsAfter:
            start, end = parse_time(runsAfter, "runsAfter"), parse_time(runsBefore, "runsBefore")
            if end < start or end - start > 45 * 86400:
                raise BadRequest("runsAfter and runsBefore must be at most 45 days apart, in order.")
            window = (start, end)
        out = []
        for sched in self.schedules.values():
            if not self.is_curator(actor) and sched["ownerId"] != actor["id"]:
                continue
            if ownerId and sched["ownerId"] != ownerId:
                continue
            if workflowId and sched["workflowId"] != workflowId:
                continue
            if window and next(self.schedule_runs(sched, *window), None) is None:
                continue
            full = self.schedule_view(sched)
            reduced = project(full, "ReducedScheduleView")
            out.append(dict(reduced, **full) if view == "Full" else reduced)
        return out

    def update_schedule(self, actor: dict, schedule_id: str, contract: Any, partial: bool) -> dict:
        sched = self._own_schedule(actor, schedule_id)
        definition = "PatchScheduleContract" if partial else "UpdateScheduleContract"
        check(contract, {"$ref": definition}, "contract")
        fields = self._schedule_fields(contract, "contract", existing=sched, partial=partial)
        sched.update(fields)
        if "workflowId" in fields:
            sched["versionId"] = self.workflows[fields["workflowId"]]["publishedVersionId"]
        sched["lastModifiedId"] = actor["id"]
        sched["lastModifiedDate"] = self.now_iso()
        return self.schedule_view(sched)

    def delete_schedule(self, actor: dict, schedule_id: str) -> None:
        self._own_schedule(actor, schedule_id)
        del self.schedules[schedule_id]
        for col in self.collections.values():
            if schedule_id in col["scheduleIds"]:
                col["scheduleIds"].remove(schedule_id)

    def priority_rank(self, priority: str | None) -> int:
        return _PRIORITY_RANK.get(priority or "Default", 1)


def _read(package: bytes) -> PackageInfo:
    try:
        return read_package(package)
    except PackageError as exc:
        raise invalid({"file": [f"Invalid workflow package: {exc}."]}) from None


# ---------------------------------------------------------------- iterations
_ITERATION_CONTRACTS = {"Hourly": "hourlyContract", "Weekly": "weeklyContract",
                        "Monthly": "monthlyContract", "Custom": "customContract",
                        "Cron": "cronContract"}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _zone_name(contract: dict, param: str, existing: dict | None, partial: bool) -> str:
    """The zone name a create, PUT or PATCH leaves on a schedule.

    A given name is kept as written; none (or an empty one) means UTC, except
    that a PATCH keeps the schedule's zone.
    """
    given = contract.get("timeZone")
    if given is not None and not isinstance(given, str):
        raise invalid({f"{param}.timeZone": ["The time zone must be text, such as 'Eastern Standard Time'."]})
    if given and given.strip():
        return given
    if partial and existing is not None:
        return existing["timeZone"]
    return "UTC"


def _sched_zone(sched: dict) -> tzinfo:
    """The zone a stored schedule's date-time fields are read in."""
    return zone_info(sched.get("timeZone")) or UTC


def _check_iteration(iteration: dict, param: str, now: float, creating: bool, zone: tzinfo = UTC) -> None:
    kind = iteration.get("iterationType")
    needed = _ITERATION_CONTRACTS.get(kind)
    if needed and not iteration.get(needed):
        raise invalid({f"{param}.{needed}": [f"A {needed} is required for iterationType {kind}."]})
    start = parse_time(iteration.get("startTime"), f"{param}.startTime", zone)
    if creating and start <= now:
        raise invalid({f"{param}.startTime": ["The start time must be in the future."]})
    if iteration.get("endTime"):
        end = parse_time(iteration["endTime"], f"{param}.endTime", zone)
        if end <= start:
            raise invalid({f"{param}.endTime": ["The end time must be after the start time."]})


def _step(iteration: dict) -> timedelta | None:
    kind = iteration.get("iterationType")
    if kind == "Hourly":
        c = iteration.get("hourlyContract") or {}
        step = timedelta(hours=c.get("hours", 1) or 0, minutes=c.get("minutes", 0) or 0)
        return step if step.total_seconds() > 0 else timedelta(hours=1)
    if kind in ("Daily", "Weekly", "Custom", "Cron"):
        return timedelta(days=1)
    if kind == "Monthly":
        return timedelta(days=1)
    return None


def _matches_day(iteration: dict, dt: datetime) -> bool:
    kind = iteration.get("iterationType")
    if kind == "Daily" and (iteration.get("dailyContract") or {}).get("runOnlyWorkWeek"):
        return dt.weekday() < 5
    if kind == "Weekly":
        days = (iteration.get("weeklyContract") or {}).get("daysOfWeek") or []
        return _WEEKDAYS[dt.weekday()] in days
    if kind == "Monthly":
        c = iteration.get("monthlyContract") or {}
        if c.get("simpleDayOfMonth"):
            return dt.day == (c.get("dayOfMonth") or 1)
        return _WEEKDAYS[dt.weekday()] == (c.get("dayOfWeek") or "Monday") and \
            (dt.day - 1) // 7 + 1 == (c.get("occurrence") or 1)
    if kind == "Custom":
        c = iteration.get("customContract") or {}
        return dt.day in (c.get("daysOfMonth") or []) and dt.month in (c.get("months") or [])
    return True


def _occurrences(iteration: dict, after: float, before: float, limit: int = 400, zone: tzinfo = UTC):
    """UTC epoch seconds of the runs in ``[after, before)``.

    Runs step on the zone's wall clock (a daily 02:00 stays 02:00 across
    daylight saving), and days are matched on the local date.
    """
    try:
        start = parse_time(iteration.get("startTime"), "startTime", zone)
    except BadRequest:
        return
    end = parse_time(iteration["endTime"], "endTime", zone) if iteration.get("endTime") else None
    step = _step(iteration)
    if step is None:
        if after <= start < before and (end is None or start <= end):
            yield start
        return
    t = wall_clock(start, zone)
    if start < after:  # jump close to the window, a little early for daylight-saving shifts
        seconds = step.total_seconds()
        skips = int((wall_clock(after, zone) - t).total_seconds() // seconds)
        t += step * max(skips - 1 - int(7200 // seconds), 0)
    last = None
    for _ in range(limit):
        ts = utc_seconds(t, zone)
        if ts >= before or (end is not None and ts > end):
            return
        if ts >= after and ts != last and _matches_day(iteration, t):
            yield ts
            last = ts
        t += step


def _next_run(iteration: dict, now: float, zone: tzinfo = UTC) -> float | None:
    try:
        start = parse_time(iteration.get("startTime"), "startTime", zone)
    except BadRequest:
        return None
    return next(_occurrences(iteration, now, max(now, start) + 400 * 86400, zone=zone), None)


def _frequency(iteration: dict) -> str:
    kind = iteration.get("iterationType", "Once")
    if kind == "Hourly":
        c = iteration.get("hourlyContract") or {}
        return f"Every {c.get('hours', 1)} hour(s) {c.get('minutes', 0)} minute(s)"
    if kind == "Weekly":
        return "Weekly on " + ", ".join((iteration.get("weeklyContract") or {}).get("daysOfWeek") or [])
    if kind == "Cron":
        return "Cron " + (iteration.get("cronContract") or {}).get("cronExpression", "")
    return kind

