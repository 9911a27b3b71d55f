"""The client benchmarks: overhead per row, latency-bound bulk, token economy, large listings, pace.

Each compares axframe with the plain code a careful person would write with
``requests``, measured side by side in the same run against the same
emulator process.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import requests

import axframe as ax

from .common import EmulatorProcess, Figure, median, peak_memory, timed

FAST = ax.RetryPolicy(max_attempts=8, base_delay=0.05, max_delay=1.0, max_retry_after=2.0)


def _session(token: str, pool: int = 32) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool)
    session.mount("http://", adapter)
    return session


# --------------------------------------------------------------------------
# 1. overhead per row
# --------------------------------------------------------------------------


def overhead(emu: EmulatorProcess, rows: int = 2000, rounds: int = 3) -> list[Figure]:
    """axframe (1 and 8 workers) against a plain requests loop and a plain thread pool, GET and create."""
    emu.reset("empty")
    group = emu.seed({"userGroups": [{"ref": "g", "name": "Bench Group", "role": "Viewer"}]})["group:g"]
    token = emu.token()
    conn = ax.authenticate(emu.url, *emu.curator)
    get_frame = ax.add_record_id(pd.DataFrame({"userGroupId": [group] * rows}))
    figures = []
    for kind in ("GET", "create"):
        for workers in (1, 8):
            ratios, plain_rates, ax_rates = [], [], []
            for round_ in range(rounds):
                if kind == "GET":
                    url = f"{emu.url}/v3/usergroups/{group}"

                    def plain_one(session: requests.Session, i: int, url: str = url) -> tuple[int, str]:
                        r = session.get(url, timeout=60)
                        return r.status_code, r.text

                    def ours() -> ax.Result:
                        return ax.get(conn, "usergroups.get", get_frame, max_workers=workers, progress=False)
                else:
                    url = f"{emu.url}/v3/collections"
                    names = [f"c{kind}{workers}-{round_}-{i}" for i in range(rows)]
                    frame = ax.add_record_id(pd.DataFrame({"name": [n + "-ax" for n in names]}))

                    def plain_one(session: requests.Session, i: int, url: str = url,
                                  names: list = names) -> tuple[int, str]:
                        r = session.post(url, json={"name": names[i]}, timeout=60)
                        return r.status_code, r.text

                    def ours(frame: pd.DataFrame = frame) -> ax.Result:
                        return ax.create(conn, "collections.create", frame, max_workers=workers, progress=False)

                session = _session(token)
                if workers == 1:
                    def plain() -> list:
                        return [plain_one(session, i) for i in range(rows)]
                else:
                    def plain() -> list:
                        with ThreadPoolExecutor(workers) as pool:
                            return list(pool.map(lambda i: plain_one(session, i), range(rows)))
                # alternate the order between rounds so neither side always goes first
                if round_ % 2:
                    t_ours, result = timed(ours)
                    t_plain, answers = timed(plain)
                else:
                    t_plain, answers = timed(plain)
                    t_ours, result = timed(ours)
                session.close()
                assert len(result.success) == rows, result.summary
                assert all(200 <= s < 300 for s, _ in answers)
                plain_rates.append(rows / t_plain)
                ax_rates.append(rows / t_ours)
                ratios.append((rows / t_ours) / (rows / t_plain))
            label = "1 worker vs a requests.Session loop" if workers == 1 else \
                "8 workers vs a thread pool sharing a session"
            ratio = median(ratios)
            figures.append(Figure("1 overhead per row", f"{kind}, {label}", ratio, ">= 0.90 of plain",
                                  ratio >= 0.90, f"axframe {median(ax_rates):,.0f}/s, plain {median(plain_rates):,.0f}/s;"
                                  f" {rows} calls x {rounds} rounds, median", "x"))
    figures.append(Figure("3 token economy", "tokens requested during the overhead runs", conn.tokens_requested,
                          "exactly 1 per connection", conn.tokens_requested == 1))
    conn.close()
    return figures


# --------------------------------------------------------------------------
# 2. latency-bound bulk, and 3. token economy with short-lived tokens
# --------------------------------------------------------------------------


def latency_bound(emu: EmulatorProcess, rows: int = 2000, workers: int = 16, latency: float = 0.05,
                  sequential_rows: int = 200, token_lifetime: int = 3) -> list[Figure]:
    emu.reset("empty")
    emu.faults(latency=latency)
    limit = rows * latency / workers
    figures = []
    conn = ax.authenticate(emu.url, *emu.curator)
    frame = ax.add_record_id(pd.DataFrame({"name": [f"lat-{i}" for i in range(rows)]}))
    elapsed, result = timed(lambda: ax.create(conn, "collections.create", frame, max_workers=workers, progress=False))
    assert len(result.success) == rows, result.summary
    session = _session(emu.token())
    seq_elapsed, _ = timed(lambda: [session.post(f"{emu.url}/v3/collections", json={"name": f"seq-{i}"}, timeout=60)
                                    for i in range(sequential_rows)])
    session.close()
    ratio = elapsed / limit
    speedup = (rows / elapsed) / (sequential_rows / seq_elapsed)
    figures.append(Figure("2 latency-bound bulk", f"{rows} creates, {workers} workers, {latency * 1000:.0f} ms each: "
                          "time / limit", ratio, "<= 1.15", ratio <= 1.15,
                          f"{elapsed:.2f} s vs limit {limit:.2f} s", "x"))
    figures.append(Figure("2 latency-bound bulk", "speed-up over one call at a time", speedup, ">= 12", speedup >= 12,
                          f"{rows / elapsed:,.0f}/s vs {sequential_rows / seq_elapsed:,.1f}/s "
                          f"(sequential loop over {sequential_rows} rows)", "x"))
    figures.append(Figure("3 token economy", "tokens requested during the latency-bound run",
                          result.summary.tokens_requested, "0 (the connection's one token lasts)",
                          result.summary.tokens_requested == 0))
    conn.close()
    # short-lived tokens: one per lifetime, no failed row
    emu.settings(tokenLifetime=token_lifetime)
    issued_before = emu.stats()["tokensIssued"]
    conn = ax.authenticate(emu.url, *emu.curator)
    frame = ax.add_record_id(pd.DataFrame({"name": [f"tok-{i}" for i in range(rows)]}))
    elapsed, result = timed(lambda: ax.create(conn, "collections.create", frame, max_workers=workers, progress=False))
    issued = emu.stats()["tokensIssued"] - issued_before
    allowed = math.ceil(elapsed / (token_lifetime * 0.9)) + 1
    figures.append(Figure("3 token economy", f"tokens with a {token_lifetime} s lifetime over a {elapsed:.1f} s run",
                          issued, f"<= one per lifetime ({allowed}), no failed row",
                          issued <= allowed and result.failure.empty,
                          f"{len(result.failure)} failed rows, {conn.stats['reauthentications']} renewals on 401"))
    conn.close()
    emu.settings(tokenLifetime=3599)
    emu.faults()
    return figures


# --------------------------------------------------------------------------
# 4. large listings
# --------------------------------------------------------------------------


def large_listing(emu: EmulatorProcess, users: int = 100_000, rounds: int = 2) -> list[Figure]:
    emu.reset({"bulkUsers": {"count": users}})
    token = emu.token()
    conn = ax.authenticate(emu.url, *emu.curator)
    url = f"{emu.url}/v3/users"

    def baseline() -> pd.DataFrame:
        r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=300)
        return pd.json_normalize(json.loads(r.content))

    def ours() -> pd.DataFrame:
        return ax.get(conn, "users.list", progress=False).expand()

    times, peaks = {"plain": [], "axframe": []}, {"plain": [], "axframe": []}
    for round_ in range(rounds):
        order = (("plain", baseline), ("axframe", ours)) if round_ % 2 == 0 else (("axframe", ours), ("plain", baseline))
        for name, fn in order:
            elapsed, peak, frame = peak_memory(fn)
            assert len(frame) >= users
            times[name].append(elapsed)
            peaks[name].append(peak)
            del frame
    conn.close()
    time_ratio = median(times["axframe"]) / median(times["plain"])
    mem_ratio = median(peaks["axframe"]) / median(peaks["plain"])
    mb = 1024 * 1024
    return [
        Figure("4 large listing", f"{users:,} users to a dataframe: time / baseline", time_ratio, "<= 1.5",
               time_ratio <= 1.5, f"{median(times['axframe']):.2f} s vs requests+json+json_normalize "
               f"{median(times['plain']):.2f} s", "x"),
        Figure("4 large listing", "peak memory / baseline (tracemalloc, Python allocations)", mem_ratio, "<= 2",
               mem_ratio <= 2, f"{median(peaks['axframe']) / mb:.0f} MiB vs {median(peaks['plain']) / mb:.0f} MiB",
               "x"),
    ]


# --------------------------------------------------------------------------
# 6. finding the Server's pace
# --------------------------------------------------------------------------


def pace(emu: EmulatorProcess, capacities: tuple[int, ...] = (4, 32), rows: int = 1200, latency: float = 0.02,
         sweep: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64), rounds: int = 2) -> list[Figure]:
    """``max_workers="auto"`` against every fixed worker count of *sweep*, on a Server that serves
    *capacity* calls at once and refuses (429) what does not fit in its queue.

    Each configuration runs *rounds* times, interleaved (forwards, then backwards, ...), and keeps its
    best run, so that neither side profits from the machine's quiet moments.  The Server with the
    smaller capacity gets proportionally fewer rows (its runs are slower), never fewer than 400.
    """
    emu.reset("empty")
    group = emu.seed({"userGroups": [{"ref": "g", "name": "Pace", "role": "Viewer"}]})["group:g"]
    figures = []
    for capacity in capacities:
        n = max(min(rows, 400), rows * capacity // max(capacities))
        frame = ax.add_record_id(pd.DataFrame({"userGroupId": [group] * n}))
        emu.faults(capacity=capacity, latency=latency, queue_limit=capacity, overload_status=429, retry_after=1)
        configs: list[int | str] = [*sweep, "auto"]
        rates: dict[int | str, float] = {}
        refused = failed = 0
        for round_ in range(rounds):
            for workers in configs if round_ % 2 == 0 else configs[::-1]:
                before = emu.stats()["faults"]["counters"].get("overloaded", 0)
                conn = ax.authenticate(emu.url, *emu.curator, retry=FAST)
                elapsed, result = timed(lambda: ax.get(conn, "usergroups.get", frame, max_workers=workers,
                                                       progress=False))
                conn.close()
                rates[workers] = max(rates.get(workers, 0.0), len(result.success) / elapsed)
                if workers == "auto":
                    refused += emu.stats()["faults"]["counters"].get("overloaded", 0) - before
                    failed += len(result.failure)
        rate = rates.pop("auto")
        best_workers = max(rates, key=lambda w: rates[w])
        best_rate = rates[best_workers]
        per_thousand = refused * 1000 / (n * rounds)
        sweep_rates = {w: round(r) for w, r in rates.items()}
        figures.append(Figure("6 finding the pace", f"K={capacity}: auto / best fixed", rate / best_rate, ">= 0.8",
                              rate / best_rate >= 0.8, f"{n} rows, best of {rounds}: auto {rate:,.0f}/s vs "
                              f"{best_rate:,.0f}/s at {best_workers} workers (calls/s by workers: {sweep_rates})",
                              "x"))
        figures.append(Figure("6 finding the pace", f"K={capacity}: 429s per 1,000 rows with auto", per_thousand,
                              "<= 5", per_thousand <= 5, f"{refused} refusals, {failed} failed rows "
                              f"in {rounds} runs"))
    emu.faults()
    return figures

