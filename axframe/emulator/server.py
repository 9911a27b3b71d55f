"""The emulator's socket server and the :class:`Emulator` that tests and notebooks use.

A small threaded HTTP/1.1 server with keep-alive, written on
:mod:`socketserver` rather than :mod:`http.server` for two reasons: it is
several times faster per request (no e-mail header parser), and fault
injection needs the raw socket to reset a connection (``SO_LINGER`` 0)
before or after a change is applied.

It binds to loopback only; any other address is refused.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import socketserver
import struct
import threading
import time
from typing import Any

from . import seed as seeding
from .app import App, Balancer
from .control import control
from .faults import Faults, ResetConnection
from .http import Request, Response, json_response
from .state import Clock, State
from .state.realism import QUIRKS, Realism
from .state.store import PAGING_MODES
from .state.versions import Surface, surface
from .wsgi import WsgiApp, in_process_url

__all__ = ["Emulator", "EmulatorServer", "LOOPBACK_HOSTS", "AUTH_MODES"]

AUTH_MODES = ("builtin", "windows")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
DEFAULT_MAX_BODY = 64 * 1024 * 1024
IDLE_TIMEOUT = 300.0


def check_loopback(host: str) -> str:
    """Return *host* if it is a loopback address; raise :class:`ValueError` otherwise."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"the emulator binds to loopback only; {host!r} is not a loopback address") from None
    if not address.is_loopback:
        raise ValueError(f"the emulator binds to loopback only; {host!r} is not a loopback address")
    return host


class _HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class _Handler(socketserver.StreamRequestHandler):
    rbufsize = 64 * 1024
    server: "EmulatorServer"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection.settimeout(IDLE_TIMEOUT)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def handle(self) -> None:
        while not self.server.closing:
            try:
                request, keep_alive = self._read_request()
            except _HttpError as exc:
                self._send(json_response(exc.status, {"message": str(exc)}), keep_alive=False)
                return
            except (OSError, ValueError):
                return
            if request is None:
                return
            try:
                response = self.server.app.serve(request)
            except ResetConnection:
                self._reset()
                return
            if not self._send(response, keep_alive):
                return
            if not keep_alive:
                return

    def _read_request(self) -> tuple[Request | None, bool]:
        line = self.rfile.readline(MAX_HEADER_BYTES + 1)
        if not line:
            return None, False
        if len(line) > MAX_HEADER_BYTES:
            raise _HttpError(414, "The request line is too long.")
        try:
            method, target, version = line.decode("latin-1").strip().split(" ", 2)
        except ValueError:
            if not line.strip():
                return self._read_request()
            raise _HttpError(400, "Malformed request line.") from None
        if not version.startswith("HTTP/1."):
            raise _HttpError(505, "Only HTTP/1.x is supported.")
        headers = self._read_headers()
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        body = self._read_body(headers)
        if body is None:
            return None, False
        return Request(method.upper(), target, headers, body), keep_alive

    def _read_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        total = 0
        while True:
            raw = self.rfile.readline(MAX_HEADER_BYTES + 1)
            total += len(raw)
            if total > MAX_HEADER_BYTES or len(headers) > MAX_HEADERS:
                raise _HttpError(431, "The request headers are too large.")
            if raw in (b"\r\n", b"\n", b""):
                return headers
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                raise _HttpError(400, "Malformed header line.")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()

    def _read_body(self, headers: dict[str, str]) -> bytes | None:
        """The body the headers announce; ``None`` when the connection ended first."""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        if "content-length" not in headers:
            return b""
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise _HttpError(400, "Invalid Content-Length.") from None
        if length < 0:
            raise _HttpError(400, "Invalid Content-Length.")
        if length > self.server.max_body:
            raise _HttpError(413, "The request body is too large.")
        if length and headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.rfile.read(length)
        return body if len(body) == length else None

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        size_total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _HttpError(400, "Malformed chunked body.") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            size_total += size
            if size_total > self.server.max_body:
                raise _HttpError(413, "The request body is too large.")
            parts.append(self.rfile.read(size))
            self.rfile.readline(3)

    def _send(self, response: Response, keep_alive: bool) -> bool:
        head = [f"HTTP/1.1 {response.status} {response.reason}",
                f"Content-Length: {len(response.body)}",
                "Server: axframe-emulator",
                "Connection: keep-alive" if keep_alive else "Connection: close"]
        head += [f"{k}: {v}" for k, v in response.headers]
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            return False
        return True

    def _reset(self) -> None:
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class EmulatorServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    block_on_close = False

    def __init__(self, host: str, port: int, app: App, max_body: int = DEFAULT_MAX_BODY):
        host = check_loopback(host)
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self.max_body = max_body
        self.closing = False
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def track(self, sock: socket.socket, add: bool) -> None:
        with self._conn_lock:
            (self._connections.add if add else self._connections.discard)(sock)

    def close_connections(self) -> None:
        with self._conn_lock:
            for sock in list(self._connections):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._connections.clear()


def _epoch(value: Any) -> float | None:
    """Epoch seconds from seconds, an ISO 8601 text or a datetime (naive means UTC)."""
    import datetime as dt

    from ..schemas import parse_datetime

    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            value = parse_datetime(value.strip())
        except ValueError:
            raise ValueError(f"start_time {value!r} is neither epoch seconds nor an ISO 8601 date-time") from None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc).timestamp()
    raise ValueError(f"start_time must be epoch seconds, an ISO 8601 text or a datetime, not {type(value).__name__}")


class Emulator:
    """A local, stateful stand-in for an Alteryx Server's ``/webapi/``.

    Use it as a context manager::

        with Emulator() as server:
            conn = ax.authenticate(server.url, *server.curator)

    Parameters
    ----------
    seed : "default", "empty", a dict, or a path to a JSON/YAML seed file
        The starting content.  ``"default"`` is a small realistic Server.
    host, port : loopback address and port; port 0 picks a free one.
    token_lifetime : seconds a token lives (3599 like the Server).
    job_slots : how many jobs run at once.
    start_time : when the emulator's clock starts: epoch seconds, an ISO 8601
        text (``"2026-01-01"``, ``"2026-01-01T09:00:00Z"``; naive means UTC) or
        a datetime.  Default now; a time in the past lets a notebook make a
        history of audit events.
    random_seed : makes ids and generated keys repeatable; by default each
        emulator draws its own, so two emulators (a migration's source and
        target) never share ids.
    admin_paging : how the paged Admin listings (users, collections, schedules,
        subscriptions, audit log) count ``page``: ``"one-based"`` (default;
        page 0 is a 400), ``"zero-based"``, or ``"one-based-lenient"`` (page 0
        reads as page 1).  The real Server's base is not documented.
    server_version : the release to emulate (``"2021.4"``, ``"2022.1"``, ...; default the newest, our
        Swagger).  Older releases lack some V3 operations and fields and, before 2022.1, the role gates
        of V1/V2 (:mod:`axframe.emulator.versions`).
    realistic : answer like real Servers were seen to (default): nulls, Json.NET date-times, opaque
        tokens, ... (:mod:`axframe.emulator.state.realism`); ``False`` gives the tidy answers of the Swagger.
    quirks : name -> on/off, changing single quirks of *realistic* (``{"bom": False}``).
    nodes, sticky : Server nodes behind one simulated load balancer (default 1).  A token works only on
        the node that issued it; ``sticky=True`` keeps a client that returns the balancer's affinity cookie
        (``ARRAffinity``) on its node, ``sticky=False`` sends each request to the next node in turn.
    auth : ``"builtin"`` (default) or ``"windows"``: a Windows-authentication Server, whose users come
        from the directory; ``POST /v3/users`` and password resets are refused there.

    Building an emulator makes its state and binds nothing; :meth:`start` (or
    ``with``) opens the loopback socket.  Without a socket, :attr:`wsgi_app`
    serves the same answers in process at :attr:`wsgi_url` (see
    :mod:`axframe.emulator.wsgi`).

    Attributes
    ----------
    url : the base URL clients use (``http://127.0.0.1:PORT/webapi``); only while started.
    wsgi_app : the same emulator as a WSGI (PEP 3333) application, usable without starting.
    wsgi_url : a loopback base URL for the WSGI application (``http://127.0.0.1:N/webapi``); no
        socket listens there, it names the emulator for an in-process transport adapter.
    curator, artisan : ``(client_id, client_secret)`` of a Curator and of a
        non-curator (Artisan), both with API access.
    state, faults, clock : the model, the fault injector and the movable clock.
    """

    def __init__(self, seed: Any = "default", *, host: str = "127.0.0.1", port: int = 0,
                 token_lifetime: int | None = None, job_slots: int | None = None, random_seed: int | None = None,
                 max_body: int = DEFAULT_MAX_BODY, start_time: Any = None,
                 admin_paging: str | None = None, server_version: str | None = None, realistic: bool = True,
                 quirks: dict[str, bool] | None = None, nodes: int = 1, sticky: bool = True,
                 auth: str = "builtin"):
        if admin_paging is not None and admin_paging not in PAGING_MODES:
            raise ValueError(f"admin_paging takes one of {', '.join(PAGING_MODES)}, not {admin_paging!r}")
        self.surface: Surface = surface(server_version)
        if auth not in AUTH_MODES:
            raise ValueError(f"auth takes one of {', '.join(AUTH_MODES)}, not {auth!r}")
        self.auth = auth
        self.balancer = Balancer(nodes, sticky)
        self._realism = Realism.of(realistic, quirks)
        self._admin_paging = admin_paging
        self.host = check_loopback(host)
        self._port = port
        self._seed = seed
        self._random_seed = random_seed
        self._token_lifetime = token_lifetime
        self._job_slots = job_slots
        self.max_body = max_body
        self.clock = Clock(start=_epoch(start_time))
        self.faults = Faults()
        self.state = self._new_state(seed)
        self.app = App(self.state, self.faults, control=lambda request: control(self, request),
                       balancer=self.balancer)
        self.wsgi_app = WsgiApp(self.app, max_body)
        self.wsgi_url = in_process_url()
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None

    # state -------------------------------------------------------------------
    def _new_state(self, seed: Any) -> State:
        state = State(seed=self._random_seed, clock=self.clock)
        data = seeding.resolve_seed(seed)
        with state.lock:
            self.refs = seeding.apply_seed(state, data)
            if self._token_lifetime is not None:
                state.token_lifetime = self._token_lifetime
            if self._job_slots is not None:
                state.job_slots = self._job_slots
            if self._admin_paging is not None:
                state.admin_paging = self._admin_paging
            state.surface = self.surface
            state.realism = self._realism
            state.nodes = self.balancer.nodes
            state.auth_mode = self.auth
            _ensure_keys(state)
            if self.auth == "windows":
                state.services.people.from_directory()
        return state

    def reset(self, seed: Any = None) -> None:
        """Throw away all content and load *seed* (the original seed by default)."""
        new = self._new_state(self._seed if seed is None else seed)
        self.state = new
        self.app.state = new

    def apply_seed(self, seed: Any) -> dict[str, str]:
        """Add a seed's content to the current state; return its refs and ids."""
        with self.state.lock:
            refs = seeding.apply_seed(self.state, seeding.resolve_seed(seed))
        self.refs.update(refs)
        return refs

    @property
    def server_version(self) -> str:
        """The release this emulator serves (``"newest"`` by default)."""
        return self.surface.release

    @property
    def realism(self) -> Realism:
        """Which quirks of real answers are on."""
        return self.state.realism

    def set_quirks(self, **flags: bool) -> Realism:
        """Turn quirks on or off by name (``set_quirks(bom=True, nulls=False)``); kept across :meth:`reset`.

        The quirks are listed in :data:`axframe.emulator.state.realism.QUIRKS`.
        """
        with self.state.lock:
            self._realism = self.state.realism.with_(**flags)
            self.state.realism = self._realism
        return self._realism

    def directory_sign_in(self, email: str, first_name: str = "", last_name: str = "") -> dict:
        """On a Windows-authentication emulator, a directory account signs in: its user record (added if new)."""
        if self.auth != "windows":
            raise RuntimeError("directory_sign_in is for Emulator(auth='windows')")
        with self.state.lock:
            return dict(self.state.services.people.directory_sign_in(email, first_name, last_name))

    def keys(self, role: str = "Curator") -> tuple[str, str]:
        """``(client_id, client_secret)`` of the first API-enabled user with *role*."""
        for user in self.state.users.values():
            if user["role"] == role and user.get("isApiEnabled") and user.get("isActive") and user.get("apiKey"):
                return user["apiKey"], user["apiSecret"]
        raise LookupError(f"no API-enabled {role} in the emulator")

    @property
    def curator(self) -> tuple[str, str]:
        return self.keys("Curator")

    @property
    def artisan(self) -> tuple[str, str]:
        return self.keys("Artisan")

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (expires tokens, finishes jobs)."""
        self.clock.advance(seconds)

    def stats(self) -> dict:
        with self.state.lock:
            routes = {k[len("route:"):]: v for k, v in self.state.counters.items() if k.startswith("route:")}
            other = {k: v for k, v in self.state.counters.items() if not k.startswith("route:")}
            counts = self.state.counts()
        traffic = self.app.traffic
        return {"requests": traffic.requests, "routes": routes,
                "tokensIssued": other.get("tokens_issued", 0), "tokenRequests": other.get("token_requests", 0),
                "counters": other, "counts": counts, "faults": self.faults.snapshot(),
                "resets": {"beforeApplied": traffic.resets_before, "afterApplied": traffic.resets_after},
                "nodes": list(self.balancer.served)}

    # lifecycle ---------------------------------------------------------------
    def start(self) -> "Emulator":
        if self._server is not None:
            return self
        self._server = EmulatorServer(self.host, self._port, self.app, self.max_body)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="axframe-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.closing = True
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() or use it in a with block")
        return self._server.server_address[1]

    @property
    def root(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root}/webapi"

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"<Emulator {where}>"

    def info(self) -> dict:
        return {"url": self.url if self._server else None,
                "curator": list(self.curator), "artisan": list(self.artisan),
                "counts": self.state.counts(), "server": self.surface.describe(),
                "quirks": {name: name in self.state.realism.on for name in QUIRKS}}


def _ensure_keys(state: State) -> None:
    """Every emulator has an API-enabled Curator and Artisan, whatever the seed."""
    for role, name in (("Curator", "curator"), ("Artisan", "artisan")):
        if any(u["role"] == role and u.get("isApiEnabled") and u.get("isActive") for u in state.users.values()):
            continue
        state.services.people.add_user({"firstName": "Emulator", "lastName": role, "email": f"emulator.{name}@example.com",
                        "role": role, "isApiEnabled": True, "canCreateCollections": role == "Curator",
                        "canScheduleJobs": True, "canPrioritizeJobs": role == "Curator",
                        "canAssignJobs": role == "Curator"}, None)


def wait_until_ready(url: str, timeout: float = 10.0) -> None:
    """Poll ``/_emulator/health`` of a separately started emulator."""
    import urllib.request

    deadline = time.monotonic() + timeout
    root = url.split("/webapi")[0]
    while True:
        try:
            with urllib.request.urlopen(f"{root}/_emulator/health", timeout=1) as response:
                if json.loads(response.read()).get("ok"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the emulator at {url} did not answer within {timeout} s")
        time.sleep(0.05)
