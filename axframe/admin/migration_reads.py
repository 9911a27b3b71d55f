"""What a migration reads of its two Servers, as steps of its rows' programs.

The source workflow (from the V3 API, or the Admin V1 listings on a legacy
connection) and its package; the target's users, collections, credentials,
server data connections and workflows.  What several rows need is read once
per run, by the first row that asks (:class:`~axframe.engine.rows.Shared`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..client.call import Outcome
from ..client.connection import Connection
from ..engine.rows import Shared
from ..errors import ErrorType
from .steps import Steps, match_collections, published, read

__all__ = ["MigrationReads", "SourceWorkflow"]


@dataclass
class SourceWorkflow:
    """The source workflow, as much as the migration needs of it."""

    name: str
    owner_email: str | None
    is_public: bool
    can_download: bool
    comments: str
    flagged: bool
    credential_type: str
    credential_id: str
    checked_credentials: bool = True


class MigrationReads:
    """The reads of one migration run; those several rows need are shared."""

    def __init__(self, source: Connection, target: Connection):
        self.source, self.target = source, target
        self.shared = Shared()

    # ------------------------------------------------------------ source reads
    def source_workflow(self, wid: str) -> Steps:
        """The source workflow (a :class:`SourceWorkflow`), or the outcome that failed."""
        if self.source.legacy:
            return (yield from self._legacy_source_workflow(wid))
        outcome = yield from read(self.source, "workflows.get", {"workflowId": wid})
        if not outcome.ok:
            return outcome
        view = outcome.value() or {}
        version = published(view)
        email = yield from self.source_email(view.get("ownerId") or "")
        return SourceWorkflow(name=view.get("name") or "", owner_email=email, is_public=bool(view.get("isPublic")),
                              can_download=bool(version.get("othersMayDownload",
                                                            view.get("othersMayDownload", True))),
                              comments=version.get("comments") or "", flagged=bool(view.get("isReadyForMigration")),
                              credential_type=version.get("workflowCredentialType") or "Default",
                              credential_id=version.get("credentialId") or "")

    def source_email(self, user_id: str) -> Steps:
        if not user_id:
            return None

        def make() -> Steps:
            outcome = yield from read(self.source, "users.get", {"userId": user_id})
            return (outcome.value() or {}).get("email") if outcome.ok else None

        return (yield from self.shared.get(("source-user", user_id), make))

    def _legacy_source_workflow(self, wid: str) -> Steps:
        def listing() -> Steps:
            outcome = yield from read(self.source, "admin_v1.workflows")
            return {v.get("id"): v for v in outcome.value() or [] if isinstance(v, dict)} if outcome.ok else outcome

        def flagged() -> Steps:
            outcome = yield from read(self.source, "admin_v1.migratable")
            return {v.get("id") for v in outcome.value() or [] if isinstance(v, dict)} if outcome.ok else outcome

        views = yield from self.shared.get("legacy-workflows", listing)
        marked = yield from self.shared.get("legacy-flags", flagged)
        for got in (views, marked):
            if isinstance(got, Outcome):
                return got
        view = views.get(wid)
        if view is None:
            return Outcome(404, error_type=ErrorType.NOT_FOUND,
                           error=f"not found (404): workflow '{wid}' is not on the source Server")
        owner = view.get("publishedVersionOwner") or {}
        return SourceWorkflow(name=(view.get("metaInfo") or {}).get("name", ""),
                              owner_email=owner.get("email") or None, is_public=bool(view.get("public")),
                              can_download=True, comments="", flagged=wid in marked, credential_type="",
                              credential_id="", checked_credentials=False)

    def download(self, wid: str) -> Steps:
        outcome = yield from read(self.source, "admin_v1.package", {"appId": wid})
        if not outcome.ok:
            return outcome
        if outcome.content is None:
            return Outcome(outcome.status, error_type=ErrorType.HTTP_ERROR, error="the package download was empty")
        return outcome.content

    # ------------------------------------------------------------ target reads
    def target_user(self, email: str) -> Steps:
        def make() -> Steps:
            outcome = yield from read(self.target, "users.list", {"email": email})
            if not outcome.ok:
                return outcome
            users = [u for u in outcome.value() or [] if isinstance(u, dict)
                     and str(u.get("email", "")).lower() == email.lower()]
            return users[0] if users else None

        return (yield from self.shared.get(("target-user", email.lower()), make))

    def target_collections(self) -> Steps:
        def make() -> Steps:
            outcome = yield from read(self.target, "collections.list")
            return [c for c in outcome.value() or [] if isinstance(c, dict)] if outcome.ok else outcome

        return (yield from self.shared.get("target-collections", make))

    def target_collection_ids(self, wanted: list[str]) -> Steps:
        """The target's ids of the collections *wanted* (ids or names), ``(error_type, message)`` for one it
        lacks, or the outcome that failed."""
        if not wanted:
            return []
        known = yield from self.target_collections()
        return known if isinstance(known, Outcome) else match_collections(known, wanted, "the target Server")

    def target_credential(self, credential_id: str) -> Steps:
        def make() -> Steps:
            outcome = yield from read(self.target, "credentials.get", {"credentialId": credential_id})
            if outcome.ok:
                return True
            return False if outcome.status == 404 else outcome

        return (yield from self.shared.get(("target-credential", credential_id), make))

    def target_connection_names(self) -> Steps:
        def make() -> Steps:
            outcome = yield from read(self.target, "data_connections.list")
            if not outcome.ok:
                return outcome
            return {str(c.get("name", "")).strip().lower() for c in outcome.value() or [] if isinstance(c, dict)}

        return (yield from self.shared.get("target-connections", make))

    def target_workflows(self) -> Steps:
        """``({sourceAppId: target id}, {every target id}, [every target view])`` as the run began."""
        def make() -> Steps:
            outcome = yield from read(self.target, "workflows.list", {"view": "Full"})
            if not outcome.ok:
                return outcome
            views = [v for v in outcome.value() or [] if isinstance(v, dict)]
            if views and not any("sourceAppId" in v for v in views):
                # some Servers list no sourceAppId at all: the detail views have it (one read per workflow, once)
                details = []
                for view in views:
                    detail = yield from read(self.target, "workflows.get", {"workflowId": view.get("id")})
                    if not detail.ok:
                        return detail
                    details.append(detail.value() if isinstance(detail.value(), dict) else view)
                views = details
            return ({v["sourceAppId"]: v.get("id") for v in views if v.get("sourceAppId")},
                    {v.get("id") for v in views}, views)

        return (yield from self.shared.get("target-workflows", make))
