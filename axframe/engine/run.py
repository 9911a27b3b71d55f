"""A whole run: rows refused before sending, the journal, the engine, the frames and the summary.

Every bulk entry point (the macros, ``run_jobs``, ``migrate``, ``deploy``,
``download_packages``...) ends here: it checks its rows, turns the good ones
into :class:`~axframe.engine.rows.Row` programs, and calls :func:`run_rows`,
which takes the journal (replaying finished rows, refusing changed ones),
runs the programs on the :class:`~axframe.engine.rows.Engine`, counts what it
cost and shapes the endings into a :class:`~axframe.engine.shape.Result`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from ..client.connection import Connection
from ..errors import ErrorType
from .journal import Journal, JournalState
from .progress import Progress
from .rows import Engine, Row, workers_for
from .shape import Ending, Result, Shape, Summary, shape

__all__ = ["RunOptions", "run_rows", "Cost", "CHANGED_SINCE_JOURNAL"]

log = logging.getLogger("axframe")

CHANGED_SINCE_JOURNAL = ("this RecordID succeeded in an earlier run of this journal with other values, so it was "
                         "not sent again; if the change is meant, run the row under a new RecordID or without the "
                         "journal")


@dataclass(frozen=True)
class RunOptions:
    """How a run goes, shared by every bulk entry point.

    Attributes
    ----------
    max_workers : int, "auto" or None
        Calls in flight at once (default: the connection's, 8); ``"auto"`` finds the Server's pace.
    progress : bool or None
        Show a progress bar (default: at a terminal or in a notebook only).
    journal : path or None
        Record each row's steps; running again with the same journal resumes where it stopped.
    on_row : callable or None
        ``on_row(pos, ending)`` each time a row that was sent ends (not rows refused before sending, nor
        rows taken from the journal).
    """

    max_workers: int | str | None = None
    progress: bool | None = None
    journal: str | os.PathLike | None = None
    on_row: Callable[[int, Ending], None] | None = None

    def but(self, **changes: Any) -> "RunOptions":
        """A copy with *changes*."""
        return replace(self, **changes)


class Cost:
    """Calls, retries and tokens spent on one or more connections while a run lasts."""

    def __init__(self, *conns: Connection):
        self.conns = list({id(c): c for c in conns}.values())
        self.before = [(dict(c.stats), c.tokens_requested) for c in self.conns]

    def fill(self, summary: Summary) -> None:
        for conn, (stats, tokens) in zip(self.conns, self.before):
            summary.calls += conn.stats["calls"] - stats.get("calls", 0)
            summary.retries += conn.stats["retries"] - stats.get("retries", 0)
            summary.tokens_requested += conn.tokens_requested - tokens


def run_rows(conn: Connection, df: pd.DataFrame, rows: Sequence[Row], refused: Mapping[int, Ending], *,
             spec: Shape, summary: Summary, options: RunOptions, action: str, started: float,
             max_active: int | None = None, also: Sequence[Connection] = (),
             engine_hook: Callable[[Engine], None] | None = None,
             on_journal: Callable[[JournalState], None] | None = None) -> tuple[Result, list[Ending]]:
    """Run *rows* (the rows of *df* not in *refused*) and shape every row's ending.

    *action* names the journal's run (a journal of another action is refused); *also* are other
    connections the programs send on (their calls count in the summary too); *engine_hook* sees the
    engine after it ran (or was interrupted), for figures of its own; *on_journal* sees what the journal
    held when it was opened, before any row runs.
    """
    cost = Cost(conn, *also)
    for each in cost.conns:
        each.new_run()
    endings: dict[int, Ending] = dict(refused)
    journal = Journal(options.journal, action) if options.journal is not None else None
    state = journal.open() if journal is not None else JournalState()
    try:
        if on_journal is not None:
            on_journal(state)
        todo = _from_journal(rows, state, endings) if journal is not None else list(rows)
        workers, gate = workers_for(conn, options.max_workers)
        bar = Progress(len(todo), action, options.progress, rows=len(df))
        bar.update(0)
        engine = Engine(conn, workers=workers, gate=gate, max_active=max_active, journal=journal, state=state,
                        progress=bar, on_row=options.on_row)
        try:
            endings.update(engine.run(todo))
        finally:
            if engine_hook is not None:
                engine_hook(engine)
    finally:
        if journal is not None:
            journal.close()
    ordered = [endings[pos] for pos in range(len(df))]
    cost.fill(summary)
    summary.count(ordered)
    success, failure = shape(df, ordered, spec)
    summary.elapsed = time.perf_counter() - started
    bar.close(summary)
    log.info("%s", summary)
    return Result(success, failure, summary), ordered


def _from_journal(rows: Sequence[Row], state: JournalState, endings: dict[int, Ending]) -> list[Row]:
    """The rows to run: finished rows are replayed while they ask the same, refused when they succeeded
    asking something else, and run again when they failed and have changed since (fixed).  Rows an
    earlier run left in flight come first: what is unknown is settled before anything new is sent."""
    todo = []
    waiting = state.in_flight
    for row in sorted(rows, key=lambda r: r.key not in waiting):  # what was in flight settles first
        entry = state.finished.get(row.key)
        if entry is not None:
            if entry.get("fp") in (None, row.fingerprint):  # the same (or a journal without digests)
                endings[row.pos] = Ending.from_record(entry)
                continue
            if entry.get("ok"):
                endings[row.pos] = Ending.refused(ErrorType.CHANGED_SINCE_JOURNAL, CHANGED_SINCE_JOURNAL)
                continue
        todo.append(row)
    return todo
