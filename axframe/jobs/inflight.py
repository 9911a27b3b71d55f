"""A job whose queuing was in flight when an earlier run stopped: was it queued?

The Server's job views carry no answers, so a queued job cannot be told
apart from another of the same workflow by what it was asked.  What can be
known: the jobs of the workflow that no row of the journal holds, created
around the time the row went out (the row journals that time before it
queues).  With a journal, the rows of one workflow queue one at a time
(:class:`~axframe.engine.rows.Turns`: queuing takes milliseconds, jobs take
far longer), and each holds its turn until its job id is journaled; so a stop
leaves at most one queuing of a workflow in flight, and no job of the run is
unheld while another row settles.  A row left in flight settles in its turn,
from a fresh listing:

- no such job: it was not queued; it is queued now (that time journaled
  too: if a later stop catches this queuing in flight, the row settles
  again, looking around both times);
- one such job, and this the only row of the workflow left in flight: it is
  this row's job; the row follows it (and journals it);
- anything else (rare: two stops in a row, each in the middle of a queuing):
  which job is whose cannot be told; the row fails as ``OutcomeUnknown`` and
  is never queued again (the jobs that exist run on).

A row that holds a job (in its answer or journaled) is not in flight, even
if the journal still shows the queuing an earlier run lost.  So a resumed run never queues a job twice, and queues again only what
provably never reached the Server.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Generator, Iterable

from .. import catalogue
from ..client.call import Call
from ..client.connection import Connection
from ..engine.journal import JournalState
from ..engine.rows import Send, Step, Turns
from ..schemas import parse_datetime
from .plan import Api, Job, endpoint_path

__all__ = ["Claims", "QUEUE_AGAIN", "UNKNOWN", "WINDOW"]

WINDOW = 120.0  # seconds around the journaled send time a job may carry as its creation time (clock skew)
QUEUE_AGAIN, UNKNOWN = "queue again", "unknown"


class Claims:
    """The jobs the rows of a run hold, and what became of the queuings left in flight."""

    def __init__(self, conn: Connection, api: Api) -> None:
        self.conn, self.api = conn, api
        self.held: set[str] = set()
        self.in_flight: dict[str, set[str]] = {}  # workflow id -> rows whose queuing is left in flight, unsettled
        self.turns = Turns()  # with a journal: one queuing in flight per workflow at a time
        self._lock = threading.Lock()

    def load(self, state: JournalState, jobs: Iterable[Job]) -> None:
        """What the journal holds: every job a row has, and the rows left in flight (by workflow)."""
        for entry in state.finished.values():
            job_id = (entry.get("Values") or {}).get("JobId")
            if job_id:
                self.held.add(str(job_id))
        holding = set()  # rows that hold a job (a queuing in flight, settled by a later run, stays in the journal)
        for key, steps in state.steps.items():
            for step in steps.values():
                job_ids = _ids((step.get("answer") or {}).get("text"))
                if step.get("fact") and isinstance(step["fact"], dict) and step["fact"].get("job"):
                    job_ids.add(str(step["fact"]["job"]))
                if job_ids:
                    self.held.update(job_ids)
                    holding.add(key)
        waiting = state.in_flight - holding
        for job in jobs:
            if job.key in waiting:
                self.in_flight.setdefault(job.workflow_id, set()).add(job.key)

    def hold(self, job_id: str) -> None:
        with self._lock:
            self.held.add(job_id)

    def settled(self, job: Job) -> None:
        """*job*'s row no longer has a queuing in flight (it holds a job, or it has failed)."""
        with self._lock:
            self.in_flight.get(job.workflow_id, set()).discard(job.key)

    def settle(self, job: Job) -> Generator[Step, Any, tuple[str, str | None]]:
        """Steps that decide about *job*'s queuing left in flight: ``(QUEUE_AGAIN, None)``, ``("adopt", job id)``
        or ``(UNKNOWN, why)``."""
        listing = yield from self._jobs_of(job.workflow_id)
        if listing is None:
            return UNKNOWN, "its jobs could not be listed"
        near = [view for view in listing if any(_created_near(view, sent) for sent in job.sent_at or [job.submitted])]
        with self._lock:
            free = [str(view["id"]) for view in near if str(view.get("id")) not in self.held]
            waiting = len(self.in_flight.get(job.workflow_id, set()) | {job.key})
            if not free:
                return QUEUE_AGAIN, None
            if len(free) == 1 and waiting == 1:
                return "adopt", free[0]  # held once the decision is journaled (a replay may decide otherwise)
        return UNKNOWN, (f"{len(free)} job(s) of workflow {job.workflow_id} that no row holds were created then, "
                         f"for {waiting} row(s) whose queuing was in flight, so which is whose cannot be told")

    def _jobs_of(self, workflow_id: str) -> Generator[Step, Any, list | None]:
        name = "workflows.jobs" if self.api.name == "v3" else "v1.workflow_jobs"
        endpoint = catalogue.find(name)
        param = "workflowId" if self.api.name == "v3" else "appId"
        outcome = yield Send(Call("GET", endpoint_path(self.conn, endpoint, **{param: workflow_id}), endpoint))
        views = outcome.value() if outcome.ok else None
        return [v for v in views if isinstance(v, dict) and v.get("id")] if isinstance(views, list) else None


def _ids(text: Any) -> set[str]:
    try:
        value = json.loads(text) if isinstance(text, str) and text.startswith("{") else None
    except ValueError:
        return set()
    return {str(value["id"])} if isinstance(value, dict) and value.get("id") else set()


def _created_near(view: dict, sent: float) -> bool:
    stamp = view.get("createDate") or view.get("createDateTime")
    try:
        created = parse_datetime(stamp).timestamp() if isinstance(stamp, str) else None
    except ValueError:
        created = None
    return created is None or abs(created - sent) <= WINDOW
