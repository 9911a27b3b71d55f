"""Run every benchmark and print one table: ``python -m benchmarks.run``.

Each figure is a ratio of two measurements taken side by side in the same run
(this machine is shared and noisy; an absolute time alone proves nothing),
printed with its target and whether it holds.  The table is also written to
``benchmarks/results.md``.  The exit status is 1 when a target is missed.

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

from . import client
from .common import EmulatorProcess, Figure, Report

HERE = Path(__file__).resolve().parent
SIZES = {
    "full": {"overhead": dict(rows=2000, rounds=3),
             "latency": dict(rows=2000, workers=16, latency=0.05, sequential_rows=200, token_lifetime=3),
             "listing": dict(users=100_000, rounds=2),
             "jobs": dict(jobs=500, slots=8, run_seconds=0.2),
             "pace": dict(capacities=(4, 32), rows=3000, latency=0.02, sweep=(4, 8, 16, 32, 64))},
    "quick": {"overhead": dict(rows=40, rounds=1),
              "latency": dict(rows=64, workers=16, latency=0.01, sequential_rows=8, token_lifetime=1),
              "listing": dict(users=500, rounds=1),
              "jobs": dict(jobs=12, slots=4, run_seconds=0.05),
              "pace": dict(capacities=(4,), rows=60, latency=0.005, sweep=(2, 8), rounds=1)},
}


def machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run(size: str = "full", only: set[str] | None = None) -> Report:
    sizes = SIZES[size]
    report = Report()
    steps = [("overhead", client.overhead), ("latency", client.latency_bound), ("listing", client.large_listing),
             ("jobs", _jobs), ("pace", client.pace)]
    with EmulatorProcess() as emu:
        for name, fn in steps:
            if only and name not in only:
                continue
            started = time.perf_counter()
            print(f"... {name}", file=sys.stderr, flush=True)
            report.add(*fn(emu, **sizes[name]))
            print(f"    {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return report


def _jobs(emu: EmulatorProcess, jobs: int, slots: int, run_seconds: float) -> list[Figure]:
    from . import jobs as job_bench

    result = job_bench.run(jobs=jobs, slots=slots, run_seconds=run_seconds)
    ratio = result["wall"] / result["limit"]
    return [
        Figure("5 jobs", f"{jobs} jobs, {slots} job slots, {run_seconds} s each: wall / limit", ratio, "<= 1.2",
               ratio <= 1.2, f"{result['wall']:.2f} s vs limit {result['limit']:.2f} s", "x"),
        Figure("5 jobs", "status requests per job", result["status_requests_per_job"], "a handful (<= 6)",
               result["status_requests_per_job"] <= 6),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    parser.add_argument("--only", nargs="+", choices=list(SIZES["full"]), help="run only these benchmarks")
    parser.add_argument("--output", default=str(HERE / "results.md"), help="where to write the table")
    args = parser.parse_args(argv)
    size = "quick" if args.quick else "full"
    started = time.perf_counter()
    report = run(size, set(args.only) if args.only else None)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = f"axframe benchmarks ({size} size), {stamp}, {machine()}, {time.perf_counter() - started:.0f} s"
    text = f"{header}\n\n{report.table()}\n"
    print(text)
    if not args.quick or args.output != str(HERE / "results.md"):
        Path(args.output).write_text(text, encoding="utf-8")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
