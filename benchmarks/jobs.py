"""How close ``run_jobs`` comes to the limit the Server's job slots set.

Starts the emulator in a separate process with N job slots, makes one of its
analytic apps run for a fixed time, then runs many jobs of it with
:func:`axframe.jobs.run_jobs` and compares the wall time with the limit the
emulator's concurrency allows, ``ceil(jobs / slots) * run_seconds``::

    python benchmarks/jobs.py [--jobs 500] [--slots 8] [--run-seconds 0.2] [--max-queued 20]

A ratio near 1 means the client kept every slot busy and noticed the last
jobs end promptly; status requests per job show how politely it polled.
:func:`run` returns the figures as a dict for a suite to call.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from typing import Any

import pandas as pd
import requests

import axframe as ax
from axframe import jobs as axjobs

APP_NAME = "Regional Sales Report"  # an app of the emulator's default seed (questions Region, Year)


def start_emulator(slots: int) -> tuple[subprocess.Popen, dict]:
    """Start ``python -m axframe.emulator`` on a free loopback port; return the process and its JSON line."""
    proc = subprocess.Popen([sys.executable, "-m", "axframe.emulator", "--port", "0", "--json",
                             "--job-slots", str(slots)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("the emulator did not start")
    return proc, json.loads(line)


def run(jobs: int = 500, slots: int = 8, run_seconds: float = 0.2, max_queued: int | None = None,
        poll_interval: tuple[float, float] | None = None) -> dict[str, Any]:
    """Run *jobs* jobs of *run_seconds* each on an emulator with *slots* job slots.

    Parameters
    ----------
    jobs, slots, run_seconds : int, int, float
        The size of the run, the emulator's concurrency and each job's time.
    max_queued, poll_interval : optional
        Passed to :func:`run_jobs` (its defaults otherwise).

    Returns
    -------
    dict
        ``wall`` (seconds of the ``run_jobs`` call), ``limit``
        (``ceil(jobs / slots) * run_seconds``), ``ratio``, ``status_requests``,
        ``status_requests_per_job``, ``succeeded``, ``failed``,
        ``max_in_flight``, the emulator's own count of status requests
        (``server_status_requests``) and the settings.
    """
    proc, info = start_emulator(slots)
    root = info["url"].rsplit("/webapi", 1)[0]
    try:
        conn = ax.authenticate(info["url"], *info["curator"])
        listed = ax.get(conn, "workflows.list", pd.DataFrame({"RecordID": [1], "name": [APP_NAME]})).expand()
        workflow_id = str(listed["id"].iloc[0])
        r = requests.put(f"{root}/_emulator/workflows/{workflow_id}/behaviour", json={"runSeconds": run_seconds},
                         timeout=10)
        r.raise_for_status()
        regions = ["West", "East", "North", "South"]
        frame = pd.DataFrame({"RecordID": range(1, jobs + 1), "workflowId": [workflow_id] * jobs,
                              "Region": [regions[i % 4] for i in range(jobs)]})
        before = requests.get(f"{root}/_emulator/stats", timeout=10).json()["routes"].get("Jobs_GetJobV3", 0)
        options: dict[str, Any] = {}
        if max_queued is not None:
            options["max_queued"] = max_queued
        if poll_interval is not None:
            options["poll_interval"] = poll_interval
        started = time.perf_counter()
        result = axjobs.run_jobs(conn, frame, progress=False, **options)
        wall = time.perf_counter() - started
        after = requests.get(f"{root}/_emulator/stats", timeout=10).json()["routes"].get("Jobs_GetJobV3", 0)
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    limit = math.ceil(jobs / slots) * run_seconds
    summary = result.summary
    return {"jobs": jobs, "slots": slots, "run_seconds": run_seconds,
            "max_queued": options.get("max_queued", axjobs.DEFAULT_MAX_QUEUED),
            "poll_interval": list(options.get("poll_interval", axjobs.DEFAULT_POLL_INTERVAL)),
            "wall": wall, "limit": limit, "ratio": wall / limit if limit else math.inf,
            "succeeded": summary.succeeded, "failed": summary.failed,
            "status_requests": summary.status_requests,
            "status_requests_per_job": summary.status_requests_per_job,
            "server_status_requests": after - before, "max_in_flight": summary.max_in_flight,
            "calls": summary.calls, "retries": summary.retries, "cpus": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--run-seconds", type=float, default=0.2)
    parser.add_argument("--max-queued", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args(argv)
    figures = run(args.jobs, args.slots, args.run_seconds, max_queued=args.max_queued)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{figures['jobs']} jobs of {figures['run_seconds']:g} s, emulator with {figures['slots']} job slots "
          f"(separate process), max_queued={figures['max_queued']}, {figures['cpus']} cores")
    print(f"  wall time:          {figures['wall']:.2f} s")
    print(f"  limit:              {figures['limit']:.2f} s  (ceil({figures['jobs']} / {figures['slots']}) x "
          f"{figures['run_seconds']:g} s)")
    print(f"  ratio wall/limit:   {figures['ratio']:.3f}")
    print(f"  status requests:    {figures['status_requests']} ({figures['status_requests_per_job']:.2f} per job; "
          f"the emulator counted {figures['server_status_requests']})")
    print(f"  rows:               {figures['succeeded']} succeeded, {figures['failed']} failed; "
          f"at most {figures['max_in_flight']} jobs in flight")
    return 0 if figures["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
