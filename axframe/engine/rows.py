"""The one engine: every row is a small program of calls, run on one bounded pool.

A row's work is a *program*: a generator that yields steps and returns the
row's :class:`~axframe.engine.shape.Ending`::

    def program():
        outcome = yield Send(call)             # sent by the engine; the Outcome comes back
        while not done(outcome):
            yield Wait(interval)               # comes back later, holding no thread
            outcome = yield Send(look_call)
        return Ending(True, outcome.status, scrub(outcome.text))

Creating a user is one call; running a job is queue, then look until it ends,
then fetch its outputs; migrating a workflow is a dozen steps.  They all run
here, with the same guarantees:

- **A bounded pool.**  ``workers`` threads send at most that many calls at
  once, over the run's connection; a worker runs a program from one step to
  the next, so a one-call row never changes thread.  A :class:`Wait` parks
  its program on a timer heap and frees the worker; at most ``max_active``
  programs are started and unfinished at once (jobs queued on the Server, for
  ``run_jobs``).  ``workers="auto"`` finds the Server's pace
  (:mod:`axframe.client.pace`): the pool starts small and grows its threads
  as the pace's limit grows, up to ``workers``.
- **One journal.**  With a journal, each step that may change the Server is
  recorded before it goes out and its answer after (:mod:`.journal`); a
  value the program decided on (:class:`Remember`) is recorded too.  A run
  resumed after a crash answers the recorded steps from the journal and tells
  the program about the step that was in flight (``Outcome.journal``), so that
  nothing is done twice.  Finished rows are not run again.
- **One way of ending.**  A program returns an ``Ending``; a bug in a program
  stops the run and is raised in the caller's thread.  Ctrl-C stops starting
  steps, lets the calls in flight finish (and be journaled), and raises
  ``KeyboardInterrupt``.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Sequence, Union

from ..client.call import Call, Outcome
from ..client.connection import Connection
from ..client.secrets import scrub
from ..errors import ConfigurationError, ErrorType
from .journal import Journal, JournalState
from .progress import Progress
from .shape import Ending

__all__ = ["Send", "Wait", "Remember", "Await", "Shared", "Turns", "Step", "Program", "Row", "Engine", "IN_FLIGHT",
           "workers_for"]

log = logging.getLogger("axframe")

IN_FLIGHT = ("an earlier run stopped while this row's call was in flight; the Server may or may not have "
             "applied it, so it was not sent again. Check the Server, then run this row without the journal if "
             "it is still needed")


@dataclass
class Send:
    """Send *call* (on *conn*, default the run's connection); the :class:`Outcome` comes back.

    *idempotent* overrides what the method says (a PUT that toggles a flag is not idempotent).
    """

    call: Call
    conn: Connection | None = None
    idempotent: bool | None = None


@dataclass
class Wait:
    """Come back after *seconds*, holding no thread meanwhile."""

    seconds: float


@dataclass
class Remember:
    """Journal *value* the first time; a resumed run gets the journaled value back instead."""

    value: Any


@dataclass
class Await:
    """Come back with the result of *future* (set by another row's program), holding no thread meanwhile."""

    future: Future


Step = Union[Send, Wait, Remember, Await]
Program = Generator[Step, Any, Ending]


@dataclass
class Row:
    """One row of a run: its position in the frame, its RecordID, and the program that does its work.

    *fingerprint* digests what the row asks of the Server (a journal replays a finished row only while
    it asks the same); *program* is called once to make the generator.
    """

    pos: int
    key: str
    program: Callable[[], Program]
    fingerprint: str = ""


@dataclass
class _Running:
    row: Row
    gen: Program
    steps: dict[int, dict] = field(default_factory=dict)  # what an earlier run recorded of this row's steps
    next_step: int = 0
    # the last answer as it came (number, status, text, error type, error), journaled only if the program
    # goes on (most programs end after their one call: their answer is never scrubbed for the journal)
    unwritten: tuple[int, int | None, str, Any, str | None] | None = None
    value: Any = None  # what to send into the generator next
    error: BaseException | None = None  # what to throw into it instead (a shared value that failed)


def workers_for(conn: Connection, max_workers: int | str | None) -> tuple[int, Any]:
    """The thread count and adaptive gate (or None) for *max_workers* (default: the connection's)."""
    workers = max_workers if max_workers is not None else conn.max_workers
    if workers == "auto":
        from ..client.pace import AdaptiveGate

        gate = AdaptiveGate()
        return gate.max_limit, gate  # the most threads; the engine starts them as the gate's limit grows
    try:
        threads = int(workers)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigurationError(f"max_workers must be a positive number or 'auto', not {workers!r}") from None
    if threads < 1 or isinstance(workers, bool) or (isinstance(workers, float) and workers != threads):
        raise ConfigurationError(f"max_workers must be a whole number of at least 1 or 'auto', not {workers!r}")
    return threads, None


class Engine:
    """Runs many row programs over one connection (see the module's docstring).

    Parameters
    ----------
    conn : Connection
        Where :class:`Send` steps go by default.
    workers : int
        Threads, and so calls in flight at once.
    gate : AdaptiveGate, optional
        Paces the connection while the run lasts (``max_workers="auto"``).
    max_active : int, optional
        Programs started and unfinished at once (default: no bound beyond the workers').
    journal : Journal, optional
        An open journal, and *state* what it held when opened.
    progress : Progress, optional
    on_row : callable, optional
        ``on_row(pos, ending)`` for each row that ran (not for those taken from the journal).
    """

    def __init__(self, conn: Connection, *, workers: int, gate: Any = None, max_active: int | None = None,
                 journal: Journal | None = None, state: JournalState | None = None,
                 progress: Progress | None = None, on_row: Callable[[int, Ending], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.conn = conn
        self.workers = max(1, workers)
        self.gate = gate
        self.max_active = max_active
        self.journal = journal
        self.state = state or JournalState()
        self.progress = progress
        self.on_row = on_row
        self.clock = clock
        self.endings: dict[int, Ending] = {}
        self.max_in_flight = 0
        self._cond = threading.Condition()
        self._report = threading.Lock()
        self._pending: deque[Row] = deque()
        self._ready: deque[_Running] = deque()
        self._timers: list[tuple[float, int, _Running]] = []
        self._seq = itertools.count()
        self._active = 0
        self._busy = 0
        self._awaiting = 0
        self._stopping = False
        self._errors: list[BaseException] = []
        self._done = threading.Event()
        self._exits: list[threading.Event] = []  # one per worker started
        self._live = 0  # workers running now (an adaptive gate's shrinking limit retires some)

    # ------------------------------------------------------------------ running
    def run(self, rows: Sequence[Row]) -> dict[int, Ending]:
        """Run every row's program; the endings by position.  Raises what a program raised, or Ctrl-C."""
        if not rows:
            return self.endings
        self._pending.extend(rows)
        if self.gate is not None:
            self.conn.gate = self.gate
        try:
            self._start_workers()
            # Wait on events, not Thread.join: a join that Ctrl-C interrupts can take a live thread for
            # finished (CPython 3.11), and the run would then close the journal under a call in flight.
            while not self._done.wait(0.2):
                pass
        except KeyboardInterrupt:
            self.stop()
            self._wait_for_workers()
            raise
        finally:
            if self.gate is not None:
                self.conn.gate = None
        self._wait_for_workers()
        if self._errors:
            raise self._errors[0]
        return self.endings

    @property
    def threads_started(self) -> int:
        """Worker threads this engine has started."""
        return len(self._exits)

    def _wanted(self) -> int:
        """Workers worth running: *workers*, or with an adaptive gate as many as its limit needs (it starts
        small and grows), never more than the rows."""
        wanted = self.workers if self.gate is None else min(self.workers, self.gate.threads())
        return min(wanted, self._rows_left())

    def _rows_left(self) -> int:
        return len(self._pending) + len(self._ready) + len(self._timers) + self._busy + self._awaiting

    def _start_workers(self) -> None:
        """Start workers until as many run as are wanted (none once the run stops or its work is done)."""
        while True:
            with self._cond:
                if self._stopping or self._done.is_set() or self._live >= self._wanted():
                    return
                gone = threading.Event()
                self._exits.append(gone)
                self._live += 1
                k = len(self._exits) - 1
            try:
                threading.Thread(target=self._worker, args=(gone,), name=f"axframe-{k}", daemon=True).start()
            except BaseException:
                with self._cond:
                    self._live -= 1
                gone.set()
                raise

    def _grow(self) -> None:
        """With an adaptive gate: more workers when its limit has grown past the ones running."""
        if self.gate is not None and self._live < self.workers and not self._stopping:
            with self._cond:
                more = self._wanted() > self._live
            if more:
                self._start_workers()

    def _wait_for_workers(self) -> None:
        while True:
            with self._cond:
                exits = list(self._exits)
            for gone in exits:
                gone.wait()
            with self._cond:
                if len(self._exits) == len(exits):
                    return

    def stop(self) -> None:
        """Start no more steps; the calls in flight finish."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def _worker(self, gone: threading.Event) -> None:
        try:
            while True:
                running = self._next()
                if running is None:
                    return
                try:
                    self._advance(running)
                except BaseException as exc:  # a bug in a program: stop the run, raise it in the caller
                    self._errors.append(exc)
                    self.stop()
                    self._done.set()
                    return
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._check_done()
                        self._cond.notify_all()
                self._grow()
        finally:
            with self._cond:
                self._live -= 1
            gone.set()

    def _next(self) -> _Running | None:
        """The next program to advance: a due timer, a ready one, or a new row; None when all is done."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if self.gate is not None and self._live > max(1, self.gate.threads()):
                    return None  # the gate's limit shrank: a worker fewer (another starts if it grows again)
                now = self.clock()
                item: _Running | None = None
                if self._timers and self._timers[0][0] <= now:
                    item = heapq.heappop(self._timers)[2]
                elif self._ready:
                    item = self._ready.popleft()
                elif self._pending and (self.max_active is None or self._active < self.max_active):
                    item = self._start(self._pending.popleft())
                    self._active += 1
                    self.max_in_flight = max(self.max_in_flight, self._active)
                if item is not None:
                    self._busy += 1
                    return item
                if self._finished():
                    self._done.set()
                    return None
                wait = self._timers[0][0] - now if self._timers else None
                self._cond.wait(timeout=wait if wait is None else max(wait, 0.0))

    def _finished(self) -> bool:
        return not (self._pending or self._ready or self._timers or self._busy or self._awaiting)

    def _check_done(self) -> None:
        if self._finished():
            self._done.set()

    def _start(self, row: Row) -> _Running:
        steps = self.state.steps_of(row.key, row.fingerprint) if self.journal is not None else {}
        return _Running(row, row.program(), steps=steps)

    # ------------------------------------------------------------------ one program
    def _advance(self, running: _Running) -> None:
        """Run *running* from where it stands to its next wait or its end."""
        while True:
            try:
                if running.error is not None:
                    error, running.error = running.error, None
                    step = running.gen.throw(error)
                else:
                    step = running.gen.send(running.value)
            except StopIteration as stop:
                self._end(running, stop.value)
                return
            if isinstance(step, Await):
                if not step.future.done():
                    with self._cond:
                        self._awaiting += 1
                    step.future.add_done_callback(functools.partial(self._resume, running))
                    return
                running.value, running.error = _result(step.future)
                continue
            if isinstance(step, Wait):
                self._flush(running)
                running.value = None
                with self._cond:
                    heapq.heappush(self._timers, (self.clock() + max(0.0, step.seconds), next(self._seq), running))
                    self._cond.notify()
                return
            if self._stopping:
                return  # Ctrl-C: the row stays unfinished, its journal as far as it got
            if isinstance(step, Remember):
                running.value = self._remember(running, step.value)
            elif isinstance(step, Send):
                running.value = self._send(running, step)
            else:
                raise TypeError(f"a row program yielded {step!r}: expected Send, Wait or Remember")

    def _send(self, running: _Running, step: Send) -> Outcome:
        conn = step.conn or self.conn
        call = step.call
        if self.journal is None or not call.changes:
            return conn.send(call)
        row, number = running.row, running.next_step
        running.next_step += 1
        known = running.steps.get(number, {})
        if "answer" in known:
            return _outcome(known["answer"], "answered")
        resent = False
        if known.get("sent"):
            idempotent = step.idempotent if step.idempotent is not None else call.idempotent
            if not idempotent:
                return Outcome(None, error_type=ErrorType.OUTCOME_UNKNOWN, error=IN_FLIGHT, journal="in_flight")
            resent = True
        self._flush(running)
        self.journal.step_sent(row.key, row.fingerprint, number)
        outcome = conn.send(call)
        running.unwritten = (number, outcome.status, outcome.text, outcome.error_type, outcome.error)
        if resent:
            outcome.journal = "resent"
        return outcome

    def _remember(self, running: _Running, value: Any) -> Any:
        if self.journal is None:
            return value
        number = running.next_step
        running.next_step += 1
        known = running.steps.get(number, {})
        if "fact" in known:
            return known["fact"]
        self._flush(running)
        self.journal.fact(running.row.key, running.row.fingerprint, number, value)
        return value

    def _resume(self, running: _Running, future: Future) -> None:
        running.value, running.error = _result(future)
        with self._cond:
            self._awaiting -= 1
            self._ready.append(running)
            self._cond.notify()

    def _flush(self, running: _Running) -> None:
        """Journal the last answer: the program goes on after it."""
        if running.unwritten is not None and self.journal is not None:
            number, *answered = running.unwritten
            answer = _answer(*answered)
            self.journal.step_answer(running.row.key, running.row.fingerprint, number, answer)
        running.unwritten = None

    def _end(self, running: _Running, ending: Any) -> None:
        if not isinstance(ending, Ending):
            raise TypeError(f"a row program returned {ending!r}: expected an Ending")
        row = running.row
        if self.journal is not None:
            self.journal.finished(row.key, row.fingerprint, ending.record())
        with self._report:
            self.endings[row.pos] = ending
            if self.progress is not None:
                self.progress.update()
            if self.on_row is not None:
                self.on_row(row.pos, ending)
        with self._cond:
            self._active -= 1
            self._cond.notify_all()


def _result(future: Future) -> tuple[Any, BaseException | None]:
    exc = future.exception()
    return (None, exc) if exc is not None else (future.result(), None)


class Shared:
    """Values several rows of a run need, worked out once by whichever row asks first.

    ``value = yield from shared.get(key, make)``: the first program to ask runs *make()* (steps of its
    own, typically a listing); the others wait for its result without holding a thread (:class:`Await`).
    A failure is raised in every program that asked.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Any, Future] = {}

    def get(self, key: Any, make: Callable[[], Generator[Step, Any, Any]]) -> Generator[Step, Any, Any]:
        with self._lock:
            future = self._futures.get(key)
            mine = future is None
            if future is None:
                future = self._futures[key] = Future()
        if not mine:
            value = yield Await(future)
            return value
        try:
            value = yield from make()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        future.set_result(value)
        return value


class Turns:
    """One program at a time per key, the others waiting their turn without holding a thread.

    ``done = yield from turns.take(key)`` ... ``done()``: between the two, no other program of the run
    holds *key*'s turn.  Call ``done()`` in a ``finally``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tails: dict[Any, Future] = {}

    def take(self, key: Any) -> Generator[Step, Any, Callable[[], None]]:
        mine: Future = Future()
        with self._lock:
            before = self._tails.get(key)
            self._tails[key] = mine
        if before is not None:
            yield Await(before)

        def done() -> None:
            if not mine.done():
                mine.set_result(None)

        return done


def _answer(status: int | None, text: str, error_type: Any, error: str | None) -> dict:
    """What the journal keeps of an answer: enough to decide the program's next steps (secrets scrubbed)."""
    return {"status": status, "text": scrub(text), "error_type": error_type, "error": error}


def _outcome(answer: dict, journal: str) -> Outcome:
    error_type = answer.get("error_type")
    return Outcome(answer.get("status"), text=answer.get("text") or "",
                   error_type=ErrorType(error_type) if error_type else None, error=answer.get("error"),
                   journal=journal)
