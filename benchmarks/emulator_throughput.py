"""The emulator's own ceiling: calls per second it serves when its clients cost next to nothing.

Several worker processes (:mod:`benchmarks.minimal`), each with one keep-alive
``http.client`` connection, share a batch of calls; the ceiling is the batch
over the time from the first worker's start to the last one's end.  Processes,
not threads, so that no client interpreter (or its GIL) limits the figure: what
is left is the emulator.  On two cores the clients still take some CPU from the
emulator, which makes the figure a lower bound of the emulator's capacity, and
a fair ceiling for a client that runs on the same machine.

The suite measures this ceiling as one more side of its interleaved rounds
(:mod:`benchmarks.calls`), so that it sees the same noise as the clients.  On
its own::

    python benchmarks/emulator_throughput.py [--calls 4000] [--processes 2 4 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/emulator_throughput.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.minimal import CREATE, GET  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class CeilingWorkers:
    """*processes* :func:`benchmarks.minimal.worker` processes, started once and fed batches of calls."""

    def __init__(self, url: str, token: str, processes: int):
        self.procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.minimal", url, token], cwd=ROOT,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                      for _ in range(processes)]
        for proc in self.procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                self.close()
                raise RuntimeError("a ceiling worker did not start")

    def calls(self, kind: str, targets: list[str]) -> tuple[float, int]:
        """Seconds from the first start to the last end, and the calls answered 200."""
        for i, proc in enumerate(self.procs):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps({"kind": kind, "targets": targets[i::len(self.procs)]}) + "\n")
            proc.stdin.flush()
        answers = [json.loads(proc.stdout.readline()) for proc in self.procs if proc.stdout is not None]
        return (max(a["ended"] for a in answers) - min(a["started"] for a in answers),
                sum(a["ok"] for a in answers))

    def close(self) -> None:
        for proc in self.procs:
            if proc.stdin:
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    from benchmarks.common import EmulatorProcess

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4000, help="calls per measurement")
    parser.add_argument("--processes", type=int, nargs="+", default=[2, 4, 8], help="worker processes to try")
    args = parser.parse_args(argv)
    with EmulatorProcess(seed="empty") as emu:
        token = emu.token()
        collection = emu.create_collection(token, "ceiling")
        print(f"emulator {emu.url} (separate process), machine: {os.cpu_count()} cores")
        for processes in args.processes:
            workers = CeilingWorkers(emu.url, token, processes)
            try:
                for kind in (GET, CREATE):
                    targets = [collection] * args.calls if kind == GET else \
                        [f"ceiling-{processes}-{i}" for i in range(args.calls)]
                    seconds, ok = workers.calls(kind, targets)
                    print(f"  {processes} processes x 1 keep-alive http.client connection, {kind:6}: "
                          f"{ok / seconds:,.0f} calls/s ({ok} of {args.calls} answered 200)")
            finally:
                workers.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
