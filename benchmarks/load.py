"""A CPU-burning load beside a benchmark, to see whether its figures hold on a busy machine.

``busy[:N]`` (the default, N = the number of cores): N processes spinning
``while True: pass``, each taking a core when it can.  ``tests``: the
project's test suite (without the benchmark smoke test), run again and again
in one process group.  Either is started before the measurement and stopped
after it; the machine's other load (other agents) comes on top.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
TESTS_FOREVER = ("import subprocess, sys\n"
                 "while True:\n"
                 "    subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',\n"
                 "                    '--ignore=tests/test_benchmarks.py', 'tests'],\n"
                 "                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n")


def parse(spec: str) -> tuple[str, int]:
    """``"busy"``, ``"busy:N"``, ``"tests"`` or ``"none"`` -> (kind, processes)."""
    kind, _, count = spec.partition(":")
    if kind not in ("busy", "tests", "none"):
        raise ValueError(f"unknown load {spec!r}: busy[:N], tests or none")
    return kind, int(count) if count else (os.cpu_count() or 2) if kind == "busy" else 1


class Load:
    """``with Load("busy:2"):`` runs the load for the duration of the block."""

    def __init__(self, spec: str = "busy"):
        self.kind, self.count = parse(spec)
        self.procs: list[subprocess.Popen] = []

    def describe(self) -> str:
        if self.kind == "busy":
            return f"{self.count} busy process{'es' * (self.count > 1)} (while True: pass)"
        return "the test suite, looping" if self.kind == "tests" else "no added load"

    def __enter__(self) -> "Load":
        if self.kind == "busy":
            self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)]
        elif self.kind == "tests":
            self.procs = [subprocess.Popen([sys.executable, "-c", TESTS_FOREVER], cwd=ROOT, start_new_session=True,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for proc in self.procs:
            if self.kind == "tests":
                os.killpg(proc.pid, signal.SIGTERM)  # the group this load started: the loop and its pytest
            else:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
        self.procs = []
