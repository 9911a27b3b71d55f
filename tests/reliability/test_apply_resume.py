"""A membership sync applied from its plan file, killed ten times at random moments under faults, then resumed with
the same journal, leaves the Server exactly in the desired state: nothing added twice, nothing extra removed.

The plan is made once (as an admin would: ``axframe plan``, read, then ``axframe apply plan.csv``) and applied by
a separate process that is killed with SIGKILL ten times, while the emulator answers some calls with 503 and 429,
resets some connections before they reach it and lets every token expire every 40 calls.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import axframe as ax
from axframe.emulator import Emulator
from axframe.engine.journal import Journal

from ..sync.test_sync import _large_seed

SCRIPT = textwrap.dedent("""\
    import sys
    import axframe as ax

    url, key, secret, plan, journal, output = sys.argv[1:]
    retry = ax.RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.05, max_retry_after=0.05)
    conn = ax.authenticate(url, key, secret, retry=retry)
    result = ax.apply(conn, ax.read_frame(plan), journal=journal, progress=False, max_workers=4)
    ax.write_results(result, output)
    """)


def _members(conn) -> set[tuple[str, str]]:
    return set(map(tuple, ax.export(conn)["GroupMembers"][["group", "user"]].values.tolist()))


def _lines(journal: Path) -> int:
    return len(journal.read_text(encoding="utf-8").splitlines()) if journal.exists() else 0


@pytest.mark.slow
def test_a_membership_sync_killed_ten_times_under_faults_ends_exactly_in_the_desired_state(tmp_path):
    rng = random.Random(23)
    with Emulator(_large_seed(300, 12, 3, 25)) as server:
        conn = ax.authenticate(server.url, *server.curator)
        before = _members(conn)
        kept = sorted(m for m in before if rng.random() > 0.15)
        added = [(f"Group {g:03d}", f"u{u:05d}@big.example.com") for g, u in
                 ((rng.randrange(12), rng.randrange(300)) for _ in range(80))]
        desired = pd.DataFrame(sorted(set(kept) | set(added)), columns=["group", "user"])
        goal = set(map(tuple, desired.values.tolist()))
        touched = set(desired["group"])
        plan = ax.plan(conn, {"GroupMembers": desired}, prune=True, force=True)
        pending = plan.frame[plan.frame["Action"].isin(["create", "remove"])]
        assert len(pending) > 100
        plan_file = ax.write_frame(plan.frame, tmp_path / "plan.csv")
        journal, output = tmp_path / "apply.journal", tmp_path / "applied.csv"
        args = [sys.executable, "-c", SCRIPT, server.url, *server.curator, str(plan_file), str(journal), str(output)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
        server.faults.configure(latency=0.005, error_rates={503: 0.03, 429: 0.03}, retry_after=0.01,
                                reset_before=0.02, expire_tokens_every=40, seed=5)
        for _ in range(10):
            started = _lines(journal)
            process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while _lines(journal) <= started + 1 and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)  # under way
            time.sleep(rng.uniform(0.0, 0.3))
            process.send_signal(signal.SIGKILL)
            process.wait()
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        server.faults.clear()
        assert done.returncode == 0, done.stderr[-3000:]
        success = ax.read_frame(output.with_name("applied.success.csv"))
        failure = ax.read_frame(output.with_name("applied.failure.csv"))
        assert sorted(map(int, list(success["RecordID"]) + list(failure["RecordID"]))) == \
            sorted(map(int, pending["RecordID"]))  # every change once (unchanged rows are not in either frame)
        assert failure.empty, failure[["Key", "ErrorType", "Error"]].to_dict("records")
        untouched = {m for m in before if m[0] not in touched}
        assert _members(conn) == goal | untouched  # exactly the desired state, nothing extra removed
        assert len(Journal(journal).load().finished) == len(pending)
