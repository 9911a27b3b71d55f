"""The adaptive concurrency gate, driven by a fake clock (no sockets, no sleeping)."""

from __future__ import annotations

import threading

from axframe.client.pace import AdaptiveGate


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


def one_window(gate: AdaptiveGate, clock: FakeClock, latency, rate) -> None:
    """Complete calls until the gate closes a window; *rate(limit)* and *latency(limit)* model the Server."""
    windows = gate._previous
    while gate._previous is windows:
        feed(gate, clock, 1, latency(gate.limit), per_second=rate(gate.limit))


def test_ramps_while_throughput_grows_then_settles():
    clock = FakeClock()
    gate = AdaptiveGate(start=4, window=10, clock=clock)
    capacity = 30  # throughput grows with the limit up to 30 calls in flight, then stays flat

    def rate(limit):
        return 50 * min(limit, capacity)

    def latency(limit):  # beyond its capacity the Server queues: latency grows (Little's law)
        return 0.02 * max(1.0, limit / capacity)

    for _ in range(8):
        one_window(gate, clock, latency, rate)
    assert not gate.ramping
    assert capacity * 0.75 <= gate.limit <= capacity * 1.5
    assert [limit for _, limit in gate.history][:4] == [4, 8, 16, 32]


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


def test_probe_that_does_not_pay_is_undone_and_falling_throughput_steps_down():
    clock = FakeClock()
    gate = AdaptiveGate(start=10, window=10, clock=clock)
    gate.ramping = False

    def flat(limit):  # the Server is saturated: more calls in flight earn nothing
        return 500

    one_window(gate, clock, lambda limit: 0.02, flat)   # sets the best latency, then probes upwards
    assert gate.limit == 11
    one_window(gate, clock, lambda limit: 0.08, flat)   # the probe raised latency, not throughput: undone
    assert gate.limit == 10
    for _ in range(2):                                  # resting: high latency alone does not move it
        one_window(gate, clock, lambda limit: 0.08, flat)
        assert gate.limit == 10
    one_window(gate, clock, lambda limit: 0.08, lambda limit: 300)  # and throughput fell: step down
    assert gate.limit == 9


def test_probe_that_pays_is_kept():
    clock = FakeClock()
    gate = AdaptiveGate(start=10, window=10, clock=clock)
    gate.ramping = False

    def rate(limit):  # still below capacity: every call in flight adds throughput
        return 50 * limit

    one_window(gate, clock, lambda limit: 0.02, rate)
    assert gate.limit == 11
    one_window(gate, clock, lambda limit: 0.02, rate)   # +10% throughput: kept, and the next probe follows
    assert gate.limit > 11


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
