"""The engine under faults: retries, unknown outcomes, token renewal; auth; secrets; the invariant."""

from __future__ import annotations

import json
import logging
import string

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import axframe as ax
from axframe.emulator import Emulator

from ..conftest import fast_retry


@pytest.fixture
def conn(socket_conn):
    """Over a real loopback socket: this module is about the transport and faults on the wire."""
    return socket_conn



def users_frame(n, prefix="u"):
    return ax.add_record_id(pd.DataFrame({"firstName": ["F"] * n, "lastName": ["L"] * n,
                                          "email": [f"{prefix}{i}@example.com" for i in range(n)]}))


def emails(server):
    return [u["email"] for u in server.state.users.values()]


def test_503_and_429_are_retried_until_success(server):
    # a fifth of all calls refused; ten attempts make giving up on a row a one-in-ten-million event
    conn = ax.authenticate(server.url, *server.curator,
                           retry=ax.RetryPolicy(max_attempts=10, base_delay=0.001, max_delay=0.01))
    server.faults.configure(error_rates={503: 0.12, 429: 0.08}, retry_after=0, seed=3)
    result = ax.create(conn, "users.create", users_frame(60), max_workers=4)
    assert result.failure.empty, result.failure[["ErrorType", "Error"]].head()
    assert result.summary.retries > 0
    made = emails(server)
    assert all(made.count(f"u{i}@example.com") == 1 for i in range(60))


def test_retries_give_up_with_a_clear_error(server, conn):
    server.faults.configure(error_rates={503: 1.0}, retry_after=0)
    success, failure = ax.get(conn, "usergroups.list")
    assert failure.loc[0, "ErrorType"] == "ServiceUnavailable" and failure.loc[0, "StatusCode"] == 503
    assert "after 6 attempts" in failure.loc[0, "Error"]


def test_reset_of_a_sent_post_is_an_unknown_outcome_even_when_nothing_was_applied(server, conn):
    # the client cannot tell a reset before applying from one after: it never resends blindly
    server.faults.script("reset_before")
    frame = ax.add_record_id(pd.DataFrame({"name": ["rb0", "rb1", "rb2"]}))
    success, failure = ax.create(conn, "collections.create", frame)  # collections have no natural key
    assert list(failure["ErrorType"]) == ["OutcomeUnknown"]
    made = collections_named(server, "rb")
    assert made == sorted(success["name"]) and failure.loc[0, "name"] not in made


def collections_named(server, prefix):
    return sorted(c["name"] for c in server.state.collections.values() if c["name"].startswith(prefix))


def test_reset_after_applying_a_post_without_natural_key_is_unknown_not_a_duplicate(server, conn):
    server.faults.script("reset_after")
    success, failure = ax.create(conn, "collections.create", pd.DataFrame({"RecordID": [1], "name": ["ra0"]}))
    assert failure.loc[0, "ErrorType"] == "OutcomeUnknown"
    assert "may or may not have applied" in failure.loc[0, "Error"]
    assert collections_named(server, "ra0") == ["ra0"]


def test_reset_after_applying_a_user_create_is_reconciled_by_email(server, conn):
    server.faults.script("reset_after")
    result = ax.create(conn, "users.create", users_frame(1, "rc"))
    assert result.failure.empty and result.summary.reconciled == 1
    assert json.loads(result.success.loc[0, "Response"])["email"] == "rc0@example.com"
    assert emails(server).count("rc0@example.com") == 1


def test_reset_before_applying_a_user_create_is_looked_up_then_sent_again(server, conn):
    server.faults.script("reset_before")
    result = ax.create(conn, "users.create", users_frame(1, "rs"))
    assert result.failure.empty and result.summary.reconciled == 1
    assert emails(server).count("rs0@example.com") == 1


def test_reconciliation_can_be_switched_off(server, conn):
    server.faults.script("reset_after")
    success, failure = ax.create(conn, "users.create", users_frame(1, "ro"), reconcile=False)
    assert failure.loc[0, "ErrorType"] == "OutcomeUnknown"


def test_reset_on_a_get_is_retried(server, conn):
    server.faults.script("reset_after", "reset_before")
    assert ax.get(conn, "usergroups.list").failure.empty


def test_gateway_error_on_post_is_not_resent(server, conn):
    server.faults.script("502")
    success, failure = ax.create(conn, "collections.create", pd.DataFrame({"RecordID": [1], "name": ["gw"]}))
    assert failure.loc[0, "ErrorType"] == "OutcomeUnknown" and failure.loc[0, "StatusCode"] == 502


def test_token_expiry_mid_run_renews_once_per_expiry_and_loses_no_row(server, conn):
    server.faults.configure(expire_tokens_every=40)
    result = ax.create(conn, "users.create", users_frame(200, "tx"), max_workers=8)
    assert result.failure.empty
    issued = server.stats()["tokensIssued"]
    assert 1 <= result.summary.tokens_requested <= 200 // 40 + 1
    assert issued == result.summary.tokens_requested + 1  # plus the one from authenticate()


def test_token_renewed_before_it_ends(server):
    import time

    server.state.token_lifetime = 30
    offset = [0.0]
    conn = ax.Connection(server.url, *server.curator, clock=lambda: time.monotonic() + offset[0])
    conn.check()
    assert conn.auth.lifetime == 30
    offset[0] += 28  # the client's clock and the Server's move together,
    server.advance(28)  # into the last 10% of the token's lifetime
    assert ax.get(conn, "usergroups.list").failure.empty
    assert conn.tokens_requested == 2  # renewed early, so no 401 was ever seen
    assert conn.stats["reauthentications"] == 0


def test_expired_token_gets_one_refresh_then_succeeds(server, conn):
    server.advance(4000)
    success, failure = ax.get(conn, "usergroups.list")
    assert failure.empty


def test_authenticate_bad_keys_and_unreachable(server):
    with pytest.raises(ax.AuthenticationError, match="refused the API key"):
        ax.authenticate(server.url, server.curator[0], "wrong-secret")
    with Emulator("empty") as gone:
        url = gone.url
    with pytest.raises(ax.ServerUnreachable):
        ax.authenticate(url, "key-key-key", "secret-secret")
    with pytest.raises(ax.ConfigurationError):
        ax.authenticate("ftp://x", "a" * 8, "b" * 8)
    with pytest.raises(ax.ConfigurationError, match="API key and secret"):
        ax.authenticate(server.url, "", "")


def test_base_url_forms_and_environment(server, monkeypatch):
    for url in (server.root, server.root + "/", server.url, server.url + "/"):
        conn = ax.authenticate(url, *server.curator)
        assert conn.base_url == server.url
    monkeypatch.setenv("AXFRAME_BASE_URL", server.root)
    monkeypatch.setenv("AXFRAME_CLIENT_ID", server.curator[0])
    monkeypatch.setenv("AXFRAME_CLIENT_SECRET", server.curator[1])
    assert ax.get(ax.authenticate(), "usergroups.list").failure.empty
    with pytest.raises(ax.ConfigurationError, match="legacy"):
        ax.authenticate(server.root + "/gallery/api", *server.curator)


def test_form_field_credentials_fallback(server):
    server.state.token_forms = {"form"}
    conn = ax.authenticate(server.url, *server.curator)
    assert ax.get(conn, "usergroups.list").failure.empty


def test_cookies_persist(server, conn):
    assert conn.session.cookies is not None  # one Session: a load balancer's sticky cookie is kept
    conn.session.cookies.set("ARRAffinity", "abc")
    assert "ARRAffinity" in conn.session.cookies


def test_rate_limit_spaces_calls(server):
    conn = ax.authenticate(server.url, *server.curator, max_per_second=50)
    import time

    started = time.perf_counter()
    ax.get(conn, "usergroups.list", ax.add_record_id(pd.DataFrame({"x": range(11)})), max_workers=4)
    assert time.perf_counter() - started >= 0.2 - 0.02  # 11 calls at 50/s need 10 intervals


def test_secrets_never_in_reprs_outputs_or_logs(server, caplog):
    key, secret = server.curator
    caplog.set_level(logging.DEBUG)
    conn = ax.authenticate(server.url, key, secret)
    token = conn.auth._token
    result = ax.create(conn, "users.create", users_frame(3, "sec"))
    bad = ax.get(conn, "users.get", pd.DataFrame({"RecordID": [1], "userId": ["nope"]}))
    texts = [repr(conn), repr(conn.auth), repr(result), str(result.summary),
             result.success.to_csv(), bad.failure.to_csv(), caplog.text]
    for text in texts:
        assert secret not in text and token not in text
        assert key not in text
    try:
        ax.authenticate(server.url, key, secret + "x")
    except ax.AuthenticationError as exc:
        assert secret not in str(exc) and key not in str(exc)


def test_insecure_settings_warn(server):
    with pytest.warns(UserWarning, match="verification is off"):
        ax.client.connection._warned.discard("verify")
        ax.authenticate(server.url, *server.curator, verify=False)
    with pytest.warns(UserWarning, match="plain http"):
        ax.client.Connection("http://alteryx.example.com", "k" * 8, "s" * 8)


def test_no_warning_for_loopback_http(server, recwarn):
    ax.authenticate(server.url, *server.curator)
    assert not [w for w in recwarn if "plain http" in str(w.message)]


# ---------------------------------------------------------------------------
# The invariant: every input row lands exactly once in success or failure
# ---------------------------------------------------------------------------

_ids = st.one_of(st.integers(0, 30), st.text(string.ascii_letters + string.digits, min_size=1, max_size=3),
                 st.none(), st.just(float("nan")))
_names = st.one_of(st.text(max_size=12), st.none(), st.integers(), st.just("x" * 300))
_contracts = st.one_of(st.none(), st.just("{"), st.just("[]"), st.just('"s"'),
                       st.builds(lambda n: json.dumps({"name": n}), st.text(max_size=10)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_ids, _names, _contracts), max_size=25))
def test_every_row_lands_exactly_once(server, rows):
    conn = ax.authenticate(server.url, *server.curator, retry=fast_retry())
    frame = pd.DataFrame(rows, columns=["RecordID", "name", "contract"])
    before = len(server.state.collections)
    success, failure = ax.create(conn, "collections.create", frame, max_workers=3)
    assert len(success) + len(failure) == len(frame)
    got = sorted(map(repr, list(success["RecordID"]) + list(failure["RecordID"])))
    assert got == sorted(map(repr, frame["RecordID"]))
    assert len(server.state.collections) == before + len(success)
    assert set(failure.columns) >= {"RecordID", "name", "contract", "StatusCode", "ErrorType", "Error"}
