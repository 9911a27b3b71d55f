"""One connection's exchange on its socket: what ``requests``' urllib3 pools are made of here.

The pools a :class:`~axframe.client.transport.WatchedAdapter` makes (:data:`POOLS`) hold connections that

- set a socket's timeout only when it changes (urllib3 sets it twice per exchange, each a system call
  that lets go of the GIL; with many threads, getting it back is a wait), and on a connection already
  open send a request under the read timeout (the connect timeout bounds connecting);
- write a plain request head at once (not line by line through urllib3 and ``http.client``), and hand
  it and a small body to the socket in one send (:class:`_OneSend`);
- read an answer's plain head without the ``email`` parser (:class:`_Head`), the same ``HTTPMessage``;
- tell :func:`axframe.client.limits.attach` which socket each exchange uses, so that a wall-clock
  deadline can end it however slowly it trickles.

The bytes on the wire are those ``http.client`` and urllib3 would send and read.
"""

from __future__ import annotations

import http.client
import io
import re
import socket
import ssl
from typing import Any

import urllib3.connection
import urllib3.util.request
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import SKIP_HEADER as _SKIP
from urllib3.util import Timeout

from . import limits

__all__ = ["POOLS", "ONE_SEND", "CONNECTING", "while_connecting", "exception_chain"]

#: the attribute that marks an exception raised while a connection was being made (before anything was sent)
CONNECTING = "_axframe_while_connecting"


def while_connecting(exc: BaseException) -> bool:
    """Whether *exc* (or one it wraps) was raised while connecting: before a request went out."""
    return any(getattr(inner, CONNECTING, False) for inner in exception_chain(exc))


def exception_chain(exc: BaseException) -> list[BaseException]:
    """*exc* and the exceptions it wraps (``args[0]``, urllib3's ``reason``, the cause), a few deep."""
    chain: list[BaseException] = []
    inner: BaseException | None = exc
    while inner is not None and len(chain) < 8 and inner not in chain:
        chain.append(inner)
        reason = getattr(inner, "reason", None)  # urllib3's wrapped error (ssl.SSLError's is a word)
        inner = inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else \
            (reason if isinstance(reason, BaseException) else None) or inner.__cause__ or inner.__context__
    return chain


class _QuietTimeout:
    """A socket whose timeout is set only when it changes.

    urllib3 sets the socket's timeout twice per exchange; each setting is a system call that lets go of
    the GIL, and with many threads sending at once, getting it back is a wait: a context switch or two
    per setting, most of the cost of an exchange's system calls."""

    __slots__ = ()

    def settimeout(self, value: float | None) -> None:
        if value != self.gettimeout():  # type: ignore[attr-defined]
            super().settimeout(value)  # type: ignore[misc]


class _QuietSocket(_QuietTimeout, socket.socket):
    __slots__ = ()


def _quiet(sock: socket.socket) -> socket.socket:
    if type(sock) is not socket.socket:
        return sock
    timeout = sock.gettimeout()
    quiet = _QuietSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    socket.socket.settimeout(quiet, timeout)
    return quiet


#: a body up to this size goes out in one send with the request's head
ONE_SEND = 64 * 1024


# what urllib3 2's HTTPConnection.request keeps for its answer, and the methods it frames no empty body
# for (no Content-Length: 0); absent from urllib3 1, which then has no plain path
_RESPONSE_OPTIONS: Any = getattr(urllib3.connection, "_ResponseOptions", None)
_NO_BODY_EXPECTED: Any = getattr(urllib3.util.request, "_METHODS_NOT_EXPECTING_BODY", None)
_OPTIONS = frozenset({"chunked", "preload_content", "decode_content", "enforce_content_length"})  # request()'s


class _OneSend:
    """A connection that sends a request's head and a small body in one ``send``, and writes a plain head
    in one piece.

    ``http.client`` hands the head to the socket, then the body: two system calls (each after a
    ``poll`` on a socket with a timeout, each a wait for the GIL with many threads) and two packets the
    Server reads apart.  urllib3 and ``http.client`` check and encode each header line apart (a tenth of
    a call's CPU); a head of token names and values without line breaks (what ``requests`` sends) is
    written here at once, in the order and the bytes they would write: the request line and ``Host``
    from ``http.client``, then ``Content-Length`` as urllib3 frames a body, then the headers.  Anything
    else (a chunked or streamed body, a header that needs their checks) goes their way."""

    _held: bytes | None = None
    _hold = False
    _response_options: Any  # urllib3 2's, for the answer

    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        self._hold = isinstance(body, bytes) and 0 < len(body) <= ONE_SEND and not kwargs.get("chunked")
        try:
            if not self._plain_request(method, url, body, headers, kwargs):
                super().request(method, url, body=body, headers=headers, **kwargs)  # type: ignore[misc]
        finally:
            self._hold, self._held = False, None

    def _plain_request(self, method: str, url: str, body: Any, headers: Any, options: dict[str, Any]) -> bool:
        """Send the request as urllib3's ``request`` would, when its head is plain; False when it is not."""
        if _RESPONSE_OPTIONS is None or _NO_BODY_EXPECTED is None or headers is None or options.get("chunked") or \
                not (body is None or type(body) is bytes) or set(options) - _OPTIONS:
            return False
        lines, names = _plain_lines(headers)
        if lines is None or "transfer-encoding" in names or "user-agent" not in names:
            return False  # urllib3 frames it otherwise, or adds its own User-Agent
        if "content-length" not in names:
            if body is not None:
                lines.insert(0, f"Content-Length: {len(body)}")
            elif method.upper() not in _NO_BODY_EXPECTED:
                lines.insert(0, "Content-Length: 0")
        try:
            head = "\r\n".join(lines).encode("latin-1")
        except UnicodeEncodeError:
            return False  # http.client says why
        sock = getattr(self, "sock", None)
        if sock is not None:
            sock.settimeout(self.timeout)  # type: ignore[attr-defined]
        self._response_options = _RESPONSE_OPTIONS(
            request_method=method, request_url=url, preload_content=options.get("preload_content", True),
            decode_content=options.get("decode_content", True),
            enforce_content_length=options.get("enforce_content_length", True))
        self.putrequest(method, url, skip_accept_encoding="accept-encoding" in names,  # type: ignore[attr-defined]
                        skip_host="host" in names)
        if head:
            self._output(head)  # type: ignore[attr-defined]
        self.endheaders()  # type: ignore[attr-defined]
        if body:
            self.send(body)
        return True

    def send(self, data: Any) -> None:
        if self._hold:
            if self._held is None:  # the head: held for the body
                self._held = data
                return
            data, self._held, self._hold = self._held + data, None, False
        super().send(data)  # type: ignore[misc]


_PLAIN_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _plain_lines(headers: Any) -> tuple[list[str] | None, frozenset[str]]:
    """The header lines ``Name: value`` when every name is a token and no value breaks a line or is
    urllib3's ``SKIP_HEADER``; else None."""
    lines, names = [], set()
    for name, value in headers.items():
        if type(name) is not str or type(value) is not str or "\r" in value or "\n" in value \
                or value == _SKIP or not _PLAIN_NAME.fullmatch(name):
            return None, frozenset()
        lines.append(f"{name}: {value}")
        names.add(name.lower())
    return lines, frozenset(names)


class _Head(http.client.HTTPResponse):
    """``http.client``'s answer, its header lines read without the ``email`` parser.

    ``http.client`` hands the head to ``email``'s feed parser, about a tenth of a call's CPU on a small
    answer; plain ``Name: value`` lines are what every Server sends, and they make the same
    ``HTTPMessage`` (the same names, values and order) through its own ``msg[name] = value``.  A head with
    anything else (a folded line, a line without a name) goes to the ``email`` parser as before."""

    def begin(self) -> None:
        if self.headers is not None:  # already begun
            return
        while True:
            version, status, reason = self._read_status()  # type: ignore[attr-defined]
            if status != http.client.CONTINUE:
                break
            _head_lines(self.fp)  # an interim answer's head: skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = _message(_head_lines(self.fp))
        coding = self.headers.get("transfer-encoding")
        self.chunked = bool(coding) and coding.lower() == "chunked"  # type: ignore[attr-defined]
        self.chunk_left = None  # type: ignore[attr-defined]
        self.will_close = self._check_close()  # type: ignore[attr-defined]
        self.length = None
        declared = self.headers.get("content-length")
        if declared and not self.chunked:  # type: ignore[attr-defined]
            try:
                length = int(declared)
            except ValueError:
                pass
            else:
                self.length = length if length >= 0 else None
        if status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or 100 <= status < 200 \
                or self._method == "HEAD":  # type: ignore[attr-defined]
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:  # type: ignore[attr-defined]
            self.will_close = True  # no length, not chunked: the answer ends when the connection does


def _head_lines(fp: Any) -> list[bytes]:
    """A head's lines up to the empty one (which is not kept), bounded as ``http.client`` bounds them."""
    lines: list[bytes] = []
    while True:
        line = fp.readline(http.client._MAXLINE + 1)  # type: ignore[attr-defined]
        if len(line) > http.client._MAXLINE:  # type: ignore[attr-defined]
            raise http.client.LineTooLong("header line")
        if line in (b"\r\n", b"\n", b""):
            return lines
        lines.append(line)
        if len(lines) >= http.client._MAXHEADERS:  # type: ignore[attr-defined]
            raise http.client.HTTPException(f"got more than {http.client._MAXHEADERS} headers")  # type: ignore


def _message(lines: list[bytes]) -> http.client.HTTPMessage:
    message = http.client.HTTPMessage()
    for line in lines:
        name, colon, value = line.decode("iso-8859-1").partition(":")
        if not colon or not _PLAIN_NAME.fullmatch(name):  # folded, nameless, odd: as http.client reads it
            return http.client.parse_headers(io.BytesIO(b"".join(lines) + b"\r\n"))
        message[name] = value.lstrip(" \t").rstrip("\r\n")
    message.set_payload("")  # no text after the head, as the email parser leaves it
    return message


class _HTTPConnection(_OneSend, HTTPConnection):
    response_class = _Head

    def _new_conn(self) -> socket.socket:
        return _quiet(super()._new_conn())


class _QuietSSLSocket(_QuietTimeout, ssl.SSLSocket):
    """A TLS socket whose timeout is set only when it changes."""


class _HTTPSConnection(_OneSend, HTTPSConnection):
    response_class = _Head

    def connect(self) -> None:
        try:
            super().connect()  # TCP, a proxy's tunnel, the TLS handshake: nothing of the request is sent yet
        except BaseException as exc:
            try:
                setattr(exc, CONNECTING, True)  # a TLS error from here is a handshake's, not a broken answer's
            except AttributeError:  # pragma: no cover - an exception without a __dict__
                pass
            raise
        if type(self.sock) is ssl.SSLSocket:  # made by the TLS context; not a proxy's TLS-in-TLS transport
            self.sock.__class__ = _QuietSSLSocket


_SENDING: dict[float | None, Timeout] = {}


def _on_open_connection(conn: Any, kwargs: dict[str, Any]) -> None:
    """On a connection already open, send the request under the read timeout: urllib3 would set the
    socket to the connect timeout for sending and back to the read timeout for the answer (two system
    calls per exchange); the connect timeout bounds connecting."""
    limits.attach(conn)  # the socket a deadline shuts, if the exchange outlives it
    timeout = kwargs.get("timeout")
    if conn.sock is None or not isinstance(timeout, Timeout) or timeout.total is not None:
        return
    read = timeout.read_timeout
    if timeout.connect_timeout == read:
        return
    same = _SENDING.get(read)  # type: ignore[arg-type]
    if same is None:
        same = _SENDING[read] = Timeout(connect=read, read=read)  # type: ignore[arg-type]
    kwargs["timeout"] = same


class _Watched:
    """A pool whose every exchange goes through :func:`_on_open_connection` first."""

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _on_open_connection(conn, kwargs)
        return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPPool(_Watched, HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _WatchedHTTPSPool(_Watched, HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


#: the pool classes a :class:`~axframe.client.transport.WatchedAdapter` makes, by scheme
POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
