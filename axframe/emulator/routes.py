"""The route table: one row per catalogue endpoint, naming the state method that answers it.

A row is ``key -> Service.method`` (plus constant arguments where one method
serves two operations).  Everything else -- method, path, parameters, body or
form schema, whether only Curators may call it, the success status -- comes
from the catalogue endpoint the key names, and :mod:`.binding` matches the
request to the method's named parameters when this module is imported.
Adding an endpoint on the emulator side is one state method and one row.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

from .. import catalogue
from ..catalogue import Endpoint
from .binding import Binding, bind, wire_schema
from .state.admin import Admin
from .state.credentials import Credentials
from .state.dcm import Dcm
from .state.jobs import Jobs
from .state.legacy import Legacy
from .state.people import People
from .state.schedules import Schedules
from .state.sharing import Sharing
from .state.studios import Studios
from .state.workflows import Workflows
from .state.versions import Surface

__all__ = ["ROWS", "ROUTES", "Route", "Router", "Row", "router_for"]


@dataclass(frozen=True)
class Row:
    """One endpoint's state method (an unbound method of a service class) and constant arguments."""

    key: str  # the operationId for V3, the catalogue name for the other families
    target: Callable[..., Any]
    fixed: Mapping[str, Any] = field(default_factory=dict)


def _row(key: str, target: Callable[..., Any], **fixed: Any) -> Row:
    return Row(key, target, fixed)


ROWS: tuple[Row, ...] = (
    # Workflows
    _row("Workflows_GetWorkflows", Workflows.list_workflows),
    _row("Workflows_GetWorkflow", Workflows.get_workflow),
    _row("Workflows_UpdateWorkflow", Workflows.update_workflow),
    _row("Workflows_DeleteWorkflow", Workflows.delete_workflow),
    _row("Workflows_DownloadWorkflow", Workflows.download),
    _row("Workflows_GetWorkflowQuestions", Workflows.questions),
    _row("Workflows_CreateWorkflow", Workflows.create_workflow),
    _row("Workflows_GetJobsForWorkflow", Jobs.workflow_jobs),
    _row("Workflows_Enqueue", Jobs.run),
    _row("Workflows_TransferWorkflow", Workflows.transfer),
    _row("Workflows_AddVersionToWorkflow", Workflows.add_version),
    # Collections
    _row("Collections_GetCollections", Sharing.list_collections),
    _row("Collections_CreateCollection", Sharing.create_collection),
    _row("Collections_GetCollection", Sharing.get_collection),
    _row("Collections_UpdateCollection", Sharing.update_collection),
    _row("Collections_DeleteCollection", Sharing.delete_collection),
    _row("Collections_UpdateCollectionUserPermissions", Sharing.update_user_permissions),
    _row("Collections_UpdateCollectionUserGroupPermissions", Sharing.update_group_permissions),
    _row("Collections_AddUserToCollection", Sharing.add_user),
    _row("Collections_AddScheduleToCollection", Sharing.add_schedule),
    _row("Collections_AddWorkflowToCollection", Sharing.add_workflow),
    _row("Collections_AddUserGroupToCollection", Sharing.add_group),
    _row("Collections_RemoveUserFromCollection", Sharing.remove_user),
    _row("Collections_RemoveScheduleFromCollection", Sharing.remove_schedule),
    _row("Collections_RemoveWorkflowFromCollection", Sharing.remove_workflow),
    _row("Collections_RemoveUserGroupFromCollection", Sharing.remove_group),
    # Schedules
    _row("Schedules_GetSchedule", Schedules.get_schedule),
    _row("Schedules_UpdateSchedule", Schedules.update_schedule),
    _row("Schedules_UpdateSchedulePatch", Schedules.patch_schedule),
    _row("Schedules_DeleteSchedule", Schedules.delete_schedule),
    _row("Schedules_GetSchedules", Schedules.list_schedules),
    _row("Schedules_CreateSchedule", Schedules.create_schedule),
    # Users
    _row("Users_GetUser", People.get_user),
    _row("Users_UpdateUser", People.update_user),
    _row("Users_DeleteUser", People.delete_user),
    _row("Users_GetUsersAssets", People.assets),
    _row("Users_GetUsers", People.list_users),
    _row("Users_CreateUser", People.create_user),
    _row("Users_TransferAssets", People.transfer_assets),
    _row("Users_DeactivateUser", People.deactivate),
    _row("Users_SendPasswordReset", People.reset_password),
    # User groups
    _row("UserGroups_GetUserGroups", People.list_groups),
    _row("UserGroups_CreateUserGroup", People.create_group),
    _row("UserGroups_GetUserGroup", People.get_group),
    _row("UserGroups_UpdateUserGroup", People.update_group),
    _row("UserGroups_DeleteUserGroup", People.delete_group),
    _row("UserGroups_AddUsersToGroup", People.add_users),
    _row("UserGroups_AddActiveDirectoryGroupToCustomGroup", People.add_ad_group),
    _row("UserGroups_RemoveUserFromGroup", People.remove_user),
    _row("UserGroups_RemoveActiveDirectoryGroupFromCustomGroup", People.remove_ad_group),
    # Credentials
    _row("Credentials_GetCredential", Credentials.get_credential),
    _row("Credentials_UpdateCredential", Credentials.update_credential),
    _row("Credentials_DeleteCredential", Credentials.delete_credential),
    _row("Credentials_GetCredentials", Credentials.list_credentials),
    _row("Credentials_AddCredential", Credentials.create_credential),
    _row("Credentials_ShareCredentialWithUser", Credentials.share_credential_with_user),
    _row("Credentials_ShareCredentialWithUserGroup", Credentials.share_credential_with_group),
    _row("Credentials_RemoveUserFromCredential", Credentials.unshare_credential_with_user),
    _row("Credentials_RemoveUserGroupFromCredential", Credentials.unshare_credential_with_group),
    # Server data connections
    _row("ServerConnections_GetServerDataConnections", Credentials.list_connections),
    _row("ServerConnections_GetServerDataConnection", Credentials.get_connection),
    _row("ServerConnections_UpdateServerDataConnectionName", Credentials.rename_connection),
    _row("ServerConnections_DeleteServerDataConnection", Credentials.delete_connection),
    _row("ServerConnections_AddUserToServerDataConnection", Credentials.share_connection_with_user),
    _row("ServerConnections_AddUserGroupToServerDataConnection", Credentials.share_connection_with_group),
    _row("ServerConnections_RemoveUserFromServerDataConnection", Credentials.unshare_connection_with_user),
    _row("ServerConnections_RemoveUserGroupFromServerDataConnection", Credentials.unshare_connection_with_group),
    # Jobs
    _row("Jobs_GetJobMessages", Jobs.messages),
    _row("Jobs_GetJobV3", Jobs.get_job),
    _row("Jobs_CancelJob", Jobs.cancel),
    _row("Jobs_GetJobsInQueue", Jobs.queue),
    # Subscriptions
    _row("Subscriptions_GetSubscriptionById", Studios.get),
    _row("Subscriptions_UpdateSubscription", Studios.update),
    _row("Subscriptions_GetSubscriptions", Studios.listing),
    _row("Subscriptions_CreateSubscription", Studios.create),
    _row("Subscriptions_DeleteSubscription", Studios.delete),
    _row("Subscriptions_ChangeUsersSubscription", Studios.move_users),
    # Usage
    _row("Usage_GetUsage", Jobs.usage_file),
    _row("Usage_UploadUsageEventsCleanupFile", Jobs.usage_cleanup),
    # DCM
    _row("DCME_GetDcmConnection", Dcm.get),
    _row("DCME_DeleteDcmConnection", Dcm.delete),
    _row("DCME_LookupDcmConnection", Dcm.lookup),
    _row("DCME_ShareDcmConnectionForExecution", Dcm.share_execution),
    _row("DCME_UnshareDcmConnectionForExecution", Dcm.unshare, mode="execution"),
    _row("DCME_ShareDcmConnectionForCollaboration", Dcm.share_collaboration),
    _row("DCME_UpsertDcmConnection", Dcm.upsert),
    _row("DCMEAdmin_GetConnectionAdmin", Dcm.get_admin),
    _row("DCMEAdmin_DeleteConnectionAdmin", Dcm.delete_admin),
    _row("DCMEAdmin_GetAllDCMEConnectionHandlingRules", Dcm.list_rules),
    _row("DCMEAdmin_UpsertDCMEConnectionHandlingRule", Dcm.upsert_rule),
    _row("DCMEAdmin_GetDCMEConnectionHandlingRule", Dcm.get_rule),
    _row("DCMEAdmin_DeleteDCMEConnectionHandlingRule", Dcm.delete_rule),
    _row("DCMEAdmin_GetAllConnectionsAdmin", Dcm.list_admin),
    _row("DCMEAdmin_UpsertDcmConnection", Dcm.upsert_admin),
    _row("DCMEAdmin_UnshareConnectionForExecutionAdmin", Dcm.unshare_admin, mode="execution"),
    _row("DCMEAdmin_UnshareConnectionForCollaborationAdmin", Dcm.unshare_admin, mode="collaboration"),
    _row("DCMEConnect_GetDCMEConnectionForConnect", Dcm.for_connect),
    # V1 Subscription API
    _row("v1.workflows", Legacy.workflows_of_studio),
    _row("v1.questions", Legacy.questions),
    _row("v1.workflow_jobs", Legacy.workflow_jobs),
    _row("v1.run", Legacy.run),
    _row("v1.job", Legacy.job),
    _row("v1.job_output", Jobs.output),
    _row("v1.package", Legacy.package),
    # Admin V1
    _row("admin_v1.workflows", Admin.workflows_list),
    _row("admin_v1.workflows_all", Admin.workflows_all),
    _row("admin_v1.last_jobs", Admin.last_jobs),
    _row("admin_v1.migratable", Admin.migratable),
    _row("admin_v1.toggle_migratable", Admin.toggle_migratable),
    _row("admin_v1.package", Legacy.package),
    _row("admin_v1.publish", Admin.publish),
    _row("admin_v1.server_connections", Admin.server_connections),
    _row("admin_v1.system_connections", Admin.system_connections),
    _row("admin_v1.insights", Admin.insights),
    _row("admin_v1.users", Admin.users),
    _row("admin_v1.collections", Admin.collections),
    _row("admin_v1.schedules", Admin.schedules_list),
    _row("admin_v1.subscriptions", Admin.subscriptions),
    _row("admin_v1.audit_log", Admin.audit_log),
    # Admin V2
    _row("admin_v2.workflows_all", Admin.workflows_all, v2=True),
    _row("admin_v2.insights", Admin.insights),
    _row("admin_v2.subscriptions", Admin.subscriptions, v2=True),
    _row("admin_v2.users", Admin.users, v2=True),
    _row("admin_v2.schedule_forecast", Admin.schedule_forecast),
    # User V2
    _row("user_v2.credentials", Legacy.shared_credentials),
    _row("user_v2.run", Legacy.run),
    _row("user_v2.upload_file", Jobs.upload_input_file),
)


# --------------------------------------------------------------------------
# Routes: rows joined to their endpoints
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One method and path template, its endpoint, and how its state method is called."""

    method: str
    template: str
    key: str
    endpoint: Endpoint
    service: type  # the class whose instance (in ``State.services``) answers
    name: str  # the method's name on it, looked up per request (a test may replace it)
    binding: Binding
    legacy: bool = False  # reachable under /gallery/api/ with OAuth1

    def path(self, args: list[str]) -> dict[str, str]:
        """The path parameters by name, from the values the router matched in order."""
        return dict(zip(re.findall(r"{(\w+)}", self.template), args))

    def call(self, services: Any, arguments: dict[str, Any]) -> Any:
        """Call the state method on *services* (a :class:`~axframe.emulator.state.Services`)."""
        return getattr(services.of(self.service), self.name)(**arguments)


def _owner(target: Callable[..., Any]) -> type:
    """The class an unbound method was defined on."""
    owner = vars(sys.modules[target.__module__])[target.__qualname__.split(".")[0]]
    assert isinstance(owner, type)
    return owner


def _route(endpoint: Endpoint, row: Row, template: str | None = None) -> Route:
    template = template or endpoint.path
    binding = bind(endpoint, row.target, template, dict(row.fixed))
    return Route(endpoint.method, template, row.key, endpoint, _owner(row.target), row.target.__name__, binding,
                 endpoint.legacy)


def _build_routes() -> list[Route]:
    rows = {row.key: row for row in ROWS}
    routes = []
    for ep in catalogue.ENDPOINTS:
        key = ep.operation_id if ep.family == "v3" else ep.name
        routes.append(_route(ep, rows[key or ""]))  # a KeyError here means a catalogue entry has no row
    # The legacy OAuth1 clients fetched packages from /v1/{appId}/package/.
    routes.append(_route(catalogue.find("v1.package"), rows["v1.package"], "/v1/{appId}/package"))
    return routes


ROUTES: list[Route] = _build_routes()


def _on(surface: Surface, route: Route) -> Route:
    """*route* as *surface* serves it: a body checked without the fields that release lacks, and ignoring them."""
    schema = route.endpoint.body_schema
    if not surface.touches(schema):
        return route
    binding = dataclasses.replace(route.binding, schema=wire_schema(surface.contract(schema)),
                                  prepare=partial(surface.strip, schema=schema))
    return dataclasses.replace(route, binding=binding)


@lru_cache(maxsize=None)
def router_for(surface: Surface) -> "Router":
    """The router of one release: the routes it serves (an older Server lacks some V3 operations)."""
    return Router([_on(surface, route) for route in ROUTES if surface.serves(route.endpoint)])


# --------------------------------------------------------------------------
# Matching a path
# --------------------------------------------------------------------------


class _Node:
    __slots__ = ("literal", "routes", "wildcard")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.wildcard: _Node | None = None
        self.routes: dict[str, Route] = {}


def _segments(template: str) -> list[str]:
    return [s for s in template.strip("/").split("/") if s]


class Router:
    """A segment trie: literal segments win over ``{parameters}``; literals match in any letter case."""

    def __init__(self, routes: list[Route]):
        self.root = _Node()
        for route in routes:
            node = self.root
            for seg in _segments(route.template):
                if seg.startswith("{"):
                    node.wildcard = node.wildcard or _Node()
                    node = node.wildcard
                else:
                    node = node.literal.setdefault(seg.lower(), _Node())
            node.routes[route.method] = route

    def match(self, segments: list[str]) -> tuple[dict[str, Route], list[str]] | None:
        """The routes (by method) of the path *segments*, and the values of its parameters in order."""
        return self._match(self.root, segments, 0, [])

    def _match(self, node: _Node, segs: list[str], i: int,
               args: list[str]) -> tuple[dict[str, Route], list[str]] | None:
        if i == len(segs):
            return (node.routes, args) if node.routes else None
        child = node.literal.get(segs[i].lower())
        if child is not None:
            found = self._match(child, segs, i + 1, args)
            if found:
                return found
        if node.wildcard is not None and segs[i] != "":
            return self._match(node.wildcard, segs, i + 1, args + [segs[i]])
        return None
