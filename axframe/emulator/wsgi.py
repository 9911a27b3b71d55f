"""The emulator as a WSGI application (PEP 3333): the same answers, without a socket.

:class:`WsgiApp` wraps the emulator's :class:`~axframe.emulator.app.App`
(routes, control API under ``/_emulator/``, faults) so that a caller that
speaks WSGI -- a ``requests`` transport adapter, a WSGI test client,
``wsgiref`` -- gets byte for byte what the socket server sends, minus the
hop-by-hop ``Connection`` header that PEP 3333 leaves to the server.

>>> emulator = Emulator()                      # builds the state; binds nothing
>>> app = emulator.wsgi_app                    # app(environ, start_response)
>>> emulator.wsgi_url                          # 'http://127.0.0.1:<n>/webapi', never bound

Where the socket server and WSGI differ
---------------------------------------
* A fault that resets the connection (``reset_before``, ``reset_after``)
  raises :class:`~axframe.emulator.faults.ResetConnection` out of the
  application before ``start_response`` is called; ``exc.applied`` tells
  whether the change was made.  An adapter maps it to a broken connection
  (``requests.exceptions.ConnectionError``).
* A ``slow`` fault sleeps in the caller's thread, as ``latency`` does; no read
  timeout can fire unless the adapter enforces one.
* The target is taken from ``REQUEST_URI`` (or ``RAW_URI``) when the caller
  sets it, so that an encoded slash (``a%2Fb``) stays inside one path
  segment, as on the socket; without it, the decoded ``PATH_INFO`` is quoted
  again and ``%2F`` reads as ``/``.
* Without ``HTTP_HOST`` the Host is ``SERVER_NAME:SERVER_PORT`` (PEP 3333's
  URL reconstruction): a legacy OAuth1 signature covers scheme, host and port,
  so these must be the URL's.
* Limits match the socket server's: headers over 64 KiB (or more than 100 of
  them) are 431, a body over ``max_body`` is 413, a malformed
  ``CONTENT_LENGTH`` is 400.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Callable, Iterable
from urllib.parse import quote

from .app import App
from .http import Request, Response, json_response

__all__ = ["WsgiApp", "in_process_url", "StartResponse"]

StartResponse = Callable[..., Any]

MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
_SAFE_PATH = "/;:@&=+$,!~*'()"

# In-process URLs name ports below 1024 that the emulator never binds (its socket
# server takes the port it is given, by default a free ephemeral one), one per
# emulator, so that two emulators in one process (a migration's source and target)
# have different base URLs.
_ports = itertools.count()
_ports_lock = threading.Lock()


def in_process_url() -> str:
    """A new base URL on loopback for an emulator served in process (``http://127.0.0.1:<n>/webapi``).

    The port is one the emulator never listens on; the URL is a name for a
    transport adapter to be mounted under, not an address to connect to.
    """
    with _ports_lock:
        port = 1 + next(_ports) % 1023
    return f"http://127.0.0.1:{port}/webapi"


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class WsgiApp:
    """A PEP 3333 application over an emulator :class:`App`.

    Parameters
    ----------
    app : App
        The emulator's application (the same object the socket server serves).
    max_body : int
        Largest request body accepted, in bytes; larger is 413.
    """

    def __init__(self, app: App, max_body: int):
        self.app = app
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request; raises :class:`ResetConnection` for a reset fault (see the module doc)."""
        try:
            request = self.request(environ)
        except _Refused as refused:
            response = json_response(refused.status, {"message": str(refused)})
        else:
            response = self.app.serve(request)
        return self._start(response, start_response)

    # environ -> Request -----------------------------------------------------------
    def request(self, environ: dict[str, Any]) -> Request:
        """The :class:`Request` the socket server would have parsed from the same bytes."""
        headers = _headers(environ)
        body = self._body(environ)
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        if "host" not in headers:  # PEP 3333's URL reconstruction; OAuth1 signatures cover host and port
            headers["host"] = _host(environ, scheme)
        return Request(method, _target(environ), headers, body, scheme=scheme)

    def _body(self, environ: dict[str, Any]) -> bytes:
        raw = str(environ.get("CONTENT_LENGTH") or "").strip()
        stream = environ.get("wsgi.input")
        if raw:
            try:
                length = int(raw)
            except ValueError:
                raise _Refused(400, "Invalid Content-Length.") from None
            if length < 0:
                raise _Refused(400, "Invalid Content-Length.")
            if length > self.max_body:
                raise _Refused(413, "The request body is too large.")
            return stream.read(length) if stream is not None and length else b""
        if stream is None:
            return b""
        # No length (a chunked upload the caller passed through): read to the end, bounded.
        data = stream.read(self.max_body + 1)
        if len(data) > self.max_body:
            raise _Refused(413, "The request body is too large.")
        return bytes(data)

    # Response -> start_response ---------------------------------------------------
    @staticmethod
    def _start(response: Response, start_response: StartResponse) -> list[bytes]:
        headers = [("Content-Length", str(len(response.body))), ("Server", "axframe-emulator")]
        headers += list(response.headers)
        start_response(f"{response.status} {response.reason}", headers)
        return [response.body]


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """Lower-cased request headers from the ``HTTP_*`` keys (and the two CGI exceptions)."""
    headers: dict[str, str] = {}
    total = 0
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        text = str(value)
        if not text and name in ("content-type", "content-length"):
            continue  # CGI sets them empty when the request had none
        total += len(name) + len(text) + 4
        headers[name] = text
    if total > MAX_HEADER_BYTES or len(headers) > MAX_HEADERS:
        raise _Refused(431, "The request headers are too large.")
    return headers


def _host(environ: dict[str, Any], scheme: str) -> str:
    name, port = str(environ.get("SERVER_NAME", "127.0.0.1")), str(environ.get("SERVER_PORT", ""))
    default = "443" if scheme == "https" else "80"
    return f"{name}:{port}" if port and port != default else name


def _target(environ: dict[str, Any]) -> str:
    """The request target: the raw one when the caller gives it, else the path quoted again."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw:
        return str(raw)
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")) or "/"
    # PEP 3333 hands the path decoded, as latin-1 text of the original bytes
    target = quote(path.encode("latin-1", "replace"), safe=_SAFE_PATH)
    query = str(environ.get("QUERY_STRING", ""))
    return f"{target}?{query}" if query else target
