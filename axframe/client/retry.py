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
    from the Server wins, up to ``max_retry_after``.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays must not be negative")


@dataclass(frozen=True)
class Decision:
    retry: bool
    delay: float = 0.0
    unknown_outcome: bool = False  # the request may have changed the Server
    reason: str = ""


def backoff(policy: RetryPolicy, attempt: int, rand: Callable[[], float] = _random.random) -> float:
    """The delay before attempt ``attempt + 1`` when the Server gave no hint."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** max(attempt - 1, 0)))
    return ceiling * (0.5 + 0.5 * rand())


def decide(policy: RetryPolicy, *, attempt: int, idempotent: bool, status: int | None = None,
           failure: str | None = None, retry_after: float | None = None,
           rand: Callable[[], float] = _random.random) -> Decision:
    """Whether to try again after attempt number *attempt* (1-based) ended this way.

    Give either the HTTP *status* of an answer, or the kind of transport
    *failure* (:data:`NOT_SENT`, :data:`SENT`, :data:`READ_TIMEOUT`).
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
    if retry_after is not None and status in RETRY_STATUSES:
        return Decision(True, min(max(retry_after, 0.0), policy.max_retry_after), reason=f"{reason}, Retry-After")
    return Decision(True, backoff(policy, attempt, rand), reason=reason)


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
