"""Finding the Server's pace: ``max_workers="auto"`` against the best fixed worker count.

Three Servers: one with no limit and no latency (0 ms), and two that serve
*K* calls at once (4 and 32), take *latency* per call and refuse (429, with
``Retry-After``) what does not fit in a queue of *K*.  On each, GETs of one
collection run with every fixed worker count of the scenario's sweep and with
``"auto"``, all in interleaved rounds (:func:`benchmarks.common.interleaved`).
The best fixed count is the one with the highest median rate (picking the
maximum of noisy medians favours the fixed side, never auto); the figure is
the median of the per-round ratios auto / that count, with the spread.  The
429s the Server sent during the auto runs are counted per 1,000 rows.

With a :class:`benchmarks.load.Load` the same measurement runs while the load
burns CPU beside it (its figures are a group of their own).  The journal's
cost (:mod:`benchmarks.pace_journal`) is measured with it, as many rows as the
largest scenario.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import pandas as pd

import axframe as ax

from .common import EmulatorProcess, Figure, Sample, interleaved, measure, median, paired
from .load import Load
from .pace_journal import GROUP as JOURNAL_GROUP
from .pace_journal import journal_cost

GROUP = "8 finding the pace"
FAST = ax.RetryPolicy(max_attempts=8, base_delay=0.05, max_delay=1.0, max_retry_after=2.0)


@dataclass(frozen=True)
class Scenario:
    name: str
    capacity: int  # 0: no limit
    rows: int
    sweep: tuple[int, ...]


def _faults(emu: EmulatorProcess, scenario: Scenario, latency: float) -> None:
    if scenario.capacity:
        emu.faults(capacity=scenario.capacity, latency=latency, queue_limit=scenario.capacity, overload_status=429,
                   retry_after=1)
    else:
        emu.faults()


def _refused(emu: EmulatorProcess) -> int:
    return emu.stats()["faults"]["counters"].get("overloaded", 0)


def scenario_figures(emu: EmulatorProcess, scenario: Scenario, latency: float, rounds: int,
                     group: str) -> list[Figure]:
    token = emu.token()
    collection = emu.create_collection(token, f"pace-{scenario.name}")
    frame = ax.add_record_id(pd.DataFrame({"collectionId": [collection] * scenario.rows}))
    _faults(emu, scenario, latency)
    refused = failed = 0

    def run_one(name: str, round_: int) -> Sample:
        nonlocal refused, failed
        workers: int | str = name if name == "auto" else int(name)
        conn = ax.authenticate(emu.url, *emu.curator, retry=FAST)
        before = _refused(emu)
        sample = measure(lambda: ax.get(conn, "collections.get", frame, max_workers=workers, progress=False))
        conn.close()
        if name == "auto":
            refused += _refused(emu) - before
            failed += len(sample.value.failure)
        return Sample(sample.wall, sample.cpu, len(sample.value.success))

    names = [str(w) for w in scenario.sweep] + ["auto"]
    samples = interleaved(names, rounds, run_one)
    emu.faults()
    rates = {name: [s.value / s.wall for s in got] for name, got in samples.items()}
    best = max((n for n in names if n != "auto"), key=lambda n: median(rates[n]))
    ratio = paired(rates["auto"], rates[best])
    per_thousand = refused * 1000 / (scenario.rows * rounds)
    by_workers = {int(n): round(median(r)) for n, r in rates.items() if n != "auto"}
    return [
        Figure(group, f"{scenario.name}: auto / best fixed worker count", ratio.median, ">= 0.95",
               ratio.median >= 0.95, f"{scenario.rows} rows x {rounds} rounds: auto {median(rates['auto']):,.0f}/s "
               f"vs {median(rates[best]):,.0f}/s at {best} workers (median calls/s by workers: {by_workers})",
               "x", ratio),
        Figure(group, f"{scenario.name}: 429s per 1,000 rows with auto", per_thousand, "<= 5",
               per_thousand <= 5, f"{refused} refusals, {failed} failed rows in {rounds} runs"),
    ]


def pace(emu: EmulatorProcess, scenarios: tuple[Scenario, ...], latency: float = 0.02, rounds: int = 3,
         load: str | None = None) -> list[Figure]:
    """The pace figures; with *load* (a :class:`benchmarks.load.Load` spec) measured while it runs."""
    emu.reset("empty")
    under = Load(load) if load else None
    group = f"{GROUP}, under load" if under else GROUP
    figures: list[Figure] = []
    with under or nullcontext():
        for scenario in scenarios:
            figures += scenario_figures(emu, scenario, latency, rounds, group)
        figures += journal_cost(emu, max(s.rows for s in scenarios), rounds,
                                f"{JOURNAL_GROUP}, under load" if under else JOURNAL_GROUP)
    if under:
        for figure in figures:
            figure.detail = f"beside {under.describe()}; {figure.detail}"
    return figures
