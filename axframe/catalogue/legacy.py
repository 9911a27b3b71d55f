"""The V1 Subscription, Admin V1/V2 and User V2 tables, declared in full (no Swagger; reference.md
section 6)."""

from __future__ import annotations

from .. import schemas
from .model import AUDIT_ENTITIES, FORMATS, Endpoint, JobPath, Paging, Param


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

