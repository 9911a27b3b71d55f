"""Finding the Server's pace: concurrency that grows while throughput grows, and backs off
on refusals and rising latency.

A Server's capacity is unknown to its users, and too many workers only earn
429s and 503s.  :class:`AdaptiveGate` admits at most ``limit`` calls at once
and adjusts the limit once per *window* (``max(8, 2 * limit)`` completions,
about two round trips, while ramping; ``max(window, 4 * limit)`` after, less
swayed by noise), comparing the window's throughput and median latency with the
previous window's:

1. **Ramp.**  From a small start, the limit doubles each window while
   throughput rises by at least 10% and latency stays within 1.5 times the
   best seen.  The first step up that does not pay ends the ramp: at the new
   limit if it did not cost throughput, else back at the previous one; a
   step that makes requests queue ends it at the previous one.
2. **Steady.**  The limit is then probed upwards by 10%: a probe that
   raises throughput by at least 5% is kept (and the next one follows), one
   that does not is undone and the next probe waits three windows.  The
   limit steps down 10% when latency is well above the best seen and
   throughput fell (requests are queueing somewhere and it hurts).
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
    def __init__(self, start: int = 4, min_limit: int = 1, max_limit: int = 64, *, window: int = 48,
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
        self._probe: tuple[float, float] | None = None  # (limit, throughput) before a probe upwards
        self._rest = 0  # windows to wait before the next probe
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
                # the ramp decides on short windows; steady probes on longer ones, less swayed by noise
                size = max(8, 2 * int(self.limit)) if self.ramping else max(self.window, 4 * int(self.limit))
                if self._count >= size:
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
            queueing = latency > self.tolerance * best
            if pays and not queueing:
                new = limit * 2
            else:
                self.ramping = False
                kept = previous is None or (not queueing and throughput >= previous[1])
                new = limit if kept else previous[0]  # type: ignore[index]
        else:
            worse = previous is not None and throughput < previous[1] * (1 - self.gain)
            new = limit
            if self._probe is not None:
                before, before_throughput = self._probe
                self._probe = None
                if throughput < before_throughput * (1 + self.gain):
                    new, self._rest = before, 3  # the probe did not pay: undo it, wait
            elif latency > self.tolerance * best and worse:
                new = limit * 0.9 if limit * 0.1 >= 1 else limit - 1
            elif self._rest > 0:
                self._rest -= 1
            if new == limit and self._probe is None and self._rest == 0:
                self._probe = (limit, throughput)
                new = limit * 1.1 if limit * 0.1 >= 1 else limit + 1
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
