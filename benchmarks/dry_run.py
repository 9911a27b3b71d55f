"""A dry run of many rows: what ``ax.create(..., dry_run=True)`` costs per row, in time and in memory.

*rows* user creations (email, first and last name, role: a typical
onboarding frame), planned and shown without sending anything.  The input
frame and the connection are made before the measurement (they are the
caller's); the measured call includes shaping the dry-run frame it returns.
Each run is a fresh process (:mod:`benchmarks.isolated`): time and peak RSS
growth from runs without tracemalloc, the peak of Python allocations from a
run under it; each divided by the rows.
"""

from __future__ import annotations

from typing import Callable

from .common import EmulatorProcess, Figure, Spread
from .isolated import run_isolated

GROUP = "5 dry run"


def dry_run(url: str, key: list[str], rows: int) -> Callable[[], int]:
    """Set-up (in its own process): a connection and the frame of *rows* new users."""
    import pandas as pd

    import axframe as ax

    conn = ax.authenticate(url, *key)
    frame = ax.add_record_id(pd.DataFrame({"email": [f"user{i}@example.com" for i in range(rows)],
                                           "firstName": "Ada", "lastName": [f"Lovelace {i}" for i in range(rows)],
                                           "role": "Viewer"}))
    return lambda: len(ax.create(conn, "users.create", frame, dry_run=True, progress=False).success)


def dry_run_cost(emu: EmulatorProcess, rows: int = 1_000_000, rounds: int = 1, trace_rounds: int = 1) -> list[Figure]:
    args = ("benchmarks.dry_run:dry_run", {"url": emu.url, "key": list(emu.curator), "rows": rows})
    timed = [run_isolated(*args) for _ in range(rounds)]
    traced = [run_isolated(*args, trace=True) for _ in range(trace_rounds)]
    for got in timed + traced:
        if got.value != rows:
            raise AssertionError(f"the dry run showed {got.value} rows of {rows}")
    per_row = Spread.of([g.seconds / rows * 1e6 for g in timed])
    rss = Spread.of([g.rss_growth / rows / 1024 for g in timed])
    peak = Spread.of([(g.traced_peak or 0) / rows / 1024 for g in traced])
    what = f"{rows:,} users.create rows, dry_run=True"
    return [
        Figure(GROUP, f"{what}: time per row", per_row.median, "<= 20 us", per_row.median <= 20,
               f"{per_row.median * rows / 1e6:.1f} s in all; {rounds} run(s), a fresh process each", " us", per_row),
        Figure(GROUP, f"{what}: peak memory per row (tracemalloc)", peak.median, "<= 0.6 KiB", peak.median <= 0.6,
               f"{peak.median * rows / 1024:,.0f} MiB at the peak", " KiB", peak),
        Figure(GROUP, f"{what}: peak memory per row (RSS growth)", rss.median, "<= 0.6 KiB", rss.median <= 0.6,
               f"{rss.median * rows / 1024:,.0f} MiB at the peak", " KiB", rss),
    ]
