"""Run every benchmark and print one table: ``python -m benchmarks.run``.

Each comparison is a ratio of measurements taken side by side in the same
run, in interleaved rounds (this machine is shared and noisy; an absolute time
alone proves nothing), printed as the median of the per-round ratios with its
spread (lowest–highest round), its target and whether it holds.  Rows without
a target are context.  The header notes the machine's load during the run.
The table is also written to ``benchmarks/results.md``; the exit status is 1
when a target is missed.

The families, one module each: :mod:`benchmarks.calls` (calls at 0 ms against
every baseline and peer, the emulator's ceiling, client CPU per call),
:mod:`benchmarks.latency` (latency-bound bulk, token economy),
:mod:`benchmarks.dry_run`, :mod:`benchmarks.listing`, :mod:`benchmarks.jobs`
and :mod:`benchmarks.pace` (run twice: quietly, then under the load of
``--under-load``, by default one busy process per core; see :mod:`benchmarks.load`).

The peers and httpx come with the ``bench`` extra (``pip install -e
'.[bench]'``); without it their rows say "skipped" and why.

``--quick`` runs every benchmark at a tiny size (the smoke test does this, so
the suite cannot rot); its figures are not meaningful.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from . import calls, dry_run, latency, listing, peers
from . import pace as pacing
from .common import EmulatorProcess, Figure, LoadMonitor, Report
from .load import Load
from .pace import Scenario

HERE = Path(__file__).resolve().parent
SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "full": {"calls": dict(calls=1000, rounds=5, processes=4),
             "latency": dict(rows=2000, workers=16, latency=0.05, sequential_rows=200, rounds=3, token_lifetime=3),
             "dry-run": dict(rows=1_000_000, rounds=1, trace_rounds=1),
             "listing": dict(users=1_000_000, rounds=3, trace_rounds=1),
             "jobs": dict(jobs=500, slots=8, run_seconds=0.2),
             "pace": dict(scenarios=(Scenario("0 ms", 0, 2000, (1, 2, 4, 8, 16, 32)),
                                     Scenario("K=4", 4, 400, (2, 4, 8, 16)),
                                     Scenario("K=32", 32, 2000, (4, 8, 16, 32, 64))),
                          latency=0.02, rounds=5)},
    "quick": {"calls": dict(calls=24, rounds=1, processes=2),
              "latency": dict(rows=64, workers=16, latency=0.01, sequential_rows=8, rounds=1, token_lifetime=1),
              "dry-run": dict(rows=2000, rounds=1, trace_rounds=1),
              "listing": dict(users=500, rounds=1, trace_rounds=1),
              "jobs": dict(jobs=12, slots=4, run_seconds=0.05),
              "pace": dict(scenarios=(Scenario("0 ms", 0, 60, (2, 8)), Scenario("K=4", 4, 60, (2, 8)),
                                      Scenario("K=32", 32, 60, (8, 32))), latency=0.005, rounds=1)},
}
STEPS = ["calls", "latency", "dry-run", "listing", "jobs", "pace", "pace-under-load"]


def machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _jobs(emu: EmulatorProcess, jobs: int, slots: int, run_seconds: float) -> list[Figure]:
    from . import jobs as job_bench

    result = job_bench.run(jobs=jobs, slots=slots, run_seconds=run_seconds)
    ratio = result["wall"] / result["limit"]
    return [
        Figure("7 jobs", f"{jobs} jobs, {slots} job slots, {run_seconds} s each: wall / limit", ratio, "<= 1.2",
               ratio <= 1.2, f"{result['wall']:.2f} s vs limit {result['limit']:.2f} s", "x"),
        Figure("7 jobs", "status requests per job", result["status_requests_per_job"], "a handful (<= 6)",
               result["status_requests_per_job"] <= 6),
    ]


def steps(sizes: dict[str, dict[str, Any]], load: str) -> dict[str, Callable[[EmulatorProcess], list[Figure]]]:
    return {
        "calls": lambda emu: calls.calls_at_zero(emu, **sizes["calls"]),
        "latency": lambda emu: latency.latency_bound(emu, **sizes["latency"]),
        "dry-run": lambda emu: dry_run.dry_run_cost(emu, **sizes["dry-run"]),
        "listing": lambda emu: listing.large_listing(emu, **sizes["listing"]),
        "jobs": lambda emu: _jobs(emu, **sizes["jobs"]),
        "pace": lambda emu: pacing.pace(emu, **sizes["pace"]),
        "pace-under-load": lambda emu: pacing.pace(emu, **sizes["pace"], load=load),
    }


def run(size: str = "full", only: set[str] | None = None, load: str = "busy") -> Report:
    report = Report()
    chosen = steps(SIZES[size], load)
    if load == "none":
        chosen.pop("pace-under-load")
    with EmulatorProcess() as emu:
        for name, fn in chosen.items():
            if only and name not in only:
                continue
            started = time.perf_counter()
            print(f"... {name}", file=sys.stderr, flush=True)
            report.add(*fn(emu))
            print(f"    {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return report


def peer_note() -> str:
    found = [f"{d} {peers.version(d)}" for d in peers.PEERS if not peers.missing(d)]
    absent = [d for d in peers.PEERS if peers.missing(d)]
    note = "peers: " + (", ".join(found) if found else "none installed")
    return note + (f"; not installed (rows skipped): {', '.join(absent)}" if absent else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    parser.add_argument("--only", nargs="+", choices=STEPS, help="run only these benchmarks")
    parser.add_argument("--under-load", default="busy", metavar="LOAD",
                        help="the load beside the second pace run: busy[:N] (N busy processes, default one per "
                             "core), tests (the test suite, looping) or none (no second run)")
    parser.add_argument("--output", default=str(HERE / "results.md"), help="where to write the table")
    args = parser.parse_args(argv)
    Load(args.under_load)  # refuse a bad spec before anything runs
    size = "quick" if args.quick else "full"
    started = time.perf_counter()
    monitor = LoadMonitor()
    report = run(size, set(args.only) if args.only else None, args.under_load)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (f"axframe benchmarks ({size} size), {stamp}, {machine()}, {time.perf_counter() - started:.0f} s\n\n"
              f"Machine load: {monitor.stop()} (a shared machine; every comparison is interleaved, so the noise "
              f"falls on both sides). Under load: {Load(args.under_load).describe()}. {peer_note()}.")
    text = f"{header}\n\n{report.table()}\n"
    print(text)
    if not args.quick or args.output != str(HERE / "results.md"):
        Path(args.output).write_text(text, encoding="utf-8")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
