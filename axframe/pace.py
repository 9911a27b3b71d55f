"""Finding the Server's pace: concurrency that grows while it pays and backs off when it does not.

:class:`AdaptiveGate` admits at most ``limit`` calls at once.  It starts
small and, like TCP's slow start, doubles the limit every round of
completions while answers come back as fast as the fastest seen; then it
grows by about one per round (additive increase).  A 429 or 503 halves the
limit, and latency well above the best seen shrinks it gently
(multiplicative decrease), at most once per round, so one burst of refusals
does not collapse it.  Thread-safe; the connection calls :meth:`acquire`
before and :meth:`release` after each request.
"""

from __future__ import annotations

import threading
from collections import deque

__all__ = ["AdaptiveGate"]


class AdaptiveGate:
    def __init__(self, start: int = 2, min_limit: int = 1, max_limit: int = 64, latency_tolerance: float = 2.0,
                 window: int = 50):
        self.limit = float(start)
        self.min_limit = min_limit
        self.max_limit = max_limit
        self.tolerance = latency_tolerance
        self._inflight = 0
        self._cond = threading.Condition()
        self._slow_start = True
        self._since_change = 0
        self._recent: deque[float] = deque(maxlen=window)
        self._best: float | None = None
        self.history: list[tuple[int, float]] = []  # (completions, limit) at each change
        self.completions = 0
        self.refusals = 0

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
            self._since_change += 1
            round_done = self._since_change >= max(1, int(self.limit))
            if status in (429, 503):
                self.refusals += 1
                if round_done or self._slow_start:
                    self._set(self.limit * 0.5)
                    self._slow_start = False
            elif not failure:
                self._recent.append(latency)
                best = min(self._recent)
                self._best = best if self._best is None else min(self._best * 1.02, best)
                typical = sorted(self._recent)[len(self._recent) // 2]
                congested = self._best > 0 and typical > self.tolerance * self._best and len(self._recent) >= 8
                if congested and round_done:
                    self._slow_start = False
                    self._set(self.limit * 0.8)
                elif not congested:
                    if self._slow_start:
                        self.limit = min(self.max_limit, self.limit + 1)
                    else:
                        self.limit = min(self.max_limit, self.limit + 1.0 / max(self.limit, 1.0))
            self._cond.notify_all()

    def _set(self, value: float) -> None:
        self.limit = max(float(self.min_limit), min(float(self.max_limit), value))
        self._since_change = 0
        self.history.append((self.completions, self.limit))
