"""Reading answers within bounds: how many bytes, and by when.

A misbehaving Server (or whatever stands in front of it) can answer without
end, or a byte at a time.  Three bounds hold for every answer:

- **Bytes per answer.**  :func:`read_bounded` reads a ``stream=True``
  response whole, but never more than a limit of bytes (counted after
  decompression, so a gzip bomb stops at the limit too).
- **Bytes in flight.**  A :class:`Budget` bounds the bytes all the answers of
  one connection hold while they are being read, so that eight workers
  reading eight endless answers cannot take eight times the memory.
- **Wall-clock time.**  :func:`watch` arms a deadline for a whole exchange
  (status line, headers and body, however they trickle): when it passes, a
  single watchdog thread shuts the exchange's socket down, and the read ends
  at once.  The transport tells the watch which socket the exchange uses
  (:func:`attach`).

Past any bound the answer is closed and :class:`~axframe.errors.AnswerRefused`
is raised.
"""

from __future__ import annotations

import heapq
import itertools
import math
import socket
import threading
import time
from typing import Any, ContextManager

import requests
import urllib3
from urllib3 import exceptions as urllib3_errors

from ..errors import AnswerRefused

__all__ = ["read_bounded", "Budget", "watch", "attach", "expired", "late", "BLOCK", "DEFAULT_MAX_BYTES_IN_FLIGHT"]

BLOCK = 1 << 16
DEFAULT_MAX_BYTES_IN_FLIGHT = 1 << 30  # 1 GiB for all the answers of a connection being read at once


class Budget:
    """Bytes that the answers of one connection may hold while they are read, all together."""

    def __init__(self, limit: int = DEFAULT_MAX_BYTES_IN_FLIGHT):
        self.limit = limit
        self.held = 0
        self.peak = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> bool:
        """Count *n* more bytes; False (and nothing counted) when the budget would be exceeded."""
        with self._lock:
            if self.held + n > self.limit:
                return False
            self.held += n
            self.peak = max(self.peak, self.held)
            return True

    def give(self, n: int) -> None:
        with self._lock:
            self.held -= n


# --------------------------------------------------------------------------
# wall-clock deadlines
# --------------------------------------------------------------------------


class _Watch:
    """One exchange under a deadline: the connection it uses, and whether the deadline fired."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: Any = None
        self.fired = False
        self.done = False
        self._lock = threading.Lock()

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.fired = True
            sock = getattr(self.connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv at once, unlike close()
            except OSError:
                pass

    def finish(self) -> None:
        with self._lock:
            self.done = True

    def __enter__(self) -> "_Watch":
        _current.watch = self
        _watchdog.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
        _current.watch = None


class _Watchdog:
    """A single daemon thread that fires the watches whose deadline has passed.

    The thread sleeps until the earliest deadline it knows of, and is woken only by a watch due
    before that: nearly every exchange ends long before its deadline, so most add one entry to the
    heap and wake no one (a finished watch leaves the heap when it reaches the top).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._asleep_until = 0.0  # when the thread will look again by itself (0: it is awake)

    def add(self, watch: _Watch) -> None:
        with self._cond:
            while self._heap and self._heap[0][2].done:  # finished exchanges leave as new ones come
                heapq.heappop(self._heap)
            heapq.heappush(self._heap, (watch.deadline, next(self._seq), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="axframe-watchdog", daemon=True)
                self._thread.start()
            elif watch.deadline < self._asleep_until:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._asleep_until = 0.0
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._asleep_until = math.inf
                    self._cond.wait()
                    continue
                deadline, _, watch = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._asleep_until = deadline
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            watch.fire()


_watchdog = _Watchdog()
_current = threading.local()


class _Unwatched:
    """The context of an exchange without a deadline."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_UNWATCHED = _Unwatched()


def watch(seconds: float | None) -> ContextManager[_Watch | None]:
    """Bound the exchange this thread makes inside the ``with`` to *seconds* of wall-clock time."""
    if seconds is None:
        return _UNWATCHED
    return _Watch(time.monotonic() + max(0.0, seconds))


def attach(connection: Any) -> None:
    """The transport says which connection this thread's exchange uses (its socket is what a deadline shuts)."""
    current = getattr(_current, "watch", None)
    if current is not None:
        current.connection = connection
        if current.fired:  # the deadline passed while the connection was being made
            current.fire()


def expired() -> bool:
    """Whether this thread's exchange ran past its deadline."""
    current = getattr(_current, "watch", None)
    return bool(current is not None and current.fired)


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------


def read_bounded(response: requests.Response, limit: int, deadline: float | None = None,
                 limit_name: str = "max_answer_bytes", budget: Budget | None = None) -> None:
    """Read the whole body of a ``stream=True`` *response* into it, within *limit* bytes (and the
    connection's *budget* of bytes in flight) and *deadline* seconds of wall-clock time for the whole
    exchange (armed with :func:`watch`); else close the response and raise :class:`AnswerRefused`."""
    held = 0
    try:
        declared = response.headers.get("Content-Length", "")
        length = int(declared) if declared.isdigit() else None
        if length is not None and length > limit:
            raise AnswerRefused(response.status_code, f"the Server's answer is {length:,} bytes, more than "
                                                      f"{limit_name} ({limit:,})")
        size, chunks = 0, []
        try:
            if length is not None and length <= BLOCK and _plain(response):  # the common case: one read
                if budget is not None:
                    if not budget.take(length):
                        raise AnswerRefused(response.status_code, _over_budget(budget))
                    held = length
                chunks.append(_read_whole(response))
                response._content_consumed = True
            else:
                for chunk in response.iter_content(BLOCK):
                    size += len(chunk)
                    if size > limit:
                        raise AnswerRefused(response.status_code,
                                            f"the Server's answer grew past {limit_name} ({limit:,})")
                    if budget is not None:
                        if not budget.take(len(chunk)):
                            raise AnswerRefused(response.status_code, _over_budget(budget))
                        held += len(chunk)
                    chunks.append(chunk)
        except (requests.RequestException, OSError, ValueError):
            if expired():
                raise AnswerRefused(response.status_code, late(deadline)) from None
            raise
        if expired():
            raise AnswerRefused(response.status_code, late(deadline))
        response._content = b"".join(chunks)
    except BaseException:
        response.close()
        raise
    finally:
        if budget is not None and held:
            budget.give(held)


def _plain(response: requests.Response) -> bool:
    """An answer urllib3 reads as it came (not compressed), that nothing has read yet."""
    raw = response.raw
    return type(raw) is urllib3.HTTPResponse and not response._content_consumed \
        and not raw.headers.get("Content-Encoding")


def _read_whole(response: requests.Response) -> bytes:
    """The rest of an answer, in one read, failing as ``iter_content`` fails."""
    try:
        return response.raw.read()
    except Exception as exc:
        mapped = _read_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


def _over_budget(budget: Budget) -> str:
    return f"the answers being read at once grew past max_bytes_in_flight ({budget.limit:,}); this one was not read"


def _read_error(exc: Exception) -> Exception | None:
    """What ``requests`` raises for urllib3's *exc* while reading an answer (None: raised as it is)."""
    if isinstance(exc, urllib3_errors.ProtocolError):
        return requests.exceptions.ChunkedEncodingError(exc)
    if isinstance(exc, urllib3_errors.DecodeError):
        return requests.exceptions.ContentDecodingError(exc)
    if isinstance(exc, urllib3_errors.ReadTimeoutError):
        return requests.ConnectionError(exc)
    if isinstance(exc, urllib3_errors.SSLError):
        return requests.exceptions.SSLError(exc)
    return None


def late(deadline: float | None) -> str:
    """Why an answer was refused for its deadline."""
    limit = f" ({deadline:g} s)" if deadline is not None else ""
    return f"the Server's answer took longer than answer_deadline{limit}"
