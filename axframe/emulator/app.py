"""The emulator's HTTP layer: a route table over the state model.

Every route is keyed by a catalogue endpoint (operationId for V3, short name
for the V1/V2 families), so the route table, the client's catalogue and the
Swagger can be checked against one another.  A handler turns a parsed request
into one call on :class:`~axframe.emulator.state.State`; it never holds
domain logic.  One map turns domain errors into statuses
(:meth:`EmulatorError.status`).

Prefixes: ``/webapi/`` (OAuth2 bearer tokens), ``/gallery/api/`` (legacy
OAuth1-signed V1 and Admin V1 routes), ``/_emulator/`` (control: faults,
reset, seed, clock, counters; no auth, loopback only).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import unquote

from .. import catalogue
from ..catalogue import Endpoint, Param
from . import oauth1
from .faults import Faults, ResetConnection
from .http import (FORM_CONTENT_TYPE, Request, Response, UnsupportedMediaType, coerce_form, error_response,
                   json_response, parse_json_body, parse_multipart)
from .state import State
from .state.core import BadRequest, EmulatorError, NotFound, Unauthorized, invalid

__all__ = ["App", "ROUTES", "Route", "Traffic"]

log = logging.getLogger("axframe.emulator")


@dataclass
class Reply:
    status: int
    payload: Any = None
    empty: bool = False


@dataclass
class Binary:
    data: bytes
    content_type: str = "application/octet-stream"
    filename: str | None = None


@dataclass
class Ctx:
    request: Request
    state: State
    endpoint: Endpoint | None
    args: list[str]
    query: dict[str, Any]
    actor: dict | None = None
    legacy: bool = False
    _body: Any = field(default=None, repr=False)
    _parsed: bool = False

    @property
    def body(self) -> Any:
        if not self._parsed:
            body = parse_json_body(self.request)
            if isinstance(body, dict) and self.request.content_type == FORM_CONTENT_TYPE:
                body = self._typed_form(body)
            self._body = body
            self._parsed = True
        return self._body

    def _typed_form(self, form: dict[str, str]) -> dict[str, Any]:
        """A form-encoded body in the types of the operation's JSON contract."""
        endpoint = self.endpoint
        if endpoint is None or endpoint.multipart or endpoint.body_kind() != "object":
            return form
        return coerce_form(form, endpoint.body_schema, endpoint.body_name or "body")

    def required_body(self) -> Any:
        body = self.body
        if body is None:
            name = self.endpoint.body_name if self.endpoint and self.endpoint.body_name else "body"
            raise invalid({name: ["A non-empty request body is required."]})
        return body

    def multipart(self) -> tuple[dict[str, str], tuple[str, bytes] | None]:
        fields, files = parse_multipart(self.request)
        upload = files.get("file") or (next(iter(files.values())) if files else None)
        return fields, upload


Handler = Callable[[State, Ctx], Any]

# --------------------------------------------------------------------------
# V3 handlers, keyed by operationId.  a = path arguments in template order,
# q = typed query parameters.
# --------------------------------------------------------------------------


V3: dict[str, Handler] = {
    # Workflows
    "Workflows_GetWorkflows": lambda s, c: s.list_workflows(c.actor, **c.query),
    "Workflows_GetWorkflow": lambda s, c: s.get_workflow(c.actor, *c.args),
    "Workflows_UpdateWorkflow": lambda s, c: s.update_workflow(c.actor, *c.args, c.required_body()),
    "Workflows_DeleteWorkflow": lambda s, c: s.delete_workflow(c.actor, *c.args, **c.query),
    "Workflows_DownloadWorkflow": lambda s, c: Binary(*_package(s.download_workflow(c.actor, *c.args, **c.query))),
    "Workflows_GetWorkflowQuestions": lambda s, c: s.workflow_questions(c.actor, *c.args, **c.query),
    "Workflows_CreateWorkflow": lambda s, c: s.create_workflow(c.actor, *c.multipart()),
    "Workflows_GetJobsForWorkflow": lambda s, c: s.workflow_jobs(c.actor, *c.args, **c.query),
    "Workflows_Enqueue": lambda s, c: s.job_view(s.enqueue(c.actor, *c.args, c.required_body())),
    "Workflows_TransferWorkflow": lambda s, c: s.transfer_workflow(c.actor, *c.args, _plain_body(c)),
    "Workflows_AddVersionToWorkflow": lambda s, c: s.add_version(c.actor, *c.args, *c.multipart()),
    # Collections
    "Collections_GetCollections": lambda s, c: s.list_collections(c.actor, **c.query),
    "Collections_CreateCollection": lambda s, c: s.create_collection(c.actor, c.required_body()),
    "Collections_GetCollection": lambda s, c: s.get_collection(c.actor, *c.args),
    "Collections_UpdateCollection": lambda s, c: s.update_collection(c.actor, *c.args, c.required_body()),
    "Collections_DeleteCollection": lambda s, c: s.delete_collection(c.actor, *c.args, **c.query),
    "Collections_UpdateCollectionUserPermissions":
        lambda s, c: s.update_collection_user_permissions(c.actor, *c.args, c.required_body()),
    "Collections_UpdateCollectionUserGroupPermissions":
        lambda s, c: s.update_collection_group_permissions(c.actor, *c.args, c.required_body()),
    "Collections_AddUserToCollection": lambda s, c: s.add_user_to_collection(c.actor, *c.args, c.required_body()),
    "Collections_AddScheduleToCollection":
        lambda s, c: s.add_schedule_to_collection(c.actor, *c.args, c.required_body()),
    "Collections_AddWorkflowToCollection":
        lambda s, c: s.add_workflow_to_collection(c.actor, *c.args, c.required_body()),
    "Collections_AddUserGroupToCollection":
        lambda s, c: s.add_group_to_collection(c.actor, *c.args, c.required_body()),
    "Collections_RemoveUserFromCollection": lambda s, c: s.remove_user_from_collection(c.actor, *c.args),
    "Collections_RemoveScheduleFromCollection": lambda s, c: s.remove_schedule_from_collection(c.actor, *c.args),
    "Collections_RemoveWorkflowFromCollection": lambda s, c: s.remove_workflow_from_collection(c.actor, *c.args),
    "Collections_RemoveUserGroupFromCollection": lambda s, c: s.remove_group_from_collection(c.actor, *c.args),
    # Schedules
    "Schedules_GetSchedule": lambda s, c: s.get_schedule(c.actor, *c.args),
    "Schedules_UpdateSchedule": lambda s, c: s.update_schedule(c.actor, *c.args, c.required_body(), partial=False),
    "Schedules_UpdateSchedulePatch": lambda s, c: s.update_schedule(c.actor, *c.args, c.required_body(), partial=True),
    "Schedules_DeleteSchedule": lambda s, c: s.delete_schedule(c.actor, *c.args),
    "Schedules_GetSchedules": lambda s, c: s.list_schedules(c.actor, **c.query),
    "Schedules_CreateSchedule": lambda s, c: Reply(201, s.create_schedule(c.actor, c.required_body())),
    # Users
    "Users_GetUser": lambda s, c: s.get_user(c.actor, *c.args),
    "Users_UpdateUser": lambda s, c: s.update_user(c.actor, *c.args, c.required_body()),
    "Users_DeleteUser": lambda s, c: s.delete_user(c.actor, *c.args),
    "Users_GetUsersAssets": lambda s, c: s.get_user_assets(c.actor, *c.args, **c.query),
    "Users_GetUsers": lambda s, c: s.list_users(c.actor, **c.query),
    "Users_CreateUser": lambda s, c: Reply(201, s.create_user(c.actor, c.required_body())),
    "Users_TransferAssets": lambda s, c: s.transfer_assets(c.actor, *c.args, _plain_body(c)),
    "Users_DeactivateUser": lambda s, c: s.deactivate_user(c.actor, *c.args),
    "Users_SendPasswordReset": lambda s, c: s.reset_password(c.actor, *c.args),
    # User groups
    "UserGroups_GetUserGroups": lambda s, c: s.list_groups(c.actor),
    "UserGroups_CreateUserGroup": lambda s, c: Reply(201, s.create_group(c.actor, c.required_body())),
    "UserGroups_GetUserGroup": lambda s, c: s.get_group(c.actor, *c.args),
    "UserGroups_UpdateUserGroup": lambda s, c: s.update_group(c.actor, *c.args, c.required_body()),
    "UserGroups_DeleteUserGroup": lambda s, c: s.delete_group(c.actor, *c.args, **c.query),
    "UserGroups_AddUsersToGroup": lambda s, c: s.add_users_to_group(c.actor, *c.args, c.required_body()),
    "UserGroups_AddActiveDirectoryGroupToCustomGroup":
        lambda s, c: s.add_ad_group(c.actor, *c.args, c.required_body()),
    "UserGroups_RemoveUserFromGroup": lambda s, c: s.remove_user_from_group(c.actor, *c.args),
    "UserGroups_RemoveActiveDirectoryGroupFromCustomGroup": lambda s, c: s.remove_ad_group(c.actor, *c.args),
    # Credentials
    "Credentials_GetCredential": lambda s, c: s.get_credential(c.actor, *c.args),
    "Credentials_UpdateCredential": lambda s, c: s.update_credential(c.actor, *c.args, c.required_body()),
    "Credentials_DeleteCredential": lambda s, c: s.delete_credential(c.actor, *c.args, **c.query),
    "Credentials_GetCredentials": lambda s, c: s.list_credentials(c.actor, **c.query),
    "Credentials_AddCredential": lambda s, c: s.create_credential(c.actor, c.required_body()),
    "Credentials_ShareCredentialWithUser":
        lambda s, c: s.share_credential_with_user(c.actor, *c.args, c.required_body()),
    "Credentials_ShareCredentialWithUserGroup":
        lambda s, c: s.share_credential_with_group(c.actor, *c.args, c.required_body()),
    "Credentials_RemoveUserFromCredential": lambda s, c: s.remove_user_from_credential(c.actor, *c.args),
    "Credentials_RemoveUserGroupFromCredential": lambda s, c: s.remove_group_from_credential(c.actor, *c.args),
    # Server data connections
    "ServerConnections_GetServerDataConnections": lambda s, c: s.list_data_connections(c.actor, **c.query),
    "ServerConnections_GetServerDataConnection": lambda s, c: s.get_data_connection(c.actor, *c.args),
    "ServerConnections_UpdateServerDataConnectionName":
        lambda s, c: s.rename_data_connection(c.actor, *c.args, c.required_body()),
    "ServerConnections_DeleteServerDataConnection": lambda s, c: s.delete_data_connection(c.actor, *c.args),
    "ServerConnections_AddUserToServerDataConnection":
        lambda s, c: s.share_data_connection_with_user(c.actor, *c.args, c.required_body()),
    "ServerConnections_AddUserGroupToServerDataConnection":
        lambda s, c: s.share_data_connection_with_group(c.actor, *c.args, c.required_body()),
    "ServerConnections_RemoveUserFromServerDataConnection":
        lambda s, c: s.remove_user_from_data_connection(c.actor, *c.args),
    "ServerConnections_RemoveUserGroupFromServerDataConnection":
        lambda s, c: s.remove_group_from_data_connection(c.actor, *c.args),
    # Jobs
    "Jobs_GetJobMessages": lambda s, c: s.job_messages(c.actor, *c.args),
    "Jobs_GetJobV3": lambda s, c: s.get_job(c.actor, *c.args, **c.query),
    "Jobs_CancelJob": lambda s, c: s.cancel_job(c.actor, *c.args),
    "Jobs_GetJobsInQueue": lambda s, c: s.job_queue(c.actor, **c.query),
    # Subscriptions
    "Subscriptions_GetSubscriptionById": lambda s, c: s.get_subscription(c.actor, *c.args),
    "Subscriptions_UpdateSubscription": lambda s, c: s.update_subscription(c.actor, *c.args, c.required_body()),
    "Subscriptions_GetSubscriptions": lambda s, c: s.list_subscriptions(c.actor, **c.query),
    "Subscriptions_CreateSubscription": lambda s, c: Reply(201, s.create_subscription(c.actor, c.required_body())),
    "Subscriptions_DeleteSubscription": lambda s, c: s.delete_subscription(c.actor, **c.query),
    "Subscriptions_ChangeUsersSubscription":
        lambda s, c: s.change_users_subscription(c.actor, *c.args, c.required_body()),
    # Usage
    "Usage_GetUsage": lambda s, c: Binary(s.usage_file(c.actor), "application/octet-stream", "usage.csv"),
    "Usage_UploadUsageEventsCleanupFile": lambda s, c: s.usage_cleanup(c.actor, c.multipart()[1]),
    # DCM
    "DCME_GetDcmConnection": lambda s, c: s.get_dcm(c.actor, *c.args),
    "DCME_DeleteDcmConnection": lambda s, c: s.delete_dcm(c.actor, *c.args),
    "DCME_LookupDcmConnection": lambda s, c: s.lookup_dcm(c.actor, **c.query),
    "DCME_ShareDcmConnectionForExecution": lambda s, c: s.share_dcm_execution(c.actor, *c.args, c.required_body()),
    "DCME_UnshareDcmConnectionForExecution": lambda s, c: s.unshare_dcm(c.actor, *c.args, "execution"),
    "DCME_ShareDcmConnectionForCollaboration":
        lambda s, c: s.share_dcm_collaboration(c.actor, *c.args, c.required_body()),
    "DCME_UpsertDcmConnection": lambda s, c: Reply(*s.upsert_dcm(c.actor, c.required_body())),
    "DCMEAdmin_GetConnectionAdmin": lambda s, c: s.get_dcm(c.actor, *c.args, admin=True),
    "DCMEAdmin_DeleteConnectionAdmin": lambda s, c: s.delete_dcm(c.actor, *c.args, admin=True),
    "DCMEAdmin_GetAllDCMEConnectionHandlingRules": lambda s, c: s.list_rules(c.actor),
    "DCMEAdmin_UpsertDCMEConnectionHandlingRule": lambda s, c: Reply(*s.upsert_rule(c.actor, c.required_body())),
    "DCMEAdmin_GetDCMEConnectionHandlingRule": lambda s, c: s.get_rule(c.actor, *c.args),
    "DCMEAdmin_DeleteDCMEConnectionHandlingRule": lambda s, c: s.delete_rule(c.actor, *c.args),
    "DCMEAdmin_GetAllConnectionsAdmin": lambda s, c: s.list_dcm(c.actor, **c.query),
    "DCMEAdmin_UpsertDcmConnection": lambda s, c: Reply(*s.upsert_dcm(c.actor, c.required_body(), admin=True)),
    "DCMEAdmin_UnshareConnectionForExecutionAdmin":
        lambda s, c: s.unshare_dcm(c.actor, *c.args, "execution", admin=True),
    "DCMEAdmin_UnshareConnectionForCollaborationAdmin":
        lambda s, c: s.unshare_dcm(c.actor, *c.args, "collaboration", admin=True),
    "DCMEConnect_GetDCMEConnectionForConnect": lambda s, c: s.dcm_for_connect(c.actor, *c.args),
}

# --------------------------------------------------------------------------
# V1 Subscription, Admin V1/V2 and User V2 handlers, keyed by catalogue name.
# --------------------------------------------------------------------------
LEGACY: dict[str, Handler] = {
    "v1.workflows": lambda s, c: s.v1_workflows(c.actor, **c.query),
    "v1.questions": lambda s, c: s.v1_questions(c.actor, *c.args),
    "v1.workflow_jobs": lambda s, c: s.v1_workflow_jobs(c.actor, *c.args, **c.query),
    "v1.run": lambda s, c: s.job_view_v1(s.enqueue(c.actor, *c.args, c.body, "appValues", "V1AppValues")),
    "v1.job": lambda s, c: s.job_view_v1(s._visible_job(c.actor, *c.args), c.query.get("includeMessages") is not False),
    "v1.job_output": lambda s, c: Binary(*s.job_output(c.actor, *c.args, c.query.get("format"))),
    "v1.package": lambda s, c: Binary(*_package(s.download_workflow(c.actor, *c.args))),
    "admin_v1.workflows": lambda s, c: s.admin_workflows(c.actor, **c.query),
    "admin_v1.workflows_all": lambda s, c: s.admin_workflows_all(c.actor, **c.query),
    "admin_v1.last_jobs": lambda s, c: s.admin_last_jobs(c.actor, **c.query),
    "admin_v1.migratable": lambda s, c: s.migratable(c.actor, **c.query),
    "admin_v1.toggle_migratable": lambda s, c: s.toggle_migratable(c.actor, *c.args),
    "admin_v1.package": lambda s, c: Binary(*_package(s.download_workflow(c.actor, *c.args))),
    "admin_v1.publish": lambda s, c: s.admin_publish(c.actor, *c.multipart()),
    "admin_v1.server_connections": lambda s, c: s.admin_server_connections(c.actor, **c.query),
    "admin_v1.system_connections": lambda s, c: s.admin_system_connections(c.actor, **c.query),
    "admin_v1.insights": lambda s, c: s.admin_insights(c.actor, **c.query),
    "admin_v1.users": lambda s, c: s.admin_users(c.actor, **c.query),
    "admin_v1.collections": lambda s, c: s.admin_collections(c.actor, **c.query),
    "admin_v1.schedules": lambda s, c: s.admin_schedules(c.actor, **c.query),
    "admin_v1.subscriptions": lambda s, c: s.admin_subscriptions(c.actor, **c.query),
    "admin_v1.audit_log": lambda s, c: s.audit_log(c.actor, **c.query),
    "admin_v2.workflows_all": lambda s, c: s.admin_workflows_all(c.actor, **c.query),
    "admin_v2.insights": lambda s, c: s.admin_insights(c.actor, **c.query),
    "admin_v2.subscriptions": lambda s, c: s.admin_subscriptions(c.actor, v2=True, **c.query),
    "admin_v2.users": lambda s, c: s.admin_users(c.actor, v2=True, **c.query),
    "admin_v2.schedule_forecast": lambda s, c: s.schedule_forecast(c.actor, **c.query),
    "user_v2.credentials": lambda s, c: s.user_credentials(c.actor),
    "user_v2.run": lambda s, c: s.job_view_v1(s.enqueue(c.actor, *c.args, c.body, "appValues", "V2AppValues")),
    "user_v2.upload_file": lambda s, c: s.upload_input_file(c.actor, *c.multipart()),
}


def _package(result: tuple[bytes, str]) -> tuple[bytes, str, str]:
    data, filename = result
    return data, "application/octet-stream", filename


def _plain_body(c: Ctx) -> Any:
    """Transfer endpoints answer their 400s as a bare JSON string."""
    try:
        body = c.body
    except EmulatorError as exc:
        raise BadRequest(exc.message, plain=True) from None
    if body is None:
        raise BadRequest("A non-empty request body is required.", plain=True)
    return body


# --------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    key: str
    endpoint: Endpoint
    handler: Handler
    legacy: bool = False  # reachable under /gallery/api/ with OAuth1


def _build_routes() -> list[Route]:
    routes = []
    for ep in catalogue.ENDPOINTS:
        table = V3 if ep.family == "v3" else LEGACY
        key = ep.operation_id if ep.family == "v3" else ep.name
        handler = table[key]  # a KeyError here means a catalogue entry has no route
        routes.append(Route(ep.method, ep.path, key, ep, handler, ep.legacy))
    # The legacy OAuth1 clients fetched packages from /v1/{appId}/package/.
    package = catalogue.find("v1.package")
    routes.append(Route("GET", "/v1/{appId}/package", "v1.package", package, LEGACY["v1.package"], True))
    return routes


ROUTES: list[Route] = _build_routes()


class _Node:
    __slots__ = ("literal", "wildcard", "routes")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.wildcard: _Node | None = None
        self.routes: dict[str, Route] = {}


def _segments(template: str) -> list[str]:
    return [s for s in template.strip("/").split("/") if s]


class Router:
    """A segment trie: literal segments win over ``{parameters}``."""

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
        return self._match(self.root, segments, 0, [])

    def _match(self, node: _Node, segs: list[str], i: int, args: list[str]):
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


_TRUE = {"true": True, "false": False}
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_INTEGER_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# Paging parameters the Swagger types as text but the Server reads as a .NET int.
_WHOLE_NUMBER_TEXT = {("Jobs_GetJobsInQueue", "offset"), ("Jobs_GetJobsInQueue", "limit"),
                      ("Workflows_GetJobsForWorkflow", "offset"), ("Workflows_GetJobsForWorkflow", "limit")}


def _not_valid(param: Param, raw: str) -> EmulatorError:
    return invalid({param.name: [f"The value '{raw}' is not valid for {param.name}."]})


def _whole_number(param: Param, raw: str, format: str | None) -> int:
    """*raw* as an integer within its Swagger format's range (a bare integer is a .NET int)."""
    if not _WHOLE_NUMBER.fullmatch(raw) or len(raw.strip()) > 24:  # also spares int() a huge text
        raise _not_valid(param, raw)
    value = int(raw)
    low, high = _INTEGER_RANGES.get(format or "int32", _INTEGER_RANGES["int64"])
    if not low <= value <= high:
        raise _not_valid(param, raw)
    return value


def typed_query(endpoint: Endpoint, query: dict[str, list[str]]) -> dict[str, Any]:
    """Declared query parameters, typed; undeclared ones are ignored like the Server does."""
    out: dict[str, Any] = {}
    lowered = {k.lower(): v for k, v in query.items()}
    for param in endpoint.query_params:
        values = lowered.get(param.name.lower())
        if not values:
            continue
        raw = values[-1]
        if raw == "":
            continue
        if param.type == "boolean":
            value = _TRUE.get(raw.lower())
            if value is None:
                raise _not_valid(param, raw)
        elif param.type == "integer":
            value = _whole_number(param, raw, param.format)
        else:
            value = raw
            if (endpoint.operation_id, param.name) in _WHOLE_NUMBER_TEXT:
                _whole_number(param, raw, "int32")  # checked here, passed on as the text it was
            if param.enum and raw not in param.enum:
                match = next((e for e in param.enum if e.lower() == raw.lower()), None)
                if match is None:
                    raise _not_valid(param, raw)
                value = match
        out[param.name] = value
    for param in endpoint.query_params:
        if param.required and param.name not in out:
            raise invalid({param.name: [f"The {param.name} query parameter is required."]})
    return out


NOT_FOUND = "No HTTP resource was found that matches the request URI '{}'."


@dataclass
class Traffic:
    """What reached the application, whichever transport (socket or WSGI) carried it."""

    requests: int = 0
    resets_before: int = 0  # connections reset before the change was applied
    resets_after: int = 0  # ... and after


class App:
    """Turn a :class:`Request` into a :class:`Response` (or a connection reset)."""

    def __init__(self, state: State, faults: Faults, control: "Callable[[Request], Response] | None" = None):
        self.state = state
        self.faults = faults
        self.control = control
        self.router = Router(ROUTES)
        self.traffic = Traffic()

    def serve(self, request: Request) -> Response:
        """Answer one request as every transport does: counted, a bug answered 500.

        Raises :class:`ResetConnection` when a fault resets the connection; the
        transport drops its connection (the socket server) or lets the
        exception out (the WSGI application).
        """
        self.traffic.requests += 1
        try:
            return self(request)
        except ResetConnection as reset:
            if reset.applied:
                self.traffic.resets_after += 1
            else:
                self.traffic.resets_before += 1
            raise
        except Exception:  # a bug: answer 500 and keep serving, as a Server would
            log.exception("emulator error on %s %s", request.method, request.path)
            return json_response(500, {"message": "An error has occurred."})

    # entry point -----------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        path = request.path
        lowered = path.lower()
        if lowered.startswith("/_emulator/") and self.control is not None:
            return self.control(request)
        if lowered.startswith("/webapi/"):
            rest, legacy = path[len("/webapi"):], False
        elif lowered.startswith("/gallery/api/"):
            rest, legacy = path[len("/gallery/api"):], True
        else:
            return json_response(404, {"message": NOT_FOUND.format(request.target)})
        if rest.lower().rstrip("/") == "/oauth2/token" and not legacy:
            return self._guarded(request, None, lambda: self.token(request), is_token=True)
        raw_segments = rest.split("/")[1:]
        if raw_segments and raw_segments[-1] == "":
            raw_segments.pop()  # one trailing slash is accepted everywhere
        segments = [unquote(s) for s in raw_segments]
        found = self.router.match(segments)
        if found is None:
            return json_response(404, {"message": NOT_FOUND.format(request.target)})
        routes, args = found
        route = routes.get(request.method)
        if route is None:
            allow = ", ".join(sorted(routes))
            return json_response(405, {"message": f"The requested resource does not support http method "
                                                  f"'{request.method}'."}, [("Allow", allow)])
        if legacy and not route.legacy:
            return json_response(404, {"message": NOT_FOUND.format(request.target)})
        self.state.counters[f"route:{route.key}"] += 1
        return self._guarded(request, route, lambda: self.dispatch(request, route, args, legacy))

    # faults around the real work -------------------------------------------
    def _guarded(self, request: Request, route: Route | None, work: Callable[[], Response],
                 is_token: bool = False) -> Response:
        faults = self.faults
        if not faults.active or not faults.applies(request.method, request.path, is_token):
            return work()
        decision = faults.decide()
        if decision.expire_tokens:
            with self.state.lock:
                self.state.expire_tokens()
        if not faults.acquire():
            retry = _retry_after(faults.settings.retry_after)
            return json_response(faults.settings.overload_status,
                                 {"message": "The server is busy; try again later."}, [("Retry-After", retry)])
        try:
            faults.sleep_latency()
            if decision.status is not None:
                headers = [("Retry-After", _retry_after(faults.settings.retry_after))] \
                    if decision.status in (429, 503) else []
                return json_response(decision.status, {"message": "Injected fault."}, headers)
            if decision.reset_before:
                raise ResetConnection(applied=False)
            response = work()
        finally:
            faults.release()
        if decision.reset_after:
            raise ResetConnection(applied=True)
        if decision.slow:
            import time

            time.sleep(decision.slow)
        return response

    # authentication ----------------------------------------------------------
    def token(self, request: Request) -> Response:
        state = self.state
        state.counters["token_requests"] += 1
        try:
            form = parse_json_body(request) if request.body else {}
        except EmulatorError:
            form = None
        if not isinstance(form, dict) or request.content_type not in ("application/x-www-form-urlencoded", ""):
            return json_response(400, {"error": "invalid_request",
                                       "error_description": "Send a form-encoded body."})
        if form.get("grant_type") != "client_credentials":
            return json_response(400, {"error": "unsupported_grant_type"})
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.header("authorization")
        used = "basic" if auth.lower().startswith("basic ") else "form"
        if used not in state.token_forms:
            return json_response(400, {"error": "invalid_client"})
        if used == "basic":
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                client_id, _, client_secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                return json_response(400, {"error": "invalid_client"})
        if not client_id or client_secret is None:
            return json_response(400, {"error": "invalid_client"})
        with state.lock:
            try:
                token = state.issue_token(client_id, client_secret)
            except Unauthorized:
                return json_response(400, {"error": "invalid_client"})
        return json_response(200, token, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    def _actor(self, request: Request, route: Route, legacy: bool) -> dict:
        state = self.state
        if legacy:
            key = oauth1.verify(request, state)
            actor = state.user_by_api_key(key) if key else None
            if actor is None:
                raise oauth1.invalid_signature()
        else:
            auth = request.header("authorization")
            if not auth.lower().startswith("bearer "):
                raise Unauthorized()
            actor = state.authenticate(auth[7:].strip())
        if route.endpoint.curator_only and actor["role"] != "Curator":
            raise Unauthorized()
        return actor

    # dispatch ----------------------------------------------------------------
    def dispatch(self, request: Request, route: Route, args: list[str], legacy: bool) -> Response:
        state = self.state
        try:
            with state.lock:
                actor = self._actor(request, route, legacy)
                ctx = Ctx(request, state, route.endpoint, args, typed_query(route.endpoint, request.query),
                          actor, legacy)
                result = route.handler(state, ctx)
        except oauth1.LegacyError as exc:
            return json_response(exc.status, exc.body())
        except EmulatorError as exc:
            if legacy:
                return json_response(exc.status, oauth1.legacy_error_body(exc))
            return error_response(exc)
        return self.render(route.endpoint, result)

    @staticmethod
    def render(endpoint: Endpoint, result: Any) -> Response:
        if isinstance(result, Binary):
            headers = [("Content-Type", result.content_type)]
            if result.filename:
                safe = result.filename.replace('"', "")
                headers.append(("Content-Disposition", f'attachment; filename="{safe}"'))
            return Response(200, result.data, headers)
        status = endpoint.success_codes[0]
        if isinstance(result, Reply):
            status, result = result.status, result.payload
        if result is None:
            return Response(status, b"", [])
        return json_response(status, result)


def _retry_after(seconds: float) -> str:
    whole = int(seconds)
    return str(whole if whole == seconds else max(1, round(seconds)))


def parse_control_json(request: Request) -> Any:
    if not request.body:
        return {}
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("The body is not valid JSON.") from None


__all__ += ["Reply", "Binary", "Ctx", "Router", "typed_query", "parse_control_json", "NotFound",
            "UnsupportedMediaType", "re"]
