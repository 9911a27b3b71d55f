"""Shared pieces of the benchmarks: an emulator in its own process, timing in interleaved rounds, the table.

The emulator always runs in a separate process, so that the client under test
and the emulator do not share an interpreter (or its GIL).  Every comparison
the suite reports is a ratio of measurements taken in the same run, in
interleaved rounds (:func:`interleaved`: each round runs every side once, in
an order that rotates and reverses from round to round, so that the noise of
a shared machine falls on every side alike), summarised by the median of the
per-round ratios and their spread (lowest and highest round).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import requests


class EmulatorProcess:
    """``python -m axframe.emulator`` on a free loopback port, driven through its control API."""

    def __init__(self, seed: str | None = None, job_slots: int | None = None):
        cmd = [sys.executable, "-m", "axframe.emulator", "--port", "0", "--json"]
        if seed:
            cmd += ["--seed", seed]
        if job_slots:
            cmd += ["--job-slots", str(job_slots)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            raise RuntimeError("the emulator did not start")
        info = json.loads(line)
        self.url: str = info["url"]
        self.root: str = self.url.rsplit("/webapi", 1)[0]
        self.curator: tuple[str, str] = tuple(info["curator"])  # type: ignore[assignment]
        self.control = requests.Session()

    def __enter__(self) -> "EmulatorProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.control.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        r = self.control.request(method, f"{self.root}/_emulator/{path}", json=body, timeout=120)
        r.raise_for_status()
        return r.json()

    def faults(self, **settings: Any) -> None:
        self.call("PUT", "faults", settings)

    def settings(self, **settings: Any) -> None:
        self.call("PUT", "settings", settings)

    def stats(self) -> dict:
        return self.call("GET", "stats")

    def reset(self, seed: Any = "empty") -> None:
        """New content; the keys change with it."""
        self.call("POST", "reset", {"seed": seed})
        self.curator = tuple(self.call("GET", "info")["curator"])  # type: ignore[assignment]

    def seed(self, seed: dict) -> dict:
        return self.call("POST", "seed", seed)["refs"]

    def token(self) -> str:
        key, secret = self.curator
        r = requests.post(f"{self.url}/oauth2/token", timeout=30,
                          data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret})
        r.raise_for_status()
        return r.json()["access_token"]

    def create_collection(self, token: str, name: str) -> str:
        """A collection made with plain ``requests``, for the GET benchmarks to read; its id."""
        r = requests.post(f"{self.url}/v3/collections", json={"name": name}, timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return r.json()

    def route_count(self, route: str) -> int:
        """How many calls of *route* the emulator has answered (its own count, whoever sent them)."""
        return self.stats()["routes"].get(route, 0)


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------


@dataclass
class Sample:
    """One timed run: wall seconds, process CPU seconds of this (the client's) process, and its value."""

    wall: float
    cpu: float
    value: Any = None


def measure(fn: Callable[[], Any]) -> Sample:
    """Run *fn* once; wall time (``perf_counter``) and this process's CPU time (``process_time``, all threads).

    The emulator is another process, so the CPU time is the client's alone.
    """
    cpu, wall = time.process_time(), time.perf_counter()
    value = fn()
    return Sample(time.perf_counter() - wall, time.process_time() - cpu, value)


def round_order(names: Sequence[str], round_: int) -> list[str]:
    """The order of *names* in round *round_*: round *r* starts with ``names[r]`` (cyclically), and goes
    forwards in even rounds, backwards in odd ones, so that every side takes every position in turn."""
    n = len(names)
    if not n:
        return []
    first = round_ % n
    if round_ % 2 == 0:
        return [names[(first + i) % n] for i in range(n)]
    return [names[(first - i) % n] for i in range(n)]


def interleaved(names: Sequence[str], rounds: int, run_one: Callable[[str, int], Sample]) -> dict[str, list[Sample]]:
    """``run_one(name, round)`` for every name in every round, in :func:`round_order`; the samples by name."""
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for round_ in range(rounds):
        for name in round_order(names, round_):
            samples[name].append(run_one(name, round_))
    return samples


@dataclass(frozen=True)
class Spread:
    """The median of some per-round values, with the lowest and highest."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        return cls(statistics.median(values), min(values), max(values))

    def text(self, unit: str = "") -> str:
        """``low–high``, or nothing when they read the same (one round)."""
        low, high = _num(self.low), _num(self.high)
        return "" if low == high else f"{low}{unit}–{high}{unit}"


def paired(ours: Sequence[float], theirs: Sequence[float]) -> Spread:
    """Per-round ratios ``ours[r] / theirs[r]`` of two sides measured in the same rounds."""
    return Spread.of([a / b for a, b in zip(ours, theirs)])


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# --------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------


def _num(value: float) -> str:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


@dataclass
class Figure:
    """One line of the results table.

    *holds* is ``None`` for a figure without a target (context); *skipped*
    says why a figure could not be measured (it then neither holds nor fails).
    """

    benchmark: str
    measure: str
    value: float
    target: str = ""
    holds: bool | None = None
    detail: str = ""
    unit: str = ""
    spread: Spread | None = None
    skipped: str = ""

    @classmethod
    def skip(cls, benchmark: str, measure: str, reason: str, target: str = "") -> "Figure":
        return cls(benchmark, measure, math.nan, target, None, skipped=reason)

    def row(self) -> list[str]:
        if self.skipped:
            return [self.benchmark, self.measure, "skipped", "", self.target or "-", "skipped", self.skipped]
        mark = "n/a" if self.holds is None else ("yes" if self.holds else "NO")
        spread = self.spread.text(self.unit) if self.spread else ""
        return [self.benchmark, self.measure, f"{_num(self.value)}{self.unit}", spread, self.target or "-", mark,
                self.detail]


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)

    def add(self, *figures: Figure) -> None:
        self.figures.extend(figures)

    @property
    def ok(self) -> bool:
        return all(f.holds is not False for f in self.figures)

    def table(self) -> str:
        """The figures as a Markdown table, grouped by their benchmark's number (in the order measured within)."""
        header = ["benchmark", "measure", "value", "spread", "target", "holds", "detail"]
        ordered = sorted(self.figures, key=lambda f: int(f.benchmark.split()[0]) if f.benchmark[:1].isdigit() else 99)
        rows = [header] + [f.row() for f in ordered]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
        lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
        return "\n".join(lines)


# --------------------------------------------------------------------------
# the machine's load
# --------------------------------------------------------------------------


def cpu_times(path: str = "/proc/stat") -> list[int] | None:
    """The machine's CPU time by kind since boot (``/proc/stat``'s ``cpu`` line, in clock ticks: user, nice,
    system, idle, iowait, irq, softirq, steal...); None where there is no such file (not Linux)."""
    try:
        with open(path, encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    return [int(value) for value in fields[1:]]


def stolen(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of the cores' time between two :func:`cpu_times` that the host gave to others (steal: a
    virtual machine's cores waiting for the physical ones); None when it is not known."""
    if before is None or after is None or len(before) < 8 or len(after) < 8:
        return None
    spent = [b - a for a, b in zip(before, after)]
    total = sum(spent[:8])  # user..steal: guest time is counted in user already
    return spent[7] / total if total > 0 else None


class LoadMonitor:
    """Samples the 1-minute load average, and the cores' time the host took (steal), every few seconds
    while the suite runs (a daemon thread)."""

    def __init__(self, every: float = 5.0, stat: str = "/proc/stat"):
        self.samples = [os.getloadavg()[0]]
        self._stat, self._every = stat, every
        self.cpu = [cpu_times(stat)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self._every):
            self.samples.append(os.getloadavg()[0])
            self.cpu.append(cpu_times(self._stat))

    def steal(self) -> str:
        """The steal of the whole run and of its worst interval, as a note ("" when it is not known)."""
        overall = stolen(self.cpu[0], self.cpu[-1])
        if overall is None:
            return ""
        worst = max((share for share in (stolen(a, b) for a, b in zip(self.cpu, self.cpu[1:])) if share is not None),
                    default=overall)
        return (f"; the host took {overall:.1%} of the cores' time (steal: this virtual machine's cores waiting for "
                f"the physical ones), {worst:.0%} in the worst {self._every:g} s")

    def stop(self) -> str:
        """Stop; a note for the table's header."""
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])
        self.cpu.append(cpu_times(self._stat))
        return (f"load average (1 min) {self.samples[0]:.1f} at the start, {min(self.samples):.1f}–"
                f"{max(self.samples):.1f} during the run (median {median(self.samples):.1f}), "
                f"{self.samples[-1]:.1f} at the end, on {os.cpu_count()} cores{self.steal()}")


