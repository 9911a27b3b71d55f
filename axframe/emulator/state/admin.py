"""The Admin V1 and V2 APIs (reference.md section 6): the whole Server, for Curators and migrations.

Choices where the reference is silent are in ``docs/emulator.md``: ``page``
is one-based for the paged listings (``Store.admin_paging`` can make it
zero-based, or one-based with page 0 read as page 1) and zero-based for
``workflows/all``; ``PUT .../migratable/{appId}`` answers the workflow's id
and new flag.
"""

from __future__ import annotations

from typing import Any

from .actor import Actor
from .calendar import frequency
from .core import Created, Invalid, Record, Refused, Upload, iso, parse_time
from .jobs import Jobs, priority_rank
from .legacy import Legacy, job_view_v1
from .paging import admin_page, offset_page, sort_views
from .paging import page as paged
from .schedules import Schedules
from .store import Store
from .workflows import Workflows

__all__ = ["Admin"]

_ADDRESS = {"country": "", "addressLine1": "", "addressLine2": "", "city": "", "state": "", "postalCode": ""}


def _ids(text: str | None) -> set[str] | None:
    """A comma-separated list of ids; ``None`` for none given (all)."""
    return {part.strip() for part in text.split(",") if part.strip()} if text else None


class Admin:
    """Admin V1/V2.

    Uses :class:`Workflows` (publishing, versions), :class:`Jobs` (bringing
    jobs up to the clock), :class:`Schedules` (their views and runs) and
    :class:`Legacy` (the V1 workflow view the admin view extends).
    """

    def __init__(self, store: Store, *, workflows: Workflows, jobs: Jobs, schedules: Schedules, legacy: Legacy):
        self.store = store
        self.workflows = workflows
        self.jobs = jobs
        self.schedules = schedules
        self.legacy = legacy

    def _page(self, items: list, number: Any, size: Any, required: bool = False) -> list:
        return admin_page(items, number, size, self.store.admin_paging, required)

    # ------------------------------------------------------------------- views
    def _owner(self, user_id: str) -> Record:
        u = self.store.users.get(user_id, {})
        return {"id": user_id, "firstName": u.get("firstName", ""), "lastName": u.get("lastName", ""),
                "sId": u.get("sId") or "",
                "subscriptionId": u.get("subscriptionId", ""), "email": u.get("email", ""),
                "active": u.get("isActive", False)}

    def _workflow_view(self, wf: Record) -> Record:
        store = self.store
        version = self.workflows.published(wf)
        last_run = max((j["createDateTime"] for j in store.jobs.values() if j["appId"] == wf["id"]), default=None)
        sub = store.subscriptions.get(store.users.get(wf["ownerId"], {}).get("subscriptionId", ""), {})
        return dict(self.legacy.workflow_view(wf), publishedVersionId=wf["publishedVersionId"],
                    publishedVersionNumber=version["versionNumber"],
                    publishedVersionOwner=self._owner(str(version.get("ownerId", wf["ownerId"]))),
                    collections=[{"collectionName": c["name"], "collectionId": c["id"]}
                                 for c in store.collections.values() if wf["id"] in c["workflowIds"]],
                    lastRunDate=last_run, subscriptionName=sub.get("name", ""))

    def _person(self, user_id: str) -> Record:
        u = self.store.users.get(user_id, {})
        sub = self.store.subscriptions.get(u.get("subscriptionId", ""), {})
        return {"id": user_id, "firstName": u.get("firstName", ""), "lastName": u.get("lastName", ""),
                "email": u.get("email", ""), "subscription": {"id": sub.get("id", ""), "name": sub.get("name", "")}}

    def _revision(self, wf: Record, v: Record) -> Record:
        return {"id": v["versionId"], "version": v["versionNumber"], "author": self._person(str(v.get("ownerId", wf["ownerId"]))),
                "dateCreated": v["dateCreated"], "executionMode": v["executionMode"], "isChunkedPackage": False,
                "runCount": v["runCount"], "downloadCount": 0, "packageType": self.legacy.package_type(v["packageWorkflowType"]),
                "hasPrivateDataExemption": v["hasPrivateDataExemption"], "uploadDate": v["uploadDate"],
                "credentialType": v["workflowCredentialType"], "isE2": False, "canDownload": v["othersMayDownload"],
                "allowVersionHistory": True, "showVersionHistory": v["othersCanViewHistory"],
                "applications": [{"name": v["details"]["name"], "filename": v["details"]["fileName"], "nextApp": ""}],
                "comments": v["comments"]}

    def _all_view(self, wf: Record, v2: bool = False) -> Record:
        owner = self._person(wf["ownerId"])
        events = [{"user": self._person(e["userId"]), "timestamp": iso(e["timestamp"]), "event": e["event"],
                   "oldValues": e["oldValues"], "newValues": e["newValues"]}
                  for e in self.store.audit if e["entity"] == "AppInfo" and e["entityId"] == wf["id"]]
        revisions = [self._revision(wf, v) for v in wf["versions"]]
        if v2 and self.store.realism("admin_v2_author_case"):  # real Servers: author.subscription.Id / .Name
            for revision in revisions:
                sub = revision["author"]["subscription"]
                revision["author"] = dict(revision["author"], subscription={"Id": sub["id"], "Name": sub["name"]})
        return {"id": wf["id"], "revisions": revisions, "creator": owner,
                "subscription": owner["subscription"], "events": events, "runDisabled": False,
                "isPublic": wf["isPublic"], "dateMadePublic": wf.get("dateMadePublic") or "", "isDeleted": False,
                "runCount": wf["runCount"], "iconId": "", "workerTag": wf["workerTag"],
                "isReadyForMigration": wf["isReadyForMigration"]}

    # ------------------------------------------------------------------ workflows
    def workflows_list(self, actor: Actor, *, search: str | None = None, sort_field: str | None = None,
                       direction: str | None = None, offset: Any = None, limit: Any = None) -> list[Record]:
        """``GET /admin/v1/workflows``: every workflow, with owner and collections."""
        wfs = [w for w in self.store.workflows.values() if not search or search.lower() in w["name"].lower()]
        return offset_page(sort_views([self._workflow_view(w) for w in wfs], sort_field, direction), offset, limit)

    def _changed_between(self, wf: Record, start: float | None, end: float | None, use_events: bool | None) -> bool:
        if start is None and end is None:
            return True
        if use_events:
            stamps = [e["timestamp"] for e in self.store.audit if e["entity"] == "AppInfo" and e["entityId"] == wf["id"]]
        else:
            stamps = [parse_time(v["dateCreated"], "dateCreated") for v in wf["versions"]]
        return any((start is None or t >= start) and (end is None or t <= end) for t in stamps)

    def workflows_all(self, actor: Actor, *, start_date: str | None = None, end_date: str | None = None,
                      page: Any = None, page_size: Any = None, name: str | None = None,
                      subscription_id: str | None = None, use_events: bool | None = None,
                      v2: bool = False) -> list[Record]:
        """``GET /admin/v1|v2/workflows/all``: with revisions and events, zero-based pages (an end date
        without a time means the whole day)."""
        start = parse_time(start_date, "startDate") if start_date else None
        end = None
        if end_date:
            end = parse_time(end_date, "endDate") + (86399.999 if "T" not in end_date else 0)
        users = self.store.users
        chosen = [wf for wf in self.store.workflows.values()
                  if (not name or name.lower() in wf["name"].lower())
                  and (not subscription_id or users.get(wf["ownerId"], {}).get("subscriptionId") == subscription_id)
                  and self._changed_between(wf, start, end, use_events)]
        return paged([self._all_view(wf, v2) for wf in chosen], page, page_size, zero_based=True)

    def last_jobs(self, actor: Actor, *, app_ids: str | None = None, include_messages: bool | None = None) -> list:
        """``GET /admin/v1/workflows/jobs``: the newest job of each workflow (of those named)."""
        self.jobs.tick()
        wanted = _ids(app_ids)
        last: dict[str, Record] = {}
        for job in self.store.jobs.values():
            if wanted is not None and job["appId"] not in wanted:
                continue
            current = last.get(job["appId"])
            if current is None or (job["_created"], job["_seq"]) > (current["_created"], current["_seq"]):
                last[job["appId"]] = job
        return [job_view_v1(j, include_messages is not False) for j in last.values()]

    def migratable(self, actor: Actor, *, subscription_ids: str | None = None) -> list[Record]:
        """``GET /admin/v1/workflows/migratable``: those marked ready, of the studios named."""
        wanted = _ids(subscription_ids)
        out = []
        for wf in self.store.workflows.values():
            sub = self.store.users.get(wf["ownerId"], {}).get("subscriptionId", "")
            if wf["isReadyForMigration"] and (wanted is None or sub in wanted):
                out.append({"id": wf["id"], "publishedVersionId": wf["publishedVersionId"], "subscriptionId": sub})
        return out

    def toggle_migratable(self, actor: Actor, app_id: str) -> Record:
        """``PUT /admin/v1/workflows/migratable/{appId}``: flips the flag; answers the id and the new flag."""
        wf = self.store.workflow(app_id)
        before = {"isReadyForMigration": wf["isReadyForMigration"]}
        wf["isReadyForMigration"] = not wf["isReadyForMigration"]
        self.store.record("AppInfo", app_id, "Update", actor, before, {"isReadyForMigration": wf["isReadyForMigration"]})
        return {"id": app_id, "isReadyForMigration": wf["isReadyForMigration"]}

    def publish(self, actor: Actor, *, name: str, owner: str, validate: bool, is_public: bool, source_id: str,
                worker_tag: str, can_download: bool, file: Upload, comments: str | None = None) -> Created:
        """``POST /admin/v1/workflows`` (multipart): *owner* is an email; a known *source_id* gets a new version."""
        for field, value in (("name", name), ("owner", owner)):
            if not value:
                raise Invalid.required(field)
        found = next(iter(self.store.users.with_email(owner)), None)
        if found is None:
            raise Invalid.field("owner", f"No user with the email '{owner}' exists on this Server.")
        settings = {"isPublic": is_public, "workerTag": worker_tag or "", "othersMayDownload": can_download,
                    "comments": comments or ""}
        wf = self.workflows.publish_or_version(actor, name=name, owner_id=found["id"], package=file.data,
                                               settings=settings, source_id=source_id or "")
        return Created(wf["id"])

    # --------------------------------------------------------------- other listings
    def server_connections(self, actor: Actor, *, offset: Any = None, limit: Any = None) -> list[Record]:
        views = [{"subscriptionCount": 0, "userCount": len(c["userIds"]), "userGroupCount": len(c["userGroupIds"]),
                  "userIds": list(c["userIds"]), "userGroupIds": list(c["userGroupIds"]), "connectionId": c["id"],
                  "connectionString": c["connectionString"], "connectionName": c["name"],
                  "connectionType": c["connectionType"]}
                 for c in self.store.data_connections.values()]
        return offset_page(views, offset, limit)

    def system_connections(self, actor: Actor, *, offset: Any = None, limit: Any = None) -> list[Record]:
        views = [{"connectionId": c["id"], "connectionString": c["connectionString"], "connectionName": c["name"],
                  "connectionType": c["connectionType"]}
                 for c in self.store.data_connections.values() if c.get("system")]
        return offset_page(views, offset, limit)

    def insights(self, actor: Actor, *, search: str | None = None, offset: Any = None,
                 limit: Any = None) -> list[Record]:
        views = [dict(i) for i in self.store.insights.values() if not search or search.lower() in i["name"].lower()]
        return offset_page(views, offset, limit)

    @staticmethod
    def _user(u: Record, with_role: bool) -> Record:
        view = {"accountLocked": u["isAccountLocked"], "accountLockedAt": "", "active": u["isActive"],
                "anonymous": False, "canSchedule": u["canScheduleJobs"], "canSetPriority": u["canPrioritizeJobs"],
                "canSetWorkerAssignment": u["canAssignJobs"], "dateAdded": u["dateCreated"],
                "dateUpdated": u["dateCreated"], "email": u["email"], "expirationDate": "",
                "firstName": u["firstName"], "lastName": u["lastName"], "numFailedLogins": 0, "pending": False,
                "subscriptionId": u["subscriptionId"], "updateLastLoginDate": u.get("lastLoginDateTime") or "",
                "userProfile": {"picture": "", "iconId": ""}, "validated": u["isValidated"],
                "timezone": u["timeZone"], "language": u["language"], "id": u["id"]}
        if with_role:
            view["role"] = u["role"]
        else:
            view["curator"] = u["role"] == "Curator"
        return view

    def users(self, actor: Actor, *, page: Any = None, page_size: Any = None, subscription_id: str | None = None,
              v2: bool = False) -> list[Record]:
        """``GET /admin/v1/users`` (``curator`` flag) and ``/admin/v2/users`` (``role``)."""
        chosen = [u for u in self.store.users.values() if not subscription_id or u["subscriptionId"] == subscription_id]
        return self._page([self._user(u, v2) for u in chosen], page, page_size)

    def _permissions(self, p: Record) -> Record:
        """A member's permissions: the V3 shape, or (a quirk of real Servers) the Admin V1 shape."""
        if not self.store.realism("admin_v1_collection_permissions"):
            return {"collection": p}
        return {"collection": {"isAdmin": bool(p.get("isAdmin"))},
                "applications": {"canAdd": bool(p.get("canAddAssets")), "canRemove": bool(p.get("canRemoveAssets")),
                                 "canUpdate": bool(p.get("canUpdateAssets"))},
                "users": {"canAdd": bool(p.get("canAddUsers")), "canRemove": bool(p.get("canRemoveUsers"))}}

    def collections(self, actor: Actor, *, page: Any = None, page_size: Any = None) -> list[Record]:
        def member(uid: str, m: Record) -> Record:
            return {"userId": uid, "dateAdded": m["dateAdded"], "addedById": m["addedBy"],
                    "expirationDate": m["expirationDate"], "permissions": self._permissions(m["permissions"])}

        views = [{"collectionId": c["id"], "name": c["name"], "ownerId": c["ownerId"], "dateAdded": c["dateAdded"],
                  "apps": [{"appId": w} for w in c["workflowIds"]],
                  "schedules": [{"scheduleId": s} for s in c["scheduleIds"]], "insights": [],
                  "users": [member(uid, m) for uid, m in c["users"].items()], "subscriptions": [],
                  "userGroups": [{"userGroupId": g, "permissions": self._permissions(m["permissions"])}
                                 for g, m in c["groups"].items()], "id": c["id"]}
                 for c in self.store.collections.values()]
        if self.store.realism("admin_v1_collection_permissions"):
            for view in views:
                view["optOutUsers"] = []
        return self._page(views, page, page_size)

    def _schedule(self, s: Record) -> Record:
        v3 = self.schedules.view(s)
        wf = self.store.workflows.get(s["workflowId"], {})
        owner = self.store.users.get(s["ownerId"], {})
        return {"canEdit": True, "id": s["id"],
                "application": {"canExecute": True, "amp": True, "id": s["workflowId"], "revisionId": s["versionId"],
                                "name": wf.get("name", ""), "iconId": ""},
                "owner": {"id": s["ownerId"], "role": owner.get("role", ""), "firstName": owner.get("firstName", ""),
                          "lastName": owner.get("lastName", ""), "email": owner.get("email", ""),
                          "sortName": owner.get("lastName", ""), "isActive": owner.get("isActive", False),
                          "credentialWorkFlowCount": 0},
                "name": s["name"], "comment": s["comment"], "enabled": s["enabled"], "priority": s["priority"],
                "workerTag": s["workerTag"], "status": s["status"],
                "credential": {"credentialId": s["credentialId"], "username": "", "source": ""},
                "creationTime": s["creationTime"], "lastRunTime": s["lastRunTime"] or "",
                "nextRunTime": v3["runDateTime"], "state": s["state"], "runCount": s["runCount"],
                "iteration": self._iteration(s["iteration"], v3["iteration"]), "frequency": v3.get("frequency", ""),
                "timezone": s["timeZone"],
                "lastError": s["lastError"], "cpuName": "", "lastModifiedId": s["lastModifiedId"],
                "lastModifiedDate": s["lastModifiedDate"]}

    def _iteration(self, stored: Record, v3: Record) -> Record:
        """A schedule's iteration: ``{startTime, endTime}``, or (a quirk of real Servers) the Admin V1 shape."""
        if not self.store.realism("admin_v1_schedule_iteration"):
            return v3
        kind = stored.get("iterationType") or "Once"
        hourly = stored.get("hourlyContract") or {}
        monthly = stored.get("monthlyContract") or {}
        weekly = stored.get("weeklyContract") or {}
        custom = stored.get("customContract") or {}
        days = list(weekly.get("daysOfWeek") or custom.get("daysOfMonth") or [])
        return {"__type": f"{kind}Iteration:#AlteryxGallery.Scheduling", "day": monthly.get("dayOfMonth") or 0,
                "days": days, "hours": hourly.get("hours") or 0, "minutes": hourly.get("minutes") or 0,
                "startTime": v3.get("startTime"), "endTime": v3.get("endTime"),
                "weekday": monthly.get("dayOfWeek") or ""}

    def schedules_list(self, actor: Actor, *, page: Any = None, page_size: Any = None) -> list[Record]:
        return self._page([self._schedule(s) for s in self.store.schedules.values()], page, page_size)

    def subscriptions(self, actor: Actor, *, page: Any = None, page_size: Any = None, v2: bool = False) -> list:
        """``GET /admin/v1/subscriptions`` (member passes) and ``/admin/v2/subscriptions`` (default credential)."""
        views = []
        for s in self.store.subscriptions.values():
            if v2 and self.store.realism("admin_v2_subscription_fields"):
                views.append({"active": s["active"], "defaultWorkerTag": s.get("defaultWorkerTag") or "",
                              "expirationDate": s["expirationDate"], "id": s["id"], "name": s["name"]})
                continue
            if v2:
                views.append({"active": s["active"], "expirationDate": s["expirationDate"], "name": s["name"],
                              "defaultWorkflowCredentialId": s["credentialId"], "id": s["id"]})
                continue
            members = sum(u["subscriptionId"] == s["id"] for u in self.store.users.values())
            views.append({"active": s["active"], "expirationDate": s["expirationDate"], "memberPassesPurchased": 0,
                          "memberPassesUsed": members, "name": s["name"],
                          "primaryContactInfo": {"name": "", "email": "", "company": "", "address": dict(_ADDRESS)},
                          "id": s["id"]})
        return self._page(views, page, page_size)

    def audit_log(self, actor: Actor, *, entity: str | None = None, page: Any = None,
                  page_size: Any = None) -> list[Record]:
        """``GET /admin/v1/auditlog``: one entity type's events, paged (paging required)."""
        if not entity:
            raise Invalid.required("entity")
        events = self.store.audit_of(entity)
        return [dict(e, timestamp=iso(e["timestamp"])) for e in self._page(events, page, page_size, required=True)]

    def schedule_forecast(self, actor: Actor, *, after_date: str | None = None,
                          before_date: str | None = None) -> list[Record]:
        """``GET /admin/v2/schedule/forecast``: every run of the enabled schedules in the window, in order."""
        if not after_date or not before_date:
            raise Invalid.field("afterDate", "afterDate and beforeDate are required.")
        after, before = parse_time(after_date, "afterDate"), parse_time(before_date, "beforeDate")
        if before < after:
            raise Refused("beforeDate must not be earlier than afterDate.")
        out = []
        for s in (s for s in self.store.schedules.values() if s["enabled"]):
            wf = self.store.workflows.get(s["workflowId"], {})
            owner = self.store.users.get(s["ownerId"], {})
            for ts in self.schedules.runs(s, after, before, limit=2000):
                out.append({"id": s["id"], "appEstimatedCompletionTime": 0, "scheduleName": s["name"],
                            "startTime": iso(ts), "frequency": frequency(s["iteration"]),
                            "workflowName": wf.get("name", ""),
                            "owner": {"id": s["ownerId"], "firstName": owner.get("firstName", ""),
                                      "lastName": owner.get("lastName", ""), "email": owner.get("email", ""),
                                      "subscriptionId": owner.get("subscriptionId", "")},
                            "priority": priority_rank(s["priority"])})
        return sorted(out, key=lambda v: v["startTime"])
