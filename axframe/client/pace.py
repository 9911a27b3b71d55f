"""Finding the Server's pace: concurrency that starts small, grows while throughput grows, and backs off
on refusals.

A Server's capacity is unknown to its users, and too many workers only earn
429s and 503s (each of which pauses the whole run for its ``Retry-After``).
:class:`Pace` decides how many calls may be in flight at once (its *limit*)
from what the calls' completions show; it is pure: no threads, no sleeping,
the clock injected.  :class:`AdaptiveGate` holds calls to that limit, and the
engine starts worker threads only as the limit grows (:meth:`Pace.threads`).

The limit is judged once per *window* of completions (``max(8, 2 * limit)``,
about two round trips, and at least 0.03 s while ramping; ``max(window, 4 *
limit)`` and at least 0.2 s after, less swayed by a busy machine), comparing
its throughput and median latency with the previous window's and with the
best latency seen (what a call costs when nothing queues).  The first window
(as many calls as the limit: each opens a connection) is measured but not
judged.

1. **Ramp.**  From a small start (4), the limit doubles each window while
   throughput rises by at least ``ramp_gain`` (25%; below the Server's
   capacity a doubling nearly doubles it), or while it does not fall and
   calls do not queue (median latency within 1.2 times the best: the Server
   has room, whatever one noisy window says).  After two doublings in a row
   that each nearly doubled throughput with calls not queueing, it jumps
   fourfold (far from the edge, a window saved); a jump that earns less than
   fourfold ends the ramp a quarter above the limit its throughput points to
   (by Little's law, where throughput stopped growing) and no lower than
   twice the limit before the jump (the doublings up to it had room; a
   client whose own CPU flattens the jump's gain would otherwise land short
   of a Server's edge it has not yet reached), judged as a probe
   down from the jump: back to the jump if it earns ``gain`` less (a Server
   that queues calls may keep its slots busier with more of them), kept if
   it earns about as much (fewer threads contend less).  A doubling that
   seems to earn less is looked at for a second window, and judged on both;
   at *max_limit* the ramp ends where it did not cost, and probes go down;
   if it still earns less, it ends the ramp: half way back when it did not
   cost throughput (the Server's edge lies between the two, or one window's
   noise hid the gain), back to the previous limit when it cost more than
   ``gain``, measured there for one steady window, from which probes go
   down while throughput holds (a ramp's short window is too noisy a
   yardstick for a steady one: a probe judged against an unlucky one is
   kept for the luck).
2. **Steady.**  The limit is probed upwards by one step (10%, at least one
   call) only while calls do not queue (median latency within
   ``latency_tolerance`` of the best seen) and never up to a limit that was
   refused.  A probe that raises throughput by at least ``gain`` (5%) is kept;
   one that does not is undone, and the next, three windows later, probes
   downwards: one step fewer calls, kept while throughput holds (within a
   fifth of ``gain``), undone when it falls, after which probes go up again.
   The fewest calls that earn the most load the Server and this machine
   least (on a fast Server, more threads only contend).  The limit steps
   down when, two windows in a row, latency is well above the best and
   throughput is a fifth below the first window judged at this limit.
3. **Refusals.**  A 429 or 503 cuts the limit at once (by half while ramping,
   when the overshoot may be a doubling; by a quarter after) and ends the
   ramp; the refused limit becomes a ceiling that probes stay below for
   ``ceiling_windows`` windows.  Refusals of calls already in flight when the
   limit was cut do not cut it again, so one burst does not collapse it, and
   the window after a cut (it holds the run's pause) is measured but not
   judged.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Callable

__all__ = ["Pace", "AdaptiveGate"]


class Pace:
    """The decisions of ``max_workers="auto"`` (see the module's docstring); not thread-safe by itself."""

    def __init__(self, start: int = 4, min_limit: int = 1, max_limit: int = 64, *, window: int = 48,
                 ramp_gain: float = 0.25, gain: float = 0.05, latency_tolerance: float = 1.5,
                 ceiling_windows: int = 30, ramp_seconds: float = 0.03, steady_seconds: float = 0.2,
                 clock: Callable[[], float] = time.perf_counter):
        self.min_limit = min_limit
        self.max_limit = max_limit
        self.limit = float(max(min_limit, min(max_limit, start)))
        self.window = window
        self.ramp_gain = ramp_gain
        self.gain = gain
        self.tolerance = latency_tolerance
        self.ceiling_windows = ceiling_windows
        self.ramp_seconds = ramp_seconds
        self.steady_seconds = steady_seconds
        self.ramping = True
        self._clock = clock
        self._start = clock()
        self._count = 0
        self._latencies: list[float] = []
        self._cooldown = 0  # refusals before this many completions belong to the last cut
        self._previous: tuple[float, float] | None = None  # (limit, throughput) of the last window judged
        self._best_latency: float | None = None
        self._probe: tuple[float, float] | None = None  # (limit, throughput) before a probe
        self._down = False  # the next probe tries fewer calls at once (more did not pay)
        self._rest = 0  # windows to wait before the next probe
        self._skip = True  # the first window holds connecting, a cut's the run's pause: measured, not judged
        self._opening = True  # the first window: as many calls as the limit, the connections opened
        self._strikes = 0  # windows in a row that showed queueing and throughput well down
        self._held: float | None = None  # the throughput of a first look at a doubling that seemed not to pay
        self._reference: float | None = None  # the throughput of the first window judged at this limit
        self.flat = 1.2  # latency within this of the best: calls do not queue
        self.linear = 0.85  # a doubling that earned this share of twice the throughput: the Server has room
        self._linear = 0  # doublings in a row that did
        self._jumped = False  # the last step was a fourfold jump
        self._landing = False  # the probe under way is a jump's landing
        self.margin = 1.25  # a jump lands this far above where its throughput says calls stop paying
        self.fall = 0.2  # throughput this far below the limit's first window: it fell
        self.ceiling: float | None = None  # the lowest limit refused, kept below for a while
        self._ceiling_left = 0
        self.completions = 0
        self.refusals = 0
        self.history: list[tuple[int, float]] = [(0, self.limit)]  # (completions, limit) at each change

    @property
    def allowed(self) -> int:
        """Calls that may be in flight at once now."""
        return max(self.min_limit, int(self.limit))

    def threads(self) -> int:
        """Worker threads worth having now: as many as calls may be in flight (more would only wait for a
        slot, and hand it over thread to thread on every call), at most *max_limit*."""
        return min(self.max_limit, self.allowed)

    def completed(self, latency: float, *, failure: bool = False, status: int | None = None,
                  inflight: int = 0) -> None:
        """A call ended after *latency* seconds; *inflight* calls are still out."""
        self.completions += 1
        if status in (429, 503):
            self.refusals += 1
            if self.completions >= self._cooldown:
                self._cooldown = self.completions + inflight + 1
                self._refused()
            return
        if failure:
            return
        self._count += 1
        self._latencies.append(latency)
        # the ramp decides on short windows; steady probes on longer ones, less swayed by noise
        if self._opening:
            size, seconds = int(self.limit), 0.0  # each of the first calls opens a connection: one each
        elif self.ramping:
            size, seconds = max(8, 2 * int(self.limit)), self.ramp_seconds
        else:
            size, seconds = max(self.window, 4 * int(self.limit)), self.steady_seconds
        if self._count >= size and self._clock() - self._start >= seconds:
            self._end_window()

    def _refused(self) -> None:
        refused = self.limit
        self.ceiling = refused if self.ceiling is None else min(self.ceiling, refused)
        self._ceiling_left = self.ceiling_windows
        factor = 0.5 if self.ramping else 0.75
        self.ramping = False
        self._probe = None
        self._landing = False
        self._down = False
        self._rest = 1
        self._skip = True
        self._previous = None
        self._set(min(refused * factor, refused - 1))

    def _end_window(self) -> None:
        now = self._clock()
        throughput = self._count / max(now - self._start, 1e-9)
        latency = statistics.median(self._latencies)
        if self._skip:
            self._skip = self._opening = False
            self._set(self.limit)  # a fresh window at the same limit
            return
        best = latency if self._best_latency is None else min(self._best_latency, latency)
        self._best_latency = best
        held = self._held
        new = self._ramp(throughput, latency, best) if self.ramping else self._steady(throughput, latency, best)
        if self._held is not None and held is None:
            return self._set(new)  # a second look at this limit follows: the previous window stays the one below
        self._held = None
        self._previous = (self.limit, throughput)
        if self._ceiling_left > 0:
            self._ceiling_left -= 1
            if self._ceiling_left == 0:
                self.ceiling = None
        self._set(new)

    def _ramp(self, throughput: float, latency: float, best: float) -> float:
        previous, limit = self._previous, self.limit
        if self._held is not None:
            throughput = (throughput + self._held) / 2  # the second look: both windows at this limit
        linear = previous is not None and self._held is None and latency <= self.flat * best \
            and throughput >= previous[1] * limit / previous[0] * self.linear
        if self._jumped and previous is not None and not linear:
            # the edge lies inside the jump: a quarter above where the throughput it earned puts it (calls
            # in flight where throughput stops growing, by Little's law), and never below one doubling past
            # the last limit that doubled it (where this machine's own cost, not the Server, flattened the
            # jump's gain, Little's estimate falls short of the Server's edge)
            # a probe down from the jump: kept while it earns what the jump did, else back to the jump (a
            # Server that queues calls may earn a little more with every call more it holds)
            self._jumped, self.ramping, self._rest = False, False, 0
            self._probe = (limit, throughput)
            self._landing = True
            return min(limit, max(previous[0] * throughput / previous[1] * self.margin, previous[0] * 2))
        self._jumped = False
        self._linear = self._linear + 1 if linear else 0
        if limit >= self.max_limit and (previous is None or throughput >= previous[1] * (1 - self.gain)):
            # as many as allowed, and it did not cost: no doubling in vain; the steady probes go down from here
            self.ramping, self._down, self._rest = False, True, 1
            return limit
        if self._linear >= 2 and self._held is None:
            self._jumped = True
            return limit * 4  # two doublings in a row doubled throughput, calls do not queue: far from the edge
        if previous is None or throughput >= previous[1] * (1 + self.ramp_gain):
            return limit * 2
        if latency <= self.flat * best and throughput >= previous[1]:
            return limit * 2  # calls do not queue yet: the Server has room, whatever one window's noise says
        if self._held is None:  # one window may be noise: measure this limit once more before ending the ramp
            self._held = throughput
            return limit
        self.ramping = False
        if throughput >= previous[1] * (1 - self.gain):
            self._rest = 1  # the next window measures the settled limit before anything is probed
            return (limit + previous[0]) / 2  # the edge lies between the two (or one window's noise hid it)
        # it cost throughput: back, and the edge may lie below; one steady window there is the yardstick of
        # the first probe down (a ramp's short window is too noisy a one)
        self._down = True
        return previous[0]

    def _steady(self, throughput: float, latency: float, best: float) -> float:
        limit = self.limit
        if self._probe is not None:
            before, before_throughput = self._probe
            self._probe = None
            landing, self._landing = self._landing, False
            if before > limit:  # a probe downwards: kept when fewer calls at once lost nothing
                # (a jump's landing far below it: kept unless it lost more than gain)
                if throughput >= before_throughput * (1 - (self.gain if landing else self.gain / 5)):
                    return self._probe_down(throughput)
                self._rest, self._down = 3, False
                return before
            if throughput >= before_throughput * (1 + self.gain):
                return self._next_probe(throughput, latency, best)  # it paid: keep it, and try the next
            self._rest, self._down = 3, True  # more did not pay: the next probe tries fewer
            return before  # it did not pay: undo it, and wait
        if self._reference is None:
            self._reference = throughput
        queueing = latency > self.tolerance * best
        if queueing and throughput < self._reference * (1 - self.fall):
            self._strikes += 1
            if self._strikes >= 2:  # twice in a row, not one noisy window
                return limit * 0.9 if limit * 0.1 >= 1 else limit - 1
            return limit
        self._strikes = 0
        if self._rest > 0:
            self._rest -= 1
            return limit
        if self._down:
            return self._probe_down(throughput)
        return self._next_probe(throughput, latency, best)

    def _probe_down(self, throughput: float) -> float:
        """One step fewer calls at once than now (10%, at least one), kept if throughput holds: the fewest
        calls that earn the most load the Server and this machine least (more threads only contend)."""
        limit = self.limit
        step = float(min(max(self.min_limit, int(limit)) - 1, int(limit * 0.9)))
        if step < self.min_limit:
            self._down = False
            return limit
        self._probe = (limit, throughput)
        return step

    def _next_probe(self, throughput: float, latency: float, best: float) -> float:
        limit = self.limit
        step = float(max(self.allowed + 1, int(limit * 1.1)))
        if self.ceiling is not None:
            step = min(step, float(int(self.ceiling) - 1))
        if latency > self.tolerance * best or step <= self.allowed or self.allowed >= self.max_limit:
            return limit  # calls queue already, or the next step was refused: stay
        self._probe = (limit, throughput)
        return step

    def _set(self, value: float) -> None:
        value = max(float(self.min_limit), min(float(self.max_limit), value))
        if value != self.limit:
            self.history.append((self.completions, value))
            if self._probe is None:  # a probe keeps the reference of the limit it started from
                self._reference, self._strikes = None, 0
        self.limit = value
        self._start = self._clock()
        self._count = 0
        self._latencies = []


class AdaptiveGate:
    """At most :class:`Pace`'s limit of calls at once; thread-safe.

    :class:`~axframe.client.Connection` calls :meth:`acquire` before and :meth:`release` after each request
    when a bulk run uses ``max_workers="auto"``; the engine asks :meth:`threads` how many workers to run.
    """

    def __init__(self, start: int = 4, min_limit: int = 1, max_limit: int = 64, *, window: int = 48,
                 ramp_gain: float = 0.25, gain: float = 0.05, latency_tolerance: float = 1.5,
                 clock: Callable[[], float] = time.perf_counter):
        self.pace = Pace(start, min_limit, max_limit, window=window, ramp_gain=ramp_gain, gain=gain,
                         latency_tolerance=latency_tolerance, clock=clock)
        self._cond = threading.Condition()
        self._inflight = 0

    @property
    def limit(self) -> float:
        return self.pace.limit

    @property
    def max_limit(self) -> int:
        return self.pace.max_limit

    @property
    def ramping(self) -> bool:
        return self.pace.ramping

    @property
    def history(self) -> list[tuple[int, float]]:
        return self.pace.history

    @property
    def completions(self) -> int:
        return self.pace.completions

    @property
    def refusals(self) -> int:
        return self.pace.refusals

    @property
    def inflight(self) -> int:
        return self._inflight

    def threads(self) -> int:
        """Worker threads worth running now (see :meth:`Pace.threads`)."""
        return self.pace.threads()

    def acquire(self) -> None:
        with self._cond:
            while self._inflight >= self.pace.allowed:
                self._cond.wait()
            self._inflight += 1

    def release(self, latency: float, failure: bool = False, status: int | None = None) -> None:
        with self._cond:
            self._inflight -= 1
            self.pace.completed(latency, failure=failure, status=status, inflight=self._inflight)
            free = self.pace.allowed - self._inflight
            if free > 0:
                self._cond.notify(free)

