"""The journal's one ordering rule, checked where it matters: a step's intent is in the file before its call
reaches the Server.

The emulator's own state is instrumented: each create it receives first reads the journal *file* (what a
process killed at that instant would leave behind) and notes any row whose intent is not in it.  Many workers
write at once; none may come late.
"""

from __future__ import annotations

import json
import threading

import pandas as pd

import axframe as ax
from axframe.engine.journal import Journal


def _intents(path) -> set[str]:
    """RecordIDs with a ``sent`` line in the file as the operating system holds it now."""
    found = set()
    with open(path, "rb") as handle:
        for line in handle.read().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line being written
            if isinstance(entry, dict) and entry.get("sent"):
                found.add(str(entry["RecordID"]))
    return found


def test_every_intent_is_in_the_file_before_its_call_reaches_the_server(tmp_path, server, conn):
    rows = 400
    journal = tmp_path / "order.journal"
    frame = ax.add_record_id(pd.DataFrame({"name": [f"order-{i}" for i in range(1, rows + 1)]}))
    late: list[str] = []
    seen: list[str] = []
    sharing = server.state.services.sharing
    create = sharing.create_collection

    def checked(actor, *, name):
        key = name.removeprefix("order-")
        seen.append(key)
        if key not in _intents(journal):
            late.append(key)
        return create(actor, name=name)

    sharing.create_collection = checked  # the route finds its method on the service instance
    result = ax.create(conn, "collections.create", frame, journal=journal, max_workers=16)
    assert len(result.success) == rows and result.failure.empty
    assert len(seen) == rows
    assert late == [], f"{len(late)} calls reached the Server before their intent was in the journal: {late[:5]}"
    state = Journal(journal).load()
    assert len(state.finished) == rows and not state.in_flight


def test_lines_written_at_once_by_many_threads_are_each_in_the_file_once_and_in_order(tmp_path):
    path = tmp_path / "many.journal"
    journal = Journal(path, "collections.create")
    journal.open()
    threads, per_thread = 16, 200
    missing: list[tuple[int, int]] = []

    def write(t: int) -> None:
        for n in range(per_thread):
            key = f"{t}-{n}"
            journal.step_sent(key, "fp", 0)
            with open(path, "rb") as handle:  # on return, the intent is in the file
                if f'"RecordID": "{key}"'.encode() not in handle.read():
                    missing.append((t, n))
            journal.finished(key, "fp", {"ok": True})

    workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    journal.close()
    assert missing == []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"kind": "header", "action": "collections.create"}
    assert len(lines) == 1 + 2 * threads * per_thread
    for t in range(threads):  # each thread's lines in the order it wrote them
        mine = [(e["RecordID"], "sent" in e) for e in lines[1:] if e["RecordID"].startswith(f"{t}-")]
        assert mine == [(f"{t}-{n}", sent) for n in range(per_thread) for sent in (True, False)]
    state = Journal(path).load()
    assert len(state.finished) == threads * per_thread and not state.in_flight


def _fingerprint_as_first_written(call) -> str:
    """The fingerprint as the journal's first release computed it: a journal written then still resumes."""
    import hashlib
    hasher = hashlib.sha256()
    for part in (call.method, call.path, json.dumps(list(call.params or []), default=str),
                 call.content_type or "", json.dumps(call.form or {}, sort_keys=True, default=str)):
        hasher.update(part.encode("utf-8", "surrogatepass") + b"\0")
    hasher.update(call.body or b"")
    hasher.update(b"\0")
    return hasher.hexdigest()[:32]


def test_fingerprints_and_intent_lines_are_the_bytes_earlier_journals_hold(tmp_path):
    from axframe.client.call import Call
    from axframe.engine.journal import fingerprint

    calls = [Call("POST", "/v3/users", body=b'{"email": "a@b.c"}', content_type="application/json"),
             Call("GET", "/v3/users", params=[("view", "Full"), ("na\u00efve", "x\ud800")]),
             Call("POST", "/v1/workflows/1/jobs", form={"b": "2", "a": "\u00fc"}),
             Call("DELETE", "/v3/users/9")]
    assert [fingerprint(c) for c in calls] == [_fingerprint_as_first_written(c) for c in calls]
    assert len({fingerprint(c) for c in calls}) == len(calls)

    journal = Journal(tmp_path / "lines.journal")
    journal.open()
    keys = ["1", 'quote " back \\ slash', "line\nbreak", "\u00e9\u2603"]
    for step, key in enumerate(keys):
        journal.step_sent(key, "f" * 32, step)
    journal.close()
    written = (tmp_path / "lines.journal").read_bytes().splitlines(keepends=True)
    assert written == [(json.dumps({"RecordID": key, "step": step, "fp": "f" * 32, "sent": True},
                                   ensure_ascii=False) + "\n").encode("utf-8") for step, key in enumerate(keys)]
    state = Journal(tmp_path / "lines.journal").load()
    assert state.in_flight == set(keys)


def test_result_lines_are_the_bytes_json_writes_for_every_kind_of_field(tmp_path):
    import numpy as np

    records = [
        {"ok": True, "StatusCode": 200, "ErrorType": None, "Error": None, "Response": '"6b10ffe90037adfe8fc3b793"',
         "Note": "", "Values": None, "Warnings": None},
        {"ok": False, "StatusCode": None, "ErrorType": "OutcomeUnknown", "Error": 'quote " back \\ slash\nline',
         "Response": "", "Note": "\u00e9\u2603 x", "Values": {"File": "/tmp/a b.yxzp", "Bytes": 12,
                                                                  "nested": [1, 2.5, None, {"k": True}]},
         "Warnings": ["a warning", "\u00fc"]},
        {"ok": True, "StatusCode": np.int64(201), "ErrorType": None, "Error": None, "Response": "[]", "Note": "",
         "Values": {"when": float("nan"), "n": -3}, "Warnings": None},
        {},
    ]
    journal = Journal(tmp_path / "results.journal")
    journal.open()
    for n, record in enumerate(records):
        journal.finished(str(n), "f" * 32, record)
    journal.close()
    written = (tmp_path / "results.journal").read_bytes().splitlines(keepends=True)
    assert written == [(json.dumps({"RecordID": str(n), **record, "fp": "f" * 32}, ensure_ascii=False,
                                   default=str) + "\n").encode("utf-8")
                       for n, record in enumerate(records)]


def test_a_text_no_utf8_holds_is_journaled_as_its_escape_and_read_back_the_same(tmp_path):
    lone = "x\ud800y \\\udfff"  # lone surrogates (a str from Python code, never from a file), one after a backslash
    journal = Journal(tmp_path / "lone.journal")
    journal.open()
    journal.step_sent(lone, "f" * 32, 0)
    journal.finished("1", "f" * 32, {"ok": False, "StatusCode": None, "Error": lone, "Values": {"v": lone}})
    journal.write({"RecordID": "2", "ok": True, "Note": lone})
    journal.close()
    state = Journal(tmp_path / "lone.journal").load()
    assert state.in_flight == {lone}
    assert state.finished["1"]["Error"] == lone and state.finished["1"]["Values"] == {"v": lone}
    assert state.finished["2"]["Note"] == lone
