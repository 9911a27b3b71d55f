"""Workflows, their versions and packages, and who may see, download or run them."""

from __future__ import annotations

from dataclasses import dataclass
from ...packages import PackageError, PackageInfo, read_package
from .actor import Actor
from .core import (PUBLISHERS, Created, Denied, File, Forbidden, Invalid, NotEmpty, NotFound, Record, Refused,
                   Upload, parse_time, project, wire)
from .sharing import Sharing
from .store import Store

__all__ = ["Workflows", "WorkflowSettings", "read"]

_AUDITED = ("name", "ownerId", "workerTag", "districtTags", "comments", "isPublic", "isReadyForMigration",
            "othersMayDownload", "othersCanViewHistory", "othersCanExecute", "executionMode",
            "hasPrivateDataExemption", "publishedVersionId", "sourceAppId")


@dataclass(frozen=True)
class WorkflowSettings:
    """A workflow's settings as an upload, a new version or an update sends them (``None``: not sent)."""

    worker_tag: str | None = None
    district_tags: list[str] | None = None
    comments: str | None = None
    is_public: bool | None = None
    is_ready_for_migration: bool | None = None
    others_may_download: bool | None = None
    others_can_view_history: bool | None = None
    others_can_execute: bool | None = None
    execution_mode: str | None = None
    has_private_data_exemption: bool | None = None
    workflow_credential_type: str | None = None
    credential_id: str | None = None


def _snapshot(wf: dict) -> dict:
    return {k: wf.get(k) for k in _AUDITED}


def read(package: bytes) -> PackageInfo:
    """What a package holds; :class:`Invalid` for the ``file`` field when it is not a package."""
    try:
        return read_package(package)
    except PackageError as exc:
        raise Invalid.field("file", f"Invalid workflow package: {exc}.") from None


class Workflows:
    """Workflows and versions.  Uses :class:`Sharing` (collections make workflows visible)."""

    def __init__(self, store: Store, *, sharing: Sharing):
        self.store = store
        self.sharing = sharing

    # visibility --------------------------------------------------------------------
    def can_see(self, actor: Actor, wf: Record) -> bool:
        """Curators see all; others their own, public ones, their studio's and their collections'."""
        if actor.is_curator or wf["ownerId"] == actor.id or wf["isPublic"]:
            return True
        owner = self.store.users.get(wf["ownerId"])
        if owner and owner.get("subscriptionId") == actor.subscription_id:
            return True
        return any(wf["id"] in c["workflowIds"] for c in self.sharing.collections_of(actor.id))

    def visible(self, actor: Actor, workflow_id: str, *, forbid: bool = False) -> Record:
        """The workflow if *actor* may see it: else 404, or 403 with *forbid* (the resource is known)."""
        wf = self.store.workflow(workflow_id)
        if not self.can_see(actor, wf):
            if forbid:
                raise Forbidden("You do not have access to this workflow.")
            raise NotFound(f"Workflow '{workflow_id}' was not found.")
        return wf

    # versions ----------------------------------------------------------------------
    @staticmethod
    def published(wf: Record) -> Record:
        """The published version (the last one if none is marked)."""
        for version in wf["versions"]:
            if version["versionId"] == wf["publishedVersionId"]:
                return version
        return wf["versions"][-1]

    def version(self, wf: Record, version_id: str | None) -> Record:
        """The version *version_id* names, the published one for none."""
        if not version_id:
            return self.published(wf)
        for version in wf["versions"]:
            if version["versionId"] == version_id:
                return version
        raise Refused(f"Invalid VersionId '{version_id}'.")

    def behaviour(self, wf: Record, version: Record | None = None) -> dict:
        """How the emulator runs this workflow: package hints, overridden by settings."""
        merged = dict((version or self.published(wf)).get("hints") or {})
        merged.update(wf.get("behaviour") or {})
        return merged

    def new_version(self, wf: Record, info: PackageInfo, package: bytes, settings: dict, actor: Actor | None,
                    upload_source: str = "ServerUIorServerAPI") -> Record:
        """Add a version to *wf* from a package and stored-name *settings* (not yet published)."""
        number = max((v["versionNumber"] for v in wf["versions"]), default=0) + 1
        now = self.store.now_iso()
        version = {
            "versionId": self.store.new_id(), "versionNumber": number, "dateCreated": now,
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

    @staticmethod
    def publish_version(wf: Record, version: Record) -> None:
        """Make *version* the published one; the workflow takes its settings."""
        for v in wf["versions"]:
            v["published"] = v is version
        wf["publishedVersionId"] = version["versionId"]
        for key in ("packageWorkflowType", "executionMode", "hasPrivateDataExemption", "othersMayDownload"):
            wf[key] = version[key]

    def add_workflow(self, *, name: str, owner_id: str, package: bytes, settings: dict, actor: Actor | None,
                     source_app_id: str = "", workflow_id: str | None = None,
                     upload_source: str = "ServerUIorServerAPI") -> Record:
        """Create a workflow with one published version (checks already done; *settings* by stored names)."""
        info = read(package)
        wf: Record = {
            "id": workflow_id or self.store.new_id(), "name": name, "ownerId": owner_id,
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
            "sourceAppId": source_app_id or "", "dateCreated": self.store.now_iso(), "runCount": 0,
            "publishedVersionId": "", "packageWorkflowType": info.kind, "versions": [],
            "behaviour": {}, "dateMadePublic": None,
        }
        self.store.workflows[wf["id"]] = wf
        version = self.new_version(wf, info, package, dict(settings, ownerId=owner_id), actor, upload_source)
        self.publish_version(wf, version)
        if wf["isPublic"]:
            wf["dateMadePublic"] = wf["dateCreated"]
        self.store.record("AppInfo", wf["id"], "Insert", actor, None, _snapshot(wf))
        return wf

    def publish_or_version(self, actor: Actor | None, *, name: str, owner_id: str, package: bytes,
                           settings: dict, source_id: str) -> Record:
        """Admin V1 publish: a new published version when *source_id* is known, else a new workflow."""
        info = read(package)
        for wf in self.store.workflows.values():
            if source_id and wf["sourceAppId"] == source_id:
                before = _snapshot(wf)
                version = self.new_version(wf, info, package, dict(settings, ownerId=owner_id), actor)
                self.publish_version(wf, version)
                wf["name"] = name
                self.store.record("AppInfo", wf["id"], "Update", actor, before,
                                  dict(_snapshot(wf), versionAdded=version["versionNumber"]))
                return wf
        return self.add_workflow(name=name, owner_id=owner_id, package=package, settings=settings, actor=actor,
                                 source_app_id=source_id)

    def set_owner(self, wf: Record, owner_id: str, actor: Actor | None) -> None:
        """Give *wf* to another owner (audited)."""
        before = _snapshot(wf)
        wf["ownerId"] = owner_id
        self.store.record("AppInfo", wf["id"], "Update", actor, before, _snapshot(wf))

    # views ---------------------------------------------------------------------------
    @staticmethod
    def view(wf: Record) -> Record:
        return project(wf, "WorkflowView")

    def reduced_view(self, wf: Record) -> Record:
        published = self.published(wf)
        return project(dict(wf, publishedVersionNumber=published["versionNumber"],
                            isAmp=published["details"]["isAmp"]), "ReducedWorkflowView")

    # checks shared by uploads and updates ------------------------------------------------
    def _publisher(self, actor: Actor, owner_id: str) -> None:
        self.store.require(self.store.users, owner_id, "ownerId", "User")
        if not actor.is_curator:
            if actor.role not in PUBLISHERS:
                raise Denied("Your role does not allow publishing workflows.")
            if owner_id != actor.id:
                raise Denied("Only Curators can publish workflows for another owner.")

    def _credential_setting(self, settings: WorkflowSettings) -> None:
        if settings.workflow_credential_type == "Specific" and not settings.credential_id:
            raise Invalid.field("credentialId", "A credentialId is required when workflowCredentialType is Specific.")
        if settings.credential_id:
            self.store.require(self.store.credentials, settings.credential_id, "credentialId", "Credential")

    # operations ------------------------------------------------------------------------
    def list_workflows(self, actor: Actor, *, view: str | None = None, name: str | None = None,
                       owner_id: str | None = None, created_after: str | None = None,
                       created_before: str | None = None) -> list[Record]:
        """``GET /v3/workflows``: those the caller may see, by name, owner or creation of the published version."""
        after = parse_time(created_after, "createdAfter") if created_after else None
        before = parse_time(created_before, "createdBefore") if created_before else None
        out = []
        for wf in self.store.workflows.values():
            if not self.can_see(actor, wf) or (name and wf["name"].lower() != name.lower()) \
                    or (owner_id and wf["ownerId"] != owner_id):
                continue
            created = parse_time(self.published(wf)["dateCreated"], "dateCreated")
            if (after is not None and created < after) or (before is not None and created > before):
                continue
            reduced = self.reduced_view(wf)
            out.append(dict(reduced, **self.view(wf)) if view == "Full" else reduced)
        return out

    def get_workflow(self, actor: Actor, workflow_id: str) -> Record:
        return self.view(self.visible(actor, workflow_id))

    def create_workflow(self, actor: Actor, *, name: str, owner_id: str, file: Upload, settings: WorkflowSettings,
                        source_app_id: str | None = None, collection_ids: list[str] | None = None) -> Created:
        """``POST /v3/workflows`` (multipart): a new workflow, published, optionally in collections."""
        read(file.data)
        self._publisher(actor, owner_id)
        source = source_app_id or ""
        if source and any(w["sourceAppId"] == source for w in self.store.workflows.values()):
            raise Invalid.field("sourceAppId", f"A workflow with sourceAppId '{source}' already exists.")
        self._credential_setting(settings)
        unknown = [c for c in collection_ids or [] if c not in self.store.collections]
        if unknown:
            raise Invalid({"collectionIds": [f"Collection '{c}' was not found." for c in unknown]})
        wf = self.add_workflow(name=name, owner_id=owner_id, package=file.data, settings=wire(settings),
                               actor=actor, source_app_id=source)
        for cid in collection_ids or []:
            self.store.collections[cid]["workflowIds"].append(wf["id"])
            self.store.record("Collection", cid, "Update", actor, {}, {"addedWorkflowId": wf["id"]})
        return Created(wf["id"])

    def add_version(self, actor: Actor, workflow_id: str, *, name: str, owner_id: str, make_published: bool,
                    file: Upload, settings: WorkflowSettings) -> Record:
        """``POST /v3/workflows/{id}/versions`` (multipart): by the owner or a Curator."""
        wf = self.store.workflow(workflow_id)
        if not actor.is_curator and wf["ownerId"] != actor.id:
            raise Denied("Only the owner or a Curator can add a version.")
        info = read(file.data)
        self.store.require(self.store.users, owner_id, "ownerId", "User")
        self._credential_setting(settings)
        before = _snapshot(wf)
        version = self.new_version(wf, info, file.data, dict(wire(settings), ownerId=owner_id), actor)
        wf.update(name=name, ownerId=owner_id, othersCanExecute=settings.others_can_execute)
        if make_published:
            self.publish_version(wf, version)
        self.store.record("AppInfo", wf["id"], "Update", actor, before,
                          dict(_snapshot(wf), versionAdded=version["versionNumber"]))
        return self.view(wf)

    def update_workflow(self, actor: Actor, workflow_id: str, *, name: str, version_id: str, make_published: bool,
                        owner_id: str, settings: WorkflowSettings) -> Record:
        """``PUT /v3/workflows/{id}``: the whole record; a new owner stays in the owner's studio."""
        store = self.store
        wf = store.workflow(workflow_id)
        version = next((v for v in reversed(wf["versions"]) if v["versionId"] == version_id), None)
        if version is None:
            raise Invalid.field("versionId", f"Version '{version_id}' does not belong to this workflow.")
        new_owner = store.require(store.users, owner_id, "ownerId", "User")
        if owner_id != wf["ownerId"] and \
                new_owner.get("subscriptionId") != store.users.get(wf["ownerId"], {}).get("subscriptionId"):
            raise Invalid.field("ownerId", "The new owner must be in the same subscription as the current owner.")
        self._credential_setting(settings)
        before = _snapshot(wf)
        given = wire(settings)
        for key in ("workerTag", "districtTags", "comments", "isPublic", "isReadyForMigration", "othersMayDownload",
                    "othersCanExecute", "executionMode", "othersCanViewHistory", "hasPrivateDataExemption"):
            if key in given:
                wf[key] = given[key]
        wf.update(name=name, ownerId=owner_id)
        version.update({k: given.get(k, version[k]) for k in ("workflowCredentialType", "credentialId",
                                                               "executionMode", "othersMayDownload")})
        if make_published:
            self.publish_version(wf, version)
        if wf["isPublic"] and not wf.get("dateMadePublic"):
            wf["dateMadePublic"] = store.now_iso()
        store.record("AppInfo", wf["id"], "Update", actor, before, _snapshot(wf))
        return self.view(wf)

    def delete_workflow(self, actor: Actor, workflow_id: str, *, force: bool | None = None) -> None:
        """``DELETE /v3/workflows/{id}``: a scheduled one only with ``force`` (its schedules go too)."""
        store = self.store
        wf = store.workflow(workflow_id)
        scheduled = [s["id"] for s in store.schedules.values() if s["workflowId"] == workflow_id]
        if scheduled and not force:
            raise NotEmpty("The workflow is scheduled; use force=true to delete its schedules too.")
        for sid in scheduled:
            del store.schedules[sid]
        for col in store.collections.values():
            col["scheduleIds"] = [s for s in col["scheduleIds"] if s not in scheduled]
            if workflow_id in col["workflowIds"]:
                col["workflowIds"].remove(workflow_id)
        del store.workflows[workflow_id]
        store.record("AppInfo", workflow_id, "Delete", actor, _snapshot(wf), None)

    def download(self, actor: Actor, workflow_id: str, *, version_id: str | None = None) -> File:
        """``GET /v3/workflows/{id}/package``: by the owner, a Curator, or anyone the owner allows."""
        wf = self.visible(actor, workflow_id, forbid=True)
        version = self.version(wf, version_id)
        if not (actor.is_curator or wf["ownerId"] == actor.id or version["othersMayDownload"]):
            raise Forbidden("The workflow's owner does not allow others to download it.")
        return File(version["package"], version["details"]["fileName"].rsplit(".", 1)[0] + ".yxzp")

    def questions(self, actor: Actor, workflow_id: str, *, version_id: str | None = None) -> list[Record]:
        wf = self.visible(actor, workflow_id, forbid=True)
        return [project({"name": q.name, "questionType": q.type, "description": q.description,
                         "value": q.default, "multiple": q.multiple,
                         "items": [{"key": i, "value": i} for i in q.items]}, "WorkflowQuestionView")
                for q in self.version(wf, version_id)["questions"]]

    def transfer(self, actor: Actor, workflow_id: str, *, owner_id: str, transfer_schedules: bool) -> None:
        """``PUT /v3/workflows/{id}/transfer``: by the owner or a Curator, optionally with its schedules."""
        store = self.store
        wf = store.workflow(workflow_id)
        if not actor.is_curator and wf["ownerId"] != actor.id:
            raise Forbidden("Only the owner or a Curator can transfer this workflow.")
        if owner_id not in store.users:
            raise Refused(f"The new owner '{owner_id}' was not found.")
        if transfer_schedules:
            for sched in store.schedules.values():
                if sched["workflowId"] == workflow_id and sched["ownerId"] == wf["ownerId"]:
                    sched["ownerId"] = owner_id
        self.set_owner(wf, owner_id, actor)
