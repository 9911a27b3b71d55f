"""The V1 Subscription, Admin V1/V2 and User V2 APIs (reference.md section 6).

These families have no Swagger; their JSON shapes follow the generated models
the reference lists (section 6.5).  Choices where the reference is silent are
in ``docs/emulator.md``: ``page`` is one-based for the paged Admin listings and
zero-based for ``workflows/all``, and ``admin_paging`` can make the former
zero-based, or one-based with page 0 read as page 1, to rehearse a Server that
counts otherwise; ``PUT .../migratable/{appId}`` answers the
workflow's id and new flag.
"""

from __future__ import annotations

from typing import Any

from ... import schemas
from .core import BadRequest, Core, invalid, iso, parse_time

_PACKAGE_TYPES = {"App": 0, "Module": 1, "Macro": 2}

# sortField of GET /v1/workflows/{appId}/jobs, lower-cased: the JobListApiView fields
# (reference 6.1; the one documented value is createdate).
V1_JOB_SORT_KEYS = {"createdate": lambda j: (j["_created"], j["_seq"]),
                    "status": lambda j: (j["status"], j["_created"], j["_seq"]),
                    "disposition": lambda j: (j["disposition"], j["_created"], j["_seq"]),
                    "priority": lambda j: (j["_rank"], j["_created"], j["_seq"]),
                    "workertag": lambda j: (j["workerTag"].lower(), j["_created"], j["_seq"])}


PAGING_MODES = ("one-based", "zero-based", "one-based-lenient")


def _page(items: list, page: Any, page_size: Any, *, zero_based: bool, required: bool = False,
          lenient: bool = False) -> list:
    if page in (None, "") or page_size in (None, ""):
        if required:
            raise invalid({"page": ["page and pageSize are required."]})
        return items
    try:
        page, page_size = int(page), int(page_size)
    except (TypeError, ValueError):
        raise invalid({"page": ["page and pageSize must be whole numbers."]}) from None
    first = 0 if zero_based else 1
    if lenient and page < first:
        page = first  # what a Server computing Skip(max(0, (page - 1) * size)) does
    if page < first or page_size < 0:
        base = "zero-based" if zero_based else "one-based"
        raise invalid({"page": [f"page is {base} and pageSize must not be negative."]})
    if page_size == 0:
        return items if zero_based else []
    start = (page - first) * page_size
    return items[start:start + page_size]


def _offset(items: list, offset: Any, limit: Any) -> list:
    try:
        start = int(offset) if offset not in (None, "") else 0
        size = int(limit) if limit not in (None, "") else 0
    except (TypeError, ValueError):
        raise invalid({"offset": ["offset and limit must be whole numbers."]}) from None
    return items[start:start + size] if size > 0 else items[start:]


class Legacy(Core):
    admin_paging = "one-based"  # how the paged Admin listings count pages: one of PAGING_MODES
    oauth1_transports = frozenset({"header", "query"})  # where /gallery/api/ takes the OAuth1 signature

    def _admin_page(self, items: list, page: Any, page_size: Any, required: bool = False) -> list:
        return _page(items, page, page_size, zero_based=self.admin_paging == "zero-based", required=required,
                     lenient=self.admin_paging == "one-based-lenient")

    # ------------------------------------------------------------ views
    def _meta(self, version: dict) -> dict:
        d = version["details"]
        return {"name": d["name"], "description": d["description"], "author": d["author"],
                "copyright": d["copyright"], "url": d["url"], "urlText": d["urlText"],
                "outputMessage": d["outputMessage"], "noOutputFilesMessage": d["noOutputFilesMessage"]}

    def workflow_api_view(self, wf: dict) -> dict:
        version = self.published(wf)  # type: ignore[attr-defined]
        owner = self.users.get(wf["ownerId"], {})
        return {"id": wf["id"], "subscriptionId": owner.get("subscriptionId", ""), "public": wf["isPublic"],
                "runDisabled": version["runDisabled"], "packageType": version["packageWorkflowType"],
                "uploadDate": version["uploadDate"], "fileName": version["details"]["fileName"],
                "metaInfo": self._meta(version), "isChained": False, "version": version["versionNumber"],
                "runCount": wf["runCount"], "workerTag": wf["workerTag"], "isE2": False}

    def _owner_view(self, user_id: str) -> dict:
        u = self.users.get(user_id, {})
        return {"id": user_id, "firstName": u.get("firstName", ""), "lastName": u.get("lastName", ""),
                "sId": "", "subscriptionId": u.get("subscriptionId", ""), "email": u.get("email", ""),
                "active": u.get("isActive", False)}

    def workflow_admin_view(self, wf: dict) -> dict:
        version = self.published(wf)  # type: ignore[attr-defined]
        last_run = max((j["createDateTime"] for j in self.jobs.values() if j["appId"] == wf["id"]), default=None)
        sub = self.subscriptions.get(self.users.get(wf["ownerId"], {}).get("subscriptionId", ""), {})
        return dict(self.workflow_api_view(wf), publishedVersionId=wf["publishedVersionId"],
                    publishedVersionNumber=version["versionNumber"],
                    publishedVersionOwner=self._owner_view(version.get("ownerId", wf["ownerId"])),
                    collections=[{"collectionName": c["name"], "collectionId": c["id"]}
                                 for c in self.collections.values() if wf["id"] in c["workflowIds"]],
                    lastRunDate=last_run, subscriptionName=sub.get("name", ""))

    def _wfa_user(self, user_id: str) -> dict:
        u = self.users.get(user_id, {})
        sub = self.subscriptions.get(u.get("subscriptionId", ""), {})
        return {"id": user_id, "firstName": u.get("firstName", ""), "lastName": u.get("lastName", ""),
                "email": u.get("email", ""), "subscription": {"id": sub.get("id", ""), "name": sub.get("name", "")}}

    def workflow_all_view(self, wf: dict) -> dict:
        owner = self._wfa_user(wf["ownerId"])
        events = [{"user": self._wfa_user(e["userId"]), "timestamp": iso(e["timestamp"]), "event": e["event"],
                   "oldValues": e["oldValues"], "newValues": e["newValues"]}
                  for e in self.audit if e["entity"] == "AppInfo" and e["entityId"] == wf["id"]]
        revisions = [{"id": v["versionId"], "version": v["versionNumber"],
                      "author": self._wfa_user(v.get("ownerId", wf["ownerId"])), "dateCreated": v["dateCreated"],
                      "executionMode": v["executionMode"], "isChunkedPackage": False, "runCount": v["runCount"],
                      "downloadCount": 0, "packageType": v["packageWorkflowType"],
                      "hasPrivateDataExemption": v["hasPrivateDataExemption"], "uploadDate": v["uploadDate"],
                      "credentialType": v["workflowCredentialType"], "isE2": False,
                      "canDownload": v["othersMayDownload"], "allowVersionHistory": True,
                      "showVersionHistory": v["othersCanViewHistory"],
                      "applications": [{"name": v["details"]["name"], "filename": v["details"]["fileName"],
                                        "nextApp": ""}], "comments": v["comments"]}
                     for v in wf["versions"]]
        return {"id": wf["id"], "revisions": revisions, "creator": owner, "subscription": owner["subscription"],
                "events": events, "runDisabled": False, "isPublic": wf["isPublic"],
                "dateMadePublic": wf.get("dateMadePublic") or "", "isDeleted": False, "runCount": wf["runCount"],
                "iconId": "", "workerTag": wf["workerTag"], "isReadyForMigration": wf["isReadyForMigration"]}

    # ----------------------------------------------------- Subscription API
    def v1_workflows(self, actor: dict, sortField: str | None = None, direction: str | None = None,
                     offset: Any = None, limit: Any = None, search: str | None = None,
                     packageType: str | None = None) -> list[dict]:
        sub = actor.get("subscriptionId")
        wfs = [w for w in self.workflows.values()
               if self.users.get(w["ownerId"], {}).get("subscriptionId") == sub or w["ownerId"] == actor["id"]]
        if search:
            wfs = [w for w in wfs if search.lower() in w["name"].lower()]
        if packageType not in (None, ""):
            wanted = {v: k for k, v in _PACKAGE_TYPES.items()}.get(int(packageType)) \
                if str(packageType).isdigit() else packageType
            wfs = [w for w in wfs if self.published(w)["packageWorkflowType"] == wanted]  # type: ignore[attr-defined]
        views = [self.workflow_api_view(w) for w in wfs]
        return _offset(_sort_views(views, sortField, direction), offset, limit)

    def v1_questions(self, actor: dict, app_id: str) -> list[dict]:
        wf = self.visible_workflow(actor, app_id)  # type: ignore[attr-defined]
        return [{"name": q.name, "type": q.type, "description": q.description, "value": q.default,
                 "items": [{"key": i, "value": i} for i in q.items], "multiple": str(q.multiple)}
                for q in self.published(wf)["questions"]]  # type: ignore[attr-defined]

    def v1_workflow_jobs(self, actor: dict, app_id: str, sortField: str | None = None,
                         direction: str | None = None, offset: Any = None, limit: Any = None) -> list[dict]:
        self.visible_workflow(actor, app_id)  # type: ignore[attr-defined]
        self.tick()  # type: ignore[attr-defined]
        key = V1_JOB_SORT_KEYS.get((sortField or "createdate").lower())
        if key is None:
            raise invalid({"sortField": [f"The value '{sortField}' is not valid for sortField."]})
        jobs = sorted((j for j in self.jobs.values() if j["appId"] == app_id),
                      key=key, reverse=(direction or "desc").lower() == "desc")
        return [{"id": j["id"], "createDate": j["createDateTime"], "status": j["status"],
                 "disposition": j["disposition"], "priority": j["priority"], "workerTag": j["workerTag"],
                 "runWithE2": "false"} for j in _offset(jobs, offset, limit)]

    # ------------------------------------------------------------ Admin V1
    def admin_workflows(self, actor: dict, search: str | None = None, sortField: str | None = None,
                        direction: str | None = None, offset: Any = None, limit: Any = None) -> list[dict]:
        wfs = [w for w in self.workflows.values() if not search or search.lower() in w["name"].lower()]
        return _offset(_sort_views([self.workflow_admin_view(w) for w in wfs], sortField, direction), offset, limit)

    def admin_workflows_all(self, actor: dict, startDate: str | None = None, endDate: str | None = None,
                            page: Any = None, pageSize: Any = None, name: str | None = None,
                            subscriptionId: str | None = None, useEvents: bool | None = None) -> list[dict]:
        start = parse_time(startDate, "startDate") if startDate else None
        end = parse_time(endDate, "endDate") + 86399.999 if endDate and "T" not in endDate else \
            (parse_time(endDate, "endDate") if endDate else None)
        out = []
        for wf in self.workflows.values():
            if name and name.lower() not in wf["name"].lower():
                continue
            owner_sub = self.users.get(wf["ownerId"], {}).get("subscriptionId")
            if subscriptionId and owner_sub != subscriptionId:
                continue
            if start is not None or end is not None:
                if useEvents:
                    stamps = [e["timestamp"] for e in self.audit if e["entity"] == "AppInfo" and e["entityId"] == wf["id"]]
                else:
                    stamps = [parse_time(v["dateCreated"], "dateCreated") for v in wf["versions"]]
                if not any((start is None or t >= start) and (end is None or t <= end) for t in stamps):
                    continue
            out.append(self.workflow_all_view(wf))
        return _page(out, page, pageSize, zero_based=True)

    def admin_last_jobs(self, actor: dict, appIds: str | None = None,
                        includeMessages: bool | None = None) -> list[dict]:
        self.tick()  # type: ignore[attr-defined]
        wanted = {a.strip() for a in appIds.split(",") if a.strip()} if appIds else None
        last: dict[str, dict] = {}
        for job in self.jobs.values():
            if wanted is not None and job["appId"] not in wanted:
                continue
            current = last.get(job["appId"])
            if current is None or (job["_created"], job["_seq"]) > (current["_created"], current["_seq"]):
                last[job["appId"]] = job
        return [self.job_view_v1(j, includeMessages is not False) for j in last.values()]  # type: ignore[attr-defined]

    def migratable(self, actor: dict, subscriptionIds: str | None = None) -> list[dict]:
        wanted = {s.strip() for s in subscriptionIds.split(",") if s.strip()} if subscriptionIds else None
        out = []
        for wf in self.workflows.values():
            sub = self.users.get(wf["ownerId"], {}).get("subscriptionId", "")
            if wf["isReadyForMigration"] and (wanted is None or sub in wanted):
                out.append({"id": wf["id"], "publishedVersionId": wf["publishedVersionId"], "subscriptionId": sub})
        return out

    def toggle_migratable(self, actor: dict, app_id: str) -> dict:
        wf = self.workflow(app_id)
        before = {"isReadyForMigration": wf["isReadyForMigration"]}
        wf["isReadyForMigration"] = not wf["isReadyForMigration"]
        self.record("AppInfo", app_id, "Update", actor, before, {"isReadyForMigration": wf["isReadyForMigration"]})
        return {"id": app_id, "isReadyForMigration": wf["isReadyForMigration"]}

    def admin_publish(self, actor: dict, form: dict, file: tuple[str, bytes] | None) -> str:
        from ... import catalogue

        schema = catalogue.find("admin_v1.publish").form_schema()
        values = {k: schemas.coerce(v, schema["properties"].get(k, {})) for k, v in form.items()
                  if k in schema["properties"]}
        problems: dict[str, list[str]] = {}
        for name in schema["required"]:
            if values.get(name) is None or (name in ("name", "owner") and values.get(name) == ""):
                problems.setdefault(name, []).append(f"The {name} field is required.")
        for message in schemas.validate({k: v for k, v in values.items() if v != ""}, 
                                        dict(schema, required=[]), ""):
            key, _, text = message.partition(": ")
            problems.setdefault(key, []).append(text)
        if file is None:
            problems.setdefault("file", []).append("A workflow package (.yxzp) file is required.")
        if problems:
            raise invalid(problems)
        owner = next((u for u in self.users.values() if u["email"].lower() == str(values["owner"]).lower()), None)
        if owner is None:
            raise invalid({"owner": [f"No user with the email '{values['owner']}' exists on this Server."]})
        settings = {"isPublic": values.get("isPublic", False), "workerTag": values.get("workerTag") or "",
                    "othersMayDownload": values.get("canDownload", True), "comments": values.get("comments") or ""}
        wf = self.publish_or_version(actor, name=values["name"], owner_id=owner["id"],  # type: ignore[attr-defined]
                                     package=file[1], settings=settings,  # type: ignore[index]
                                     source_id=values.get("sourceId") or "")
        return wf["id"]

    def admin_server_connections(self, actor: dict, offset: Any = None, limit: Any = None) -> list[dict]:
        views = [{"subscriptionCount": 0, "userCount": len(c["userIds"]), "userGroupCount": len(c["userGroupIds"]),
                  "userIds": list(c["userIds"]), "userGroupIds": list(c["userGroupIds"]),
                  "connectionId": c["id"], "connectionString": c["connectionString"],
                  "connectionName": c["name"], "connectionType": c["connectionType"]}
                 for c in self.data_connections.values()]
        return _offset(views, offset, limit)

    def admin_system_connections(self, actor: dict, offset: Any = None, limit: Any = None) -> list[dict]:
        views = [{"connectionId": c["id"], "connectionString": c["connectionString"],
                  "connectionName": c["name"], "connectionType": c["connectionType"]}
                 for c in self.data_connections.values() if c.get("system")]
        return _offset(views, offset, limit)

    def admin_insights(self, actor: dict, search: str | None = None, offset: Any = None,
                       limit: Any = None) -> list[dict]:
        views = [dict(i) for i in self.insights.values() if not search or search.lower() in i["name"].lower()]
        return _offset(views, offset, limit)

    def _admin_user(self, u: dict, with_role: bool) -> dict:
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

    def admin_users(self, actor: dict, page: Any = None, pageSize: Any = None,
                    subscriptionId: str | None = None, v2: bool = False) -> list[dict]:
        users = [u for u in self.users.values() if not subscriptionId or u["subscriptionId"] == subscriptionId]
        return self._admin_page([self._admin_user(u, v2) for u in users], page, pageSize)

    def admin_collections(self, actor: dict, page: Any = None, pageSize: Any = None) -> list[dict]:
        views = []
        for c in self.collections.values():
            views.append({"collectionId": c["id"], "name": c["name"], "ownerId": c["ownerId"],
                          "dateAdded": c["dateAdded"],
                          "apps": [{"appId": w} for w in c["workflowIds"]],
                          "schedules": [{"scheduleId": s} for s in c["scheduleIds"]], "insights": [],
                          "users": [{"userId": uid, "dateAdded": m["dateAdded"], "addedById": m["addedBy"],
                                     "expirationDate": m["expirationDate"],
                                     "permissions": {"collection": m["permissions"]}}
                                    for uid, m in c["users"].items()],
                          "subscriptions": [], "userGroups": [{"userGroupId": g, "permissions": {"collection": m["permissions"]}}
                                                              for g, m in c["groups"].items()],
                          "id": c["id"]})
        return self._admin_page(views, page, pageSize)

    def admin_schedules(self, actor: dict, page: Any = None, pageSize: Any = None) -> list[dict]:
        views = []
        for s in self.schedules.values():
            v3 = self.schedule_view(s)  # type: ignore[attr-defined]
            wf = self.workflows.get(s["workflowId"], {})
            owner = self.users.get(s["ownerId"], {})
            views.append({"canEdit": True, "id": s["id"],
                          "application": {"canExecute": True, "amp": True, "id": s["workflowId"],
                                          "revisionId": s["versionId"], "name": wf.get("name", ""), "iconId": ""},
                          "owner": {"id": s["ownerId"], "role": owner.get("role", ""),
                                    "firstName": owner.get("firstName", ""), "lastName": owner.get("lastName", ""),
                                    "email": owner.get("email", ""), "sortName": owner.get("lastName", ""),
                                    "isActive": owner.get("isActive", False), "credentialWorkFlowCount": 0},
                          "name": s["name"], "comment": s["comment"], "enabled": s["enabled"],
                          "priority": s["priority"], "workerTag": s["workerTag"], "status": s["status"],
                          "credential": {"credentialId": s["credentialId"], "username": "", "source": ""},
                          "creationTime": s["creationTime"], "lastRunTime": s["lastRunTime"] or "",
                          "nextRunTime": v3["runDateTime"], "state": s["state"], "runCount": s["runCount"],
                          "iteration": v3["iteration"], "frequency": v3.get("frequency", ""),
                          "timezone": s["timeZone"], "lastError": s["lastError"], "cpuName": "",
                          "lastModifiedId": s["lastModifiedId"], "lastModifiedDate": s["lastModifiedDate"]})
        return self._admin_page(views, page, pageSize)

    def admin_subscriptions(self, actor: dict, page: Any = None, pageSize: Any = None, v2: bool = False) -> list[dict]:
        views = []
        for s in self.subscriptions.values():
            if v2:
                views.append({"active": s["active"], "expirationDate": s["expirationDate"], "name": s["name"],
                              "defaultWorkflowCredentialId": s["credentialId"], "id": s["id"]})
            else:
                users = [u for u in self.users.values() if u["subscriptionId"] == s["id"]]
                views.append({"active": s["active"], "expirationDate": s["expirationDate"],
                              "memberPassesPurchased": 0, "memberPassesUsed": len(users), "name": s["name"],
                              "primaryContactInfo": {"name": "", "email": "", "company": "",
                                                     "address": {"country": "", "addressLine1": "",
                                                                 "addressLine2": "", "city": "", "state": "",
                                                                 "postalCode": ""}},
                              "id": s["id"]})
        return self._admin_page(views, page, pageSize)

    def audit_log(self, actor: dict, entity: str | None = None, page: Any = None, pageSize: Any = None) -> list[dict]:
        if not entity:
            raise invalid({"entity": ["The entity query parameter is required."]})
        events = [e for e in self.audit if e["entity"].lower() == entity.lower()]
        events = self._admin_page(events, page, pageSize, required=True)
        return [dict(e, timestamp=iso(e["timestamp"])) for e in events]

    # ------------------------------------------------------------ Admin V2
    def schedule_forecast(self, actor: dict, afterDate: str | None = None, beforeDate: str | None = None) -> list[dict]:
        if not afterDate or not beforeDate:
            raise invalid({"afterDate": ["afterDate and beforeDate are required."]})
        after, before = parse_time(afterDate, "afterDate"), parse_time(beforeDate, "beforeDate")
        if before < after:
            raise BadRequest("beforeDate must not be earlier than afterDate.")
        from .workflows import _frequency

        out = []
        for s in self.schedules.values():
            if not s["enabled"]:
                continue
            wf = self.workflows.get(s["workflowId"], {})
            owner = self.users.get(s["ownerId"], {})
            for ts in self.schedule_runs(s, after, before, limit=2000):  # type: ignore[attr-defined]
                out.append({"id": s["id"], "appEstimatedCompletionTime": 0, "scheduleName": s["name"],
                            "startTime": iso(ts), "frequency": _frequency(s["iteration"]),
                            "workflowName": wf.get("name", ""),
                            "owner": {"id": s["ownerId"], "firstName": owner.get("firstName", ""),
                                      "lastName": owner.get("lastName", ""), "email": owner.get("email", ""),
                                      "subscriptionId": owner.get("subscriptionId", "")},
                            "priority": self.priority_rank(s["priority"])})  # type: ignore[attr-defined]
        return sorted(out, key=lambda v: v["startTime"])

    # ------------------------------------------------------------- User V2
    def user_credentials(self, actor: dict) -> list[dict]:
        shared = set(self.credentials_shared_with(actor["id"]))  # type: ignore[attr-defined]
        sub = self.subscriptions.get(actor.get("subscriptionId", ""), {})
        if sub.get("credentialId"):
            shared.add(sub["credentialId"])
        return [{"id": c["id"], "userName": c["userName"]} for c in self.credentials.values() if c["id"] in shared]


def _sort_views(views: list[dict], field: str | None, direction: str | None) -> list[dict]:
    if not field:
        return views
    keys = {"name": lambda v: v["metaInfo"]["name"].lower(), "uploaddate": lambda v: v["uploadDate"],
            "runcount": lambda v: v["runCount"], "author": lambda v: v["metaInfo"]["author"].lower(),
            "owner": lambda v: v.get("publishedVersionOwner", {}).get("email", ""),
            "subscriptionid": lambda v: v["subscriptionId"], "description": lambda v: v["metaInfo"]["description"],
            "copyright": lambda v: v["metaInfo"]["copyright"], "executionmode": lambda v: v.get("packageType", ""),
            "datemadepublic": lambda v: v["uploadDate"]}
    key = keys.get(field.lower())
    if key is None:
        raise BadRequest(f"Cannot sort by '{field}'.")
    return sorted(views, key=key, reverse=(direction or "asc").lower() == "desc")
