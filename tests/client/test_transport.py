"""The in-process transport: a connection served by the emulator's WSGI application, with no socket.

Everything above the socket behaves as on a network: signing (OAuth2 and OAuth1), retries, faults,
redirects refused, answers checked.  Tests of client logic use it; tests of the transport itself, of
deadlines and of what crosses a socket use a real one.
"""

from __future__ import annotations

import pandas as pd

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
