"""Ctrl-C: a run interrupted with a journal resumes with every row exactly once and nothing made twice.

A kill (SIGKILL) of the command line is tested in tests/cli/test_resume.py; here the interruption is a
real SIGINT, i.e. ``KeyboardInterrupt`` in the interrupted process's main thread: in a Python script
using the API (one worker: the interrupt lands inside a call; several: the run waits for the calls in
flight), and in the command line (exit code 130).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

import pandas as pd
import pytest

import axframe as ax
from axframe.engine.journal import Journal

from ..cli.test_cli import run_cli

def _ctrl_c_heard() -> None:
    """In the child, before it starts: SIGINT to its default, so that Python turns it into KeyboardInterrupt.

    A process started in the background by a non-interactive shell (``pytest ... &``, ``nohup``) ignores
    SIGINT, and its children inherit that: without this, the interrupt these tests send would be ignored
    and they would fail for a reason that is not axframe's.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


SCRIPT = textwrap.dedent("""\
    import os, sys
    import pandas as pd
    import axframe as ax

    action, rows, workers, journal = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    conn = ax.authenticate(os.environ["AXFRAME_BASE_URL"], os.environ["AXFRAME_CLIENT_ID"],
                           os.environ["AXFRAME_CLIENT_SECRET"])
    if action == "users.create":
        frame = pd.DataFrame({"firstName": ["F"] * rows, "lastName": ["L"] * rows,
                              "email": [f"ki{i}@example.com" for i in range(rows)]})
    else:
        frame = pd.DataFrame({"name": [f"ki-{i}" for i in range(rows)]})
    frame = ax.add_record_id(frame)
    try:
        ax.create(conn, action, frame, journal=journal, max_workers=workers, progress=False)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    print("finished", flush=True)
    """)


def _env(server) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
    env.update(AXFRAME_BASE_URL=server.url, AXFRAME_CLIENT_ID=server.curator[0],
               AXFRAME_CLIENT_SECRET=server.curator[1])
    return env


def _finished(journal) -> int:
    return len(Journal(journal).load().finished) if journal.exists() else 0


def _interrupt_when_under_way(process, journal, rows) -> int:
    deadline = time.monotonic() + 30
    while _finished(journal) < 5 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    finished = _finished(journal)
    assert 0 < finished < rows, f"the interrupt should land mid-run ({finished} rows finished)"
    return finished


def _frame(action, rows, prefix):
    if action == "users.create":
        return ax.add_record_id(pd.DataFrame({"firstName": ["F"] * rows, "lastName": ["L"] * rows,
                                              "email": [f"{prefix}{i}@example.com" for i in range(rows)]}))
    return ax.add_record_id(pd.DataFrame({"name": [f"{prefix}-{i}" for i in range(rows)]}))


def _made(server, action, prefix) -> Counter:
    if action == "users.create":
        return Counter(u["email"] for u in server.state.users.values() if u["email"].startswith(prefix))
    return Counter(c["name"] for c in server.state.collections.values() if c["name"].startswith(prefix + "-"))


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.parametrize("action", ["users.create", "collections.create"])
def test_keyboard_interrupt_in_python_then_resume(tmp_path, server, conn, action, workers):
    rows = 150
    journal = tmp_path / "run.journal"
    server.faults.configure(latency=0.03)
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, action, str(rows), str(workers), str(journal)],
                               env=_env(server), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True, preexec_fn=_ctrl_c_heard)
    finished = _interrupt_when_under_way(process, journal, rows)
    out, err = process.communicate()
    assert process.returncode == 130 and "interrupted" in out, (process.returncode, out, err[-2000:])
    server.faults.clear()
    state = Journal(journal).load()
    if workers > 1:
        assert not state.in_flight  # the run waited for the calls in flight and journaled them
    assert len(state.in_flight) <= workers

    before = server.stats()["routes"]
    result = ax.create(conn, action, _frame(action, rows, "ki"), journal=journal)
    success, failure = result
    assert sorted(list(success["RecordID"]) + list(failure["RecordID"])) == list(range(1, rows + 1))
    assert result.summary.from_journal == finished
    made = _made(server, action, "ki")
    assert max(made.values()) == 1  # nothing twice
    route = "Users_CreateUser" if action == "users.create" else "Collections_CreateCollection"
    sent_again = server.stats()["routes"].get(route, 0) - before.get(route, 0)
    assert sent_again <= rows - finished  # only unfinished rows were sent
    if action == "users.create" or workers > 1:
        assert failure.empty, failure[["ErrorType", "Error"]]
        assert len(made) == rows
    else:  # one row may have been cut off in flight: it is left for a person, never sent twice
        assert set(failure["ErrorType"]) <= {"OutcomeUnknown"} and len(failure) <= 1
        assert len(made) >= rows - len(failure)


@pytest.mark.slow
def test_ctrl_c_of_the_command_line_exits_130_and_resumes(tmp_path, server):
    rows = 150
    source = ax.write_frame(_frame("collections.create", rows, "kc"), tmp_path / "in.csv")
    journal = tmp_path / "in.journal"
    args = ["create", "collections.create", "--input", str(source), "--journal", str(journal), "--workers", "4"]
    server.faults.configure(latency=0.03)
    process = subprocess.Popen([sys.executable, "-m", "axframe.cli", *args], env=_env(server),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               preexec_fn=_ctrl_c_heard)
    _interrupt_when_under_way(process, journal, rows)
    out, err = process.communicate()
    assert process.returncode == 130, (out, err)
    assert f"interrupted; the rows that ended are in the journal {journal}: run the same command again" in err
    assert not Journal(journal).load().in_flight
    server.faults.clear()
    done = run_cli(args, server)
    assert done.returncode == 0, done.stdout + done.stderr
    success = ax.read_frame(tmp_path / "in.success.csv")
    assert sorted(success["RecordID"], key=int) == [str(i) for i in range(1, rows + 1)]
    made = _made(server, "collections.create", "kc")
    assert len(made) == rows and max(made.values()) == 1


def test_row_left_in_flight_is_not_sent_when_the_lookup_fails(tmp_path, server):
    """Regression: when the lookup by natural key failed, a create left in flight was sent again blindly."""
    conn = ax.authenticate(server.url, *server.curator,
                           retry=ax.RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.002))
    frame = _frame("users.create", 2, "lf")
    ax.create(conn, "users.create", frame.iloc[[0]])  # the earlier run's call did make the user...
    journal = tmp_path / "run.journal"  # ...and the run died before it could record the answer
    journal.write_text(json.dumps({"kind": "header", "action": "users.create"}) + "\n"
                       + json.dumps({"RecordID": "1", "sent": True}) + "\n")
    server.faults.configure(error_rates={503: 1.0}, retry_after=0, methods=["GET"])  # lookups fail
    before = server.stats()["routes"].get("Users_CreateUser", 0)
    success, failure = ax.create(conn, "users.create", frame, journal=journal)
    assert list(success["RecordID"]) == [2] and list(failure["RecordID"]) == [1]
    assert failure.loc[0, "ErrorType"] == "OutcomeUnknown"
    assert "could not look the record up" in failure.loc[0, "Error"]
    assert server.stats()["routes"]["Users_CreateUser"] - before == 1  # row 2 only
    assert _made(server, "users.create", "lf") == Counter({"lf0@example.com": 1, "lf1@example.com": 1})
