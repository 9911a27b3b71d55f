"""The benchmark suite at a tiny size, so that it cannot rot (its figures mean nothing here)."""

from __future__ import annotations

import subprocess
import sys

from benchmarks import peers
from benchmarks.common import Figure, Report, Spread, round_order
from benchmarks.pace import held_out

from .conftest import ROOT

GROUPS = ("1 calls at 0 ms", "2 client CPU per call", "3 latency-bound bulk", "4 token economy", "5 dry run",
          "6 large listing", "7 jobs", "8 finding the pace", "8 finding the pace, under load", "9 the journal",
          "9 the journal, under load")
ROWS = ("a requests pool of 16, trust_env=False", "httpx async", "alteryx-server-py sync client on a thread pool of 16",
        "alteryx-server-py async client", "alteryx-server-py sync client, one call at a time",
        "mcp-server-alteryx", "fraction of the emulator's ceiling", "calls/s", "(process CPU per call)",
        "time / latency limit", "time / the floor's (minimal http.client loops) in the same round", "the old '15x'",
        "the old '1.3x plain requests'", "time per row",
        "peak memory per row (tracemalloc)", "peak memory per row (RSS growth)",
        "peak memory / baseline (tracemalloc", "peak memory / baseline (RSS", "0 ms: auto / best fixed",
        "K=4: auto / best fixed", "K=32: auto / best fixed", "auto / the count best in the same rounds", "429s per 1,000 rows", "creates/s with a journal / without")


def test_benchmarks_run_at_a_tiny_size(tmp_path):
    output = tmp_path / "results.md"
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--under-load", "busy:1",
                           "--output", str(output)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode in (0, 1), done.stderr  # 1: a target missed, which tiny sizes may do
    table = output.read_text()
    for text in GROUPS + ROWS:
        assert text in table, text
    assert "| yes " in table and "Machine load:" in table
    for distribution in ("alteryx-server-py", "mcp-server-alteryx", "httpx"):
        if peers.missing(distribution):  # without the bench extra its rows say so, never vanish
            assert "skipped: pip install -e '.[bench]'" in table
            assert f"({distribution} is not installed)" in table


def test_a_missing_peer_is_a_skipped_row_that_neither_holds_nor_fails(monkeypatch):
    monkeypatch.setitem(peers.PEERS, "httpx", "no_such_module_for_the_test")
    reason = peers.missing("httpx")
    assert reason.startswith("skipped: pip install -e '.[bench]'")
    report = Report([Figure.skip("1 calls at 0 ms", "GET: axframe / httpx", reason, ">= 1.3")])
    assert report.ok and "| skipped |" in report.table() and reason in report.table()


def test_rounds_rotate_and_reverse_so_no_side_always_goes_first():
    orders = [round_order("ABCD", r) for r in range(4)]
    assert orders == [list("ABCD"), list("BADC"), list("CDAB"), list("DCBA")]
    for side in "ABCD":  # every side takes every position once in four rounds
        assert sorted(order.index(side) for order in orders) == [0, 1, 2, 3]


def test_a_spread_is_its_median_lowest_and_highest():
    spread = Spread.of([1.0, 3.0, 2.0])
    assert (spread.median, spread.low, spread.high) == (2.0, 1.0, 3.0)
    assert Spread.of([2.0]).text() == ""


def test_auto_is_compared_in_each_round_with_the_count_best_in_the_other_rounds():
    auto = [100.0, 100.0, 100.0]
    # "2" is lucky once (round 1); "4" is steadily a little faster than "2" otherwise
    fixed = {"2": [90.0, 200.0, 90.0], "4": [110.0, 110.0, 110.0]}
    spread = held_out(auto, fixed)
    # round 0: the others' medians are 2 -> 145, 4 -> 110: against 2 (90); round 1: 2 -> 90, 4 -> 110: against
    # 4 (110); round 2: as round 0
    assert spread == Spread(100 / 90, 100 / 110, 100 / 90)
    assert held_out([50.0], {"2": [100.0], "4": [40.0]}) == Spread(0.5, 0.5, 0.5)  # one round: that round


def test_steal_is_the_share_of_the_cores_time_the_host_took_between_two_samples(tmp_path):
    from benchmarks.common import LoadMonitor, cpu_times, stolen

    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 0 0 0 50 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    before = cpu_times(str(stat))
    assert before == [100, 0, 50, 800, 0, 0, 0, 50, 7, 0]
    after = [200, 0, 100, 1500, 0, 0, 0, 200, 9, 0]  # 1,000 ticks more, 150 of them stolen (guest time not added)
    assert stolen(before, after) == 0.15
    assert stolen(before, None) is None and stolen(before, before) is None
    assert cpu_times(str(tmp_path / "missing")) is None

    monitor = LoadMonitor(every=60, stat=str(stat))
    stat.write_text("cpu  200 0 100 1500 0 0 0 200 9 0\n")
    note = monitor.stop()
    assert "the host took 15.0% of the cores' time (steal" in note and "15% in the worst 60 s" in note
    assert "steal" not in LoadMonitor(every=60, stat=str(tmp_path / "missing")).stop()
