"""Every endpoint axframe can call, declared once, as data.

Each :class:`Endpoint` names one operation of one API family: its short name
(``"collections.add_user"``), the Swagger ``operationId`` where there is one,
method and path, path/query parameters, body or multipart form, which macro
function sends it (``get``, ``create``, ``post``, ``delete``), whether only
Curators may call it, and a one-line description written for this project.

For the 97 V3 operations, method, path, parameters, body schema and curator
flag come from ``axframe/schemas/v3.json`` (derived from the Server's Swagger);
the table below adds only the short name, the macro and our description.  The
V1 Subscription, Admin V1/V2 and User V2 APIs have no Swagger; they are
declared in full here from ``reference.md`` section 6.

An endpoint's behaviour is declared with it, not in tables elsewhere: the
natural key that reconciles an unknown create (:class:`NaturalKey`), whether
its PUT replaces the whole record (``merge``, a :class:`~axframe.merge.Merge`),
how it pages (:class:`Paging`, with the fields of its items), what kind of file
it uploads (``upload``), and for the job paths which status endpoint follows a
queued job (:class:`JobPath`).

Everything else -- ``ax.actions()``, validation, the CLI's help, the coverage
tests, the emulator's route check -- is derived from this one table.

Its length (about 750 lines) is the table itself: 127 declarations, one or two lines each, kept in one module
so that the whole API reads as one list.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator

from . import schemas
from .errors import UnknownActionError, WrongMacroError
from .merge import Merge, project, schedule_contract, user_contract, workflow_contract

__all__ = ["Param", "Endpoint", "NaturalKey", "Membership", "Paging", "JobPath", "ENDPOINTS", "find", "endpoints", "MACROS",
           "FORMATS", "AUDIT_ENTITIES", "ROLES", "NOT_ON_EVERY_SERVER", "job_path"]

MACROS = ("get", "create", "post", "delete")

#: The output formats of a job (``GET /v1/jobs/{jobId}/output/{outputId}?format=``), reference 6.1.
FORMATS = ("Raw", "Yxdb", "Shp", "Kml", "Tab", "Mif", "Dbf", "Csv", "Pdf", "Docx", "Xlsx", "Html", "Tde", "Zip")
#: The entity types of the audit log (reference 6.5).
AUDIT_ENTITIES = ("AppInfo", "Collection", "Credential", "Subscription", "User", "UserGroup")
#: A user's role (reference 4.4; the Swagger states it in prose only).
ROLES = ("NoAccess", "Viewer", "Member", "Artisan", "Curator", "Evaluated")
#: The V3 operations an older Server may not serve: absent from the older V3 surface on record (the generated
#: client in the mcp-server-alteryx 0.2.22 wheel, issue 17; ``tools/derive_versions.py`` derives the same set).
#: Before sending one, the client asks the Server's own Swagger document whether it serves it (client/server.py).
NOT_ON_EVERY_SERVER = frozenset({
    "Credentials_AddCredential", "Credentials_UpdateCredential", "DCME_ShareDcmConnectionForCollaboration",
    "Jobs_GetJobsInQueue", "Jobs_CancelJob", "Usage_GetUsage", "Usage_UploadUsageEventsCleanupFile"})


@dataclass(frozen=True)
class NaturalKey:
    """How to find the record a create makes, when its outcome is unknown (:mod:`axframe.engine.reconcile`).

    Attributes
    ----------
    lookup : str
        The catalogue name of the listing to look in.
    field : str
        The body (or form) field holding the key.
    query : str or None
        The listing's query parameter that filters by the key, if it has one.
    listed : str
        The field of a listed record that holds the key.
    casefold : bool
        Keys compare without letter case (emails, names).
    detail : str or None
        Where a listing does not show the key (some Servers leave ``sourceAppId`` out of their workflow
        lists), the catalogue name of the detail view that may; the listing's records that match the
        call on *same* are read one by one.
    same : tuple of str
        ``(body or form field, listed field)`` pairs that a record made by the call must match (a
        workflow's name and owner).
    created : str or None
        The listed field of a record's creation time: with no key shown anywhere, one record that
        matches *same* and was created after the call went out is the one it made.
    """

    lookup: str
    field: str
    query: str | None
    listed: str
    casefold: bool = True
    detail: str | None = None
    same: tuple[tuple[str, str], ...] = ()
    created: str | None = None


@dataclass(frozen=True)
class Paging:
    """How a listing pages (``page``/``pageSize``), and the fields of its items.

    Attributes
    ----------
    alias : str
        The short name :func:`axframe.admin_listing` knows it by (``"users"``).
    first : int or None
        The first page's number when documented (0 for ``workflows/all``); None when a Server must
        be asked (the pager works it out).
    fields : tuple of str
        The fields of an item, ``parent.child`` for an object's fields, in the Server's order (as
        the emulator serves them): the columns of an empty listing.
    """

    alias: str
    first: int | None = None
    fields: tuple[str, ...] = ("id",)


@dataclass(frozen=True)
class Membership:
    """How to tell whether an add took effect: its parent's detail view lists the member (:mod:`axframe.engine.reconcile`).

    An add (a user into a group, a group into a collection, a share) whose outcome is unknown is settled by
    reading the parent once: every member the call adds is there, it took effect; none is, it did not (and is
    sent again, after a second look); some are, the row stays ``OutcomeUnknown``.

    Attributes
    ----------
    detail : str
        The catalogue name of the parent's detail read; its one path parameter is the add's.
    listed : str
        The field of the detail that holds the members.
    item : str or None
        The key of each listed member that holds its id (None: the list holds the ids themselves).
    body : str or None
        The body field holding the id the call adds (None: the body is a list of ids).
    """

    detail: str
    listed: str
    item: str | None
    body: str | None


def _member(detail: str, listed: str, item: str | None, body: str | None) -> dict:
    return dict(membership=Membership(detail, listed, item, body))


@dataclass(frozen=True)
class JobPath:
    """A path that queues jobs: which API it is, what follows the job, what settings it takes.

    Attributes
    ----------
    api : str
        ``"v3"``, ``"v1"`` or ``"user_v2"``.
    status : str
        The catalogue name of the endpoint that reads the job.
    settings : tuple of str
        The optional settings the body may carry besides the answers.
    workflow_param : str
        The path parameter naming the workflow (``workflowId`` or ``appId``).
    """

    api: str
    status: str
    settings: tuple[str, ...]
    workflow_param: str


@dataclass(frozen=True)
class Param:
    """A path, query or form parameter."""

    name: str
    location: str  # "path", "query" or "form"
    type: str = "string"
    required: bool = False
    enum: tuple[str, ...] | None = None
    format: str | None = None
    json_text: bool = False  # a form field that carries a JSON array as text

    @property
    def schema(self) -> dict:
        out: dict[str, Any] = {"type": "string" if self.type == "file" else self.type}
        if self.enum:
            out["enum"] = list(self.enum)
        if self.format:
            out["format"] = self.format
        if self.json_text:
            out = {"type": "array", "items": {"type": "string"}}
        return out


@dataclass(frozen=True)
class Endpoint:
    """One operation of the Server's API, with everything derived from it."""

    name: str
    operation_id: str | None
    method: str
    path: str
    macro: str
    doc: str
    family: str
    params: tuple[Param, ...] = ()
    body_name: str | None = None
    body_schema: dict | None = field(default=None, hash=False, compare=False)
    body_required: bool = False
    form: tuple[Param, ...] = ()
    binary: bool = False
    curator_only: bool = False
    success_codes: tuple[int, ...] = (200,)
    legacy: bool = False  # also served under /gallery/api/ with OAuth1 signing
    json_answer: bool = True  # its success answers are JSON (else empty, or a file when binary)
    # behaviour
    natural_key: NaturalKey | None = None  # reconciles an unknown create
    merge: Merge | None = field(default=None, hash=False, compare=False)  # a full-record PUT
    paging: Paging | None = None  # a page/pageSize listing
    upload: str | None = None  # "package" (a .yxzp, checked before sending) or "file"
    job: JobPath | None = None  # queues a job
    membership: Membership | None = None  # an add, settled by reading its parent when its outcome is unknown

    @property
    def newer(self) -> bool:
        """Whether an older Server may lack this operation (:data:`NOT_ON_EVERY_SERVER`)."""
        return self.operation_id in NOT_ON_EVERY_SERVER

    @property
    def spelling(self) -> str:
        """``"METHOD /path"`` exactly as in the Swagger."""
        return f"{self.method} {self.path}"

    @property
    def multipart(self) -> bool:
        return bool(self.form)

    @property
    def path_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "path")

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "query")

    @property
    def idempotent(self) -> bool:
        """Whether sending the request twice has the effect of sending it once."""
        return self.method in ("GET", "PUT", "DELETE", "PATCH", "HEAD")

    @property
    def min_role(self) -> str | None:
        """The least role whose API key a Server lets call it (None: any role the call's data allows).

        Curator-only endpoints need a Curator; the V1 Subscription and User V2 APIs refuse keys below
        Artisan on Servers since 2022.1 (real-server-evidence.md, high confidence).
        """
        if self.curator_only:
            return "Curator"
        if self.family in ("v1", "user_v2"):
            return "Artisan"
        return None

    @property
    def file_field(self) -> Param | None:
        return next((p for p in self.form if p.type == "file"), None)

    def body_kind(self) -> str:
        """``"object"``, ``"array"``, ``"string"``, ``"form"`` or ``"none"``."""
        if self.multipart:
            return "form"
        if self.body_schema is None:
            return "none"
        kind = schemas.resolve(self.body_schema).get("type", "object")
        return kind if kind in ("array", "string") else "object"

    def form_schema(self) -> dict:
        """The multipart text fields as one object schema (for validation)."""
        props = {p.name: p.schema for p in self.form if p.type != "file"}
        required = [p.name for p in self.form if p.required and p.type != "file"]
        return {"type": "object", "properties": props, "required": required}

    def contract_schema(self) -> dict | None:
        """The schema a row's ``contract`` is checked against."""
        if self.multipart:
            return self.form_schema()
        return self.body_schema


# --------------------------------------------------------------------------
# V3: short name, operationId, macro, description (ours).  Everything else is
# derived from schemas/v3.json.
# --------------------------------------------------------------------------
_V3 = [
    # Workflows
    ("workflows.list", "Workflows_GetWorkflows", "get", "List workflows, optionally by name, owner or creation date."),
    ("workflows.get", "Workflows_GetWorkflow", "get", "One workflow with all its versions."),
    ("workflows.questions", "Workflows_GetWorkflowQuestions", "get", "The questions of an analytic app."),
    ("workflows.download", "Workflows_DownloadWorkflow", "get", "Download a workflow's .yxzp package (published version unless versionId is given)."),
    ("workflows.jobs", "Workflows_GetJobsForWorkflow", "get", "The jobs run for one workflow."),
    ("workflows.upload", "Workflows_CreateWorkflow", "create", "Publish a new workflow from a .yxzp file (multipart).",
     dict(upload="package",
          natural_key=NaturalKey("workflows.list", "sourceAppId", None, "sourceAppId", casefold=False,
                                 detail="workflows.get", same=(("name", "name"), ("ownerId", "ownerId")),
                                 created="dateCreated"))),
    ("workflows.run", "Workflows_Enqueue", "create", "Queue a job for a workflow, with answers to its questions.",
     dict(job=JobPath("v3", "jobs.get", ("priority", "credentialId", "workerTag"), "workflowId"))),
    ("workflows.update", "Workflows_UpdateWorkflow", "post", "Change a workflow's settings, owner or published version.",
     dict(merge=Merge("workflows.get", workflow_contract))),
    ("workflows.add_version", "Workflows_AddVersionToWorkflow", "post", "Upload a new version of an existing workflow (multipart).",
     dict(upload="package")),
    ("workflows.transfer", "Workflows_TransferWorkflow", "post", "Give a workflow, and optionally its schedules, to another owner."),
    ("workflows.delete", "Workflows_DeleteWorkflow", "delete", "Delete a workflow (force=true also deletes its schedules)."),
    # Collections
    ("collections.list", "Collections_GetCollections", "get", "List collections."),
    ("collections.get", "Collections_GetCollection", "get", "One collection with its members and assets."),
    ("collections.create", "Collections_CreateCollection", "create", "Create a collection."),
    ("collections.update", "Collections_UpdateCollection", "post", "Rename a collection or change its owner.",
     dict(merge=Merge("collections.get", project("UpdateCollectionContract")))),
    ("collections.add_user", "Collections_AddUserToCollection", "post", "Add a user to a collection, with permissions.",
     _member("collections.get", "users", "userId", "userId")),
    ("collections.add_group", "Collections_AddUserGroupToCollection", "post", "Add a user group to a collection, with permissions.",
     _member("collections.get", "userGroupIds", None, "userGroupId")),
    ("collections.add_workflow", "Collections_AddWorkflowToCollection", "post", "Add a workflow to a collection.",
     _member("collections.get", "workflowIds", None, "workflowId")),
    ("collections.add_schedule", "Collections_AddScheduleToCollection", "post", "Add a schedule to a collection."),
    ("collections.update_user_permissions", "Collections_UpdateCollectionUserPermissions", "post", "Change a user's permissions in a collection."),
    ("collections.update_group_permissions", "Collections_UpdateCollectionUserGroupPermissions", "post", "Change a user group's permissions in a collection."),
    ("collections.remove_user", "Collections_RemoveUserFromCollection", "delete", "Remove a user from a collection."),
    ("collections.remove_group", "Collections_RemoveUserGroupFromCollection", "delete", "Remove a user group from a collection."),
    ("collections.remove_workflow", "Collections_RemoveWorkflowFromCollection", "delete", "Remove a workflow from a collection."),
    ("collections.remove_schedule", "Collections_RemoveScheduleFromCollection", "delete", "Remove a schedule from a collection."),
    ("collections.delete", "Collections_DeleteCollection", "delete", "Delete a collection (forceDelete=true even when it is not empty)."),
    # Schedules
    ("schedules.list", "Schedules_GetSchedules", "get", "List schedules, optionally by owner, workflow or run window."),
    ("schedules.get", "Schedules_GetSchedule", "get", "One schedule."),
    ("schedules.create", "Schedules_CreateSchedule", "create", "Create a schedule for a workflow."),
    ("schedules.update", "Schedules_UpdateSchedule", "post", "Replace a schedule's settings (full record; axframe merges).",
     dict(merge=Merge("schedules.get", schedule_contract, "the Server does not answer a schedule's iteration type, so give the whole iteration, or use schedules.patch to change other fields"))),
    ("schedules.patch", "Schedules_UpdateSchedulePatch", "post", "Change some of a schedule's settings."),
    ("schedules.delete", "Schedules_DeleteSchedule", "delete", "Delete a schedule."),
    # Users
    ("users.list", "Users_GetUsers", "get", "List users, optionally by email, name, role, state or creation date."),
    ("users.get", "Users_GetUser", "get", "One user."),
    ("users.assets", "Users_GetUsersAssets", "get", "The workflows, schedules and collections a user owns."),
    ("users.create", "Users_CreateUser", "create", "Create a user.",
     dict(natural_key=NaturalKey("users.list", "email", "email", "email"))),
    ("users.update", "Users_UpdateUser", "post", "Change a user's details, role or permissions (full record; axframe merges).",
     dict(merge=Merge("users.get", user_contract))),
    ("users.transfer_assets", "Users_TransferAssets", "post", "Give all of a user's workflows, schedules and collections to another user."),
    ("users.deactivate", "Users_DeactivateUser", "post", "Deactivate a user."),
    ("users.reset_password", "Users_SendPasswordReset", "post", "Send a user a password-reset email."),
    ("users.delete", "Users_DeleteUser", "delete", "Delete a user who owns nothing and is in no group."),
    # User groups
    ("usergroups.list", "UserGroups_GetUserGroups", "get", "List custom user groups."),
    ("usergroups.get", "UserGroups_GetUserGroup", "get", "One user group with its members."),
    ("usergroups.create", "UserGroups_CreateUserGroup", "create", "Create a user group.",
     dict(natural_key=NaturalKey("usergroups.list", "name", None, "name"))),
    ("usergroups.update", "UserGroups_UpdateUserGroup", "post", "Rename a user group or change its role.",
     dict(merge=Merge("usergroups.get", project("UpdateUserGroupContract")))),
    ("usergroups.add_users", "UserGroups_AddUsersToGroup", "post", "Add users to a user group (the contract is a list of user ids).",
     _member("usergroups.get", "members", "userId", None)),
    ("usergroups.add_ad_group", "UserGroups_AddActiveDirectoryGroupToCustomGroup", "post", "Add an Active Directory group to a user group (the contract is the SID as JSON text)."),
    ("usergroups.remove_user", "UserGroups_RemoveUserFromGroup", "delete", "Remove a user from a user group."),
    ("usergroups.remove_ad_group", "UserGroups_RemoveActiveDirectoryGroupFromCustomGroup", "delete", "Remove an Active Directory group from a user group."),
    ("usergroups.delete", "UserGroups_DeleteUserGroup", "delete", "Delete a user group (forceDelete=true even when it has members)."),
    # Credentials
    ("credentials.list", "Credentials_GetCredentials", "get", "List credentials."),
    ("credentials.get", "Credentials_GetCredential", "get", "One credential with whom it is shared."),
    ("credentials.create", "Credentials_AddCredential", "create", "Add a credential (user name and password)."),
    ("credentials.update", "Credentials_UpdateCredential", "post", "Change a credential's password."),
    ("credentials.add_user", "Credentials_ShareCredentialWithUser", "post", "Share a credential with a user.",
     _member("credentials.get", "userIds", None, "userId")),
    ("credentials.add_group", "Credentials_ShareCredentialWithUserGroup", "post", "Share a credential with a user group.",
     _member("credentials.get", "userGroupIds", None, "userGroupId")),
    ("credentials.remove_user", "Credentials_RemoveUserFromCredential", "delete", "Stop sharing a credential with a user."),
    ("credentials.remove_group", "Credentials_RemoveUserGroupFromCredential", "delete", "Stop sharing a credential with a user group."),
    ("credentials.delete", "Credentials_DeleteCredential", "delete", "Delete a credential (force=true also removes its shares)."),
    # Server data connections
    ("data_connections.list", "ServerConnections_GetServerDataConnections", "get", "List server data connections."),
    ("data_connections.get", "ServerConnections_GetServerDataConnection", "get", "One server data connection."),
    ("data_connections.rename", "ServerConnections_UpdateServerDataConnectionName", "post", "Rename a server data connection."),
    ("data_connections.add_user", "ServerConnections_AddUserToServerDataConnection", "post", "Share a server data connection with a user.",
     _member("data_connections.get", "userIds", None, "userId")),
    ("data_connections.add_group", "ServerConnections_AddUserGroupToServerDataConnection", "post", "Share a server data connection with a user group.",
     _member("data_connections.get", "userGroupIds", None, "userGroupId")),
    ("data_connections.remove_user", "ServerConnections_RemoveUserFromServerDataConnection", "delete", "Stop sharing a server data connection with a user."),
    ("data_connections.remove_group", "ServerConnections_RemoveUserGroupFromServerDataConnection", "delete", "Stop sharing a server data connection with a user group."),
    ("data_connections.delete", "ServerConnections_DeleteServerDataConnection", "delete", "Delete a server data connection."),
    # Jobs
    ("jobs.list", "Jobs_GetJobsInQueue", "get", "The job queue, paged (offset/limit)."),
    ("jobs.get", "Jobs_GetJobV3", "get", "One job: status, disposition, outputs and messages."),
    ("jobs.messages", "Jobs_GetJobMessages", "get", "The engine messages of a job."),
    ("jobs.cancel", "Jobs_CancelJob", "delete", "Cancel a running job or remove a queued one."),
    # Subscriptions (studios)
    ("subscriptions.list", "Subscriptions_GetSubscriptions", "get", "List subscriptions (studios) with user and workflow counts."),
    ("subscriptions.get", "Subscriptions_GetSubscriptionById", "get", "One subscription with its users and workflows."),
    ("subscriptions.create", "Subscriptions_CreateSubscription", "create", "Create a subscription (studio).",
     dict(natural_key=NaturalKey("subscriptions.list", "name", "name", "name"))),
    ("subscriptions.update", "Subscriptions_UpdateSubscription", "post", "Change a subscription's name, credential or schedule sharing.",
     dict(merge=Merge("subscriptions.get", project("UpdateSubscriptionContract")))),
    ("subscriptions.move_users", "Subscriptions_ChangeUsersSubscription", "post", "Move users into a subscription."),
    ("subscriptions.delete", "Subscriptions_DeleteSubscription", "delete", "Delete an empty subscription (its id goes in the query)."),
    # Usage
    ("usage.download", "Usage_GetUsage", "get", "Download the usage records as a file."),
    ("usage.cleanup", "Usage_UploadUsageEventsCleanupFile", "post", "Delete usage events up to the event id in an uploaded file (multipart).",
     dict(upload="file")),
    # DCM
    ("dcm.get", "DCME_GetDcmConnection", "get", "One DCM connection you can see."),
    ("dcm.lookup", "DCME_LookupDcmConnection", "get", "Find a DCM connection by its connection id."),
    ("dcm.upsert", "DCME_UpsertDcmConnection", "create", "Create a DCM connection, or update it when the contract has its id."),
    ("dcm.share_execution", "DCME_ShareDcmConnectionForExecution", "post", "Share a DCM connection for running workflows."),
    ("dcm.share_collaboration", "DCME_ShareDcmConnectionForCollaboration", "post", "Share a DCM connection for collaboration."),
    ("dcm.unshare_execution", "DCME_UnshareDcmConnectionForExecution", "delete", "Stop sharing a DCM connection for execution."),
    ("dcm.delete", "DCME_DeleteDcmConnection", "delete", "Delete a DCM connection you own."),
    ("dcm_admin.list", "DCMEAdmin_GetAllConnectionsAdmin", "get", "All DCM connections (optionally as one user sees them)."),
    ("dcm_admin.get", "DCMEAdmin_GetConnectionAdmin", "get", "Any DCM connection."),
    ("dcm_admin.upsert", "DCMEAdmin_UpsertDcmConnection", "create", "Create or update a DCM connection on behalf of a user."),
    ("dcm_admin.unshare_execution", "DCMEAdmin_UnshareConnectionForExecutionAdmin", "delete", "Remove execution sharing from any DCM connection."),
    ("dcm_admin.unshare_collaboration", "DCMEAdmin_UnshareConnectionForCollaborationAdmin", "delete", "Remove collaboration sharing from any DCM connection."),
    ("dcm_admin.delete", "DCMEAdmin_DeleteConnectionAdmin", "delete", "Delete any DCM connection."),
    ("dcm_admin.rules", "DCMEAdmin_GetAllDCMEConnectionHandlingRules", "get", "All DCM connection-handling rules."),
    ("dcm_admin.get_rule", "DCMEAdmin_GetDCMEConnectionHandlingRule", "get", "One DCM connection-handling rule."),
    ("dcm_admin.upsert_rule", "DCMEAdmin_UpsertDCMEConnectionHandlingRule", "create", "Create a connection-handling rule, or update it when the contract has its id."),
    ("dcm_admin.delete_rule", "DCMEAdmin_DeleteDCMEConnectionHandlingRule", "delete", "Delete a connection-handling rule."),
    ("dcm_connect.get", "DCMEConnect_GetDCMEConnectionForConnect", "get", "A DCM connection as the Connect integration sees it."),
]

# Facts the Swagger states only in prose (reference.md 4.1), made checkable.
_FORM_ENUMS = {
    "executionMode": ("Safe", "SemiSafe", "Standard"),
    "workflowCredentialType": ("Default", "Required", "Specific"),
}
_FORM_JSON_ARRAYS = {"districtTags", "collectionIds"}

# Enums and formats the Swagger states in descriptions only (reference.md 4.4).
_LANGUAGES = ("de-de", "en-us", "es-es", "fr-fr", "it-it", "ja-jp", "pt-br", "zh-cn")
schemas.refine("CreateUserContract", "role", enum=list(ROLES))
schemas.refine("UpdateUserContract", "language", enum=list(_LANGUAGES))
for _definition in ("CreateUserContract", "UpdateUserContract"):
    schemas.refine(_definition, "email", format="email")

# Operations the Swagger marks open, that the Server restricts in practice
# (reference.md 1 and 4.8): the job queue is for Curators.
_CURATOR_OVERRIDES = {"Jobs_GetJobsInQueue": True}


def _param_from_swagger(p: dict, location: str | None = None) -> Param:
    name = p["name"]
    loc = location or p["in"]
    enum = p.get("enum") or _FORM_ENUMS.get(name) if loc == "form" else p.get("enum")
    return Param(
        name=name,
        location=loc,
        type=p.get("type", "string"),
        required=bool(p.get("required")),
        enum=tuple(enum) if enum else None,
        format=p.get("format"),
        json_text=loc == "form" and name in _FORM_JSON_ARRAYS,
    )


def _v3_endpoint(name: str, op_id: str, macro: str, doc: str, behaviour: dict | None = None) -> Endpoint:
    op = schemas.operation(op_id)
    body = op["body"]
    successes = tuple(sorted(int(c) for c in op["responses"] if c.startswith("2")))
    return Endpoint(
        name=name,
        operation_id=op_id,
        method=op["method"],
        path=op["path"],
        macro=macro,
        doc=doc,
        family="v3",
        params=tuple(_param_from_swagger(p) for p in op["params"]),
        body_name=body["name"] if body else None,
        body_schema=body["schema"] if body else None,
        body_required=bool(body and body["required"]),
        form=tuple(_param_from_swagger(p, "form") for p in op["form"]),
        binary=op["binary"],
        curator_only=_CURATOR_OVERRIDES.get(op_id, op["curatorOnly"]),
        success_codes=successes or (200,),
        json_answer=any(op["responses"].get(code) for code in op["responses"] if code.startswith("2"))
        and not op["binary"],
        **(behaviour or {}),
    )


# --------------------------------------------------------------------------
# V1 Subscription, Admin V1/V2 and User V2 (reference.md section 6).
# --------------------------------------------------------------------------
_APP_VALUE = {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}
schemas.register("V1AppValue", _APP_VALUE)
schemas.register("V1AppValues", {
    "type": "object",
    "properties": {"questions": {"type": "array", "items": {"$ref": "V1AppValue"}},
                   "priority": {"type": "string"}},
})
schemas.register("V2AppValues", {
    "type": "object",
    "properties": {"credentialId": {"type": "string"},
                   "questions": {"type": "array", "items": {"$ref": "V1AppValue"}},
                   "priority": {"type": "string"}},
})

_SORT_FIELDS = ("author", "copyright", "datemadepublic", "description", "executionmode",
                "name", "owner", "runcount", "subscriptionid", "uploaddate")
# sortField of the jobs list of one workflow (reference 6.1 documents createdate; the others are the
# JobListApiView fields a Server plausibly sorts on: an emulator choice, docs/emulator.md)
_JOB_SORT_FIELDS = ("createdate", "status", "disposition", "priority", "workertag")
# The fields of each paged Admin listing's items, in the Server's order (the shapes of reference 6.5, as the
# emulator serves them); ``parent.child`` for an object's fields.
_USER_FIELDS = (
    "accountLocked", "accountLockedAt", "active", "anonymous", "canSchedule", "canSetPriority",
    "canSetWorkerAssignment", "dateAdded", "dateUpdated", "email", "expirationDate", "firstName", "lastName",
    "numFailedLogins", "pending", "subscriptionId", "updateLastLoginDate", "userProfile.picture", "userProfile.iconId",
    "validated", "timezone", "language", "id",
)
_WORKFLOW_ALL_FIELDS = (
    "id", "revisions", "creator.id", "creator.firstName", "creator.lastName", "creator.email",
    "creator.subscription.id", "creator.subscription.name", "subscription.id", "subscription.name", "events",
    "runDisabled", "isPublic", "dateMadePublic", "isDeleted", "runCount", "iconId", "workerTag", "isReadyForMigration",
)
# The Admin listings' fields as real Servers answer them (real-server-evidence.md, medium): collections with
# optOutUsers (and members' permissions in the Admin V1 shape), schedules' iteration in its Admin V1 shape.
_COLLECTION_FIELDS = ("collectionId", "name", "ownerId", "dateAdded", "apps", "schedules", "insights", "users",
                      "subscriptions", "userGroups", "id", "optOutUsers")
_SCHEDULE_FIELDS = (
    "canEdit", "id", "application.canExecute", "application.amp", "application.id", "application.revisionId",
    "application.name", "application.iconId", "owner.id", "owner.role", "owner.firstName", "owner.lastName",
    "owner.email", "owner.sortName", "owner.isActive", "owner.credentialWorkFlowCount", "name", "comment",
    "enabled", "priority", "workerTag", "status", "credential.credentialId", "credential.username",
    "credential.source", "creationTime", "lastRunTime", "nextRunTime", "state", "runCount", "iteration.__type", "iteration.day",
    "iteration.days", "iteration.hours", "iteration.minutes", "iteration.startTime", "iteration.endTime",
    "iteration.weekday", "frequency", "timezone", "lastError", "cpuName", "lastModifiedId", "lastModifiedDate",
)
_SUBSCRIPTION_FIELDS = (
    "active", "expirationDate", "memberPassesPurchased", "memberPassesUsed", "name", "primaryContactInfo.name",
    "primaryContactInfo.email", "primaryContactInfo.company", "primaryContactInfo.address.country",
    "primaryContactInfo.address.addressLine1", "primaryContactInfo.address.addressLine2",
    "primaryContactInfo.address.city", "primaryContactInfo.address.state", "primaryContactInfo.address.postalCode",
    "id",
)
_AUDIT_FIELDS = ("id", "entity", "entityId", "userId", "timestamp", "event", "oldValues", "newValues")
_V1_PRIORITY_SETTINGS = ("priority",)


def _q(name: str, type: str = "string", required: bool = False, enum: tuple | None = None,
       format: str | None = None) -> Param:
    return Param(name, "query", type, required, enum, format)


def _p(name: str) -> Param:
    return Param(name, "path", "string", True)


def _f(name: str, type: str = "string", required: bool = True) -> Param:
    return Param(name, "form", type, required)


_LISTING = (_q("sortField", enum=_SORT_FIELDS), _q("direction", enum=("asc", "desc")),
            _q("offset", "integer"), _q("limit", "integer"))
_JOB_LISTING = (_q("sortField", enum=_JOB_SORT_FIELDS),) + _LISTING[1:]
_PAGES = (_q("page", "integer"), _q("pageSize", "integer"))

_LEGACY = [
    # Subscription API (a user's own studio)
    Endpoint("v1.workflows", None, "GET", "/v1/workflows/subscription", "get",
             "The workflows of your studio (Subscription API).", "v1",
             params=_LISTING + (_q("search"), _q("packageType")), legacy=True),
    Endpoint("v1.questions", None, "GET", "/v1/workflows/{appId}/questions", "get",
             "The questions of an analytic app (Subscription API).", "v1",
             params=(_p("appId"),), legacy=True),
    Endpoint("v1.workflow_jobs", None, "GET", "/v1/workflows/{appId}/jobs", "get",
             "The jobs of one workflow (Subscription API).", "v1",
             params=(_p("appId"),) + _JOB_LISTING, legacy=True),
    Endpoint("v1.run", None, "POST", "/v1/workflows/{appId}/jobs", "create",
             "Queue a job for an app with answers (Subscription API).", "v1",
             params=(_p("appId"),), body_name="appValues", body_schema={"$ref": "V1AppValues"},
             legacy=True, job=JobPath("v1", "v1.job", _V1_PRIORITY_SETTINGS, "appId")),
    Endpoint("v1.job", None, "GET", "/v1/jobs/{jobId}", "get",
             "One job's status, outputs and messages (Subscription API).", "v1",
             params=(_p("jobId"), _q("includeMessages", "boolean")), legacy=True),
    Endpoint("v1.job_output", None, "GET", "/v1/jobs/{jobId}/output/{outputId}", "get",
             "Download one output of a finished job in a chosen format.", "v1",
             params=(_p("jobId"), _p("outputId"), _q("format", required=True, enum=FORMATS)),
             binary=True, legacy=True),
    Endpoint("v1.package", None, "GET", "/v1/workflows/{appId}/package", "get",
             "Download a workflow's package (Subscription API).", "v1",
             params=(_p("appId"),), binary=True, legacy=True),
    # Admin V1
    Endpoint("admin_v1.workflows", None, "GET", "/admin/v1/workflows", "get",
             "Every workflow on the Server, with owner and collections.", "admin_v1",
             params=(_q("search"),) + _LISTING, curator_only=True, legacy=True),
    Endpoint("admin_v1.workflows_all", None, "GET", "/admin/v1/workflows/all", "get",
             "Every workflow with revisions and events, paged (page is zero-based).", "admin_v1",
             params=(_q("startDate"), _q("endDate")) + _PAGES, curator_only=True, legacy=True,
             paging=Paging("workflows", 0, _WORKFLOW_ALL_FIELDS)),
    Endpoint("admin_v1.last_jobs", None, "GET", "/admin/v1/workflows/jobs", "get",
             "The last job of each workflow (appIds: comma-separated, all if omitted).", "admin_v1",
             params=(_q("appIds"), _q("includeMessages", "boolean")), curator_only=True, legacy=True),
    Endpoint("admin_v1.migratable", None, "GET", "/admin/v1/workflows/migratable", "get",
             "Workflows marked ready to migrate (subscriptionIds: comma-separated).", "admin_v1",
             params=(_q("subscriptionIds"),), curator_only=True, legacy=True),
    Endpoint("admin_v1.toggle_migratable", None, "PUT", "/admin/v1/workflows/migratable/{appId}", "post",
             "Flip a workflow's ready-for-migration flag.", "admin_v1",
             params=(_p("appId"),), curator_only=True, legacy=True),
    Endpoint("admin_v1.package", None, "GET", "/admin/v1/{appId}/package", "get",
             "Download any workflow's published package (for migration).", "admin_v1",
             params=(_p("appId"),), binary=True, curator_only=True, legacy=True),
    Endpoint("admin_v1.publish", None, "POST", "/admin/v1/workflows", "create",
             "Publish a package; an existing workflow with the same sourceId gets a new version.",
             "admin_v1",
             form=(_f("file", "file"), _f("name"), _f("owner"), _f("validate", "boolean"),
                   _f("isPublic", "boolean"), _f("sourceId"), _f("workerTag"),
                   _f("canDownload", "boolean"), _f("comments", required=False)),
             curator_only=True, legacy=True, upload="package"),
    Endpoint("admin_v1.server_connections", None, "GET", "/admin/v1/serverdataconnections", "get",
             "Server data connections with who may use them.", "admin_v1",
             params=(_q("offset", "integer"), _q("limit", "integer")), curator_only=True, legacy=True),
    Endpoint("admin_v1.system_connections", None, "GET", "/admin/v1/systemdataconnections", "get",
             "System data connections of the Server machine.", "admin_v1",
             params=(_q("offset", "integer"), _q("limit", "integer")), curator_only=True, legacy=True),
    Endpoint("admin_v1.insights", None, "GET", "/admin/v1/insights", "get",
             "Insights (legacy dashboards).", "admin_v1",
             params=(_q("search"), _q("offset", "integer"), _q("limit", "integer")),
             curator_only=True, legacy=True),
    Endpoint("admin_v1.users", None, "GET", "/admin/v1/users", "get",
             "Users, paged (page is one-based).", "admin_v1",
             params=_PAGES, curator_only=True, legacy=True, paging=Paging("users", None, _USER_FIELDS + ("curator",))),
    Endpoint("admin_v1.collections", None, "GET", "/admin/v1/collections", "get",
             "Collections, paged (page is one-based).", "admin_v1",
             params=_PAGES, curator_only=True, legacy=True, paging=Paging("collections", None, _COLLECTION_FIELDS)),
    Endpoint("admin_v1.schedules", None, "GET", "/admin/v1/schedules", "get",
             "Schedules, paged (page is one-based).", "admin_v1",
             params=_PAGES, curator_only=True, legacy=True, paging=Paging("schedules", None, _SCHEDULE_FIELDS)),
    Endpoint("admin_v1.subscriptions", None, "GET", "/admin/v1/subscriptions", "get",
             "Subscriptions (studios), paged (page is one-based).", "admin_v1",
             params=_PAGES, curator_only=True, legacy=True,
             paging=Paging("subscriptions", None, _SUBSCRIPTION_FIELDS)),
    Endpoint("admin_v1.audit_log", None, "GET", "/admin/v1/auditlog", "get",
             "Audit events of one entity type, paged (page is one-based).", "admin_v1",
             params=(_q("entity", required=True, enum=AUDIT_ENTITIES),
                     _q("page", "integer", required=True), _q("pageSize", "integer", required=True)),
             curator_only=True, legacy=True, paging=Paging("audit", None, _AUDIT_FIELDS)),
    # Admin V2
    Endpoint("admin_v2.workflows_all", None, "GET", "/admin/v2/workflows/all", "get",
             "Every workflow with revisions and events, filtered and paged (page is zero-based).",
             "admin_v2",
             params=(_q("name"), _q("startDate"), _q("endDate"), _q("subscriptionId")) + _PAGES
             + (_q("useEvents", "boolean"),), curator_only=True, paging=Paging("v2.workflows", 0, _WORKFLOW_ALL_FIELDS)),
    Endpoint("admin_v2.insights", None, "GET", "/admin/v2/insights", "get",
             "Insights (legacy dashboards).", "admin_v2",
             params=(_q("search"), _q("offset", "integer"), _q("limit", "integer")), curator_only=True),
    Endpoint("admin_v2.subscriptions", None, "GET", "/admin/v2/subscriptions", "get",
             "Subscriptions (studios), paged (page is one-based).", "admin_v2",
             params=_PAGES, curator_only=True,
             paging=Paging("v2.subscriptions", None, ("active", "defaultWorkerTag", "expirationDate", "id", "name"))),
    Endpoint("admin_v2.users", None, "GET", "/admin/v2/users", "get",
             "Users with roles, optionally of one subscription, paged (page is one-based).", "admin_v2",
             params=(_q("subscriptionId"),) + _PAGES, curator_only=True,
             paging=Paging("v2.users", None, _USER_FIELDS + ("role",))),
    Endpoint("admin_v2.schedule_forecast", None, "GET", "/admin/v2/schedule/forecast", "get",
             "When schedules will run between two dates.", "admin_v2",
             params=(_q("afterDate", required=True, format="date-time"),
                     _q("beforeDate", required=True, format="date-time")), curator_only=True),
    # User V2
    Endpoint("user_v2.credentials", None, "GET", "/user/v2/credentials", "get",
             "The credentials shared with you.", "user_v2"),
    Endpoint("user_v2.run", None, "POST", "/user/v2/workflows/{appId}/jobs", "create",
             "Queue a job with answers and an optional credential (User V2).", "user_v2",
             params=(_p("appId"),), body_name="appValues", body_schema={"$ref": "V2AppValues"},
             job=JobPath("user_v2", "v1.job", ("priority", "credentialId"), "appId")),
    Endpoint("user_v2.upload_file", None, "POST", "/user/v2/inputfiles", "create",
             "Upload a file for a File Browse question; answers its reference.", "user_v2",
             form=(_f("file", "file"), _f("name", required=False)), upload="file"),
]


def _build() -> tuple[Endpoint, ...]:
    v3 = [_v3_endpoint(*row) for row in _V3]  # type: ignore[arg-type]  # rows of 4 or 5 items
    return tuple(v3 + _LEGACY)


ENDPOINTS: tuple[Endpoint, ...] = _build()


@lru_cache(maxsize=None)
def _index() -> dict[str, Endpoint]:
    index: dict[str, Endpoint] = {}
    for ep in ENDPOINTS:
        keys = [ep.name, ep.spelling]
        if ep.operation_id:
            keys.append(ep.operation_id)
        for key in keys:
            if key in index:  # pragma: no cover - guarded by tests
                raise RuntimeError(f"duplicate catalogue key {key!r}")
            index[key] = ep
    return index


def _normalise(action: str) -> str:
    text = " ".join(action.strip().split())
    m = re.match(r"^([A-Za-z]+)\s+(/.*)$", text)
    if m:
        path = m.group(2)
        if path.startswith("/webapi/"):
            path = path[len("/webapi"):]
        return f"{m.group(1).upper()} {path.rstrip('/') or '/'}"
    return text


def find(action: "str | Endpoint", macro: str | None = None) -> Endpoint:
    """Look up *action* by short name, operationId or ``"METHOD /path"``.

    With *macro* given, an action that belongs to another macro raises
    :class:`~axframe.errors.WrongMacroError` naming the right function.  An
    unknown action raises :class:`~axframe.errors.UnknownActionError` with the
    nearest names.
    """
    if isinstance(action, Endpoint):
        ep = action
    else:
        if not isinstance(action, str) or not action.strip():
            raise UnknownActionError(action)
        index = _index()
        found = index.get(action) or index.get(_normalise(action))
        if found is None:
            lowered = {k.lower(): v for k, v in index.items()}
            found = lowered.get(action.strip().lower())
        if found is None:
            raise UnknownActionError(action, difflib.get_close_matches(action.strip(), list(index), n=4, cutoff=0.5))
        ep = found
    if macro is not None and ep.macro != macro:
        raise WrongMacroError(ep.name, ep.spelling, ep.macro, macro)
    return ep


def job_path(api: str) -> Endpoint:
    """The endpoint that queues jobs through *api* (``"v3"``, ``"v1"``, ``"user_v2"``)."""
    for ep in ENDPOINTS:
        if ep.job is not None and ep.job.api == api:
            return ep
    raise KeyError(api)


def listing(alias: str) -> Endpoint | None:
    """The paged listing :func:`axframe.admin_listing` knows as *alias*, if any."""
    for ep in ENDPOINTS:
        if ep.paging is not None and ep.paging.alias == alias:
            return ep
    return None


def endpoints(macro: str | None = None, family: str | None = None) -> Iterator[Endpoint]:
    for ep in ENDPOINTS:
        if (macro is None or ep.macro == macro) and (family is None or ep.family == family):
            yield ep
