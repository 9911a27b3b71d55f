"""The V3 table: short name, operationId, macro and our description; the rest derived from
``schemas/v3.json`` (the Server's Swagger)."""

from __future__ import annotations

from .. import schemas
from ..merge import Merge, project, schedule_contract, user_contract, workflow_contract
from .model import ROLES, Endpoint, JobPath, Membership, NaturalKey, Param


def _member(detail: str, listed: str, item: str | None, body: str | None) -> dict:
    return dict(membership=Membership(detail, listed, item, body))


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

