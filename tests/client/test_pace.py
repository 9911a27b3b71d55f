"""Finding the pace: the decisions driven by a fake clock and a model of a Server (no sockets, no sleeping),
then the gate's bound and the engine's threads on the emulator."""

from __future__ import annotations

import math
import threading

import pandas as pd

import axframe as ax
from axframe.client.pace import AdaptiveGate, Pace
from axframe.engine.rows import Engine, Row, Wait
from axframe.engine.shape import Ending


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Model:
    """A Server as the pace sees it: throughput and latency for a number of calls in flight, and a queue
    that refuses (429) what does not fit beyond *cliff* calls at once."""

    def __init__(self, rate, latency, cliff: int | None = None):
        self.rate, self.latency, self.cliff = rate, latency, cliff

    def complete(self, pace: Pace, clock: FakeClock) -> None:
        """One call ends; the clock moves by what it took at the current limit."""
        limit = pace.allowed
        if self.cliff is not None and limit > self.cliff:
            clock.now += 0.001
            pace.completed(0.001, failure=True, status=429, inflight=limit - 1)
            clock.now += 1.0  # the run's pause for Retry-After
            return
        clock.now += 1.0 / self.rate(limit)
        pace.completed(self.latency(limit), inflight=limit - 1)


def windows(pace: Pace, clock: FakeClock, model: Model, count: int) -> None:
    """Complete calls until the pace has ended *count* more windows (a cut ends one too)."""
    for _ in range(count):
        model.complete(pace, clock)
        while pace._count:
            model.complete(pace, clock)


def saturating(capacity: float, per_call: float = 50.0, base: float = 0.02) -> Model:
    """Throughput grows with the calls in flight up to *capacity*, then stays flat; beyond it calls queue
    (latency grows, Little's law)."""
    return Model(lambda n: per_call * min(n, capacity), lambda n: base * max(1.0, n / capacity))


def test_starts_small_doubles_while_throughput_grows_then_settles_at_the_capacity():
    clock = FakeClock()
    pace = Pace(clock=clock)
    assert pace.limit == 4 and pace.threads() == 4  # small at first: four calls, four threads
    windows(pace, clock, saturating(30), 12)
    assert not pace.ramping
    # two doublings that doubled throughput: a fourfold jump (16 -> 64), which earned less than fourfold: the
    # edge lies inside it, where the jump's throughput puts it (Little's law: 30), with a margin of a quarter
    history = [limit for _, limit in pace.history]
    assert history[:4] == [4, 8, 16, 64] and 37 <= history[4] <= 38
    assert 30 <= pace.limit <= 38 and pace.refusals == 0
    assert pace.threads() == pace.allowed


def test_a_doubling_that_earns_a_little_settles_half_way_and_never_reaches_the_refusing_queue():
    """K=4 with a queue of 4: eight calls fit, nine are refused; 4 -> 8 earns 14%, so the edge is near."""
    clock = FakeClock()
    pace = Pace(clock=clock)
    model = Model(lambda n: {4: 164, 5: 176, 6: 183, 7: 186}.get(n, 187), lambda n: 0.024 * max(1.0, n / 4),
                  cliff=8)
    windows(pace, clock, model, 30)
    assert [limit for _, limit in pace.history][:3] == [4, 8, 6]
    assert pace.refusals == 0 and 5 <= pace.allowed <= 8
    assert max(limit for _, limit in pace.history) <= 8


def test_a_window_that_earns_little_does_not_end_the_ramp_while_calls_do_not_queue():
    """A busy machine: the window at 8 earned only 5% more than the one at 4, but latency stayed flat (the
    Server has room), so the ramp goes on; the same 5% with latency up by half ends it."""
    clock = FakeClock()
    pace = Pace(clock=clock)
    noisy = Model(lambda n: {4: 200, 8: 210}.get(n, 25.0 * n), lambda n: 0.02)
    windows(pace, clock, noisy, 4)  # the first window (connecting) is not judged
    assert [limit for _, limit in pace.history][:4] == [4, 8, 16, 32] and pace.ramping
    queueing = Pace(clock=clock)
    windows(queueing, clock, Model(lambda n: {4: 200, 8: 210}.get(n, 25.0 * n), lambda n: 0.02 * max(1, n / 5)), 4)
    assert [limit for _, limit in queueing.history][:3] == [4, 8, 6] and not queueing.ramping


def test_the_ramp_ends_at_the_most_calls_allowed():
    """A Server with room for more than max_limit: the ramp stops there instead of doubling in vain, and the
    probes that follow go down (one step fewer costs throughput here, so each is undone)."""
    clock = FakeClock()
    pace = Pace(clock=clock, max_limit=64)
    windows(pace, clock, saturating(500), 6)
    assert not pace.ramping and max(limit for _, limit in pace.history) == 64
    windows(pace, clock, saturating(500), 20)
    history = [limit for _, limit in pace.history]
    assert 57 in history and pace.allowed >= 57 and history[-1] in (57, 64) and pace.refusals == 0


def test_refusals_cut_once_per_burst_and_the_refused_limit_becomes_a_ceiling():
    clock = FakeClock()
    pace = Pace(start=16, clock=clock)
    for left in range(7, -1, -1):  # sixteen in flight, eight refused at once: one cut, not eight
        pace.completed(0.01, failure=True, status=429, inflight=left + 8)
    assert pace.limit == 8 and pace.refusals == 8 and not pace.ramping and pace.ceiling == 16
    for _ in range(8):
        pace.completed(0.01, inflight=0)
    pace.completed(0.01, failure=True, status=503, inflight=0)  # a later, separate refusal cuts again
    assert pace.limit == 6 and pace.ceiling == 8


def test_probes_stay_below_a_refused_limit():
    clock = FakeClock()
    pace = Pace(start=4, clock=clock)
    model = Model(lambda n: 50.0 * n, lambda n: 0.02, cliff=12)  # every call adds throughput, up to a wall
    windows(pace, clock, model, 40)
    # two bursts: the ramp's overshoot (16 > 12), then the probe that found the wall (13); then never again
    assert pace.refusals == 2 and pace.ceiling == 13
    found = max(n for n, limit in pace.history if int(limit) == 13)
    after = [int(limit) for n, limit in pace.history if n > found]
    assert after and max(after) == 12 and int(pace.limit) == 12  # up against the wall, not through it


def test_probe_that_does_not_pay_is_undone_and_falling_throughput_steps_down():
    clock = FakeClock()
    pace = Pace(start=10, window=10, clock=clock)
    pace.ramping = False
    flat = Model(lambda n: 500, lambda n: 0.02)  # the Server is saturated: more calls in flight earn nothing
    windows(pace, clock, flat, 1)  # the first window: connecting, not judged
    assert pace.limit == 10
    windows(pace, clock, flat, 1)  # sets the best latency, then probes upwards
    assert pace.limit == 11
    windows(pace, clock, Model(lambda n: 500, lambda n: 0.08), 1)  # raised latency, not throughput: undone
    assert pace.limit == 10
    for _ in range(3):  # resting: high latency alone does not move it
        windows(pace, clock, Model(lambda n: 500, lambda n: 0.08), 1)
        assert pace.limit == 10
    windows(pace, clock, Model(lambda n: 300, lambda n: 0.08), 1)  # and throughput fell: once may be noise
    assert pace.limit == 10
    windows(pace, clock, Model(lambda n: 200, lambda n: 0.08), 1)  # twice in a row: step down
    assert pace.limit == 9


def test_probe_that_pays_is_kept_and_none_while_calls_queue():
    clock = FakeClock()
    pace = Pace(start=10, window=10, clock=clock)
    pace.ramping = False
    growing = Model(lambda n: 50.0 * n, lambda n: 0.02)  # below capacity: every call in flight adds throughput
    windows(pace, clock, growing, 2)  # the first window is not judged; the second probes
    assert pace.limit == 11
    windows(pace, clock, growing, 1)  # +10% throughput: kept, and the next probe follows
    assert pace.limit > 11
    queued = Pace(start=10, window=10, clock=clock)
    queued.ramping = False
    windows(queued, clock, growing, 2)
    assert queued.limit == 11
    windows(queued, clock, Model(lambda n: 50.0 * n, lambda n: 0.05), 1)  # it paid, but calls queue now
    assert queued.limit == 11


def test_limits_are_bounded():
    clock = FakeClock()
    pace = Pace(start=4, max_limit=12, clock=clock)
    windows(pace, clock, saturating(1000), 10)
    assert pace.limit == 12 and pace.threads() == 12
    low = Pace(start=1, clock=clock)
    for _ in range(5):
        low.completed(0.01, failure=True, status=429, inflight=0)
        low.completed(0.01, inflight=0)  # separate refusals
    assert low.allowed == 1


def test_gate_bounds_concurrency():
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


def test_auto_starts_few_threads_and_grows_them_with_the_limit(server, socket_conn):
    collection = ax.create(socket_conn, "collections.create",
                           ax.add_record_id(pd.DataFrame({"name": ["pace"]}))).success["Response"][0].strip('"')
    frame = ax.add_record_id(pd.DataFrame({"collectionId": [collection] * 300}))
    seen: list[Engine] = []
    from axframe.engine import run as running

    original = running.Engine

    class Watched(original):  # the real engine, remembered for its figures
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            seen.append(self)

    running.Engine = Watched
    try:
        result = ax.get(socket_conn, "collections.get", frame, max_workers="auto", progress=False)
    finally:
        running.Engine = original
    assert len(result.success) == 300
    engine = seen[0]
    limits = [int(limit) for _, limit in engine.gate.history]
    peak = max(limits)
    # a worker retires when the limit falls and another starts when it grows again: never more than the peak
    # plus the workers the falls retired
    retired = sum(max(0, a - b) for a, b in zip(limits, limits[1:]))
    assert engine.threads_started <= AdaptiveGate(start=peak).threads() + retired and peak < 64

    gate = AdaptiveGate(start=2)

    def program(k):
        def steps():
            if k == 0:
                gate.pace._set(16)  # the limit grows mid-run: workers follow
            else:
                yield Wait(0.002)
            return Ending(True, 200, "")
        return steps

    engine = Engine(socket_conn, workers=64, gate=gate)
    engine.run([Row(k, str(k), program(k)) for k in range(200)])
    assert engine.threads_started == gate.threads() == 16


def test_on_a_fast_server_the_limit_probes_down_to_the_fewest_calls_that_earn_the_most():
    """0 ms: the client's own CPU is the bottleneck, so calls beyond two only contend (each thread more
    costs a little); the ramp's doubling cost throughput, and the probes then go down, not up."""
    clock = FakeClock()
    pace = Pace(clock=clock)
    rates = {1: 1100.0, 2: 1400.0, 3: 1380.0}
    model = Model(lambda n: rates.get(n, 1400.0 - 40.0 * n), lambda n: n / rates.get(n, 1400.0 - 40.0 * n))
    windows(pace, clock, model, 40)
    history = [limit for _, limit in pace.history]
    # the doubling cost throughput: back to the limit before it, measured for one steady window, and the
    # first probe goes below it
    assert history[:4] == [4, 8, 4, 3] and not pace.ramping
    assert pace.allowed <= 3 and min(history) >= 1
    assert 2 in [int(limit) for limit in history]  # it found the best, and came back from the worse one below


def _past_a_jump(past):
    """The pace on a Server whose throughput is linear (50 calls/s each) up to 16 calls, then *past(n)*:
    two doublings that double it, so a jump to 64; the pace and its limits."""
    clock = FakeClock()
    pace = Pace(clock=clock)

    def rate(n):
        return 50.0 * n if n <= 16 else past(n)

    windows(pace, clock, Model(rate, lambda n: n / rate(n)), 30)
    return pace, [limit for _, limit in pace.history]


def test_a_doubling_that_cost_goes_back_and_judges_the_first_probe_down_against_a_steady_window():
    """From 16 calls, linear to 32, and 64 earn less (this machine's threads contend); the ramp's short
    window at 32 was unlucky (15% slow: 1360 calls/s).  Against that window a probe to 28 calls would seem
    to hold (1400) and be kept; against a steady window at 32 (1600) it loses 12% and is undone."""
    clock = FakeClock()
    pace = Pace(start=16, clock=clock)

    def rate(n):
        if n > 32:
            return 1250.0
        return 50.0 * n * (0.85 if n == 32 and pace.ramping else 1.0)

    windows(pace, clock, Model(rate, lambda n: 0.02 * max(1.0, n / 32)), 30)
    history = [limit for _, limit in pace.history]
    assert history[:5] == [16, 32, 64, 32, 28] and history[5] == 32
    assert pace.allowed == 32 and min(history[4:]) == 28 and pace.refusals == 0


def test_a_jump_s_landing_that_earns_less_than_the_jump_goes_back_to_it():
    """K=32 with a queue: past the edge every call more still keeps the Server's slots a little busier
    (its throughput grows slowly up to 64), so the landing below the jump earns less than the jump did (by
    more than gain), and the limit goes back to it; probes down from there are undone."""
    pace, history = _past_a_jump(lambda n: 800.0 + 650.0 * (1 - math.exp(-(n - 16) / 30)))
    assert history[:4] == [4, 8, 16, 64] and 32 <= history[4] <= 34 and history[5] == 64
    assert pace.allowed >= 57 and pace.refusals == 0


def test_a_jump_s_landing_that_earns_a_little_less_than_the_jump_is_kept():
    """Past the edge more calls earn only a little (2% from 32 to 64 here): the landing keeps the fewer
    calls, which load the Server and this machine less; an ordinary probe down would have been undone."""
    def past(n):
        return 800.0 + 400.0 * (1 - math.exp(-(n - 16) / 6))

    pace, history = _past_a_jump(past)
    # Little's estimate (16 x 1200 / 800 x 1.25 = 30) is below twice the limit before the jump: it lands there
    assert history[:4] == [4, 8, 16, 64] and history[4] == 32
    assert 1 - pace.gain < past(int(history[4])) / past(64) < 1 - pace.gain / 5
    assert 64 not in history[5:] and pace.allowed <= 32 and pace.refusals == 0


def test_a_jump_flattened_by_the_client_s_own_cost_lands_no_lower_than_one_doubling_past_its_start():
    """K=32 seen from a client whose own CPU grows with its threads: throughput grows only half again from
    16 calls to the Server's 32, and 64 earn a little less than 32.  Little's estimate from the jump (16 x
    1120 / 800 x 1.25 = 28) lands short of the edge; the landing is 32, twice the limit before the jump, kept
    (it earns more than the jump did), and the probes around it are undone."""
    def past(n):
        return 800.0 + 400.0 * min(n - 16, 16) / 16 - 80.0 * max(n - 32, 0) / 32

    pace, history = _past_a_jump(past)
    assert history[:5] == [4, 8, 16, 64, 32]
    assert pace.allowed == 32 and 64 not in history[5:] and pace.refusals == 0


def test_the_first_window_is_as_many_calls_as_the_limit_whatever_the_time():
    clock = FakeClock()
    pace = Pace(start=6, clock=clock)
    for _ in range(5):
        pace.completed(0.001)
    assert pace._count == 5  # the connections are still being opened
    pace.completed(0.001)
    assert pace._count == 0 and pace.limit == 6  # measured, not judged: a fresh window at the same limit
