"""Retry decisions, as pure functions: no I/O, no sleeping, no clock.

:func:`decide` says whether an attempt that ended a given way should be
tried again and after how long; the caller sleeps.  The random source for
jitter is passed in, so tests can check delays exactly.

What is retried
---------------
- 429 and 503: the Server turned the request away without acting on it;
  retried for every method, after ``Retry-After`` when the Server sent one.
- 502 and 504: a gateway between us and the Server failed; retried for
  idempotent methods (GET, PUT, PATCH, DELETE).  For a POST the Server may
  have acted, so the row fails as ``OutcomeUnknown`` (the caller may
  reconcile it) instead of being sent twice.
- A connection that could not be opened (refused, DNS, connect timeout):
  nothing was sent; retried for every method.
- A connection that broke after the request was sent, or a read timeout:
  retried for idempotent methods; ``OutcomeUnknown`` for a POST.

How long to wait
----------------
A ``Retry-After`` is honoured up to ``max_retry_after`` (60 s) per wait, and
a call waits at most ``max_wait_per_call`` (3 minutes) in all before it gives
up.  A 429 (or a 503 that says when to come back) slows the whole run down,
not only its own call: the connection pauses every call until then, and the
pauses of one run add up to at most ``max_wait_per_run`` (15 minutes); past
that budget, calls the Server turns away fail at once, saying so, instead of
waiting on.  2,000 rows on 8 workers against a Server that always answers
``Retry-After: 300`` end in about 16 minutes, not 83 hours.
"""

from __future__ import annotations

import random as _random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Callable

__all__ = ["RetryPolicy", "Decision", "decide", "backoff", "parse_retry_after", "RETRY_STATUSES",
           "NOT_SENT", "SENT", "READ_TIMEOUT"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
REFUSED_STATUSES = frozenset({429, 503})  # the Server did not act on the request

# How a transport failure happened.
NOT_SENT = "not_sent"          # connection refused / DNS / connect timeout
SENT = "sent"                  # the connection broke after the request went out
READ_TIMEOUT = "read_timeout"  # no answer in time


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try.

    ``max_attempts`` counts the first try.  Delays grow as
    ``base_delay * 2 ** (attempt - 1)``, capped at ``max_delay``, with full
    jitter (a uniform draw between half and all of it).  A ``Retry-After``
    from the Server wins, up to ``max_retry_after``.  One call waits at most
    ``max_wait_per_call`` seconds in all; the pauses one run makes for the
    Server (429s) add up to at most ``max_wait_per_run``.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    max_wait_per_call: float = 180.0
    max_wait_per_run: float = 900.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.max_retry_after, self.max_wait_per_call,
               self.max_wait_per_run) < 0:
            raise ValueError("delays must not be negative")


@dataclass(frozen=True)
class Decision:
    retry: bool
    delay: float = 0.0
    unknown_outcome: bool = False  # the request may have changed the Server
    reason: str = ""
    pause_all: bool = False  # the Server asked to slow down: pause the whole run, not only this call


def backoff(policy: RetryPolicy, attempt: int, rand: Callable[[], float] = _random.random) -> float:
    """The delay before attempt ``attempt + 1`` when the Server gave no hint."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** max(attempt - 1, 0)))
    return ceiling * (0.5 + 0.5 * rand())


def decide(policy: RetryPolicy, *, attempt: int, idempotent: bool, status: int | None = None,
           failure: str | None = None, retry_after: float | None = None, waited: float = 0.0,
           run_left: float = float("inf"), rand: Callable[[], float] = _random.random) -> Decision:
    """Whether to try again after attempt number *attempt* (1-based) ended this way.

    Give either the HTTP *status* of an answer, or the kind of transport
    *failure* (:data:`NOT_SENT`, :data:`SENT`, :data:`READ_TIMEOUT`); *waited*
    is what this call has waited so far, *run_left* what the run may still
    pause for the Server.
    """
    if status is not None:
        if status not in RETRY_STATUSES:
            return Decision(False, reason=f"status {status} is final")
        if status not in REFUSED_STATUSES and not idempotent:
            return Decision(False, unknown_outcome=True,
                            reason=f"status {status} from a gateway: a POST may have been applied")
        reason = f"status {status}"
    elif failure is not None:
        if failure != NOT_SENT and not idempotent:
            return Decision(False, unknown_outcome=True,
                            reason="the connection failed after a POST was sent: it may have been applied")
        reason = {NOT_SENT: "could not connect", SENT: "connection broken",
                  READ_TIMEOUT: "no answer in time"}.get(failure, failure)
    else:
        return Decision(False, reason="success")
    if attempt >= policy.max_attempts:
        return Decision(False, reason=f"{reason}; gave up after {attempt} attempts")
    pause_all = status == 429 or (status == 503 and retry_after is not None)
    if retry_after is not None and status in RETRY_STATUSES:
        delay, reason = min(max(retry_after, 0.0), policy.max_retry_after), f"{reason}, Retry-After"
    else:
        delay = backoff(policy, attempt, rand)
    if waited + delay > policy.max_wait_per_call:
        return Decision(False, reason=f"{reason}; gave up after waiting {waited:.0f} s in all (max_wait_per_call "
                                      f"{policy.max_wait_per_call:g} s)")
    if pause_all and delay > run_left:
        return Decision(False, reason=f"{reason}; the run has paused {policy.max_wait_per_run:g} s for the Server "
                                      "already (max_wait_per_run), so the calls it turns away now fail at once")
    return Decision(True, delay, reason=reason, pause_all=pause_all)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    import time

    return max(0.0, when.timestamp() - (time.time() if now is None else now))
