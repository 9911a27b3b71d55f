"""Answers no Server should give, as something in front of a Server gives them: trickles, HTML sign-in pages,
broken JSON, XML, endless bodies, gzip bombs, tokens that cannot be sent, lifetimes that are not numbers.

A tiny loopback HTTP server plays the part (the emulator answers like a Server, on purpose): every route
is a function of the request, set by the test.  Each case failed before axframe bounded it.
"""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import pandas as pd
import pytest

import axframe as ax

TOKEN = b'{"access_token": "tok-0123456789abcdef", "token_type": "bearer", "expires_in": 3599}'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: dict[str, Callable[["_Handler"], None]] = {}
    seen: list[str] = []

    def _any(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append(f"{self.command} {self.path}")
        for prefix, answer in self.routes.items():  # the first route whose text is in the path
            if prefix in self.path.split("?")[0]:
                try:
                    answer(self)
                except OSError:
                    pass  # the client stopped reading, as it should
                return
        self.reply(404, b'{"message": "no such route"}')

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def reply(self, status: int, body: bytes, kind: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def token(handler: _Handler) -> None:
    handler.reply(200, TOKEN)


@pytest.fixture
def hostile():
    """Start a hostile Server with ``hostile({route suffix: answer})``; its URL comes back."""
    servers = []

    def start(routes: dict) -> str:
        handler = type("Routes", (_Handler,), {"routes": {"/oauth2/token": token, **routes}, "seen": []})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append((httpd, handler))
        return f"http://127.0.0.1:{httpd.server_address[1]}/webapi"

    yield start
    for httpd, _ in servers:
        httpd.shutdown()
        httpd.server_close()


def trickle(body: bytes, every: float = 0.2) -> Callable[[_Handler], None]:
    def answer(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for byte in body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(every)
    return answer


def _users(n: int = 2) -> pd.DataFrame:
    return ax.add_record_id(pd.DataFrame({"firstName": ["F"] * n, "lastName": ["L"] * n,
                                          "email": [f"h{i}@example.com" for i in range(n)]}))


# --------------------------------------------------------------------------
# deadlines: wall-clock, whatever the chunk size
# --------------------------------------------------------------------------


def test_a_trickling_answer_ends_at_the_deadline(hostile):
    url = hostile({"/v3/collections": trickle(b'[' + b'{"id": "c"},' * 200 + b'{"id": "d"}]')})
    conn = ax.authenticate(url, "key-0123456789", "secret-0123456789", answer_deadline=2, timeout=2)
    started = time.monotonic()
    success, failure = ax.get(conn, "collections.list")
    took = time.monotonic() - started
    assert success.empty and failure.loc[0, "ErrorType"] == "AnswerRefused"
    assert "answer_deadline (2 s)" in failure.loc[0, "Error"]
    assert took < 15, took  # a byte every 0.2 s for 2,400 bytes would take 8 minutes


def test_a_trickled_status_line_ends_at_the_deadline_too(hostile):
    def headers_by_the_byte(handler: _Handler) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]":
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.2)

    url = hostile({"/v3/users": headers_by_the_byte})
    conn = ax.authenticate(url, "key-0123456789", "secret-0123456789", answer_deadline=2, timeout=2)
    started = time.monotonic()
    success, failure = ax.get(conn, "users.list")
    assert failure.loc[0, "ErrorType"] == "AnswerRefused" and time.monotonic() - started < 15


def test_a_trickling_token_answer_ends_at_the_deadline(hostile):
    url = hostile({"/oauth2/token": trickle(TOKEN)})
    started = time.monotonic()
    with pytest.raises(ax.AuthenticationError, match="within 2 s|longer than 2 s"):
        ax.authenticate(url, "key-0123456789", "secret-0123456789", answer_deadline=2, timeout=2)
    assert time.monotonic() - started < 15  # the whole token answer would take 17 s; both tries 34 s


# --------------------------------------------------------------------------
# a 200 that is not what the endpoint answers
# --------------------------------------------------------------------------

SIGN_IN = b"<!DOCTYPE html><html><head><title>Sign in to continue</title></head><body>...</body></html>"


@pytest.mark.parametrize("body,kind,what", [
    (SIGN_IN, "text/html", "an HTML page"),
    (b'{"id": "u1", "email": ', "application/json", "not valid JSON"),
    (b"<?xml version='1.0'?><user><id>u1</id></user>", "application/xml", "XML"),
], ids=["html", "broken-json", "xml"])
def test_a_200_that_is_not_json_fails_the_row_and_says_what_it_was(hostile, body, kind, what):
    url = hostile({"/v3/users": lambda h: h.reply(200, body, kind), "/admin/v2/users": lambda h: h.reply(200, body, kind)})
    conn = ax.authenticate(url, "key-0123456789", "secret-0123456789")
    success, failure = ax.create(conn, "users.create", _users(2))
    assert success.empty and failure["ErrorType"].tolist() == ["UnexpectedAnswer"] * 2
    error = failure.loc[0, "Error"]
    assert what in error and body[:20].decode() in error and "not sent again" in error
    success, failure = ax.get(conn, "users.list")
    assert success.empty and failure.loc[0, "ErrorType"] == "UnexpectedAnswer"
    with pytest.raises(ax.ListingError, match=what):  # a paged listing that does not parse raises, never empty
        ax.admin_listing(conn, "v2.users", first_page=1)


def test_a_download_answered_with_a_sign_in_page_fails(hostile, tmp_path):
    url = hostile({"/package": lambda h: h.reply(200, SIGN_IN, "text/html")})
    conn = ax.authenticate(url, "key-0123456789", "secret-0123456789")
    success, failure = ax.get(conn, "admin_v1.package", pd.DataFrame({"RecordID": [1], "appId": ["w1"]}),
                              download_dir=tmp_path)
    assert success.empty and failure.loc[0, "ErrorType"] == "UnexpectedAnswer"
    assert not list(tmp_path.iterdir())  # nothing saved as if it were the package


# --------------------------------------------------------------------------
# memory: endless answers and bombs
# --------------------------------------------------------------------------


def endless(handler: _Handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Connection", "close")
    handler.end_headers()
    block = b" " * (1 << 20)
    while True:
        handler.wfile.write(block)


def test_endless_answers_on_eight_workers_stay_within_the_bytes_in_flight(hostile):
    import tracemalloc

    url = hostile({"/v3/users/u": endless})
    conn = ax.authenticate(url, "key-0123456789", "secret-0123456789", max_bytes_in_flight=64 << 20,
                           max_answer_bytes=48 << 20)
    frame = pd.DataFrame({"RecordID": range(1, 9), "userId": [f"u{i}" for i in range(8)]})
    tracemalloc.start()
    try:
        success, failure = ax.get(conn, "users.get", frame, max_workers=8)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert success.empty and set(failure["ErrorType"]) == {"AnswerRefused"}
    assert peak < (64 + 48) << 20, peak >> 20  # not 8 x 48 MiB: the answers read at once share 64 MiB
    assert any("max_bytes_in_flight" in e for e in failure["Error"])
    assert conn.budget.held == 0  # every byte given back


def test_a_gzip_bomb_stops_at_the_answer_limit_decompressed(hostile):
    bomb = gzip.compress(b"[" + b" " * (200 << 20) + b"]", compresslevel=9)
    assert len(bomb) < 1 << 20
    url = hostile({"/v3/users": lambda h: h.reply(200, bomb, Content_Encoding="gzip")})
    conn = ax.authenticate(url, "key-0123456789", "secret-0123456789", max_answer_bytes=16 << 20)
    success, failure = ax.get(conn, "users.list")
    assert failure.loc[0, "ErrorType"] == "AnswerRefused" and "max_answer_bytes" in failure.loc[0, "Error"]


# --------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------


def test_a_token_with_a_line_break_is_refused_and_never_shown(hostile):
    poisoned = b'{"access_token": "abc\\r\\nX-Injected: evil-0123456789", "expires_in": 3599}'
    url = hostile({"/oauth2/token": lambda h: h.reply(200, poisoned)})
    with pytest.raises(ax.AuthenticationError) as caught:
        ax.authenticate(url, "key-0123456789", "secret-0123456789")
    assert "cannot be sent in a header" in str(caught.value)
    assert "Injected" not in str(caught.value) and "evil" not in repr(caught.value)


@pytest.mark.parametrize("lifetime", ['"NaN"', "-5", "1e300", "null", '"soon"'])
def test_a_lifetime_that_is_not_one_means_the_servers_3599_seconds(hostile, lifetime, caplog):
    answer = ('{"access_token": "tok-0123456789abcdef", "expires_in": %s}' % lifetime).encode()
    url = hostile({"/oauth2/token": lambda h: h.reply(200, answer),
                   "/v3/users": lambda h: h.reply(200, b"[]")})
    with caplog.at_level("WARNING", logger="axframe"):
        conn = ax.authenticate(url, "key-0123456789", "secret-0123456789")
        ax.get(conn, "users.list", pd.DataFrame({"RecordID": range(1, 101)}))
    assert conn.tokens_requested == 1  # not one per call
    assert conn.auth.lifetime == 3599
    assert sum("documented 3599 s" in r.getMessage() for r in caplog.records) == 1  # said once


# --------------------------------------------------------------------------
# waiting on a Server that says "later"
# --------------------------------------------------------------------------


def test_long_retry_afters_are_capped_and_slow_the_whole_run_once(hostile):
    turned = []

    def busy(handler: _Handler) -> None:
        turned.append(time.monotonic())
        handler.reply(429, b'{"message": "slow down"}', Retry_After="300")

    url = hostile({"/v3/users": busy})
    waits: list[float] = []
    policy = ax.RetryPolicy(max_attempts=3, max_retry_after=0.2, max_wait_per_call=10, max_wait_per_run=0.5)
    conn = ax.client.Connection(url, "key-0123456789", "secret-0123456789", retry=policy,
                                sleep=lambda s: (waits.append(s), time.sleep(min(s, 0.05))))
    conn.check()
    success, failure = ax.get(conn, "users.list", pd.DataFrame({"RecordID": range(1, 9)}), max_workers=4)
    assert success.empty and set(failure["ErrorType"]) == {"TooManyRequests"}
    assert max(waits) <= 0.2  # Retry-After: 300 is capped
    assert any("max_wait_per_run" in e for e in failure["Error"])  # the run's budget, said so
    assert len(turned) < 8 * 3  # the budget spent, the rest fail at once rather than each wait on


def test_a_journal_of_another_action_is_a_usage_error_on_the_command_line(tmp_path, server):
    from ..cli.test_cli import run_cli

    source = ax.write_frame(pd.DataFrame({"RecordID": [1], "name": ["x"]}), tmp_path / "in.csv")
    journal = tmp_path / "run.journal"
    first = run_cli(["create", "collections.create", "-i", str(source), "--journal", str(journal)], server)
    assert first.returncode == 0, first.stderr
    other = run_cli(["create", "usergroups.create", "-i", str(source), "--journal", str(journal), "--overwrite"],
                    server)
    assert other.returncode == 2 and "Traceback" not in other.stderr
    assert "belongs to a run of 'collections.create'" in other.stderr
