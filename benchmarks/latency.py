"""Latency-bound bulk: creates on a Server that takes *latency* per call, against the latency limit.

With *workers* calls in flight and every call taking *latency*, no client can
create *rows* collections faster than ``rows * latency / workers`` (the
latency limit); the figure is axframe's time over that limit.  Beside it, in
the same interleaved rounds: a ``requests`` pool of the same width
(``trust_env=False``), the time plain code needs; minimal keep-alive
``http.client`` loops of the same width, the floor this machine and the
emulator leave (what no client of this width beats); and a sequential
``requests.Session`` loop over fewer rows, for the old "15x sequential"
figure, kept as context only (it compares 16 workers with one).

Token economy, on the same Server: the connection's one token lasts the
whole run, and with short-lived tokens axframe asks for about one per
lifetime and fails no row.
"""

from __future__ import annotations

import math

import pandas as pd

import axframe as ax

from .common import EmulatorProcess, Figure, interleaved, measure, median, paired
from .minimal import CREATE
from .sides import AxframeSide, MinimalSide, RequestsSide, make_batch, run_checked

GROUP = "3 latency-bound bulk"
TOKENS = "4 token economy"


def latency_bound(emu: EmulatorProcess, rows: int = 2000, workers: int = 16, latency: float = 0.05,
                  sequential_rows: int = 200, rounds: int = 3, token_lifetime: int = 3) -> list[Figure]:
    emu.reset("empty")
    emu.faults(latency=latency)
    limit = rows * latency / workers
    token = emu.token()
    sides = {"axframe": AxframeSide(emu.url, emu.curator, workers), "requests": RequestsSide(emu.url, token, workers),
             "minimal": MinimalSide(emu.url, token, workers), "sequential": RequestsSide(emu.url, token, 1, trust_env=True)}
    try:
        tokens_before = sides["axframe"].tokens_requested  # type: ignore[attr-defined]
        seconds = {name: [s.wall for s in got] for name, got in interleaved(
            list(sides), rounds,
            lambda name, round_: run_checked(emu, sides[name], make_batch(
                CREATE, f"lat-{name}", round_, sequential_rows if name == "sequential" else rows))).items()}
        tokens = sides["axframe"].tokens_requested - tokens_before  # type: ignore[attr-defined]
    finally:
        for side in sides.values():
            side.close()
    ours = paired(seconds["axframe"], [limit] * rounds)
    plain = paired(seconds["requests"], [limit] * rounds)
    floor = paired(seconds["minimal"], [limit] * rounds)
    over_floor = paired(seconds["axframe"], seconds["minimal"])
    faster = paired(seconds["requests"], seconds["axframe"])
    speedup = paired([rows / a for a in seconds["axframe"]], [sequential_rows / s for s in seconds["sequential"]])
    setting = f"{rows} creates, {workers} workers, {latency * 1000:.0f} ms each"
    figures = [
        Figure(GROUP, f"{setting}: axframe time / latency limit (rows x latency / workers)", ours.median, "<= 1.05",
               ours.median <= 1.05, f"{median(seconds['axframe']):.2f} s vs limit {limit:.2f} s; {rounds} rounds",
               "x", ours),
        Figure(GROUP, f"{setting}: a requests pool of {workers} (trust_env=False), time / latency limit",
               plain.median, "", None, f"{median(seconds['requests']):.2f} s vs limit {limit:.2f} s", "x", plain),
        Figure(GROUP, f"{setting}: minimal http.client loops, {workers} threads with a connection each (the floor "
               "here), time / latency limit", floor.median, "", None,
               f"{median(seconds['minimal']):.2f} s vs limit {limit:.2f} s", "x", floor),
        Figure(GROUP, f"{setting}: axframe time / the floor's (minimal http.client loops) in the same round",
               over_floor.median, "", None, "context: what axframe adds to what this machine and the emulator cost "
               "any client of this width; the limit above is the same for every machine", "x", over_floor),
        Figure(GROUP, f"{setting}: axframe / a requests pool of {workers}, creates per second", faster.median, "",
               None, f"{rows / median(seconds['axframe']):,.0f}/s vs {rows / median(seconds['requests']):,.0f}/s",
               "x", faster),
        Figure(GROUP, "context only (the old '15x', 16 workers vs 1): axframe / a sequential requests.Session loop",
               speedup.median, "", None,
               f"{rows / median(seconds['axframe']):,.0f}/s vs {sequential_rows / median(seconds['sequential']):,.1f}/s"
               f" (the loop over {sequential_rows} rows)", "x", speedup),
        Figure(TOKENS, "tokens requested by axframe during the latency-bound runs", tokens,
               "0 (the connection's one token lasts)", tokens == 0),
    ]
    figures.append(_short_tokens(emu, rows, workers, token_lifetime))
    emu.faults()
    return figures


def _short_tokens(emu: EmulatorProcess, rows: int, workers: int, lifetime: int) -> Figure:
    """One token per lifetime, no failed row, when tokens live *lifetime* seconds."""
    emu.settings(tokenLifetime=lifetime)
    issued_before = emu.stats()["tokensIssued"]
    conn = ax.authenticate(emu.url, *emu.curator)
    frame = ax.add_record_id(pd.DataFrame({"name": [f"tok-{i}" for i in range(rows)]}))
    run = measure(lambda: ax.create(conn, "collections.create", frame, max_workers=workers, progress=False))
    elapsed, result = run.wall, run.value
    issued = emu.stats()["tokensIssued"] - issued_before
    allowed = math.ceil(elapsed / (lifetime * 0.9)) + 1
    figure = Figure(TOKENS, f"tokens with a {lifetime} s lifetime over a {elapsed:.1f} s run", issued,
                    f"<= one per lifetime ({allowed}), no failed row", issued <= allowed and result.failure.empty,
                    f"{len(result.failure)} failed rows, {conn.stats['reauthentications']} renewals on 401")
    conn.close()
    emu.settings(tokenLifetime=3599)
    return figure
