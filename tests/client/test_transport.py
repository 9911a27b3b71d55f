"""The in-process transport: a connection served by the emulator's WSGI application, with no socket.

Everything above the socket behaves as on a network: signing (OAuth2 and OAuth1), retries, faults,
redirects refused, answers checked.  Tests of client logic use it; tests of the transport itself, of
deadlines and of what crosses a socket use a real one.
"""

from __future__ import annotations

import pandas as pd
import pytest

import axframe as ax
from axframe.emulator import Emulator

from ..conftest import fast_retry


def test_a_connection_served_in_process_sends_nothing_over_a_socket():
    emulator = Emulator()  # built, never started: no port is bound
    conn = ax.authenticate(emulator.wsgi_url, *emulator.curator, wsgi_app=emulator.wsgi_app)
    success, failure = ax.create(conn, "collections.create", ax.add_record_id(pd.DataFrame({"name": ["In Process"]})))
    assert failure.empty and any(c["name"] == "In Process" for c in emulator.state.collections.values())
    assert emulator.stats()["requests"] >= 2  # the token and the create, through the WSGI application


def test_ids_with_slashes_stay_one_path_segment_in_process():
    emulator = Emulator()
    conn = ax.authenticate(emulator.wsgi_url, *emulator.curator, wsgi_app=emulator.wsgi_app)
    success, failure = ax.get(conn, "users.get", pd.DataFrame({"RecordID": [1], "userId": ["a/b%2Fc"]}))
    assert failure.loc[0, "ErrorType"] == "NotFound" and "a/b%2Fc" in failure.loc[0, "Error"]


def test_a_reset_in_process_is_a_broken_connection_as_on_a_socket():
    emulator = Emulator()
    conn = ax.authenticate(emulator.wsgi_url, *emulator.curator, wsgi_app=emulator.wsgi_app, retry=fast_retry())
    emulator.faults.configure(script=["reset_after"])
    success, failure = ax.create(conn, "collections.create", ax.add_record_id(pd.DataFrame({"name": ["Maybe"]})))
    assert failure.loc[0, "ErrorType"] == "OutcomeUnknown"  # a POST whose answer was lost is not sent again
    assert [c["name"] for c in emulator.state.collections.values()].count("Maybe") == 1
    emulator.faults.configure(script=["reset_before"])
    success, failure = ax.get(conn, "collections.list")  # a GET is retried
    assert failure.empty


def test_legacy_oauth1_signs_for_the_in_process_address():
    emulator = Emulator()
    conn = ax.authenticate(emulator.wsgi_url, *emulator.curator, legacy=True, wsgi_app=emulator.wsgi_app)
    success, failure = ax.get(conn, "v1.workflows")
    assert failure.empty, failure[["ErrorType", "Error"]]


def behind_a_balancer(app, seen_as: str = "node1.internal:8080"):
    """A load balancer that forwards to a node under another host name (what the node sees and signs)."""
    def middleware(environ, start_response):
        environ = dict(environ, HTTP_HOST=seen_as, SERVER_NAME=seen_as.split(":")[0], SERVER_PORT=seen_as.split(":")[1])
        return app(environ, start_response)
    return middleware


def test_oauth1_behind_a_balancer_signs_for_the_address_the_server_sees():
    emulator = Emulator()
    app = behind_a_balancer(emulator.wsgi_app)
    with pytest.raises(ax.AuthenticationError, match="OAuth1 signature"):
        ax.authenticate(emulator.wsgi_url, *emulator.curator, legacy=True, wsgi_app=app)  # signed for the wrong host
    conn = ax.authenticate(emulator.wsgi_url, *emulator.curator, legacy=True, wsgi_app=app,
                           canonical_url="http://node1.internal:8080")
    success, failure = ax.get(conn, "v1.workflows")
    assert failure.empty, failure[["ErrorType", "Error"]]
    for transport in ("header", "query"):
        pinned = ax.authenticate(emulator.wsgi_url, *emulator.curator, legacy=True, wsgi_app=app,
                                 oauth1_transport=transport, canonical_url="http://node1.internal:8080")
        assert ax.get(pinned, "v1.workflows").failure.empty
