"""Calls at 0 ms: axframe against every other way of making the same calls, and the client CPU they cost.

Two workloads, GET one collection and create one, each made *calls* times
per side per round by every side of :mod:`benchmarks.sides` and
:mod:`benchmarks.peers`, at 1 and at 16 workers, plus the emulator's ceiling
(several processes of minimal ``http.client`` loops).  All sides run in the
same interleaved rounds against the same emulator process, after one untimed
warm-up batch each (connections open, tokens fetched); each round checks on
the emulator that the side made exactly its calls (route counts, and the
collections count for creates), so that no side can look fast by failing.

Figures, each the median of per-round ratios with the lowest and highest:

- calls per second of axframe / each other side of the same width (and the
  fraction of the ceiling it reaches);
- client CPU per call: the process CPU time of this process (the emulator is
  another) per call, axframe / the minimal ``http.client`` loop of the same width;
- context only: axframe with one worker / a ``requests.Session`` loop with
  ``trust_env=True``, the baseline of the old "1.3x plain requests" figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from . import peers
from .common import EmulatorProcess, Figure, Sample, Spread, interleaved, median, paired
from .minimal import CREATE, GET
from .sides import AxframeSide, CeilingSide, HttpxSide, MinimalSide, RequestsSide, Side, make_batch, run_checked

CALLS = "1 calls at 0 ms"
CPU = "2 client CPU per call"
TOKENS = "4 token economy"


@dataclass(frozen=True)
class Rival:
    """A side axframe is compared with: its name, the axframe side of the same width, and the target if any."""

    name: str
    ours: str
    target: float | None = None
    needs: str = ""  # the distribution (peers.PEERS) it needs
    context: str = ""  # why a row is context only


WIDE, ONE = "axframe-16", "axframe-1"
RIVALS = [
    Rival("requests-16", WIDE, 1.3),
    Rival("httpx-16", WIDE, needs="httpx"),
    Rival("alteryx-server-py-16", WIDE, 1.3, "alteryx-server-py"),
    Rival("alteryx-server-py-async-16", WIDE, 1.3, "alteryx-server-py"),
    Rival("swagger-16", WIDE, 1.3, "mcp-server-alteryx"),
    Rival("minimal-16", WIDE),
    Rival("ceiling", WIDE),
    Rival("requests-1", ONE),
    Rival("httpx-1", ONE, needs="httpx"),
    Rival("alteryx-server-py-1", ONE, 1.2, "alteryx-server-py"),
    Rival("swagger-1", ONE, needs="mcp-server-alteryx"),
    Rival("minimal-1", ONE),
    Rival("requests-trust-env", ONE, context="context only: the baseline of the old '1.3x plain requests'"),
]


def _factories(emu: EmulatorProcess, token: str, processes: int) -> dict[str, tuple[str, str, Callable[[], Side]]]:
    """Every side by name: the distribution it needs ("" for none), its label if it can be skipped, its maker."""
    url, key = emu.url, emu.curator
    made: dict[str, tuple[str, str, Callable[[], Side]]] = {}
    for width in (16, 1):
        made[f"axframe-{width}"] = ("", "", partial(AxframeSide, url, key, width))
        made[f"requests-{width}"] = ("", "", partial(RequestsSide, url, token, width))
        made[f"httpx-{width}"] = ("httpx", HttpxSide.describe(width), partial(HttpxSide, url, token, width))
        made[f"minimal-{width}"] = ("", "", partial(MinimalSide, url, token, width))
        made[f"alteryx-server-py-{width}"] = ("alteryx-server-py", peers.AlteryxServerPySide.describe(width),
                                              partial(peers.AlteryxServerPySide, url, key, width))
        made[f"swagger-{width}"] = ("mcp-server-alteryx", peers.SwaggerClientSide.describe(width),
                                    partial(peers.SwaggerClientSide, url, key, width))
    made["alteryx-server-py-async-16"] = ("alteryx-server-py", peers.AlteryxServerPyAsyncSide.describe(16),
                                          partial(peers.AlteryxServerPyAsyncSide, url, key, 16))
    made["requests-trust-env"] = ("", "", partial(RequestsSide, url, token, 1, trust_env=True))
    made["ceiling"] = ("", "", partial(CeilingSide, url, token, processes))
    return made


@dataclass
class Runs:
    """The samples of one workload: calls per second and CPU seconds per call, by side, round by round."""

    kind: str
    calls: int
    rounds: int
    rates: dict[str, list[float]]
    cpu: dict[str, list[float]]


def measure_calls(emu: EmulatorProcess, sides: dict[str, Side], kind: str, calls: int, rounds: int,
                  collection: str) -> Runs:
    for name, side in sides.items():  # warm-up, untimed
        run_checked(emu, side, make_batch(kind, f"warm-{name}", 0, min(calls, 4 * side.width), collection))

    def run_one(name: str, round_: int) -> Sample:
        return run_checked(emu, sides[name], make_batch(kind, f"{name}-{kind}", round_, calls, collection))

    samples = interleaved(list(sides), rounds, run_one)
    return Runs(kind, calls, rounds,
                rates={name: [calls / s.wall for s in got] for name, got in samples.items()},
                cpu={name: [s.cpu / calls for s in got] for name, got in samples.items() if sides[name].in_process})


def _rate(runs: Runs, name: str) -> str:
    return f"{median(runs.rates[name]):,.0f}/s"


def call_figures(runs: Runs, sides: dict[str, Side], skipped: dict[str, tuple[str, str]]) -> list[Figure]:
    figures = []
    sized = f"{runs.calls} calls x {runs.rounds} rounds"
    for rival in RIVALS:
        ours = sides[rival.ours]
        target = f">= {rival.target}" if rival.target else ""
        prefix = f"{runs.kind}: {ours.label}"
        if rival.name in skipped:
            label, reason = skipped[rival.name]
            figures.append(Figure.skip(CALLS, f"{prefix} / {label}", reason, target))
            continue
        label = sides[rival.name].label
        ratio = paired(runs.rates[rival.ours], runs.rates[rival.name])
        if rival.name == "ceiling":
            measure_text = f"{prefix}: fraction of {label}"
        else:
            measure_text = f"{prefix} / {label}" + (f" ({rival.context})" if rival.context else "")
        holds = None if rival.target is None else ratio.median >= rival.target
        figures.append(Figure(CALLS, measure_text, ratio.median, target, holds,
                              f"{_rate(runs, rival.ours)} vs {_rate(runs, rival.name)}; {sized}, calls/s",
                              "x", ratio))
    ceiling = Spread.of(runs.rates["ceiling"])
    figures.append(Figure(CALLS, f"{runs.kind}: {sides['ceiling'].label}, calls/s", ceiling.median, "", None,
                          f"{sized}; a lower bound of the emulator's capacity on this machine", "/s", ceiling))
    return figures


def cpu_figures(runs: Runs, sides: dict[str, Side]) -> list[Figure]:
    figures = []
    for ours, floor in ((ONE, "minimal-1"), (WIDE, "minimal-16")):
        ratio = paired(runs.cpu[ours], runs.cpu[floor])
        width = sides[ours].width
        others = ", ".join(f"{name} {median(values) * 1e6:.0f}" for name, values in runs.cpu.items()
                           if sides[name].width == width and name not in (ours, floor))
        figures.append(Figure(CPU, f"{runs.kind}, {width} worker{'s' * (width > 1)}: axframe / "
                              f"{sides[floor].label} (process CPU per call)", ratio.median, "<= 3",
                              ratio.median <= 3,
                              f"us per call: axframe {median(runs.cpu[ours]) * 1e6:.0f}, minimal "
                              f"{median(runs.cpu[floor]) * 1e6:.0f}; others of that width: {others}", "x", ratio))
    return figures


def calls_at_zero(emu: EmulatorProcess, calls: int = 1000, rounds: int = 5, processes: int = 4) -> list[Figure]:
    """The figures of groups 1 and 2 (and axframe's token count during them)."""
    emu.reset("empty")
    emu.faults()
    token = emu.token()
    collection = emu.create_collection(token, "bench-get")
    sides: dict[str, Side] = {}
    skipped: dict[str, tuple[str, str]] = {}  # name -> (label, reason)
    for name, (needs, label, make) in _factories(emu, token, processes).items():
        reason = peers.missing(needs) if needs else ""
        if reason:
            skipped[name] = (label, reason)
        else:
            sides[name] = make()
    try:
        figures: list[Figure] = []
        cpu: list[Figure] = []
        for kind in (GET, CREATE):
            runs = measure_calls(emu, sides, kind, calls, rounds, collection)
            figures += call_figures(runs, sides, skipped)
            cpu += cpu_figures(runs, sides)
        tokens = sum(s.tokens_requested for s in sides.values() if isinstance(s, AxframeSide))
        axframe_sides = sum(isinstance(s, AxframeSide) for s in sides.values())
        cpu.append(Figure(TOKENS, "tokens requested by axframe during the 0 ms runs", tokens,
                          f"exactly 1 per connection ({axframe_sides})", tokens == axframe_sides))
        return figures + cpu
    finally:
        for side in sides.values():
            side.close()
