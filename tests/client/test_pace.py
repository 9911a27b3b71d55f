"""The adaptive concurrency gate, driven by a fake clock (no sockets, no sleeping)."""

from __future__ import annotations

import threading

from axframe.pace import AdaptiveGate


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def feed(gate: AdaptiveGate, clock: FakeClock, n: int, latency: float, per_second: float, status=None):
    """Complete *n* calls at *per_second* throughput with the given latency."""
    for _ in range(n):
        gate.acquire()
        clock.now += 1.0 / per_second
        gate.release(latency, status=status)


def one_window(gate: AdaptiveGate, clock: FakeClock, latency: float, rate) -> None:
    """Complete calls until the gate closes a window; *rate(limit)* is the throughput."""
    windows = gate._previous
    while gate._previous is windows:
        feed(gate, clock, 1, latency, per_second=rate(gate.limit))


def test_ramps_while_throughput_grows_then_settles():
    clock = FakeClock()
    gate = AdaptiveGate(start=4, window=10, clock=clock)
    capacity = 30  # throughput grows with the limit up to 30 calls in flight, then stays flat

    def rate(limit):
        return 50 * min(limit, capacity)

    for _ in range(8):
        one_window(gate, clock, 0.02, rate)
    assert not gate.ramping
    assert capacity * 0.75 <= gate.limit <= capacity * 1.5
    assert [limit for _, limit in gate.history][:4] == [4, 6, 9, 13.5]


def test_refusals_halve_once_per_burst():
    clock = FakeClock()
    gate = AdaptiveGate(start=16, clock=clock)
    # eight calls in flight, all refused: one cut, not eight
    for _ in range(8):
        gate.acquire()
    for _ in range(8):
        gate.release(0.01, status=429)
    assert gate.limit == 8 and gate.refusals == 8 and not gate.ramping
    # a later, separate refusal cuts again
    gate.acquire()
    gate.release(0.01, status=503)
    assert gate.limit == 4


def test_rising_latency_without_gain_steps_down():
    clock = FakeClock()
    gate = AdaptiveGate(start=10, window=10, clock=clock)
    gate.ramping = False
    feed(gate, clock, 25, 0.02, per_second=500)   # sets the best latency
    limit = gate.limit
    feed(gate, clock, 30, 0.08, per_second=500)   # 4x latency, same throughput
    feed(gate, clock, 30, 0.08, per_second=500)
    assert gate.limit < limit


def test_limit_bounds_concurrency():
    gate = AdaptiveGate(start=3, max_limit=3)
    peak = 0
    lock = threading.Lock()
    current = 0

    def call():
        nonlocal peak, current
        gate.acquire()
        with lock:
            current += 1
            peak = max(peak, current)
        with lock:
            current -= 1
        gate.release(0.001)

    threads = [threading.Thread(target=call) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak <= 3 and gate.inflight == 0
