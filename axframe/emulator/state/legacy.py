"""The V1 Subscription API and User V2 (reference.md section 6), and the V1 views Admin V1 shares.

These families have no Swagger; their JSON shapes follow the generated models
the reference lists (section 6.5).  Choices where the reference is silent are
in ``docs/emulator.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .actor import Actor
from .core import File, Invalid, Record
from .credentials import Credentials
from .jobs import Jobs
from .paging import PAGING_MODES, offset_page, sort_views
from .store import Store
from .workflows import Workflows

__all__ = ["Legacy", "PAGING_MODES", "V1_JOB_SORT_KEYS", "job_view_v1"]

_PACKAGE_TYPES = {"App": 0, "Module": 1, "Macro": 2}

# sortField of GET /v1/workflows/{appId}/jobs, lower-cased: the JobListApiView fields
# (reference 6.1; the one documented value is createdate).
V1_JOB_SORT_KEYS: dict[str, Callable[[Record], Any]] = {
    "createdate": lambda j: (j["_created"], j["_seq"]),
    "status": lambda j: (j["status"], j["_created"], j["_seq"]),
    "disposition": lambda j: (j["disposition"], j["_created"], j["_seq"]),
    "priority": lambda j: (j["_rank"], j["_created"], j["_seq"]),
    "workertag": lambda j: (j["workerTag"].lower(), j["_created"], j["_seq"])}


def job_view_v1(job: Record, include_messages: bool = True) -> Record:
    """A job as the V1 APIs show it."""
    return {"id": job["id"], "appId": job["appId"], "createDate": job["createDateTime"],
            "status": job["status"], "disposition": job["disposition"],
            "outputs": [{"id": o["id"], "formats": o["formats"], "name": o["name"]} for o in job["outputs"]],
            "messages": job["messages"] if include_messages else [],
            "priority": job["priority"], "workerTag": job["workerTag"], "runWithE2": False}


class Legacy:
    """The Subscription API (a user's own studio) and User V2.

    Uses :class:`Workflows` (what a user may see and run), :class:`Jobs`
    (queueing, the job a user may see) and :class:`Credentials` (what is shared
    with a user).
    """

    def __init__(self, store: Store, *, workflows: Workflows, jobs: Jobs, credentials: Credentials):
        self.store = store
        self.workflows = workflows
        self.jobs = jobs
        self.credentials = credentials

    # ------------------------------------------------------------------- views
    @staticmethod
    def _meta(version: Record) -> Record:
        d = version["details"]
        return {"name": d["name"], "description": d["description"], "author": d["author"],
                "copyright": d["copyright"], "url": d["url"], "urlText": d["urlText"],
                "outputMessage": d["outputMessage"], "noOutputFilesMessage": d["noOutputFilesMessage"]}

    def package_type(self, name: str) -> Any:
        """A workflow's packageType: its name, or (a quirk of real Servers) an integer, 0 App, 1 Module, 2 Macro."""
        if self.store.realism("package_type_integer"):
            return _PACKAGE_TYPES.get(name, 0)
        return name

    def workflow_view(self, wf: Record) -> Record:
        """A workflow as the V1 APIs show it (``WorkflowApiView``)."""
        version = self.workflows.published(wf)
        owner = self.store.users.get(wf["ownerId"], {})
        return {"id": wf["id"], "subscriptionId": owner.get("subscriptionId", ""), "public": wf["isPublic"],
                "runDisabled": version["runDisabled"], "packageType": self.package_type(version["packageWorkflowType"]),
                "uploadDate": version["uploadDate"], "fileName": version["details"]["fileName"],
                "metaInfo": self._meta(version), "isChained": False, "version": version["versionNumber"],
                "runCount": wf["runCount"], "workerTag": wf["workerTag"], "isE2": False}

    # --------------------------------------------------------- Subscription API
    def workflows_of_studio(self, actor: Actor, *, sort_field: str | None = None, direction: str | None = None,
                            offset: Any = None, limit: Any = None, search: str | None = None,
                            package_type: str | None = None) -> list[Record]:
        """``GET /v1/workflows/subscription``: the caller's and their studio's workflows."""
        users = self.store.users
        wfs = [w for w in self.store.workflows.values()
               if users.get(w["ownerId"], {}).get("subscriptionId") == actor.subscription_id
               or w["ownerId"] == actor.id]
        if search:
            wfs = [w for w in wfs if search.lower() in w["name"].lower()]
        if package_type not in (None, ""):
            wanted = {v: k for k, v in _PACKAGE_TYPES.items()}.get(int(str(package_type))) \
                if str(package_type).isdigit() else package_type
            wfs = [w for w in wfs if self.workflows.published(w)["packageWorkflowType"] == wanted]
        return offset_page(sort_views([self.workflow_view(w) for w in wfs], sort_field, direction), offset, limit)

    def questions(self, actor: Actor, app_id: str) -> list[Record]:
        """``GET /v1/workflows/{appId}/questions``."""
        wf = self.workflows.visible(actor, app_id)
        return [{"name": q.name, "type": q.type, "description": q.description, "value": q.default,
                 "items": [{"key": i, "value": i} for i in q.items], "multiple": str(q.multiple)}
                for q in self.workflows.published(wf)["questions"]]

    def workflow_jobs(self, actor: Actor, app_id: str, *, sort_field: str | None = None,
                      direction: str | None = None, offset: Any = None, limit: Any = None) -> list[Record]:
        """``GET /v1/workflows/{appId}/jobs``: sorted by a ``JobListApiView`` field, newest first by default."""
        self.workflows.visible(actor, app_id)
        self.jobs.tick()
        key = V1_JOB_SORT_KEYS.get((sort_field or "createdate").lower())
        if key is None:
            raise Invalid.field("sortField", f"The value '{sort_field}' is not valid for sortField.")
        jobs = sorted((j for j in self.store.jobs.values() if j["appId"] == app_id),
                      key=key, reverse=(direction or "desc").lower() == "desc")
        return [{"id": j["id"], "createDate": j["createDateTime"], "status": j["status"],
                 "disposition": j["disposition"], "priority": j["priority"], "workerTag": j["workerTag"],
                 "runWithE2": "false"} for j in offset_page(jobs, offset, limit)]

    def run(self, actor: Actor, app_id: str, *, questions: list[dict] | None = None, priority: str | None = None,
            credential_id: str | None = None) -> Record:
        """``POST /v1/workflows/{appId}/jobs`` and User V2's: priorities ``"0"``-``"3"`` read as Low-Critical."""
        return job_view_v1(self.jobs.enqueue(actor, app_id, questions=questions, priority=priority,
                                             credential_id=credential_id))

    def job(self, actor: Actor, job_id: str, *, include_messages: bool | None = None) -> Record:
        """``GET /v1/jobs/{jobId}``."""
        return job_view_v1(self.jobs.visible(actor, job_id), include_messages is not False)

    def package(self, actor: Actor, app_id: str) -> File:
        """``GET /v1/workflows/{appId}/package`` (and the Admin V1 path): the published package."""
        return self.workflows.download(actor, app_id)

    # ------------------------------------------------------------------ User V2
    def shared_credentials(self, actor: Actor) -> list[Record]:
        """``GET /user/v2/credentials``: those shared with the caller, and their studio's default."""
        shared = set(self.credentials.shared_with(actor.id))
        sub = self.store.subscriptions.get(actor.subscription_id, {})
        if sub.get("credentialId"):
            shared.add(sub["credentialId"])
        return [{"id": c["id"], "userName": c["userName"]} for c in self.store.credentials.values()
                if c["id"] in shared]
