"""One measured run in a fresh interpreter: its seconds, its peak of Python allocations, its peak RSS growth.

A run of a large listing or a large dry run leaves memory behind (freed but
kept by the allocator, caches), which would hide the next run's peak RSS; so
each run gets its own process.  The function named by ``module:function`` is
called with keyword arguments and does its set-up (imports, input frame,
connection); it returns the zero-argument callable that is measured, which
returns a small JSON-able check value (a row count).  Then, in the child:

- the peak RSS is reset (``/proc/self/clear_refs``) and the current RSS noted,
  and after the call the growth ``VmHWM - RSS before`` is the run's RSS peak;
- with ``trace=True`` the call runs under ``tracemalloc`` and the peak of
  traced allocations is the figure.  tracemalloc slows allocation-heavy code,
  so the suite times runs without it and measures that peak in runs of its own.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = "isolated-result: "


@dataclass(frozen=True)
class Isolated:
    seconds: float
    rss_growth: int  # bytes
    traced_peak: int | None  # bytes, with trace=True
    value: object


def run_isolated(target: str, kwargs: dict, trace: bool = False, timeout: float = 3600) -> Isolated:
    """Run ``target(**kwargs)()`` in a fresh ``python -m benchmarks.isolated`` process."""
    argv = [sys.executable, "-m", "benchmarks.isolated", target, json.dumps(kwargs)] + (["--trace"] if trace else [])
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode or not lines:
        raise RuntimeError(f"{target} failed in its own process:\n{done.stderr[-3000:]}")
    got = json.loads(lines[-1][len(MARK):])
    return Isolated(got["seconds"], got["rss_growth"], got.get("traced_peak"), got["value"])


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)  # pragma: no cover


def _reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:  # pragma: no cover - not Linux, or not allowed: the peak then includes the set-up's
        pass


def main(argv: list[str]) -> int:
    target, kwargs, trace = argv[0], json.loads(argv[1]), "--trace" in argv[2:]
    module, function = target.split(":")
    measured = getattr(importlib.import_module(module), function)(**kwargs)
    gc.collect()
    _reset_peak_rss()
    rss_before = _status_kib("VmRSS")
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    value = measured()
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] if trace else None
    tracemalloc.stop()
    growth = (_status_kib("VmHWM") - rss_before) * 1024
    print(MARK + json.dumps({"seconds": seconds, "rss_growth": growth, "traced_peak": traced, "value": value,
                             "pid": os.getpid()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
