"""Tokens under concurrency: an expiry or a 401 mid-run costs one new token and no row; a refusal stays cheap.

Counts come from the emulator (``tokensIssued``), not from the client.
"""

from __future__ import annotations

import threading

import pandas as pd

import axframe as ax

from ..conftest import fast_retry


def users_frame(n: int, prefix: str) -> pd.DataFrame:
    return ax.add_record_id(pd.DataFrame({"firstName": ["F"] * n, "lastName": ["L"] * n,
                                          "email": [f"{prefix}{i}@example.com" for i in range(n)]}))


def issued(server) -> int:
    return server.stats()["tokensIssued"]


def test_one_expiry_mid_concurrent_run_is_one_refresh_and_no_failed_row(server, conn):
    server.faults.configure(latency=0.01)  # keep 8 calls in flight when the tokens die
    before = issued(server)
    expired = threading.Event()
    done = []

    def expire_once(pos, row):
        done.append(pos)
        if len(done) == 60 and not expired.is_set():
            with server.state.lock:
                assert server.state.expire_tokens() >= 1
            expired.set()

    result = ax.create(conn, "users.create", users_frame(200, "ex"), max_workers=8,
                      on_row=expire_once)
    assert expired.is_set()
    assert result.failure.empty, result.failure[["ErrorType", "Error"]].head()
    assert issued(server) - before == 1  # eight threads saw the 401; one of them asked for a token
    assert result.summary.tokens_requested == 1
    assert conn.stats["reauthentications"] >= 1
    assert sorted(u["email"] for u in server.state.users.values() if u["email"].startswith("ex")) == \
        sorted(f"ex{i}@example.com" for i in range(200))


def test_injected_401s_mid_concurrent_run_renew_once_each_and_lose_no_row(server, conn):
    # mid-run: the key has been let through to the endpoint already (a new token refused at once on an
    # endpoint never used is taken for a missing role, see the regression tests below)
    assert ax.create(conn, "users.create", users_frame(1, "warm")).failure.empty
    server.faults.configure(error_rates={401: 0.03}, seed=4)
    before = issued(server)
    result = ax.create(conn, "users.create", users_frame(300, "i401"), max_workers=8)
    refused = server.stats()["faults"]["counters"]["injected_401"]
    assert refused > 0
    assert result.failure.empty, result.failure[["ErrorType", "Error"]].head()
    new = issued(server) - before
    assert 1 <= new <= refused  # at most one token per 401; concurrent 401s of one token share one
    assert new == result.summary.tokens_requested


def test_new_token_that_expires_again_at_once_does_not_fail_the_run(server, conn):
    """Regression: a new token refused at once was taken for a missing role for every call after it."""
    before = issued(server)
    armed = []

    def expire_twice_after_the_first_row(pos, row):
        if not armed:
            armed.append(pos)
            server.faults.script("expire_token", "expire_token")  # the next call, and its retry

    result = ax.create(conn, "users.create", users_frame(10, "tw"), max_workers=1,
                      on_row=expire_twice_after_the_first_row)
    assert result.failure.empty, result.failure[["ErrorType", "Error"]]
    assert issued(server) - before == 2  # one token per expiry


def test_a_refusal_on_one_endpoint_does_not_stop_renewal_on_the_others(server):
    """Regression: after a role refusal, a later expiry of that token was never renewed (every call 401)."""
    conn = ax.authenticate(server.url, *server.artisan, retry=fast_retry())
    refused = ax.get(conn, "users.list", ax.add_record_id(pd.DataFrame({"x": range(3)})))  # curators only
    assert set(refused.failure["ErrorType"]) == {"Unauthorized"}
    assert ax.get(conn, "workflows.list").failure.empty
    with server.state.lock:
        server.state.expire_tokens()  # a Server restart, say
    before = issued(server)
    success, failure = ax.get(conn, "workflows.list")
    assert failure.empty, failure[["ErrorType", "Error"]]
    assert issued(server) - before == 1
    # and the refused endpoint is still refused cheaply
    again = ax.get(conn, "users.list", ax.add_record_id(pd.DataFrame({"x": range(5)})), max_workers=1)
    assert set(again.failure["ErrorType"]) == {"Unauthorized"}
    assert again.summary.tokens_requested <= 1


def test_role_lost_mid_run_spends_a_bounded_number_of_tokens(server, conn, ids):
    """A Curator demoted mid-run: the rest fail as Unauthorized, and asking for tokens soon stops."""
    curator_id = next(u["id"] for u in server.state.users.values() if u["apiKey"] == server.curator[0])
    frame = ax.add_record_id(pd.DataFrame({"x": range(40)}))
    done = []

    def demote_after_five(pos, row):
        done.append(pos)
        if len(done) == 5:
            with server.state.lock:
                server.state.users[curator_id]["role"] = "Artisan"

    result = ax.get(conn, "users.list", frame, max_workers=1, on_row=demote_after_five)
    assert len(result.success) == 5
    assert set(result.failure["ErrorType"]) == {"Unauthorized"} and len(result.failure) == 35
    assert result.summary.tokens_requested <= 5  # not one or more per row
