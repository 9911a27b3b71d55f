"""Fault injection for the emulator: latency, errors, resets, slow answers, token expiry, capacity.

All faults are off by default.  They are set from Python
(``server.faults.configure(...)``) or over HTTP (``PUT /_emulator/faults``),
apply to API routes only (never to ``/_emulator/`` or the token endpoint
unless ``include_token`` is set), and draw from a seeded random source so
that a run can be repeated.

Kinds of fault
--------------
``latency``        the time a matching request takes, from when it gets a
                   capacity slot to its answer, its work included (the work
                   is done first, then the answer waits out the rest): a
                   Server with a latency of L answers K calls at once in L.
``error_rates``    ``{status: share}``, e.g. ``{503: 0.05, 429: 0.02}``; the
                   request is answered with that status before it is applied.
                   429 and 503 carry ``Retry-After: retry_after``.
``reset_before``   share of requests whose connection is reset before the
                   change is applied (nothing happened on the Server).
``reset_after``    share of requests whose connection is reset after the
                   change is applied (the change happened; no answer).
``slow_rate``      share of requests answered ``slow_seconds`` late, after the
                   change is applied (a client with a shorter read timeout
                   gives up on a change that did happen).
``expire_tokens_every``  every N-th API request first invalidates all tokens.
``capacity``       at most K requests are worked on at once; others wait for
                   a slot, up to ``queue_limit`` waiting, beyond which they are
                   turned away with ``overload_status`` (429 or 503) and
                   ``Retry-After``.
``script``         a list of one-shot faults applied to the next matching
                   requests in order (``"503"``, ``"429"``, ``"500"``,
                   ``"reset_before"``, ``"reset_after"``, ``"slow"``,
                   ``"expire_token"``), for deterministic tests.
``methods`` / ``path_pattern``  restrict faults to some requests.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ResetConnection", "FaultSettings", "Faults"]


class ResetConnection(Exception):
    """Tell the server to drop the connection with a TCP reset, sending nothing."""

    def __init__(self, applied: bool):
        super().__init__("reset after applying" if applied else "reset before applying")
        self.applied = applied


@dataclass
class FaultSettings:
    latency: float = 0.0
    error_rates: dict[int, float] = field(default_factory=dict)
    retry_after: float = 1.0
    reset_before: float = 0.0
    reset_after: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 5.0
    expire_tokens_every: int = 0
    capacity: int = 0
    queue_limit: int = 10_000
    overload_status: int = 429
    methods: tuple[str, ...] = ()
    path_pattern: str = ""
    include_token: bool = False
    seed: int = 0
    script: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> "FaultSettings":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "error_rates" in values:
            values["error_rates"] = {int(k): float(v) for k, v in values["error_rates"].items()}
        if "methods" in values:
            values["methods"] = tuple(m.upper() for m in values["methods"])
        if "script" in values:
            values["script"] = list(values["script"])
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        shares = [self.reset_before, self.reset_after, self.slow_rate, *self.error_rates.values()]
        if any(not 0 <= s <= 1 for s in shares) or sum(shares) > 1:
            raise ValueError("fault shares must be between 0 and 1 and add up to at most 1")
        if self.latency < 0 or self.slow_seconds < 0 or self.retry_after < 0:
            raise ValueError("times must not be negative")
        if self.overload_status not in (429, 503):
            raise ValueError("overload_status must be 429 or 503")
        bad = [s for s in self.script if s not in _SCRIPT_KINDS]
        if bad:
            raise ValueError(f"unknown scripted faults: {bad}")
        if self.path_pattern:
            re.compile(self.path_pattern)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["error_rates"] = {str(k): v for k, v in self.error_rates.items()}
        data["methods"] = list(self.methods)
        return data


_SCRIPT_KINDS = {"503", "429", "500", "502", "504", "reset_before", "reset_after", "slow", "expire_token"}


@dataclass
class Decision:
    """What to do with one request."""

    status: int | None = None  # answer this status before applying
    reset_before: bool = False
    reset_after: bool = False
    slow: float = 0.0
    expire_tokens: bool = False


class Faults:
    """Decides, per request, which fault (if any) applies; counts what it did."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.settings = FaultSettings()
        self._rng = random.Random(0)
        self._pattern: re.Pattern | None = None
        self._seen = 0
        self._inflight = 0
        self._waiting = 0
        self._slot = threading.Condition(self._lock)
        self.counters: Counter[str] = Counter()
        self.peak_inflight = 0

    # configuration -------------------------------------------------------
    def configure(self, **settings: Any) -> FaultSettings:
        """Replace all fault settings (anything not given is off)."""
        new = FaultSettings.from_dict(settings)
        with self._lock:
            self.settings = new
            self._rng = random.Random(new.seed)
            self._pattern = re.compile(new.path_pattern) if new.path_pattern else None
            self._seen = 0
            self._slot.notify_all()
        return new

    def update(self, **settings: Any) -> FaultSettings:
        """Change some fault settings, keeping the others."""
        merged = self.settings.to_dict()
        merged.update(settings)
        return self.configure(**merged)

    def clear(self) -> None:
        self.configure()

    def script(self, *kinds: str) -> None:
        """Queue one-shot faults for the next matching requests."""
        with self._lock:
            bad = [k for k in kinds if k not in _SCRIPT_KINDS]
            if bad:
                raise ValueError(f"unknown scripted faults: {bad}")
            self.settings.script.extend(kinds)

    @property
    def active(self) -> bool:
        s = self.settings
        return bool(s.latency or s.error_rates or s.reset_before or s.reset_after or s.slow_rate
                    or s.expire_tokens_every or s.capacity or s.script)

    # per request ---------------------------------------------------------
    def applies(self, method: str, path: str, is_token: bool) -> bool:
        s = self.settings
        if is_token and not s.include_token:
            return False
        if s.methods and method not in s.methods:
            return False
        if self._pattern is not None and not self._pattern.search(path):
            return False
        return True

    def decide(self) -> Decision:
        with self._lock:
            s = self.settings
            self._seen += 1
            decision = Decision()
            if s.expire_tokens_every and self._seen % s.expire_tokens_every == 0:
                decision.expire_tokens = True
            if s.script:
                kind = s.script.pop(0)
                self.counters[f"scripted_{kind}"] += 1
                return _apply_kind(decision, kind, s)
            draw = self._rng.random()
            for status, share in sorted(s.error_rates.items()):
                if draw < share:
                    decision.status = status
                    self.counters[f"injected_{status}"] += 1
                    return decision
                draw -= share
            for kind, share in (("reset_before", s.reset_before), ("reset_after", s.reset_after),
                                ("slow", s.slow_rate)):
                if draw < share:
                    self.counters[f"injected_{kind}"] += 1
                    return _apply_kind(decision, kind, s)
                draw -= share
            return decision

    def acquire(self) -> bool:
        """Take a capacity slot, waiting if needed; False means turn the request away."""
        with self._slot:
            capacity = self.settings.capacity
            if not capacity:
                self._inflight += 1
                self.peak_inflight = max(self.peak_inflight, self._inflight)
                return True
            if self._inflight >= capacity and self._waiting >= self.settings.queue_limit:
                self.counters["overloaded"] += 1
                return False
            self._waiting += 1
            try:
                while self._inflight >= self.settings.capacity > 0:
                    self._slot.wait()
            finally:
                self._waiting -= 1
            self._inflight += 1
            self.peak_inflight = max(self.peak_inflight, self._inflight)
            return True

    def release(self) -> None:
        with self._slot:
            self._inflight -= 1
            self._slot.notify()

    def sleep_latency(self, since: float | None = None) -> None:
        """Wait out the latency: all of it, or what is left of it *since* a ``time.monotonic()`` reading."""
        latency = self.settings.latency
        if latency:
            left = latency if since is None else since + latency - time.monotonic()
            if left > 0:
                time.sleep(left)

    def snapshot(self) -> dict:
        with self._lock:
            return {"settings": self.settings.to_dict(), "counters": dict(self.counters),
                    "peakInflight": self.peak_inflight}


def _apply_kind(decision: Decision, kind: str, s: FaultSettings) -> Decision:
    if kind in ("503", "429", "500", "502", "504"):
        decision.status = int(kind)
    elif kind == "reset_before":
        decision.reset_before = True
    elif kind == "reset_after":
        decision.reset_after = True
    elif kind == "slow":
        decision.slow = s.slow_seconds
    elif kind == "expire_token":
        decision.expire_tokens = True
    return decision
