"""How bytes reach the Server: the ``requests`` session, redirects refused, failures classified.

:func:`make_session` builds the pooled session a :class:`~axframe.client.Connection`
sends through: the environment's proxy and CA settings resolved once (``requests``
would read ``os.environ`` again on every call), keep-alive pools, no retries of
its own.  :func:`mount_wsgi` serves a base URL from a WSGI application in the
same process instead of a socket: the emulator's, for tests of client logic.
:func:`classify` says how far a failed request got (never sent, sent and broken,
unanswered), which decides what may be retried.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import limits
from . import retry as retrying

__all__ = ["make_session", "mount_wsgi", "WSGIAdapter", "WatchedAdapter", "classify", "redirect_refusal",
           "answer_text", "user_agent"]

WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


def user_agent() -> str:
    from .. import __version__

    return f"axframe/{__version__} python-requests/{requests.__version__}"


def make_session(base_url: str, verify: bool | str, pool_size: int) -> requests.Session:
    """A keep-alive session for *base_url*, with the environment's proxy and CA bundle read once."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    session.verify = env_bundle if verify is True and env_bundle else verify
    session.trust_env = False
    session.headers.update({"Accept": "application/json", "User-Agent": user_agent()})
    adapter = WatchedAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class _WatchedHTTPPool(HTTPConnectionPool):
    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        limits.attach(conn)  # the socket a deadline shuts, if the exchange outlives it
        return super()._make_request(conn, *args, **kwargs)


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        limits.attach(conn)
        return super()._make_request(conn, *args, **kwargs)


_WATCHED = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """``requests``' adapter, with pools that tell :func:`axframe.client.limits.watch` which socket each
    exchange uses (so that a wall-clock deadline can end it however slowly it trickles)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_WATCHED)
        return manager


def redirect_refusal(status: int, location: str | None) -> str:
    """Why a redirect was not followed, naming where it pointed (scheme, host and path only)."""
    where = ""
    if location:
        parts = urlsplit(location)
        where = f" to {parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}" \
            if parts.hostname else f" to {parts.path}"
    return (f"the Server answered {status}, a redirect{where}; axframe does not follow redirects, so that a "
            "request and its body never go to another address. If the Server moved, use its new address as the "
            "base URL")


def answer_text(response: requests.Response) -> str:
    """The body of an answer as text (UTF-8, a byte-order mark dropped; Latin-1 when it is not UTF-8)."""
    data = response.content
    if not data:
        return ""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def classify(exc: requests.RequestException) -> tuple[str, str]:
    """How far a failed request got: never sent, sent and broken, or unanswered; and a phrase for it."""
    if isinstance(exc, requests.ConnectTimeout):
        return retrying.NOT_SENT, "connecting timed out"
    if isinstance(exc, requests.ReadTimeout):
        return retrying.READ_TIMEOUT, "no answer within the read timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return retrying.NOT_SENT, "the TLS handshake failed (certificate?)"
    if isinstance(exc, requests.ConnectionError):
        chain: list[BaseException] = []
        inner: BaseException | None = exc
        while inner is not None and len(chain) < 8:
            chain.append(inner)
            inner = inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else \
                (getattr(inner, "reason", None) or inner.__cause__ or inner.__context__)
        names = {type(e).__name__ for e in chain}
        if names & {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError", "ConnectionRefusedError"}:
            return retrying.NOT_SENT, "could not connect"
        return retrying.SENT, "the connection was broken"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return retrying.SENT, "the answer was cut off"
    return retrying.SENT, type(exc).__name__


# --------------------------------------------------------------------------
# in-process: a WSGI application behind a requests adapter
# --------------------------------------------------------------------------


class WSGIAdapter(BaseAdapter):
    """A ``requests`` transport adapter that hands each request to a WSGI application in this process.

    Everything above the socket is what a real connection does: signing, redirects refused, bounded
    reading, retries.  An exception the application raises (the emulator raises one for a connection
    reset it would make on a socket) becomes a broken connection, as a reset on a socket would be: the
    client cannot tell whether the request was applied.
    """

    def __init__(self, app: WSGIApp):
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Mapping[str, str] | None = None) -> requests.Response:
        environ = _environ(request)
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            started["status"], started["headers"] = status, headers
            return lambda data: None

        try:
            chunks = self.app(environ, start_response)
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except Exception as exc:  # a reset, as a socket would make it: sent, and no answer
            raise requests.ConnectionError(f"the in-process application dropped the request: "
                                           f"{type(exc).__name__}", request=request) from exc
        return _response(request, started, body)

    def close(self) -> None:
        pass


def _body_bytes(body: Any) -> bytes:
    """A prepared request's body as bytes (text, bytes, a file or chunks)."""
    if not body:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if hasattr(body, "read"):
        return _body_bytes(body.read())
    return b"".join(_body_bytes(part) for part in body)


def _environ(request: requests.PreparedRequest) -> dict:
    parts = urlsplit(request.url or "")
    body = _body_bytes(request.body)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method or "GET",
        "REQUEST_URI": (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),  # the raw target
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(parts.path or "/", "latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "127.0.0.1",
        "SERVER_PORT": str(parts.port or (443 if parts.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": io.BytesIO(bytes(body)),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers.items():
        key = "HTTP_" + name.upper().replace("-", "_")
        if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            environ[key] = value.decode("latin-1") if isinstance(value, bytes) else value  # OAuth1 signs bytes
    return environ


def _response(request: requests.PreparedRequest, started: Mapping[str, Any], body: bytes) -> requests.Response:
    response = requests.Response()
    code, _, reason = str(started.get("status", "500 Internal Server Error")).partition(" ")
    response.status_code = int(code)
    response.reason = reason
    response.headers = CaseInsensitiveDict(started.get("headers") or [])
    response.raw = io.BytesIO(body)
    response.url = request.url or ""
    response.request = request
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    return response


def mount_wsgi(session: requests.Session, base_url: str, app: WSGIApp) -> None:
    """Serve every request under *base_url*'s scheme, host and port from *app*, in this process."""
    parts = urlsplit(base_url)
    session.mount(f"{parts.scheme}://{parts.netloc}/", WSGIAdapter(app))
