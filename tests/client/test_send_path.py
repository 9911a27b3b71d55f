"""The send path: calls skip ``Session.request`` but honour everything the session holds, and the secret
registry holds only the secrets of live connections and tokens.

A call is prepared once and sent through the adapter mounted on the connection's session, so what a
user configures on ``conn.session`` must still reach the wire when the call is sent: a mounted adapter,
headers, cookies (sent, and those an answer sets kept), proxies, ``verify`` and ``cert``.  The request it
prepares is the one ``requests`` would prepare for the same call.
"""

from __future__ import annotations

import gc
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

import axframe as ax
from axframe.client import Call
from axframe.client import secrets
from axframe.client.transport import Sender, WSGIAdapter

from ..conftest import fast_retry


class Recording(WSGIAdapter):
    """The in-process adapter, keeping what each send was given."""

    def __init__(self, app):
        super().__init__(app)
        self.sent: list[tuple[requests.PreparedRequest, dict]] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append((request.copy(), dict(verify=verify, cert=cert, proxies=dict(proxies or {}),
                                               timeout=timeout, stream=stream)))
        return super().send(request, stream, timeout, verify, cert, proxies)


def _mount(conn, adapter) -> None:
    base = conn.base_url.split("/webapi")[0]
    conn.session.mount(base + "/", adapter)


def test_a_session_s_mounted_adapter_headers_verify_and_cert_are_honoured_when_a_call_is_sent(server, conn):
    recording = Recording(server.wsgi_app)
    _mount(conn, recording)  # mounted after the connection was made
    conn.session.headers["X-Trace"] = "trace-1"
    conn.session.verify = __file__
    conn.session.cert = ("client.pem", "client.key")
    outcome = conn.send(Call("GET", "/v3/collections"))
    assert outcome.ok, outcome.error
    prepared, settings = recording.sent[-1]
    assert prepared.headers["X-Trace"] == "trace-1" and prepared.headers["Authorization"].startswith("Bearer ")
    assert settings["verify"] == __file__ and settings["cert"] == ("client.pem", "client.key")
    assert settings["stream"] is True


class _Balancer(BaseHTTPRequestHandler):
    """A load balancer on a loopback socket, in front of a tiny Server: it sets a sticky cookie on the
    first answer and records the Cookie header of every request."""

    cookies: list[str] = []

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, body: bytes, cookie: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            self.send_header("Set-Cookie", "ARRAffinity=node-7; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(b'{"access_token": "tok-0123456789abcdef", "expires_in": 3599}', cookie=False)

    def do_GET(self):
        _Balancer.cookies.append(self.headers.get("Cookie", ""))
        self._answer(b"[]", cookie=len(_Balancer.cookies) == 1)


@pytest.fixture
def balancer():
    _Balancer.cookies = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Balancer)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_cookies_are_sent_and_those_an_answer_sets_are_kept(balancer):
    with ax.authenticate(balancer, "cookie-key-0001", "cookie-secret-0001", retry=fast_retry()) as conn:
        conn.session.cookies.set("Chosen", "by-the-user")
        assert conn.send(Call("GET", "/v3/collections")).ok
        assert conn.session.cookies.get("ARRAffinity") == "node-7"  # a load balancer's sticky cookie, kept
        assert conn.send(Call("GET", "/v3/collections")).ok
    first, second = _Balancer.cookies
    assert "Chosen=by-the-user" in first and "ARRAffinity" not in first
    assert "ARRAffinity=node-7" in second and "Chosen=by-the-user" in second


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_proxies_set_on_the_session_are_used_when_a_call_is_sent(server, socket_conn):
    assert socket_conn.send(Call("GET", "/v3/collections")).ok  # direct, and the pool is kept
    before = server.stats()["requests"]
    port = _closed_port()
    socket_conn.session.proxies["http"] = f"http://127.0.0.1:{port}"
    outcome = socket_conn.send(Call("GET", "/v3/collections"))
    assert not outcome.ok and outcome.error_type == ax.ErrorType.CONNECTION
    assert f"127.0.0.1:{port}" in outcome.error and "never reached the Server" in outcome.error
    assert server.stats()["requests"] == before  # it went to the (dead) proxy, not to the kept pool
    del socket_conn.session.proxies["http"]
    assert socket_conn.send(Call("GET", "/v3/collections")).ok


def test_a_closed_adapter_s_pools_are_found_again(server, socket_conn):
    assert socket_conn.send(Call("GET", "/v3/collections")).ok
    socket_conn.session.get_adapter(socket_conn.base_url).close()  # its pools closed, as Session.close does
    assert socket_conn.send(Call("GET", "/v3/collections")).ok


def test_a_session_that_reads_the_environment_goes_through_session_request(server, socket_conn, monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert socket_conn.send(Call("GET", "/v3/collections")).ok  # the environment was read once, when made
    socket_conn.session.trust_env = True  # the user asks requests to read it on every call
    before = server.stats()["requests"]
    outcome = socket_conn.send(Call("GET", "/v3/collections"))
    assert not outcome.ok and f"through the proxy http://127.0.0.1:{port} (" in outcome.error, outcome.error
    assert server.stats()["requests"] == before


@pytest.mark.parametrize("path, params", [
    ("/v3/collections", []),
    ("/v3/users/abc%2Fdef", []),
    ("/v3/users/%C3%A9t%C3%A9", [("view", "Full")]),
    ("/v3/users", [("email", "a+b@example.com"), ("name", "Zoë Ünal"), ("x", "1&2=3")]),
    ("/v3/users/a b", [("q", "~!*'()")]),
    ("/v3/users/%7Euser", []),
    ("/v1/workflows/subscription/", [("limit", "1"), ("sortField", "uploaddate")]),
])
@pytest.mark.parametrize("method, body, content_type", [
    ("GET", None, None), ("POST", b'{"name": "x"}', "application/json"), ("DELETE", None, None),
    ("PUT", b"", "application/json"),
])
def test_a_call_is_prepared_as_requests_prepares_it(conn, path, params, method, body, content_type):
    session = conn.session
    session.cookies.set("Sticky", "1")
    url = conn.base_url + path
    ours = Sender(session).prepare(method, url, params, body, content_type)
    theirs = session.prepare_request(requests.Request(method, url, params=params or None, data=body,
                                                      headers={"Content-Type": content_type} if content_type
                                                      else None))
    assert ours.url == theirs.url and ours.method == theirs.method and ours.body == theirs.body
    assert dict(ours.headers) == dict(theirs.headers)


def test_an_answer_is_read_whole_and_a_redirect_is_not_followed(server, socket_conn):
    outcome = socket_conn.send(Call("GET", "/v3/collections"))
    assert outcome.ok and isinstance(outcome.json(), list)
    raw = socket_conn.request("GET", "/v3/collections")  # the raw route stays Session.request
    assert raw.status_code == 200


# --------------------------------------------------------------------------
# the secret registry
# --------------------------------------------------------------------------


def test_the_registry_keeps_only_the_secrets_of_live_connections(server):
    gc.collect()
    baseline = secrets.live_secrets()
    kept = ax.authenticate(server.url, *server.curator, retry=fast_retry())
    token = kept.auth._token
    with_one = secrets.live_secrets()
    assert with_one > baseline and secrets.redact(f"x {token} y") == "x *** y"
    for i in range(50):  # connections made and dropped, never checked nor closed
        ax.Connection(server.url, f"dropped-key-{i:04d}", f"dropped-secret-{i:04d}")
    gc.collect()
    assert secrets.live_secrets() == with_one  # the registry did not grow with connections gone
    assert secrets.redact(f"{server.curator[1]} {token}") == "*** ***"  # the live one is still masked
    kept.close()
    assert secrets.redact(token) == token  # a closed connection's token is useless and forgotten
    assert secrets.redact(server.curator[1]) == "***"  # its key and secret: while the connection lives
    del kept
    gc.collect()
    assert secrets.live_secrets() == baseline


def test_a_key_whose_connection_is_gone_is_still_masked_in_log_records(server, caplog):
    key = "gone-key-0123456789"
    conn = ax.Connection(server.url, key, "gone-secret-0123456789")
    del conn
    gc.collect()
    assert secrets.redact(key) == key  # answers: live secrets only
    caplog.set_level(logging.DEBUG, logger="oauthlib")
    logging.getLogger("oauthlib").debug("signing with %s", key)  # a library that logs the key it signs with
    assert caplog.records and key not in caplog.text and "signing with ***" in caplog.text


def test_tokens_of_a_connection_dropped_without_closing_leave_the_registry(server):
    gc.collect()
    baseline = secrets.live_secrets()
    conn = ax.authenticate(server.url, *server.curator, retry=fast_retry())
    assert conn.send(Call("GET", "/v3/collections")).ok
    token = conn.auth._token
    assert secrets.redact(token) == "***"
    del conn
    gc.collect()
    assert secrets.live_secrets() == baseline and secrets.redact(token) == token


def test_a_renewed_token_replaces_the_one_before_last_in_the_registry(server):
    conn = ax.authenticate(server.url, *server.curator, retry=fast_retry())
    first = conn.auth._token
    second = conn.auth.refresh(stale=first)
    third = conn.auth.refresh(stale=second)
    assert len({first, second, third}) == 3
    assert secrets.redact(f"{first}|{second}|{third}") == f"{first}|***|***"  # two live at most
    conn.close()


def test_scrub_finds_secret_names_in_any_case_across_chunk_boundaries():
    filler = "x" * ((1 << 20) - 4)
    for name in ("apiSecret", "APIKEY", "Access_Token", "newPassWord"):
        text = '{"a": "' + filler + '", "' + name + '": "hidden-value"}'
        assert "hidden-value" not in secrets.scrub(text), name
    clean = '{"a": "' + filler + '", "name": "visible"}'
    assert secrets.scrub(clean) is clean
