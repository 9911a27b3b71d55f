"""Finding the Server's pace: ``max_workers="auto"`` against the best fixed worker count.

Three Servers: one with no limit and no latency (0 ms), and two that serve
*K* calls at once (4 and 32), take *latency* per call and refuse (429, with
``Retry-After``) what does not fit in a queue of *K*.  On each, GETs of one
collection run with every fixed worker count of the scenario's sweep and with
``"auto"``, all in interleaved rounds (:func:`benchmarks.common.interleaved`).
The figure is the median of the per-round ratios auto / the best fixed count,
with the spread; each round's best count is the one with the highest median
rate in the *other* rounds (:func:`held_out`), since a count chosen and
compared on the same noisy rounds wins partly by its luck in them.  The ratio
against that same-rounds best is shown beside it, as context.  The 429s the
Server sent during the auto runs are counted per 1,000 rows.

With a :class:`benchmarks.load.Load` the same measurement runs while the load
burns CPU beside it (its figures are a group of their own).  The journal's
cost (:mod:`benchmarks.pace_journal`) is measured with it, as many rows as the
largest scenario.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

import axframe as ax

from .common import EmulatorProcess, Figure, Sample, Spread, interleaved, measure, median, paired
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
    fixed = [n for n in names if n != "auto"]
    best = max(fixed, key=lambda n: median(rates[n]))
    selected = paired(rates["auto"], rates[best])  # the best chosen on the same rounds it is compared in
    ratio = held_out(rates["auto"], {n: rates[n] for n in fixed})
    per_thousand = refused * 1000 / (scenario.rows * rounds)
    by_workers = {int(n): round(median(r)) for n, r in rates.items() if n != "auto"}
    return [
        Figure(group, f"{scenario.name}: auto / best fixed worker count", ratio.median, ">= 0.95",
               ratio.median >= 0.95, f"{scenario.rows} rows x {rounds} rounds, each round against the count best in "
               f"the other rounds: auto {median(rates['auto']):,.0f}/s, best overall {best} workers at "
               f"{median(rates[best]):,.0f}/s (median calls/s by workers: {by_workers})", "x", ratio),
        Figure(group, f"{scenario.name}: auto / the count best in the same rounds", selected.median, "",
               None, f"context: the fastest median of {len(fixed)} noisy counts, chosen and compared on the same "
               "rounds, overstates that count's rate", "x", selected),
        Figure(group, f"{scenario.name}: 429s per 1,000 rows with auto", per_thousand, "<= 5",
               per_thousand <= 5, f"{refused} refusals, {failed} failed rows in {rounds} runs"),
    ]


def held_out(auto: Sequence[float], fixed: dict[str, Sequence[float]]) -> Spread:
    """Per-round ratios of *auto* to the fixed count whose median rate is highest in the *other* rounds
    (all rounds when there is one).

    Choosing the best of several noisy counts and comparing with it on the same rounds favours it: its
    highest median is partly its luck in those rounds (with 6 counts at 15% noise per round, about 10%).
    Choosing it on the other rounds takes that luck out, and still uses every round.
    """
    ratios = []
    for r, ours in enumerate(auto):
        others = {n: [v for i, v in enumerate(got) if i != r] or list(got) for n, got in fixed.items()}
        best = max(others, key=lambda n: median(others[n]))
        ratios.append(ours / fixed[best][r])
    return Spread.of(ratios)


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
