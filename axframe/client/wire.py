"""One connection's exchange on its socket: what ``requests``' urllib3 pools are made of here.

The pools a :class:`~axframe.client.transport.WatchedAdapter` makes (:data:`POOLS`) hold connections that

- set a socket's timeout only when it changes (urllib3 sets it twice per exchange, each a system call
  that lets go of the GIL; with many threads, getting it back is a wait), and on a connection already
  open send a request under the read timeout (the connect timeout bounds connecting);
- hand a request's head and a small body to the socket in one send (:class:`_OneSend`);
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

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import Timeout

from . import limits

__all__ = ["POOLS", "ONE_SEND"]


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


class _OneSend:
    """A connection that sends a request's head and a small body in one ``send``.

    ``http.client`` hands the head to the socket, then the body: two system calls (each after a
    ``poll`` on a socket with a timeout, each a wait for the GIL with many threads) and two packets the
    Server reads apart.  The bytes sent are the same."""

    _held: bytes | None = None
    _hold = False

    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        self._hold = isinstance(body, bytes) and 0 < len(body) <= ONE_SEND and not kwargs.get("chunked")
        try:
            super().request(method, url, body=body, headers=headers, **kwargs)  # type: ignore[misc]
        finally:
            self._hold, self._held = False, None

    def send(self, data: Any) -> None:
        if self._hold:
            if self._held is None:  # the head: held for the body
                self._held = data
                return
            data, self._held, self._hold = self._held + data, None, False
        super().send(data)  # type: ignore[misc]


_PLAIN_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


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
        super().connect()
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
