"""Edges of the guarantees: two runs on one journal, deletes whose answer was lost, tokens that live a
handful of calls, secrets in answers however they are written.

Each case failed before axframe handled it (see docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import axframe as ax
from axframe.client.secrets import scrub
from axframe.engine.journal import Journal

from ..conftest import fast_retry

# --------------------------------------------------------------------------
# one journal, one run
# --------------------------------------------------------------------------


def test_a_journal_in_use_is_refused_naming_the_process_that_holds_it(tmp_path):
    journal = tmp_path / "run.journal"
    holder = Journal(journal, "collections.create")
    holder.open()
    try:
        with pytest.raises(ax.JournalError, match=f"in use by another run \\(process {os.getpid()} on"):
            Journal(journal, "collections.create").open()
    finally:
        holder.close()
    Journal(journal, "collections.create").open()  # free again once the first run is done (no close: the
    # lock goes with the open file when it is collected, as it goes with a process that dies)


RUN = textwrap.dedent("""\
    import os, sys, time, axframe as ax, pandas as pd
    conn = ax.authenticate(sys.argv[1], sys.argv[2], sys.argv[3])
    frame = ax.add_record_id(pd.DataFrame({"name": [f"pair-{i}" for i in range(300)]}))
    ready = sys.argv[5]  # both runs start together, once both have started up (imports take long on a busy machine)
    open(ready + "." + str(os.getpid()), "w").close()
    while len([n for n in os.listdir(os.path.dirname(ready)) if n.startswith(os.path.basename(ready) + ".")]) < 2:
        time.sleep(0.01)
    try:
        result = ax.create(conn, "collections.create", frame, journal=sys.argv[4], progress=False, max_workers=4)
    except ax.JournalError as exc:
        print("REFUSED", exc, flush=True)
        sys.exit(2)
    print("DONE", len(result.success), flush=True)
    """)


@pytest.mark.slow
def test_two_runs_started_at_once_on_one_journal_do_everything_once(tmp_path, server):
    script = tmp_path / "run.py"
    script.write_text(RUN)
    journal = tmp_path / "pair.journal"
    server.faults.configure(latency=0.02)  # a run of about 1.5 s: long enough for the other to find it running
    argv = [sys.executable, str(script), server.url, *server.curator, str(journal), str(tmp_path / "ready")]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [run.communicate(timeout=120) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 2], outs
    refused = next(out for out, _ in outs if out.startswith("REFUSED"))
    assert "in use by another run (process" in refused
    names = [c["name"] for c in server.state.collections.values() if c["name"].startswith("pair-")]
    assert len(names) == 300 and len(set(names)) == 300  # not 600


# --------------------------------------------------------------------------
# a delete whose answer was lost
# --------------------------------------------------------------------------


def test_a_delete_that_took_effect_before_its_answer_was_lost_is_a_success(server, conn):
    made = ax.create(conn, "collections.create", ax.add_record_id(pd.DataFrame({"name": [f"gone-{i}" for i in
                                                                                        range(40)]})))
    ids = [json.loads(t) for t in made.success["Response"]]
    server.faults.configure(reset_after=0.5, methods=["DELETE"], seed=3)
    frame = pd.DataFrame({"RecordID": range(1, 41), "collectionId": ids})
    result = ax.delete(conn, "collections.delete", frame)
    server.faults.clear()
    assert result.failure.empty, result.failure[["ErrorType", "Error"]].head()
    assert 0 < result.summary.reconciled < 40  # the deletes whose retry found them gone, marked so
    left = {c["id"] for c in server.state.collections.values()}
    assert not left & set(ids)


def test_a_delete_of_nothing_is_still_not_found(server, conn):
    success, failure = ax.delete(conn, "collections.delete", pd.DataFrame({"RecordID": [1], "collectionId": ["nope"]}))
    assert failure.loc[0, "ErrorType"] == "NotFound"


# --------------------------------------------------------------------------
# tokens that live a handful of calls
# --------------------------------------------------------------------------


@pytest.mark.parametrize("every", [15, 20])
def test_tokens_that_live_fifteen_calls_fail_no_row_on_eight_workers(server, every):
    conn = ax.authenticate(server.url, *server.curator, retry=fast_retry())
    server.faults.configure(expire_tokens_every=every)
    frame = ax.add_record_id(pd.DataFrame({"name": [f"short-{every}-{i}" for i in range(600)]}))
    success, failure = ax.create(conn, "collections.create", frame, max_workers=8)
    server.faults.clear()
    assert failure.empty, failure["Error"].head(3).tolist()
    assert len(success) == 600 and conn.tokens_requested <= 600 // (every // 2)


# --------------------------------------------------------------------------
# secrets in answers
# --------------------------------------------------------------------------

SECRET_NAMES = ["apiSecret", "APISECRET", "apiKey", "password", "newPassword", "secret", "access_token"]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
secret_values = st.one_of(text, st.integers(min_value=10**6), st.floats(allow_nan=False, allow_infinity=False,
                                                                           min_value=1e6))


@st.composite
def answers(draw):
    """A JSON answer with a secret somewhere inside it, under any of the names, at any depth."""
    value = draw(secret_values)
    name = draw(st.sampled_from(SECRET_NAMES))
    inner: object = {name: value, "name": draw(text)}
    for _ in range(draw(st.integers(0, 3))):
        inner = draw(st.sampled_from([lambda v: [v], lambda v: {"data": v, "id": "x1"}]))(inner)
    return inner, value


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(answers(), st.booleans())
def test_scrub_masks_a_secret_at_any_depth_however_it_is_escaped(answer, ascii_only):
    document, value = answer
    masked = json.loads(scrub(json.dumps(document, ensure_ascii=ascii_only)))
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, inner in node.items():
                if key.lower() in {n.lower() for n in SECRET_NAMES}:
                    found.append(inner)
                else:
                    walk(inner)
        elif isinstance(node, list):
            for inner in node:
                walk(inner)

    walk(masked)
    assert found == ["***"], (document, masked)


def test_scrub_masks_an_escaped_quote_and_a_number():
    assert scrub('{"apiSecret": "ab\\"REST"}') == '{"apiSecret": "***"}'
    assert "123456789" not in scrub('{"apiSecret": 123456789, "id": "s1"}')
    assert scrub('{"name": "no secrets here"}') == '{"name": "no secrets here"}'  # untouched, byte for byte
    assert "REST" not in scrub('not json: "apiSecret": "ab\\"REST", more')  # text that is not JSON too


def test_scrub_of_a_large_answer_without_secrets_costs_one_scan():
    answer = json.dumps([{"id": f"u{i}", "email": f"u{i}@example.com"} for i in range(20_000)])
    started = time.perf_counter()
    assert scrub(answer) is answer  # nothing parsed, nothing copied
    assert time.perf_counter() - started < 5
