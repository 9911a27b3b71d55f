"""Finding the Server's pace: concurrency that grows while throughput grows, and backs off
on refusals and rising latency.

A Server's capacity is unknown to its users, and too many workers only earn
429s and 503s.  :class:`AdaptiveGate` admits at most ``limit`` calls at once
and adjusts the limit once per *window* (at least ``max(24, 2 * limit)``
completions), comparing the window's throughput and median latency with the
previous window's:

1. **Ramp.**  From a small start, the limit grows by half each window while
   throughput rises by at least 10% and latency stays within 1.5 times the
   best seen.  The first step up that does not pay, or that makes requests
   queue, ends the ramp at the previous (cheaper) limit.
2. **Steady.**  The limit then creeps up by 10% while throughput still rises
   or latency stays near the best seen, holds while latency climbs without a
   gain (requests are queueing at the Server), and steps down 10% when
   latency is well above the best and throughput did not improve.
3. **Refusals.**  A 429 or 503 halves the limit at once and ends the ramp.
   Refusals of calls that were already in flight when the limit was cut do
   not cut it again, so one burst does not collapse it.

Thread-safe.  :class:`~axframe.client.Connection` calls :meth:`acquire`
before and :meth:`release` after each request when a bulk run uses
``max_workers="auto"``; the clock is injectable for tests.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Callable

__all__ = ["AdaptiveGate"]


class AdaptiveGate:
    def __init__(self, start: int = 4, min_limit: int = 1, max_limit: int = 64, *, window: int = 24,
                 ramp_gain: float = 0.10, gain: float = 0.05, latency_tolerance: float = 1.5,
                 clock: Callable[[], float] = time.perf_counter):
        self.limit = float(start)
        self.min_limit = min_limit
        self.max_limit = max_limit
        self.window = window
        self.ramp_gain = ramp_gain
        self.gain = gain
        self.tolerance = latency_tolerance
        self.ramping = True
        self._clock = clock
        self._cond = threading.Condition()
        self._inflight = 0
        self._start = clock()
        self._count = 0
        self._latencies: list[float] = []
        self._cooldown = 0  # refusals before this many completions belong to the last cut
        self._previous: tuple[float, float] | None = None  # (limit, throughput) of the last window
        self._best_latency: float | None = None
        self.completions = 0
        self.refusals = 0
        self.history: list[tuple[int, float]] = [(0, self.limit)]  # (completions, limit) at each change

    @property
    def inflight(self) -> int:
        return self._inflight

    def acquire(self) -> None:
        with self._cond:
            while self._inflight >= max(self.min_limit, int(self.limit)):
                self._cond.wait()
            self._inflight += 1

    def release(self, latency: float, failure: bool = False, status: int | None = None) -> None:
        with self._cond:
            self._inflight -= 1
            self.completions += 1
            if status in (429, 503):
                self.refusals += 1
                if self.completions >= self._cooldown:
                    self._cooldown = self.completions + self._inflight + 1
                    self.ramping = False
                    self._set(self.limit * 0.5, reset_previous=True)
            elif not failure:
                self._count += 1
                self._latencies.append(latency)
                if self._count >= max(self.window, 2 * int(self.limit)):
                    self._end_window()
            free = max(self.min_limit, int(self.limit)) - self._inflight
            if free > 0:
                self._cond.notify(free)

    def _end_window(self) -> None:
        now = self._clock()
        elapsed = max(now - self._start, 1e-9)
        throughput = self._count / elapsed
        latency = statistics.median(self._latencies)
        best = latency if self._best_latency is None else min(self._best_latency, latency)
        self._best_latency = best
        previous = self._previous
        limit = self.limit
        if self.ramping:
            pays = previous is None or throughput >= previous[1] * (1 + self.ramp_gain)
            if pays and latency <= self.tolerance * best:
                new = limit * 1.5
            else:
                self.ramping = False
                new = previous[0] if previous is not None else limit
        else:
            improved = previous is not None and throughput >= previous[1] * (1 + self.gain)
            if improved or latency <= 1.2 * best:
                new = limit * 1.1 if limit * 1.1 - limit >= 1 else limit + 1
            elif latency > self.tolerance * best and not improved:
                new = limit * 0.9 if limit * 0.1 >= 1 else limit - 1
            else:
                new = limit
        self._previous = (limit, throughput)
        self._set(new)

    def _set(self, value: float, reset_previous: bool = False) -> None:
        value = max(float(self.min_limit), min(float(self.max_limit), value))
        if value != self.limit:
            self.history.append((self.completions, value))
        self.limit = value
        self._start = self._clock()
        self._count = 0
        self._latencies = []
        if reset_previous:
            self._previous = None
