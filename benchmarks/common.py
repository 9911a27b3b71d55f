"""Shared pieces of the benchmarks: an emulator in its own process, tokens, timing, memory.

The emulator always runs in a separate process, so that the client under test
and the emulator do not share an interpreter (or its GIL).  Every figure the
suite reports is a ratio of two measurements taken in the same run.
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, Callable

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


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def peak_memory(fn: Callable[[], Any]) -> tuple[float, int, Any]:
    """Seconds and the peak of Python allocations (tracemalloc) while *fn* runs."""
    gc.collect()
    tracemalloc.start()
    try:
        started = time.perf_counter()
        value = fn()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return elapsed, peak, value


@dataclass
class Figure:
    """One line of the results table."""

    benchmark: str
    measure: str
    value: float
    target: str
    holds: bool | None
    detail: str = ""
    unit: str = ""

    def row(self) -> list[str]:
        mark = "n/a" if self.holds is None else ("yes" if self.holds else "NO")
        return [self.benchmark, self.measure, f"{self.value:,.3g}{self.unit}", self.target, mark, self.detail]


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)

    def add(self, *figures: Figure) -> None:
        self.figures.extend(figures)

    @property
    def ok(self) -> bool:
        return all(f.holds is not False for f in self.figures)

    def table(self) -> str:
        header = ["benchmark", "measure", "value", "target", "holds", "detail"]
        rows = [header] + [f.row() for f in self.figures]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
        lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
        return "\n".join(lines)


def median(values: list[float]) -> float:
    return statistics.median(values)
