"""A large listing: every user of a Server with *users* of them, into a dataframe.

The baseline is what a person would write: one ``requests.get`` of
``/v3/users``, ``json.loads`` of its body, ``pandas.json_normalize``.  axframe
is ``ax.get(conn, "users.list").expand()``.  Each run is a fresh process
(:mod:`benchmarks.isolated`), the two sides interleaved, against one emulator
seeded once; time comes from runs without tracemalloc, the peak of Python
allocations from runs of their own under it, the peak RSS growth from the
timed runs.  Ratios: axframe / the baseline.
"""

from __future__ import annotations

from typing import Callable

from .common import EmulatorProcess, Figure, Sample, interleaved, median, paired
from .isolated import run_isolated

GROUP = "6 large listing"
MIB = 1024 * 1024


def plain(url: str, token: str) -> Callable[[], int]:
    """Set-up of the baseline side (in its own process): requests + json + json_normalize."""
    import json

    import pandas as pd
    import requests

    def run() -> int:
        answer = requests.get(f"{url}/v3/users", headers={"Authorization": f"Bearer {token}"}, timeout=3600)
        answer.raise_for_status()
        return len(pd.json_normalize(json.loads(answer.content)))

    return run


def axframe(url: str, key: list[str]) -> Callable[[], int]:
    """Set-up of the axframe side (in its own process): a connection, then ``users.list`` expanded."""
    import axframe as ax

    conn = ax.authenticate(url, *key)
    return lambda: len(ax.get(conn, "users.list", progress=False).expand())


def large_listing(emu: EmulatorProcess, users: int = 1_000_000, rounds: int = 2, trace_rounds: int = 1) -> list[Figure]:
    emu.reset({"bulkUsers": {"count": users}})
    args: dict[str, tuple[str, dict]] = {
        "plain": ("benchmarks.listing:plain", {"url": emu.url, "token": emu.token()}),
        "axframe": ("benchmarks.listing:axframe", {"url": emu.url, "key": list(emu.curator)})}

    def side(trace: bool) -> Callable[[str, int], Sample]:
        def run_one(name: str, round_: int) -> Sample:
            got = run_isolated(*args[name], trace=trace)
            if not isinstance(got.value, int) or got.value < users:
                raise AssertionError(f"{name}: {got.value} rows of {users}")
            return Sample(got.seconds, float("nan"), got)
        return run_one

    timed = interleaved(list(args), rounds, side(False))
    traced = interleaved(list(args), trace_rounds, side(True))
    emu.reset("empty")
    seconds = {name: [s.wall for s in got] for name, got in timed.items()}
    rss = {name: [s.value.rss_growth for s in got] for name, got in timed.items()}
    peak = {name: [s.value.traced_peak for s in got] for name, got in traced.items()}
    time_ratio, rss_ratio, peak_ratio = (paired(d["axframe"], d["plain"]) for d in (seconds, rss, peak))
    return [
        Figure(GROUP, f"{users:,} users to a dataframe: axframe time / requests+json+json_normalize",
               time_ratio.median, "<= 1.0", time_ratio.median <= 1.0,
               f"{median(seconds['axframe']):.1f} s vs {median(seconds['plain']):.1f} s; {rounds} rounds, "
               "a fresh process each", "x", time_ratio),
        Figure(GROUP, "peak memory / baseline (tracemalloc, Python allocations)", peak_ratio.median, "<= 1.0",
               peak_ratio.median <= 1.0, f"{median(peak['axframe']) / MIB:,.0f} MiB vs "
               f"{median(peak['plain']) / MIB:,.0f} MiB; {trace_rounds} round(s) under tracemalloc", "x", peak_ratio),
        Figure(GROUP, "peak memory / baseline (RSS growth of the process)", rss_ratio.median, "<= 1.0",
               rss_ratio.median <= 1.0, f"{median(rss['axframe']) / MIB:,.0f} MiB vs "
               f"{median(rss['plain']) / MIB:,.0f} MiB", "x", rss_ratio),
    ]
