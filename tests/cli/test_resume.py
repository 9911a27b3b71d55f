"""Resumable runs: a journal records each row; a killed run resumed with it ends with every row exactly once
and nothing created twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import axframe as ax

from .test_cli import run_cli


def users_frame(n, prefix):
    return ax.add_record_id(pd.DataFrame({"firstName": ["F"] * n, "lastName": ["L"] * n,
                                          "email": [f"{prefix}{i}@example.com" for i in range(n)]}))


def test_resume_in_python_sends_only_unfinished_rows(tmp_path, server, conn):
    frame = users_frame(20, "jr")
    journal = tmp_path / "run.journal"
    first = ax.create(conn, "users.create", frame.iloc[:8], journal=journal)
    assert len(first.success) == 8
    before = server.stats()["routes"]["Users_CreateUser"]
    second = ax.create(conn, "users.create", frame, journal=journal)
    assert server.stats()["routes"]["Users_CreateUser"] - before == 12
    assert second.summary.from_journal == 8
    assert sorted(second.success["RecordID"]) == list(range(1, 21))
    # a third run has nothing left to send
    third = ax.create(conn, "users.create", frame, journal=journal)
    assert third.summary.calls == 0 and len(third.success) == 20


def test_a_journal_replays_a_row_only_while_it_makes_the_same_call(tmp_path, server, conn):
    journal = tmp_path / "run.journal"
    batch_a = ax.add_record_id(pd.DataFrame({"name": ["Batch A1", "Batch A2", ""]}))
    first = ax.create(conn, "collections.create", batch_a, journal=journal)
    assert len(first.success) == 2 and first.failure["ErrorType"].tolist() == ["InvalidContract"]
    assert "Batch A1" not in journal.read_text()  # only digests of the calls are journaled, not values
    # the same journal reused for another batch under the same RecordIDs: refused, nothing sent, not replayed
    batch_b = ax.add_record_id(pd.DataFrame({"name": ["Batch B1", "Batch A2", "Batch B3"]}))
    before = server.stats()["routes"]["Collections_CreateCollection"]
    second = ax.create(conn, "collections.create", batch_b, journal=journal)
    assert server.stats()["routes"]["Collections_CreateCollection"] - before == 1  # only row 3: never sent before
    assert second.summary.from_journal == 1  # row 2, unchanged
    failed = second.failure.set_index("RecordID")
    assert failed.loc[1, "ErrorType"] == "ChangedSinceJournal" and "other values" in failed.loc[1, "Error"]
    assert sorted(second.success["name"]) == ["Batch A2", "Batch B3"]
    names = [c["name"] for c in server.state.collections.values()]
    assert "Batch B1" not in names and names.count("Batch A2") == 1


def test_a_failed_row_fixed_since_the_journal_is_sent_again(tmp_path, server, conn):
    journal = tmp_path / "run.journal"
    frame = users_frame(3, "fx")
    frame.loc[2, "email"] = next(iter(server.state.users.values()))["email"]  # taken: the Server refuses it
    first = ax.create(conn, "users.create", frame, journal=journal)
    assert first.failure["RecordID"].tolist() == [3]
    unchanged = ax.create(conn, "users.create", frame, journal=journal)  # not fixed: replayed, not resent
    assert unchanged.summary.calls == 0 and unchanged.failure["RecordID"].tolist() == [3]
    frame.loc[2, "email"] = "fx2-fixed@example.com"
    fixed = ax.create(conn, "users.create", frame, journal=journal)
    assert fixed.summary.calls == 1 and fixed.failure.empty and fixed.summary.from_journal == 2
    assert sum(u["email"] == "fx2-fixed@example.com" for u in server.state.users.values()) == 1


def test_row_left_in_flight_is_looked_up_not_resent(tmp_path, server, conn):
    frame = users_frame(3, "fl")
    journal = tmp_path / "run.journal"
    # an earlier run sent row 2 (the Server made the user) and died before recording the answer
    ax.create(conn, "users.create", frame.iloc[[1]], journal=tmp_path / "other.journal")
    journal.write_text(json.dumps({"kind": "header", "action": "users.create"}) + "\n"
                       + json.dumps({"RecordID": "2", "sent": True}) + "\n" + '{"RecordID": "3", "ok"')
    result = ax.create(conn, "users.create", frame, journal=journal)
    assert result.failure.empty, result.failure[["ErrorType", "Error"]]
    assert result.summary.reconciled == 1
    emails = [u["email"] for u in server.state.users.values()]
    assert all(emails.count(f"fl{i}@example.com") == 1 for i in range(3))


def test_a_call_of_the_killed_run_that_reaches_the_server_late_is_found_not_sent_again(tmp_path, server, conn):
    import threading

    frame = users_frame(1, "late")
    journal = tmp_path / "run.journal"
    journal.write_text(json.dumps({"kind": "header", "action": "users.create"}) + "\n"
                       + json.dumps({"RecordID": "1", "sent": True}) + "\n")
    dead = ax.authenticate(server.url, *server.curator)

    def arrives_late():  # the killed run's call, still on its way when the resumed run looks for its record
        time.sleep(0.3)
        ax.create(dead, "users.create", frame)

    late = threading.Thread(target=arrives_late)
    before = server.stats()["routes"].get("Users_CreateUser", 0)
    late.start()
    result = ax.create(conn, "users.create", frame, journal=journal)
    late.join()
    assert result.failure.empty, result.failure[["ErrorType", "Error"]].to_dict("records")
    assert result.summary.reconciled == 1
    assert server.stats()["routes"].get("Users_CreateUser", 0) - before == 1  # the late call; the resume sent none
    assert [u["email"] for u in server.state.users.values()].count("late0@example.com") == 1


def test_in_flight_row_without_natural_key_is_not_resent(tmp_path, server, conn):
    journal = tmp_path / "run.journal"
    journal.write_text(json.dumps({"kind": "header", "action": "collections.create"}) + "\n"
                       + json.dumps({"RecordID": "1", "sent": True}) + "\n")
    frame = pd.DataFrame({"RecordID": [1, 2], "name": ["left in flight", "fresh"]})
    success, failure = ax.create(conn, "collections.create", frame, journal=journal)
    assert list(failure["RecordID"]) == [1] and failure.loc[0, "ErrorType"] == "OutcomeUnknown"
    assert "earlier run stopped" in failure.loc[0, "Error"]
    assert [c["name"] for c in server.state.collections.values()].count("left in flight") == 0


def test_journal_of_another_action_is_refused(tmp_path, conn):
    journal = tmp_path / "run.journal"
    ax.create(conn, "collections.create", pd.DataFrame({"RecordID": [1], "name": ["x"]}), journal=journal)
    with pytest.raises(ValueError, match="belongs to a run of 'collections.create'"):
        ax.create(conn, "usergroups.create", pd.DataFrame({"RecordID": [1], "name": ["x"], "role": ["Viewer"]}),
                  journal=journal)


def _finished(journal):
    if not journal.exists():
        return 0
    from axframe.engine.journal import Journal

    return len(Journal(journal).load().finished)


def _start(args, server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
    env.update(AXFRAME_BASE_URL=server.url, AXFRAME_CLIENT_ID=server.curator[0],
               AXFRAME_CLIENT_SECRET=server.curator[1])
    return subprocess.Popen([sys.executable, "-m", "axframe.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(3))
@pytest.mark.parametrize("action,prefix", [("users.create", "kr"), ("collections.create", "kc")])
def test_killed_cli_run_resumes_with_every_row_once(tmp_path, server, trial, action, prefix):
    rows = 150
    name = f"{prefix}{trial}-"
    if action == "users.create":
        frame = users_frame(rows, name)
    else:
        frame = ax.add_record_id(pd.DataFrame({"name": [f"{name}{i}" for i in range(rows)]}))
    source = ax.write_frame(frame, tmp_path / "in.csv")
    journal = tmp_path / "in.journal"
    args = ["create", action, "--input", str(source), "--journal", str(journal), "--workers", "4"]
    server.faults.configure(latency=0.05)  # about 2 s of calls
    process = _start(args, server)
    deadline = time.monotonic() + 30
    while _finished(journal) < 5 and time.monotonic() < deadline:  # wait until the run is under way
        time.sleep(0.02)
    time.sleep(random.Random(trial).uniform(0.0, 0.8))  # then kill it somewhere in the middle
    process.send_signal(signal.SIGKILL)
    process.wait()
    server.faults.clear()
    finished = _finished(journal)
    assert 0 < finished < rows, f"the kill should land mid-run ({finished} rows finished)"
    done = run_cli(args, server)
    assert done.returncode in (0, 1), done.stderr
    success = ax.read_frame(tmp_path / "in.success.csv")
    failure = ax.read_frame(tmp_path / "in.failure.csv")
    got = sorted(list(success["RecordID"]) + list(failure["RecordID"]), key=int)
    assert got == [str(i) for i in range(1, rows + 1)]  # every row exactly once
    if action == "users.create":
        made = [u["email"] for u in server.state.users.values() if u["email"].startswith(name)]
        assert failure.empty, failure[["ErrorType", "Error"]].to_dict("records")
    else:
        made = [c["name"] for c in server.state.collections.values() if c["name"].startswith(name)]
        assert set(failure["ErrorType"]) <= {"OutcomeUnknown"}
        assert len(failure) <= 4  # at most the rows in flight when the process died
    assert len(made) == len(set(made))  # nothing created twice
    assert len(set(made)) >= len(success)
