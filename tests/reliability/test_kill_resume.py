"""Killed at random moments and resumed with the same journal, run_jobs, migrate and deploy do nothing twice.

Each run is a separate process (a script using the API) against emulators in the test process; it is
killed with SIGKILL ten times at random moments, then run once more to the end with the same journal.
Then: ``run_jobs`` of 200 rows has left exactly 200 jobs on the Server; ``migrate`` exactly one target
workflow per row; ``deploy`` one workflow per file, each with one version.  Every RecordID appears
exactly once in the outputs.
"""

from __future__ import annotations

import json
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
from axframe.emulator.seed import default_seed
from axframe.engine.journal import Journal
from axframe.packages import build_package

KILLS = 10

SCRIPT = textwrap.dedent("""\
    import json, sys
    import axframe as ax

    kind, spec = sys.argv[1], json.loads(sys.argv[2])
    conn = ax.authenticate(spec["url"], *spec["keys"])
    if kind == "jobs":
        result = ax.run_jobs(conn, ax.read_frame(spec["input"]), journal=spec["journal"], poll_interval=(0.02, 0.1),
                             max_queued=16, progress=False)
    elif kind == "migrate":
        target = ax.authenticate(spec["target"], *spec["target_keys"])
        result = ax.migrate(conn, target, ax.read_frame(spec["input"]), journal=spec["journal"], progress=False)
    else:
        result = ax.deploy(conn, spec["folder"], owner=spec["owner"], journal=spec["journal"], progress=False)
    ax.write_results(result, spec["output"])
    print(result.summary, flush=True)
    """)


def _progress(journal: Path) -> int:
    """Lines the journal holds (steps and finished rows)."""
    if not journal.exists():
        return 0
    return max(0, sum(1 for line in journal.read_text(encoding="utf-8").splitlines() if line.strip()) - 1)


def _run(kind: str, spec: dict, tmp_path: Path, rng: random.Random, kills: int = KILLS) -> None:
    script = tmp_path / "resumable.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
    journal = Path(spec["journal"])
    for _ in range(kills):
        before = _progress(journal)
        process = subprocess.Popen([sys.executable, str(script), kind, json.dumps(spec)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while _progress(journal) <= before and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # until this run is under way
        time.sleep(rng.uniform(0.0, 0.4))  # then somewhere in the middle of it
        process.send_signal(signal.SIGKILL)
        process.wait()
    done = subprocess.run([sys.executable, str(script), kind, json.dumps(spec)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def _outputs(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return ax.read_frame(path.with_name(path.stem + ".success.csv")), \
        ax.read_frame(path.with_name(path.stem + ".failure.csv"))


def _every_row_once(success: pd.DataFrame, failure: pd.DataFrame, rows: int) -> None:
    got = sorted(list(success["RecordID"]) + list(failure["RecordID"]), key=int)
    assert got == [str(i) for i in range(1, rows + 1)]


@pytest.mark.slow
def test_run_jobs_killed_and_resumed_queues_each_job_once(tmp_path):
    rows = 200
    with Emulator() as server:
        server.state.job_slots = 16
        sales = server.refs["workflow:sales"]
        with server.state.lock:
            server.state.workflows[sales]["behaviour"] = {"runSeconds": 0.05}
        frame = ax.add_record_id(pd.DataFrame({"workflowId": [sales] * rows, "Region": ["West", "East"] * (rows // 2)}))
        source = ax.write_frame(frame, tmp_path / "jobs.csv")
        spec = {"url": server.url, "keys": list(server.curator), "input": str(source),
                "journal": str(tmp_path / "jobs.journal"), "output": str(tmp_path / "out.csv")}
        _run("jobs", spec, tmp_path, random.Random(13))
        jobs = [j for j in server.state.jobs.values() if j["appId"] == sales]
        success, failure = _outputs(tmp_path / "out.csv")
        _every_row_once(success, failure, rows)
        assert len(set(success["JobId"])) == len(success)  # no job followed by two rows
        assert len(jobs) <= rows  # never a job queued twice
        # a queuing in flight at a kill is queued again only when the Server provably has no job for it, and
        # followed when its job is the only candidate; where two rows could own the same jobs it is unknown
        assert set(failure["ErrorType"]) <= {"OutcomeUnknown"}, failure[["ErrorType", "Error"]].head()
        assert all("cannot be told" in e for e in failure["Error"]), failure["Error"].tolist()
        assert len(jobs) == rows, (len(jobs), failure["Error"].tolist())


def _many_workflows(count: int) -> dict:
    seed = default_seed()
    seed["workflows"] += [{"ref": f"kill{i}", "name": f"Kill test {i:03d}", "owner": "ana", "type": "workflow",
                           "runSeconds": 0.05, "isReadyForMigration": True} for i in range(count)]
    return seed


@pytest.mark.slow
def test_migrate_killed_and_resumed_publishes_each_workflow_once(tmp_path):
    from ..admin.conftest import without_workflows

    count = 40
    with Emulator(_many_workflows(count)) as source, Emulator(without_workflows(), random_seed=7) as target:
        source.faults.configure(latency=0.01)
        ids = [source.refs[f"workflow:kill{i}"] for i in range(count)]
        frame = ax.add_record_id(pd.DataFrame({"workflowId": ids}))
        spec = {"url": source.url, "keys": list(source.curator), "target": target.url,
                "target_keys": list(target.curator), "input": str(ax.write_frame(frame, tmp_path / "m.csv")),
                "journal": str(tmp_path / "m.journal"), "output": str(tmp_path / "migrated.csv")}
        _run("migrate", spec, tmp_path, random.Random(17))
        success, failure = _outputs(tmp_path / "migrated.csv")
        _every_row_once(success, failure, count)
        assert failure.empty, failure[["ErrorType", "Error"]].to_dict("records")
        by_source = [w.get("sourceAppId") for w in target.state.workflows.values() if w.get("sourceAppId")]
        assert sorted(by_source) == sorted(ids)  # one target workflow per row
        versions = [len(w["versions"]) for w in target.state.workflows.values() if w.get("sourceAppId")]
        assert versions == [1] * count  # and published once


@pytest.mark.slow
def test_deploy_killed_and_resumed_publishes_nothing_twice(tmp_path):
    count = 40
    folder = tmp_path / "repo"
    folder.mkdir()
    for i in range(count):
        (folder / f"deployed {i:03d}.yxzp").write_bytes(build_package(f"Deployed {i:03d}", description=str(i)))
    with Emulator() as server:
        server.faults.configure(latency=0.01)
        spec = {"url": server.url, "keys": list(server.curator), "folder": str(folder),
                "owner": "ana.artisan@example.com", "journal": str(tmp_path / "d.journal"),
                "output": str(tmp_path / "deployed.csv")}
        _run("deploy", spec, tmp_path, random.Random(19))
        success, failure = _outputs(tmp_path / "deployed.csv")
        _every_row_once(success, failure, count)
        assert failure.empty, failure[["ErrorType", "Error"]].to_dict("records")
        deployed = [w for w in server.state.workflows.values() if w["name"].startswith("deployed ")]
        assert sorted(w["name"] for w in deployed) == [f"deployed {i:03d}" for i in range(count)]
        assert [len(w["versions"]) for w in deployed] == [1] * count  # nothing published twice
        assert Journal(spec["journal"]).load().finished.keys() == {f"deployed {i:03d}.yxzp" for i in range(count)}


class _KillAtQueuing:
    """Kills the client process at chosen queuing requests (counted across runs), before or after the Server
    applies them: a stop exactly in the middle of a queuing, where a random kill lands only now and then."""

    def __init__(self, server: Emulator, kills: dict[int, str]):
        self.kills, self.count, self.pid = kills, 0, 0
        self.serve = server.app.serve
        server.app.serve = self  # type: ignore[method-assign]

    def __call__(self, request):
        from axframe.emulator.faults import ResetConnection

        queuing = request.method == "POST" and request.path.rstrip("/").endswith("/jobs")
        if queuing:
            self.count += 1
        when = self.kills.get(self.count) if queuing else None
        if when == "before":
            os.kill(self.pid, signal.SIGKILL)
            raise ResetConnection(applied=False)
        response = self.serve(request)
        if when == "after":
            os.kill(self.pid, signal.SIGKILL)
            raise ResetConnection(applied=True)
        return response


@pytest.mark.parametrize("kills", [
    # run 1 loses row 2's queuing before it reaches the Server; run 2 queues it again and is stopped just after
    # row 3's queuing took effect: run 3 finds one job for the one row still in flight (row 2 holds its own)
    {2: "before", 4: "after"},
    # run 1 loses row 1's queuing; run 2 queues it again and is stopped just after that took effect: run 3
    # settles row 1 again, around the time of its second queuing, and follows the job it made
    {1: "before", 2: "after"},
    # run 1 loses row 1's queuing, run 2 loses its second: run 3 finds no job of either and queues it
    {1: "before", 2: "before"},
], ids=["another-row-in-flight", "a-queuing-sent-again-in-flight", "a-queuing-lost-twice"])
def test_queuings_stopped_exactly_in_flight_are_settled_without_a_second_job(tmp_path, kills):
    rows = 4
    with Emulator() as server:
        killer = _KillAtQueuing(server, kills)
        sales = server.refs["workflow:sales"]
        frame = ax.add_record_id(pd.DataFrame({"workflowId": [sales] * rows}))
        spec = {"url": server.url, "keys": list(server.curator), "journal": str(tmp_path / "j.journal"),
                "input": str(ax.write_frame(frame, tmp_path / "jobs.csv")), "output": str(tmp_path / "out.csv")}
        script = tmp_path / "resumable.py"
        script.write_text(SCRIPT)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
        for run in range(len(kills) + 1):
            process = subprocess.Popen([sys.executable, str(script), "jobs", json.dumps(spec)], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
            killer.pid = process.pid
            _, err = process.communicate(timeout=120)
            if run < len(kills):
                assert process.returncode == -signal.SIGKILL, err.decode()[-2000:]
            else:
                assert process.returncode == 0, err.decode()[-2000:]
        success, failure = _outputs(tmp_path / "out.csv")
        _every_row_once(success, failure, rows)
        assert failure.empty, failure[["ErrorType", "Error"]].to_dict("records")
        jobs = [j for j in server.state.jobs.values() if j["appId"] == sales]
        assert len(jobs) == rows and sorted(success["JobId"]) == sorted(j["id"] for j in jobs)
