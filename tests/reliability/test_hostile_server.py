"""A Server that answers with redirects: nothing axframe sends may follow them to another address.

Two tiny loopback servers: one that redirects (307, which keeps method and body), one that records what
reaches it.  No emulator here on purpose: the emulator never redirects.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

import axframe as ax


class _Recorder(BaseHTTPRequestHandler):
    seen: list[bytes] = []

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        type(self).seen.append(self.rfile.read(length) + str(self.headers).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"access_token": "stolen", "expires_in": 3600, "id": "x"}')

    do_GET = do_POST = do_PUT = _any

    def log_message(self, *args) -> None:
        pass


def _answer_token(handler: BaseHTTPRequestHandler) -> None:
    """Answer a token request as a Server would."""
    body = b'{"access_token": "tok-0123456789abcdef", "token_type": "bearer", "expires_in": 3599}'
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _redirector(target: str, redirect_token: bool):
    class Redirector(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if self.path.endswith("/oauth2/token") and not redirect_token:
                _answer_token(self)
                return
            self.send_response(307)
            self.send_header("Location", f"{target}/steal{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = _any

        def log_message(self, *args) -> None:
            pass

    return Redirector


@pytest.fixture
def servers():
    _Recorder.seen = []
    started = []

    def start(handler):
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True  # a handler still trickling to a client that left is not waited for
        httpd.block_on_close = False
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


def test_a_redirected_token_request_is_refused_and_the_secret_goes_nowhere(servers):
    attacker = servers(_Recorder)
    server = servers(_redirector(attacker, redirect_token=True))
    with pytest.raises(ax.AuthenticationError, match="redirect to http://127.0.0.1"):
        ax.authenticate(server, "key-0123456789", "secret-0123456789")
    assert _Recorder.seen == []  # neither the Basic header nor the form fallback went there


def test_a_redirected_call_fails_its_row_and_its_body_goes_nowhere(servers):
    attacker = servers(_Recorder)
    server = servers(_redirector(attacker, redirect_token=False))
    conn = ax.authenticate(server, "key-0123456789", "secret-0123456789")
    frame = pd.DataFrame({"RecordID": [1], "firstName": ["Ann"], "lastName": ["Lee"],
                          "email": ["ann.lee@example.com"]})
    success, failure = ax.create(conn, "users.create", frame)
    assert success.empty and "axframe does not follow redirects" in failure.loc[0, "Error"]
    assert failure.loc[0, "StatusCode"] == 307
    assert conn.request("GET", "/v3/users").status_code == 307  # raw requests do not follow either
    assert _Recorder.seen == []
    conn.close()


def test_a_base_url_holding_a_password_is_refused():
    with pytest.raises(ax.ConfigurationError, match="user name or password") as caught:
        ax.authenticate("https://svc:P4ssw0rd-xyz@127.0.0.1:9/webapi", "key-0123456789", "secret-0123456789")
    assert "P4ssw0rd" not in str(caught.value)  # the message does not repeat the URL


def _bomb(tmp_path, megabytes: int) -> bytes:
    """A package whose workflow document unpacks to *megabytes* of spaces (a few KiB zipped)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.yxmd", "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            for _ in range(megabytes):
                member.write(block)
    return buffer.getvalue()


def test_a_zip_bomb_package_is_refused_without_unpacking_it(tmp_path, monkeypatch):
    import tracemalloc

    from axframe import packages

    monkeypatch.setattr(packages, "MAX_DOCUMENT_BYTES", 8 * 1024 * 1024)
    monkeypatch.setattr(packages, "MAX_UNPACKED_BYTES", 16 * 1024 * 1024)
    bomb = _bomb(tmp_path, 64)
    assert len(bomb) < 1024 * 1024  # small to send, 64 MiB to unpack
    tracemalloc.start()
    try:
        with pytest.raises(packages.PackageError, match="unpacks to more than"):
            packages.read_package(bomb)
        digest = packages.content_hash(bomb)  # falls back to hashing the bytes as they are
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(digest) == 64 and peak < 24 * 1024 * 1024  # never the whole 64 MiB in memory


class _Flood(BaseHTTPRequestHandler):
    """Tokens as usual; GET /webapi/v3/users answers 32 MiB without a length, GET /webapi/v3/usergroups
    declares 8 GiB, GET /webapi/v3/collections trickles a byte every 0.05 s (3 s in all)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _answer_token(self)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        try:
            if self.path.startswith("/webapi/v3/usergroups"):
                self.send_header("Content-Length", str(8 << 30))
                self.end_headers()
                self.wfile.write(b"[" * 1024)
            elif self.path.startswith("/webapi/v3/collections"):
                self.send_header("Content-Length", "60")
                self.end_headers()
                for _ in range(60):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            else:
                self.send_header("Connection", "close")
                self.end_headers()
                for _ in range(32):
                    self.wfile.write(b" " * (1 << 20))
        except OSError:
            pass  # the client stopped reading, as it should
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


def test_answers_too_large_or_too_slow_fail_their_row_without_exhausting_memory(servers):
    import tracemalloc

    server = servers(_Flood)
    conn = ax.authenticate(server, "key-0123456789", "secret-0123456789", max_answer_bytes=4 << 20,
                           answer_deadline=1.0)
    frame = pd.DataFrame({"RecordID": [1]})
    tracemalloc.start()
    try:
        for action, reason in (("users.list", "grew past max_answer_bytes"),
                               ("usergroups.list", "8,589,934,592 bytes"),
                               ("collections.list", "took longer than answer_deadline")):
            success, failure = ax.get(conn, action, frame)
            assert success.empty and failure.loc[0, "ErrorType"] == "AnswerRefused", failure.to_dict("records")
            assert reason in failure.loc[0, "Error"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        conn.close()
    assert peak < 24 << 20  # never the 32 MiB (let alone 8 GiB) in memory


class _HugeToken(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(b'{"access_token": "' + b"a" * (4 << 20) + b'"}')
        except OSError:
            pass

    def log_message(self, *args) -> None:
        pass


def test_a_token_answer_larger_than_any_token_is_refused(servers):
    server = servers(_HugeToken)
    with pytest.raises(ax.AuthenticationError, match="larger than"):
        ax.authenticate(server, "key-0123456789", "secret-0123456789")
