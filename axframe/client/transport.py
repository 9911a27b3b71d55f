"""How bytes reach the Server: the ``requests`` session, redirects refused, failures classified.

:func:`make_session` builds the pooled session a :class:`~axframe.client.Connection`
sends through: the environment's proxy and CA settings resolved once (``requests``
would read ``os.environ`` again on every call), keep-alive pools, no retries of
its own.  :class:`Sender` sends a call straight through the urllib3 pool that the
session's mounted adapter keeps for the origin, without ``Session.request``'s work
per call (merging settings, hooks and cookie jars that a connection settles once)
nor the adapter's (a prepared request, a copy of every answer's headers), honouring
what the session holds when it is sent: its headers, cookies, proxies, CA bundle,
client certificate, auth and adapters (a proxy, an auth that signs the whole
request or an adapter of the user's own goes the adapter's way).
:class:`WatchedAdapter` keeps each origin's connection pool, so that a call does
not look for it (nor stat the CA bundle) again; its pools' connections
(:mod:`axframe.client.wire`) spare the system calls ``http.client`` and urllib3
would make per exchange.  :func:`mount_wsgi` serves a base URL from a WSGI application in
the same process instead of a socket: the emulator's, for tests of client logic.
:func:`classify` says how far a failed request got (never sent, sent and broken,
unanswered), which decides what may be retried.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import ssl
import sys
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import unquote, urlencode, urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar, get_cookie_header
from requests.hooks import default_hooks, dispatch_hook
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, select_proxy
from urllib3 import exceptions as urllib3_errors
from urllib3.util import Timeout

from . import retry as retrying
from .wire import POOLS, exception_chain, while_connecting

__all__ = ["make_session", "mount_wsgi", "Sender", "WSGIAdapter", "WatchedAdapter", "classify", "redirect_refusal",
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




class WatchedAdapter(HTTPAdapter):
    """``requests``' adapter, with pools that tell :func:`axframe.client.limits.watch` which socket each
    exchange uses (so that a wall-clock deadline can end it however slowly it trickles).

    It keeps the connection pool of each origin, proxy and TLS setting it has sent to, and the TLS
    settings it has checked on a pool, so that a call neither looks its pool up in the pool manager nor
    stats the CA bundle again; a pool that was closed (the adapter closed, or the pool manager let it go)
    is looked up afresh.  An answer's cookies are parsed only when it sets any.
    """

    _MAX_KEPT = 64  # origins x settings; beyond, the kept pools are forgotten (they stay in the pool manager)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pools: dict[tuple, Any] = {}
        self._checked: dict[tuple, Any] = {}

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(POOLS)
        return manager

    def get_connection_with_tls_context(self, request: requests.PreparedRequest, verify: Any,
                                        proxies: Mapping[str, str] | None = None, cert: Any = None) -> Any:
        url = request.url or ""
        proxy = select_proxy(url, proxies) if proxies else None  # type: ignore[arg-type]
        pool = self._kept(url, proxy, verify, cert, request)
        if pool is None:  # an unhashable setting (a list for cert): looked up as requests does
            return super().get_connection_with_tls_context(request, verify, proxies, cert)  # type: ignore[arg-type]
        return pool

    def pool_for(self, url: str, verify: Any, cert: Any) -> Any:
        """The pool a request to *url* goes through when no proxy is used (None for an unhashable setting)."""
        return self._kept(url, None, verify, cert, None)

    def _kept(self, url: str, proxy: str | None, verify: Any, cert: Any,
              request: requests.PreparedRequest | None) -> Any:
        try:
            key = (_origin(url), proxy, verify, cert)
            pool = self._pools.get(key)
        except TypeError:
            return None
        if pool is None or pool.pool is None:
            if request is None:
                request = requests.PreparedRequest()
                request.url = url
            proxies = {"all": proxy} if proxy else None
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)  # type: ignore[arg-type]
            if len(self._pools) >= self._MAX_KEPT:
                self._pools.clear()
            self._pools[key] = pool
        return pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        try:
            key = (id(conn), url[:5].lower() == "https", verify, cert)
            if self._checked.get(key) is conn:
                return
        except TypeError:
            return super().cert_verify(conn, url, verify, cert)
        super().cert_verify(conn, url, verify, cert)  # raises for a missing bundle or certificate file
        if len(self._checked) >= self._MAX_KEPT:
            self._checked.clear()
        self._checked[key] = conn

    def request_url(self, request: requests.PreparedRequest, proxies: Mapping[str, str] | None) -> str:
        url = request.url or ""
        if proxies or "#" in url:
            return super().request_url(request, proxies)  # type: ignore[arg-type]
        cut = _path_start(url)
        return url[cut:] if cut >= 0 else "/"

    def close(self) -> None:
        super().close()
        self._pools.clear()
        self._checked.clear()

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = resp.status
        response.headers = CaseInsensitiveDict(resp.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url.decode("utf-8") if isinstance(req.url, bytes) else req.url  # type: ignore[assignment]
        if _sets_cookies(response.headers):
            extract_cookies_to_jar(response.cookies, req, resp)
        response.request = req
        response.connection = self  # type: ignore[attr-defined]
        return response


def _path_start(url: str) -> int:
    """Where the path of an absolute *url* begins (-1 when it has none)."""
    return url.find("/", url.find("//") + 2)


def _origin(url: str) -> str:
    """The scheme, host and port of an absolute *url*, as written."""
    cut = _path_start(url)
    return url if cut < 0 else url[:cut]


def _sets_cookies(headers: Mapping[str, str]) -> bool:
    return "set-cookie" in headers or "set-cookie2" in headers


# an absolute URL that requests would send exactly as it is written: a lower-case host name or IPv4 address,
# and a path and query of characters that need no quoting (no "%": requests re-quotes escapes)
_AS_WRITTEN = re.compile(r"https?://[a-z0-9.\-]+(:[0-9]+)?(/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)?"
                         r"(\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?")


class Sender:
    """Sends a call through the mounted adapter of a session, doing once what a connection settles once.

    ``Session.request`` merges the session's settings and the environment's into every request, copies
    its cookie jar, prepares hooks and looks up the adapter: most of a call's cost on a keep-alive
    connection.  A connection's session does not read the environment (``trust_env`` is off: the proxies
    and CA bundle were read when it was made), so what a call needs is the session's own state, read
    when the call is sent: its headers, cookies (sent, and the answer's kept), auth, proxies, ``verify``,
    ``cert`` and the adapter mounted for the URL.  Redirects are never followed and the answer is
    streamed, for :func:`axframe.client.limits.read_bounded` to read.

    A session that reads the environment (``trust_env`` on), or has default query parameters or hooks
    of its own, is sent through ``Session.request`` as it is.
    """

    def __init__(self, session: requests.Session) -> None:
        self.session = session

    def send(self, method: str, url: str, params: Sequence[tuple[str, str]] | None, body: bytes | None,
             content_type: str | None, timeout: Any) -> requests.Response:
        """One exchange: *url* (absolute, its path already encoded) with *params* and *body*; never redirected."""
        session = self.session
        if session.trust_env or session.params or any(session.hooks.values()) \
                or None in session.proxies.values():
            return session.request(method, url, params=params or None, data=body,
                                   headers={"Content-Type": content_type} if content_type else None,
                                   timeout=timeout, allow_redirects=False, stream=True)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(list(params))
        adapter = session.get_adapter(url)
        if type(adapter) is WatchedAdapter and url.isascii() and _AS_WRITTEN.fullmatch(url):
            direct = self._direct(adapter, method, url, body, content_type, timeout)
            if direct is not None:
                return direct
        prepared = self.prepare(method, url, None, body, content_type)
        verify, cert, proxies = session.verify, session.cert, session.proxies
        response = adapter.send(prepared, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        if prepared.hooks["response"]:  # the auth's own (a digest challenge, say)
            response = dispatch_hook("response", prepared.hooks, response, stream=True, timeout=timeout,
                                     verify=verify, cert=cert, proxies=proxies)
        if _sets_cookies(response.headers):  # a load balancer's sticky cookie, kept for the next calls
            extract_cookies_to_jar(session.cookies, prepared, response.raw)
        return response

    def _direct(self, adapter: "WatchedAdapter", method: str, url: str, body: bytes | None,
                content_type: str | None, timeout: Any) -> requests.Response | None:
        """The exchange straight through the origin's urllib3 pool, as the adapter would make it; None when
        it cannot be (a proxy, an auth that signs the request itself): the caller sends it the usual way.

        Byte for byte the request ``Session.request`` sends: the session's headers (the call's own win,
        names compared without case), its cookies, the auth's ``Authorization``, a ``Content-Length``; the
        pool the adapter would pick, its TLS settings checked as the adapter checks them, its failures
        raised as the adapter raises them."""
        session = self.session
        auth = session.auth
        signer = None
        if auth is not None:
            signer = getattr(auth, "authorization", None)
            if signer is None:
                return None  # it signs the prepared request: OAuth1, digest, the user's own
        proxies = session.proxies
        if proxies and select_proxy(url, proxies):  # type: ignore[arg-type]
            return None
        verify, cert = session.verify, session.cert
        pool = adapter.pool_for(url, verify, cert)
        if pool is None:
            return None
        adapter.cert_verify(pool, url, verify, cert)
        extra: dict[str, str] = {}
        if content_type:
            extra["content-type"] = content_type
        if body:
            extra["content-length"] = str(len(body))
        elif method not in ("GET", "HEAD"):
            extra["content-length"] = "0"
        if signer is not None:
            value = signer()
            if value:
                extra["authorization"] = value
        headers = {k: v for k, v in session.headers.items() if v is not None and k.lower() not in extra}
        prepared = requests.PreparedRequest()
        prepared.method, prepared.url, prepared.body = method.upper(), url, body or None
        prepared.headers = headers  # type: ignore[assignment]  # canonical names: read back as written
        jar = session.cookies
        if getattr(jar, "_cookies", True):  # an empty jar has nothing to send
            cookie = get_cookie_header(jar, prepared)
            if cookie:
                extra["cookie"] = cookie
        for name, value in extra.items():
            headers[_HEADER_NAMES[name]] = value
        cut = _path_start(url)
        try:
            answer = pool.urlopen(method, url[cut:] if cut >= 0 else "/", body=body or None, headers=headers,
                                  redirect=False, assert_same_host=False, preload_content=False,
                                  decode_content=False, retries=adapter.max_retries, timeout=_timeout(timeout),
                                  chunked=False)
        except Exception as exc:
            mapped = _as_requests_error(exc, prepared)
            if mapped is None:
                raise
            raise mapped from exc
        response = _answer(prepared, answer, adapter)
        if _sets_cookies(answer.headers):
            extract_cookies_to_jar(jar, prepared, answer)
        return response

    def prepare(self, method: str, url: str, params: Sequence[tuple[str, str]] | None, body: bytes | None,
                content_type: str | None) -> requests.PreparedRequest:
        """The request as ``Session.prepare_request`` would make it for this session (which reads no
        environment): its headers merged with the call's, its cookies, its auth."""
        session = self.session
        prepared = requests.PreparedRequest()
        prepared.method = method.upper()
        if params:
            url += ("&" if "?" in url else "?") + urlencode(list(params))
        if url.isascii() and _AS_WRITTEN.fullmatch(url):
            prepared.url = url
        else:  # an international host name, an escape, a space: what requests makes of them
            prepared.prepare_url(url, None)
        headers: CaseInsensitiveDict[str | bytes] = CaseInsensitiveDict(
            (k, v) for k, v in session.headers.items() if v is not None)
        if content_type:
            headers["Content-Type"] = content_type
        prepared.headers = headers
        jar = session.cookies
        prepared._cookies = jar  # type: ignore[attr-defined]
        if getattr(jar, "_cookies", True):  # an empty jar has nothing to send
            cookie = get_cookie_header(jar, prepared)
            if cookie:
                headers["Cookie"] = cookie
        prepared.body = body or None
        prepared.hooks = default_hooks()
        auth = session.auth
        if auth is not None:
            if isinstance(auth, tuple) and len(auth) == 2:
                auth = requests.auth.HTTPBasicAuth(*auth)
            signed = auth(prepared)
            prepared.__dict__.update(signed.__dict__)
        prepared.prepare_content_length(prepared.body)
        return prepared


def _answer(request: requests.PreparedRequest, raw: Any, adapter: BaseAdapter) -> requests.Response:
    """The ``requests.Response`` of urllib3's *raw* answer to *request*, as the adapter builds it, without
    copying the headers: urllib3's own mapping of them is read without case, as ``requests``' copy is."""
    response = requests.Response.__new__(requests.Response)
    headers = raw.headers
    response.__dict__.update(_content=False, _content_consumed=False, _next=None, status_code=raw.status,
                             headers=headers, raw=raw, url=request.url, encoding=get_encoding_from_headers(headers),
                             history=[], reason=raw.reason, cookies=RequestsCookieJar(), elapsed=_NO_TIME,
                             request=request, connection=adapter)
    return response


_HEADER_NAMES = {"content-type": "Content-Type", "content-length": "Content-Length", "authorization": "Authorization",
                 "cookie": "Cookie"}
_TIMEOUTS: dict[Any, Timeout] = {}
_NO_TIME = datetime.timedelta(0)


def _timeout(timeout: Any) -> Timeout:
    """*timeout* as urllib3 takes it, as ``requests`` converts it (a number, a (connect, read) pair or None)."""
    if isinstance(timeout, Timeout):
        return timeout
    try:
        made = _TIMEOUTS.get(timeout)
    except TypeError:
        made = None
    if made is None:
        if isinstance(timeout, tuple):
            try:
                connect, read = timeout
            except ValueError:
                raise ValueError(f"Invalid timeout {timeout}. Pass a (connect, read) timeout tuple, or a single "
                                 "float to set both timeouts to the same value.") from None
            made = Timeout(connect=connect, read=read)
        else:
            made = Timeout(connect=timeout, read=timeout)
        if len(_TIMEOUTS) < 64:
            _TIMEOUTS[timeout] = made
    return made


def _as_requests_error(exc: Exception, request: requests.PreparedRequest) -> Exception | None:
    """The ``requests`` exception its adapter raises for urllib3's *exc* (None: raised as it is)."""
    if isinstance(exc, (urllib3_errors.ProtocolError, OSError)):
        return requests.ConnectionError(exc, request=request)
    if isinstance(exc, urllib3_errors.MaxRetryError):
        reason = exc.reason
        if isinstance(reason, urllib3_errors.ConnectTimeoutError) \
                and not isinstance(reason, urllib3_errors.NewConnectionError):
            return requests.ConnectTimeout(exc, request=request)
        if isinstance(reason, urllib3_errors.ResponseError):
            return requests.exceptions.RetryError(exc, request=request)
        if isinstance(reason, urllib3_errors.ProxyError):
            return requests.exceptions.ProxyError(exc, request=request)
        if isinstance(reason, urllib3_errors.SSLError):
            return requests.exceptions.SSLError(exc, request=request)
        return requests.ConnectionError(exc, request=request)
    if isinstance(exc, urllib3_errors.ClosedPoolError):
        return requests.ConnectionError(exc, request=request)
    if isinstance(exc, urllib3_errors.ProxyError):
        return requests.exceptions.ProxyError(exc)
    if isinstance(exc, urllib3_errors.SSLError):
        return requests.exceptions.SSLError(exc, request=request)
    if isinstance(exc, urllib3_errors.ReadTimeoutError):
        return requests.ReadTimeout(exc, request=request)
    if isinstance(exc, urllib3_errors.InvalidHeader):
        return requests.exceptions.InvalidHeader(exc, request=request)
    return None


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
        # urllib3 raises the same SSLError for a failed handshake and for a TLS stream that broke after the
        # request went out (a bad record while the answer was read): only the first is safe to send again
        if while_connecting(exc) or any(isinstance(e, ssl.SSLCertVerificationError) for e in exception_chain(exc)):
            return retrying.NOT_SENT, "the TLS handshake failed (certificate?)"
        return retrying.SENT, "the TLS connection broke after the request was sent"
    if isinstance(exc, requests.ConnectionError):
        names = {type(e).__name__ for e in exception_chain(exc)}
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
