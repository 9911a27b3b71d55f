"""The direct send path on the wire: what reaches a loopback socket, over HTTP and over TLS.

A call goes straight through the origin's urllib3 pool (not ``requests``' adapter), so these tests
look at the bytes a recording server receives: the same request ``Session.request`` sends, the
socket's timeout set once per connection rather than twice per exchange, a large upload not cut
short by the connect timeout, and TLS checked against the CA bundle given.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import trustme

import axframe as ax
from axframe.client import Call
from urllib3.util import SKIP_HEADER

from ..conftest import fast_retry

TOKEN = b'{"access_token": "wire-token-0123456789abcdef", "expires_in": 3599}'


class _Recorder(BaseHTTPRequestHandler):
    """A tiny Server on HTTP/1.1 (connections kept alive) that records every request it is sent."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, dict[str, str], bytes]] = []
    ports: set[int] = set()  # the recorders' own
    delay_reading = 0.0
    corrupt_answers = False  # answer the calls (not the token) with a TLS record no key can read

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self) -> bytes:
        if self.delay_reading and self.path != "/webapi/oauth2/token":
            time.sleep(self.delay_reading)  # the request's body waits in the socket's buffers meanwhile
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Recorder.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        return body

    def _corrupt(self) -> bool:
        if not (self.corrupt_answers and self.path != "/webapi/oauth2/token"):
            return False
        # a TLS application-data record written past the TLS layer: the client cannot decrypt it
        os.write(self.connection.fileno(), b"\x17\x03\x03\x00\x40" + bytes(range(64)))
        self.close_connection = True
        return True

    def do_POST(self):
        body = self._record()
        if self._corrupt():
            return
        self._answer(TOKEN if self.path == "/webapi/oauth2/token" else json.dumps(len(body)).encode())

    do_PUT = do_DELETE = do_POST

    def do_GET(self):
        self._record()
        if self._corrupt():
            return
        self._answer(b"[]")


def _serve(tls: ssl.SSLContext | None = None):
    _Recorder.seen = []
    _Recorder.delay_reading = 0.0
    _Recorder.corrupt_answers = False
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.daemon_threads = True
    _Recorder.ports.add(httpd.server_address[1])
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd


@pytest.fixture
def recorder():
    httpd = _serve()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def tls_recorder(ca, tmp_path):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    httpd = _serve(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}", str(bundle)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def count_settimeout(monkeypatch):
    """How many times a socket's timeout is really set (a system call each)."""
    calls = []
    for cls in (socket.socket, ssl.SSLSocket):
        real = cls.settimeout

        def counting(self, value, _real=real):
            calls.append(value)
            return _real(self, value)

        monkeypatch.setattr(cls, "settimeout", counting)
    return calls


@pytest.mark.parametrize("method, path, params, body, content_type", [
    ("GET", "/v3/collections", [], None, None),
    ("GET", "/v3/users", [("email", "a+b@example.com"), ("view", "Full")], None, None),
    ("POST", "/v3/collections", [], b'{"name": "x"}', "application/json"),
    ("PUT", "/v3/collections/abc", [], b"", "application/json"),
    ("DELETE", "/v3/collections/abc", [("force", "true")], None, None),
])
def test_the_direct_path_sends_what_session_request_sends(recorder, method, path, params, body, content_type):
    with ax.authenticate(recorder, "wire-key-0001", "wire-secret-0001", retry=fast_retry()) as conn:
        conn.session.headers["X-Trace"] = "trace-1"
        conn.session.cookies.set("Sticky", "node-2")
        url = conn.base_url + path
        ours = conn._sender.send(method, url, params, body, content_type, conn.timeout)
        theirs = conn.session.request(method, url, params=params or None, data=body, timeout=conn.timeout,
                                      headers={"Content-Type": content_type} if content_type else None,
                                      allow_redirects=False)
        assert ours.status_code == theirs.status_code == 200 and ours.content == theirs.content
    sent_ours, sent_theirs = _Recorder.seen[-2:]
    assert sent_ours == sent_theirs
    assert sent_ours[2]["authorization"].startswith("Bearer wire-token") and sent_ours[2]["cookie"] == "Sticky=node-2"
    assert sent_ours[2]["x-trace"] == "trace-1"


def test_an_open_connection_s_timeout_is_set_once_not_twice_per_exchange(recorder, count_settimeout):
    with ax.authenticate(recorder, "wire-key-0002", "wire-secret-0002", retry=fast_retry()) as conn:
        assert conn.send(Call("GET", "/v3/collections")).ok  # the connection is opened
        before = len(count_settimeout)
        for _ in range(20):
            assert conn.send(Call("POST", "/v3/collections", body=b'{"name": "y"}',
                                  content_type="application/json")).ok
    assert len(count_settimeout) - before <= 2, count_settimeout[before:]


def test_over_tls_the_ca_bundle_is_checked_and_the_timeout_is_set_once(tls_recorder, count_settimeout):
    url, bundle = tls_recorder
    with ax.authenticate(url, "wire-key-0003", "wire-secret-0003", ca_bundle=bundle, retry=fast_retry()) as conn:
        assert conn.send(Call("GET", "/v3/collections")).ok
        before = len(count_settimeout)
        for _ in range(20):
            assert conn.send(Call("GET", "/v3/collections")).ok
        assert len(count_settimeout) - before <= 2, count_settimeout[before:]
    assert len(_Recorder.seen) == 22  # a token and 21 calls, all over TLS
    with pytest.raises(ax.ServerUnreachable, match="SSLError"):  # the system's CAs do not know this one
        ax.authenticate(url, "wire-key-0004", "wire-secret-0004", retry=fast_retry())


def test_a_tls_stream_that_breaks_after_a_create_went_out_is_not_sent_again(tls_recorder):
    # urllib3 raises one SSLError for a failed handshake and for a bad record in the answer: the second
    # comes after the Server had the request, and a create sent again could be made twice
    url, bundle = tls_recorder
    with ax.authenticate(url, "wire-key-0010", "wire-secret-0010", ca_bundle=bundle, retry=fast_retry()) as conn:
        _Recorder.corrupt_answers = True
        outcome = conn.send(Call("POST", "/v3/collections", body=b'{"name": "once"}',
                                 content_type="application/json"))
    creates = [seen for seen in _Recorder.seen if seen[0] == "POST" and seen[1].endswith("/v3/collections")]
    assert len(creates) == 1
    assert outcome.error_type == ax.ErrorType.OUTCOME_UNKNOWN, outcome.error
    assert "TLS connection broke after the request was sent" in outcome.error


def test_a_tls_stream_that_breaks_under_a_read_is_sent_again(tls_recorder):
    url, bundle = tls_recorder
    with ax.authenticate(url, "wire-key-0011", "wire-secret-0011", ca_bundle=bundle,
                         retry=ax.RetryPolicy(max_attempts=3, base_delay=0.005, max_delay=0.02)) as conn:
        _Recorder.corrupt_answers = True
        outcome = conn.send(Call("GET", "/v3/collections"))
    reads = [seen for seen in _Recorder.seen if seen[0] == "GET"]
    assert len(reads) == 3  # a read may go again: every attempt reached the Server
    assert outcome.error_type == ax.ErrorType.CONNECTION, outcome.error
    assert "TLS connection broke" in outcome.error and "3 attempts" in outcome.error


def test_a_large_upload_to_a_slow_reader_is_not_cut_short_by_the_connect_timeout(recorder):
    body = json.dumps({"name": "z" * (8 << 20)}).encode()  # far more than the sockets' buffers hold
    with ax.authenticate(recorder, "wire-key-0005", "wire-secret-0005", timeout=(0.3, 30),
                         retry=fast_retry()) as conn:
        assert conn.send(Call("GET", "/v3/collections")).ok  # the connection is open
        _Recorder.delay_reading = 1.0  # the Server reads the next request a second late
        outcome = conn.send(Call("POST", "/v3/collections", body=body, content_type="application/json"))
    assert outcome.ok, outcome.error
    assert outcome.json() == len(body)


def test_the_read_timeout_still_bounds_the_wait_for_an_answer(recorder):
    with ax.authenticate(recorder, "wire-key-0006", "wire-secret-0006", timeout=(5, 0.3),
                         retry=fast_retry()) as conn:
        assert conn.send(Call("GET", "/v3/collections")).ok
        _Recorder.delay_reading = 1.5
        outcome = conn.send(Call("GET", "/v3/collections"))
    assert not outcome.ok and outcome.error_type == ax.ErrorType.TIMEOUT, outcome.error


def test_a_session_request_through_the_same_adapter_still_gets_a_full_response(recorder):
    with ax.authenticate(recorder, "wire-key-0007", "wire-secret-0007", retry=fast_retry()) as conn:
        raw = conn.request("GET", "/v3/collections")
    assert isinstance(raw, requests.Response) and raw.json() == [] and raw.headers["content-type"].startswith(
        "application/json")


def test_a_call_does_not_go_through_the_adapter_s_send(recorder, monkeypatch):
    from axframe.client.transport import WatchedAdapter

    def refuse(*args, **kwargs):
        raise AssertionError("the adapter's send was used")

    with ax.authenticate(recorder, "wire-key-0008", "wire-secret-0008", retry=fast_retry()) as conn:
        monkeypatch.setattr(WatchedAdapter, "send", refuse)
        assert conn.send(Call("GET", "/v3/collections")).ok
        assert conn.send(Call("POST", "/v3/collections", body=b"{}", content_type="application/json")).ok


@pytest.fixture
def count_sends(monkeypatch):
    """The sizes of what clients hand their sockets (not the recorder's answers), one entry per ``sendall``
    (a system call or more)."""
    sizes = []
    for cls in (socket.socket, ssl.SSLSocket):
        real = cls.sendall

        def counting(self, data, *args, _real=real):
            if self.getsockname()[1] not in _Recorder.ports:
                sizes.append(len(data))
            return _real(self, data, *args)

        monkeypatch.setattr(cls, "sendall", counting)
    return sizes


def test_a_request_s_head_and_small_body_go_out_in_one_send(recorder, tls_recorder, count_sends):
    url, bundle = tls_recorder
    for base, extra in ((recorder, {}), (url, {"ca_bundle": bundle})):
        with ax.authenticate(base, "wire-key-0009", "wire-secret-0009", retry=fast_retry(), **extra) as conn:
            assert conn.send(Call("GET", "/v3/collections")).ok
            count_sends.clear()
            body = b'{"name": "' + b"n" * 1000 + b'"}'
            for _ in range(5):
                assert conn.send(Call("POST", "/v3/collections", body=body, content_type="application/json")).ok
            assert len(count_sends) == 5 and all(size > len(body) for size in count_sends), count_sends
            count_sends.clear()
            big = b'{"name": "' + b"n" * (200 << 10) + b'"}'  # a large body is not copied behind the head
            outcome = conn.send(Call("POST", "/v3/collections", body=big, content_type="application/json"))
            assert outcome.ok and outcome.json() == len(big)
            assert len(count_sends) == 2 and count_sends[1] == len(big), count_sends
    assert [len(seen[3]) for seen in _Recorder.seen[-6:]] == [1012] * 5 + [len(big)]


class _Heads(BaseHTTPRequestHandler):
    """Answers with the raw head of the path's number in HEADS (as a Server writes it)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        head, body = HEADS[int(self.path.rsplit("/", 1)[1])]
        self.wfile.write(head + body)
        # an answer without a length it can read ends where the connection does
        self.close_connection = head.startswith(b"HTTP/1.0") or b"X Bad" in head

    def do_POST(self):  # the token
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(TOKEN), TOKEN))


HEADS = [
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n", b"[]"),
    (b"HTTP/1.1 201 Created\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2\r\nX-Empty:\r\nX-Pad:  \t v  \r\n"
     b"Content-Length: 2\r\n\r\n", b"{}"),
    (b"HTTP/1.1 200 OK\r\nX-Folded: one\r\n  two\r\nContent-Length: 2\r\n\r\n", b"[]"),  # obsolete folding
    (b"HTTP/1.1 200 OK\r\nX Bad: spaced name\r\nContent-Length: 2\r\n\r\n", b"[]"),  # the rest is lost
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"2\r\n[]\r\n0\r\n\r\n"),
    (b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
     b"Connection: keep-alive\r\nX-Latin: caf\xe9\r\n\r\n", b"[]"),
    (b"HTTP/1.1 204 No Content\r\nX-Only: head\r\n\r\n", b""),
    (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"until the connection closes"),
]


@pytest.mark.parametrize("number", range(len(HEADS)))
def test_an_answer_s_head_reads_as_http_client_reads_it(number):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Heads)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        stock = requests.Session()  # requests' own adapter: http.client's email parser
        theirs = stock.get(f"{base}/{number}", timeout=10)
        with ax.authenticate(base, "wire-key-0010", "wire-secret-0010", retry=fast_retry()) as conn:
            ours = conn._sender.send("GET", f"{base}/{number}", None, None, None, conn.timeout)
    finally:
        httpd.shutdown()
        httpd.server_close()
    mine, stock_msg = ours.raw._original_response.msg, theirs.raw._original_response.msg
    assert list(mine.items()) == list(stock_msg.items())
    assert [type(d) for d in mine.defects] == [type(d) for d in stock_msg.defects]
    assert mine.get_payload() == stock_msg.get_payload()
    assert (ours.status_code, ours.reason, ours.content) == (theirs.status_code, theirs.reason, theirs.content)
    assert {k.lower(): ours.headers[k] for k in ours.headers} == {k.lower(): v for k, v in theirs.headers.items()}
    assert ours.raw._original_response.will_close == theirs.raw._original_response.will_close


def _raw_server():
    """A loopback socket that records each request's raw bytes (one per connection) and answers 200."""
    listener = socket.create_server(("127.0.0.1", 0))
    raw: list[bytes] = []

    def serve():
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            with sock:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += sock.recv(65536) or b"\r\n\r\n"
                head = data.split(b"\r\n\r\n", 1)[0].lower()
                length = int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0]) \
                    if b"content-length: " in head else 0
                while len(data) < len(head) + 4 + length or \
                        (b"transfer-encoding: chunked" in head and not data.endswith(b"0\r\n\r\n")):
                    data += sock.recv(65536)
                raw.append(data)
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    threading.Thread(target=serve, daemon=True).start()
    return listener, raw


REQUESTS_LIKE = {"User-Agent": "python-requests/2.32", "Accept-Encoding": "gzip, deflate", "Accept": "*/*",
                 "Connection": "keep-alive", "Authorization": "Bearer wire-token-0123456789abcdef"}
PLAIN_HEADS = [  # the plain path writes these at once
    ("GET", "/webapi/v3/collections?view=Full", None, REQUESTS_LIKE),
    ("POST", "/webapi/v3/collections", b'{"name": "x"}',
     {**REQUESTS_LIKE, "Content-Type": "application/json", "Content-Length": "13"}),
    ("POST", "/webapi/v3/collections", b'{"name": "y"}', {**REQUESTS_LIKE, "Content-Type": "application/json"}),
    ("POST", "/webapi/v3/collections", None, REQUESTS_LIKE),  # urllib3 frames it: Content-Length: 0
    ("PUT", "/webapi/v3/collections/abc", b"", {**REQUESTS_LIKE, "Content-Type": "application/json"}),
    ("DELETE", "/webapi/v3/collections/abc?force=true", None, REQUESTS_LIKE),
    ("GET", "/webapi/v3/users", None, {**REQUESTS_LIKE, "X-Note": "caf\u00e9 \t\x00 ok", "Host": "alias:81"}),
    ("POST", "/webapi/v3/collections", b"z" * (100 << 10), {**REQUESTS_LIKE, "Content-Type": "text/plain"}),
]
OTHER_HEADS = [  # these go urllib3's way
    ("GET", "/webapi/v3/users", None, {**REQUESTS_LIKE, "X-Folded": "one\r\n\ttwo"}),
    ("GET", "/webapi/v3/users", None, {"Accept": "*/*"}),  # urllib3 adds its User-Agent
    ("GET", "/webapi/v3/users", None, {**REQUESTS_LIKE, "User-Agent": SKIP_HEADER}),
    ("POST", "/webapi/v3/users", b"[]", {**REQUESTS_LIKE, "Transfer-Encoding": "chunked"}),
]


@pytest.mark.parametrize("case", PLAIN_HEADS + OTHER_HEADS)
def test_a_request_s_head_is_the_bytes_urllib3_writes(case, monkeypatch):
    import http.client

    from urllib3.connection import HTTPConnection

    from axframe.client.wire import POOLS

    method, url, body, headers = case
    listener, raw = _raw_server()
    port = listener.getsockname()[1]
    puts: list[str] = []
    real_putheader = http.client.HTTPConnection.putheader

    def counting(self, header, *values):
        puts.append(header)
        return real_putheader(self, header, *values)

    monkeypatch.setattr(http.client.HTTPConnection, "putheader", counting)
    try:
        for cls in (POOLS["http"].ConnectionCls, HTTPConnection):  # ours, then stock urllib3's
            puts.clear()
            conn = cls("127.0.0.1", port, timeout=10)
            conn.request(method, url, body=body, headers=dict(headers))
            answer = conn.getresponse()
            assert answer.status == 200 and answer.data == b"ok"
            conn.close()
            if cls is not HTTPConnection:
                ours_puts = list(puts)
    finally:
        listener.close()
    ours, stock = raw
    assert ours == stock
    if case in PLAIN_HEADS:  # written at once: only Host (unless given) through putheader
        assert ours_puts == ([] if "Host" in headers else ["Host"]) and len(puts) > len(ours_puts)
    else:
        assert ours_puts == puts


@pytest.mark.parametrize("name, value, error", [("X-Snow", "\u2603", UnicodeEncodeError),
                                                ("X:Bad", "v", ValueError), ("X-Split", "a\nb", ValueError)])
def test_a_head_urllib3_refuses_is_refused_the_same_way(name, value, error):
    from urllib3.connection import HTTPConnection

    from axframe.client.wire import POOLS

    listener, raw = _raw_server()
    try:
        for cls in (POOLS["http"].ConnectionCls, HTTPConnection):
            conn = cls("127.0.0.1", listener.getsockname()[1], timeout=10)
            with pytest.raises(error):
                conn.request("GET", "/webapi/v3/users", headers={**REQUESTS_LIKE, name: value})
            conn.close()
    finally:
        listener.close()
    assert raw == []
