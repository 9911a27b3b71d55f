"""The emulator's HTTP application: authenticate, route, bind, call the state, answer.

Every route is a row of :mod:`.routes`, keyed by a catalogue endpoint
(operationId for V3, short name for the V1/V2 families); :mod:`.binding`
reads and validates the request against the endpoint's declaration and
calls the row's state method with named arguments; :mod:`.error_map` turns
the model's refusals into statuses and bodies.  Nothing here holds domain
logic.

Prefixes: ``/webapi/`` (OAuth2 bearer tokens), ``/gallery/api/`` (legacy
OAuth1-signed V1 and Admin V1 routes), ``/_emulator/`` (control: faults,
reset, seed, clock, counters; no auth, loopback only; :mod:`.control`).
"""

from __future__ import annotations

import base64
import itertools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ..catalogue import Endpoint
from . import oauth1
from .error_map import answer
from .faults import Faults, ResetConnection
from .http import FORM_CONTENT_TYPE, JSON_CONTENT_TYPE, Request, Response, json_response, parse_json_body
from .answers import shape
from .routes import ROUTES, Route, router_for
from .state import State
from .state.actor import Actor
from .state.core import Created, File
from .state.errors import EmulatorError, Unauthorized
from .swagger import DOC_PATH, document

__all__ = ["App", "Balancer", "Traffic", "ROUTES", "Route", "render", "AFFINITY_COOKIE"]

log = logging.getLogger("axframe.emulator")

NOT_FOUND = "No HTTP resource was found that matches the request URI '{}'."
AFFINITY_COOKIE = "ARRAffinity"  # the cookie IIS Application Request Routing keeps a client on one node with
_AFFINITY = re.compile(AFFINITY_COOKIE + r"=n(\d+)")


class Balancer:
    """A load balancer in front of ``nodes`` Server nodes that share one database.

    Round robin, request by request.  *sticky*: a client that carries the affinity cookie it was given
    stays on its node (like IIS ARR's ``ARRAffinity``); not sticky: every request may land anywhere, so a
    token issued by one node is refused by the next (:meth:`Auth.authenticate`).
    """

    def __init__(self, nodes: int = 1, sticky: bool = True):
        if nodes < 1:
            raise ValueError("nodes must be at least 1")
        self.nodes = nodes
        self.sticky = sticky
        self._turn = itertools.count()
        self.served = [0] * nodes

    def pick(self, request: Request) -> tuple[int, str | None]:
        """The node that serves *request*, and the affinity cookie to set (``None``: none)."""
        if self.nodes == 1:
            self.served[0] += 1
            return 0, None
        if self.sticky:
            found = _AFFINITY.search(request.header("cookie"))
            if found and int(found.group(1)) < self.nodes:
                node = int(found.group(1))
                self.served[node] += 1
                return node, None
        node = next(self._turn) % self.nodes
        self.served[node] += 1
        return node, (f"{AFFINITY_COOKIE}=n{node}; Path=/; HttpOnly" if self.sticky else None)


@dataclass
class Traffic:
    """What reached the application, whichever transport (socket or WSGI) carried it."""

    requests: int = 0
    resets_before: int = 0  # connections reset before the change was applied
    resets_after: int = 0  # ... and after


def render(endpoint: Endpoint, result: Any) -> Response:
    """A state method's result as the answer the Swagger declares for *endpoint*.

    A :class:`File` is its bytes with its media type; a :class:`Created` is
    201 where the operation declares 201; nothing is an empty body, still with
    the JSON Content-Type that the operation's ``produces`` implies.
    """
    if isinstance(result, File):
        safe = result.name.replace('"', "")
        return Response(200, result.data, [("Content-Type", result.media_type),
                                           ("Content-Disposition", f'attachment; filename="{safe}"')])
    status = endpoint.success_codes[0]
    if isinstance(result, Created):
        status = 201 if 201 in endpoint.success_codes else status
        result = result.value
    if result is None:
        return Response(status, b"", [("Content-Type", JSON_CONTENT_TYPE)])
    return json_response(status, result)


class App:
    """Turn a :class:`Request` into a :class:`Response` (or a connection reset)."""

    def __init__(self, state: State, faults: Faults, control: Callable[[Request], Response] | None = None,
                 balancer: Balancer | None = None):
        self.state = state
        self.faults = faults
        self.control = control
        self.balancer = balancer or Balancer()
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
        if request.path.lower().startswith("/_emulator/") and self.control is not None:
            return self.control(request)
        node, cookie = self.balancer.pick(request)
        request.node = node
        response = self._serve(request)
        if cookie is not None:
            response.headers.append(("Set-Cookie", cookie))
        return response

    def _serve(self, request: Request) -> Response:
        path = request.path
        lowered = path.lower()
        if lowered.startswith("/_emulator/") and self.control is not None:
            return self.control(request)
        if lowered.startswith("/webapi/"):
            rest, legacy = path[len("/webapi"):], False
        elif lowered.startswith("/gallery/api/"):
            rest, legacy = path[len("/gallery/api"):], True
        else:
            return json_response(404, {"message": NOT_FOUND.format(request.url())})
        if rest.lower().rstrip("/") == "/oauth2/token" and not legacy:
            return self._guarded(request, lambda: self.token(request), is_token=True)
        if rest.lower().rstrip("/") == DOC_PATH and not legacy:
            return self._swagger(request)
        found = self._route(request, rest, legacy)
        if isinstance(found, Response):
            return found
        route, args = found
        self.state.counters[f"route:{route.key}"] += 1
        return self._guarded(request, lambda: self.dispatch(request, route, args, legacy))

    def _route(self, request: Request, rest: str, legacy: bool) -> tuple[Route, list[str]] | Response:
        raw_segments = rest.split("/")[1:]
        if raw_segments and raw_segments[-1] == "":
            raw_segments.pop()  # one trailing slash is accepted everywhere
        found = router_for(self.state.surface).match([unquote(s) for s in raw_segments])
        if found is None:
            return json_response(404, {"message": NOT_FOUND.format(request.url())})
        routes, args = found
        route = routes.get(request.method)
        if route is None:
            return json_response(405, {"message": f"The requested resource does not support http method "
                                                  f"'{request.method}'."}, [("Allow", ", ".join(sorted(routes)))])
        if legacy and not route.legacy:
            return json_response(404, {"message": NOT_FOUND.format(request.url())})
        return route, args

    # faults around the real work -------------------------------------------
    def _guarded(self, request: Request, work: Callable[[], Response], is_token: bool = False) -> Response:
        faults = self.faults
        if not faults.active or not faults.applies(request.method, request.path, is_token):
            return work()
        decision = faults.decide()
        if decision.expire_tokens:
            with self.state.lock:
                self.state.expire_tokens()
        if not faults.acquire():
            return json_response(faults.settings.overload_status, {"message": "The server is busy; try again later."},
                                 [("Retry-After", _retry_after(faults.settings.retry_after))])
        started = time.monotonic()
        try:
            if decision.status is not None:
                faults.sleep_latency()
                headers = [("Retry-After", _retry_after(faults.settings.retry_after))] \
                    if decision.status in (429, 503) else []
                return json_response(decision.status, {"message": "Injected fault."}, headers)
            if decision.reset_before:
                faults.sleep_latency()
                raise ResetConnection(applied=False)
            response = work()
            faults.sleep_latency(since=started)  # the latency is the answer's time, the work's included
        finally:
            faults.release()
        if decision.reset_after:
            raise ResetConnection(applied=True)
        if decision.slow:
            time.sleep(decision.slow)
        return response

    # authentication ----------------------------------------------------------
    def token(self, request: Request) -> Response:
        """``POST /webapi/oauth2/token``: the client-credentials grant, as a form or a Basic header."""
        state = self.state
        state.counters["token_requests"] += 1
        try:
            form = parse_json_body(request) if request.body else {}
        except EmulatorError:
            form = None
        if not isinstance(form, dict) or request.content_type not in (FORM_CONTENT_TYPE, ""):
            return json_response(400, {"error": "invalid_request", "error_description": "Send a form-encoded body."})
        if form.get("grant_type") != "client_credentials":
            return json_response(400, {"error": "unsupported_grant_type"})
        keys = self._client_keys(request, form)
        if keys is None:
            return json_response(400, {"error": "invalid_client"})
        with state.lock:
            try:
                # node 0 as the one-argument call (a test may wrap issue_token with its old signature)
                token = state.issue_token(*keys, node=request.node) if request.node else state.issue_token(*keys)
            except Unauthorized:
                return json_response(400, {"error": "invalid_client"})
        return json_response(200, token, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    def _client_keys(self, request: Request, form: dict) -> tuple[str, str] | None:
        """The key and secret from a Basic header or the form, where the settings accept that form."""
        auth = request.header("authorization")
        used = "basic" if auth.lower().startswith("basic ") else "form"
        if used not in self.state.token_forms:
            return None
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if used == "basic":
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None
            client_id, _, client_secret = decoded.partition(":")
        if not client_id or client_secret is None:
            return None
        return str(client_id), str(client_secret)

    def _actor(self, request: Request, route: Route, legacy: bool) -> Actor:
        state = self.state
        if legacy:
            key = oauth1.verify(request, state)
            user = state.user_by_api_key(key) if key else None
            if user is None:
                raise oauth1.invalid_signature()
        else:
            auth = request.header("authorization")
            if not auth.lower().startswith("bearer "):
                raise Unauthorized()
            token = auth[7:].strip()
            user = state.authenticate(token, request.node) if request.node else state.authenticate(token)
        if route.endpoint.curator_only and user["role"] != "Curator":
            raise Unauthorized()
        if not legacy and state.surface.role_gates and route.endpoint.min_role == "Artisan" \
                and user["role"] not in ("Artisan", "Curator"):
            raise Unauthorized()  # V1 Subscription and User V2 need an Artisan's key since 2022.1
        return Actor.of(user)

    def _swagger(self, request: Request) -> Response:
        """The Server's own Swagger document (no token needed), of the release it serves."""
        if request.method not in ("GET", "HEAD"):
            return json_response(405, {"message": f"The requested resource does not support http method "
                                                  f"'{request.method}'."}, [("Allow", "GET")])
        self.state.counters["swagger_documents"] += 1
        host = request.header("host", "localhost") or "localhost"
        return json_response(200, document(self.state.surface, host, request.scheme))

    # dispatch ----------------------------------------------------------------
    def dispatch(self, request: Request, route: Route, args: list[str], legacy: bool) -> Response:
        """Authenticate, bind and call one route under the state's lock; refusals become answers."""
        state = self.state
        try:
            with state.lock:
                actor = self._actor(request, route, legacy)
                arguments = route.binding.arguments(request, actor, route.path(args))
                result = route.call(state.services, arguments)
                result = shape(route.endpoint, result, state.surface, state.realism, legacy)
        except EmulatorError as exc:
            return answer(exc, route.endpoint, legacy=legacy)
        response = render(route.endpoint, result)
        if legacy and state.realism("bom") and response.body[:1] in (b"{", b"["):
            response.body = b"\xef\xbb\xbf" + response.body
        return response


def _retry_after(seconds: float) -> str:
    whole = int(seconds)
    return str(whole if whole == seconds else max(1, round(seconds)))
