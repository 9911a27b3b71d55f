"""What a journal costs: creates with a journal against the same creates without, 16 workers at 0 ms.

Every created row writes two journal lines (the intent before its call, the
result after), and the intent must be in the file before the call goes out;
at 0 ms nothing hides that cost.  Both sides create collections (new names
each round, so that nothing is taken from a journal), in interleaved rounds;
the figure is the median of the per-round ratios of rows per second.  It runs
with the pace benchmark (:func:`benchmarks.pace.pace`), quietly and under load.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

import axframe as ax

from .common import EmulatorProcess, Figure, Sample, interleaved, measure, median, paired

GROUP = "9 the journal"
WORKERS = 16


def journal_cost(emu: EmulatorProcess, rows: int, rounds: int, group: str = GROUP) -> list[Figure]:
    emu.faults()
    with tempfile.TemporaryDirectory(prefix="axframe-bench-journal-") as folder:

        def run_one(name: str, round_: int) -> Sample:
            conn = ax.authenticate(emu.url, *emu.curator)
            frame = ax.add_record_id(pd.DataFrame({"name": [f"journal-{name}-{round_}-{i}" for i in range(rows)]}))
            journal = Path(folder) / f"{name}-{round_}.journal" if name == "journal" else None
            sample = measure(lambda: ax.create(conn, "collections.create", frame, max_workers=WORKERS,
                                               progress=False, journal=journal))
            conn.close()
            return Sample(sample.wall, sample.cpu, len(sample.value.success))

        samples = interleaved(["journal", "none"], rounds, run_one)
    rates = {name: [s.value / s.wall for s in got] for name, got in samples.items()}
    ratio = paired(rates["journal"], rates["none"])
    return [Figure(group, f"creates/s with a journal / without ({WORKERS} workers, 0 ms)", ratio.median,
                   ">= 0.95", ratio.median >= 0.95,
                   f"{rows} rows x {rounds} rounds: {median(rates['journal']):,.0f}/s with a journal vs "
                   f"{median(rates['none']):,.0f}/s without", "x", ratio)]
