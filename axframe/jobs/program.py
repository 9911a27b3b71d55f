"""One job row's program: upload its files, queue its job, look at it until it ends, fetch its outputs.

Its steps run on the one engine (:mod:`axframe.engine.rows`): the uploads and
the queuing change the Server, so a journal records them; the looks at the
job are separated by timed waits that hold no thread, growing from the first
poll interval to its cap.  :class:`JobOptions` holds what a run of jobs asks
besides the engine's options; :mod:`.run` prepares the frame, and shapes and
counts what the programs end with.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generator, Iterable


from .. import catalogue
from ..client.call import Call, Outcome
from ..client.connection import Connection
from ..client.secrets import redact, scrub
from ..engine.rows import Program, Remember, Send, Step, Wait
from ..engine.shape import Ending
from ..errors import ErrorType
from .outputs import DEFAULT_OUTPUT_DIR, OutputItem, fetch_outputs, normal_outputs
from .plan import (QUESTIONS, Api, Job, endpoint_path)
from .inflight import QUEUE_AGAIN, Claims
from .uploads import upload

__all__ = ["JobOptions", "DEFAULT_MAX_QUEUED", "DEFAULT_POLL_INTERVAL", "DEFAULT_JOB_TIMEOUT", "MAX_POLL_FAILURES"]


log = logging.getLogger("axframe")

DEFAULT_MAX_QUEUED = 20
DEFAULT_POLL_INTERVAL = (0.2, 5.0)
DEFAULT_JOB_TIMEOUT = 3600.0
BACKOFF = 1.5
MAX_POLL_FAILURES = 5  # consecutive unanswered status requests before a row gives up

_TERMINAL = {"completed", "complete", "cancelled", "canceled", "error", "failed"}
_LEVELS = {2: "Warning", 3: "Error"}


@dataclass(frozen=True)
class JobOptions:
    """What a run of jobs does besides the engine's :class:`~axframe.RunOptions` (see :func:`run_jobs`)."""

    api: str | None = None
    question_columns: Iterable[str] | str | None = None
    files: Iterable[str] | str = "auto"
    files_root: str | os.PathLike | None = None
    outputs: str | None = None
    output_folder: str | os.PathLike | None = None
    max_queued: int = DEFAULT_MAX_QUEUED
    job_timeout: float | None = DEFAULT_JOB_TIMEOUT
    cancel_on_timeout: bool = True
    warnings_fail: bool = False
    poll_interval: tuple[float, float] = DEFAULT_POLL_INTERVAL
    infer_types: bool = True


# --------------------------------------------------------------------------
# the calls
# --------------------------------------------------------------------------


def _enqueue(conn: Connection, api: Api, job: Job, answers: list[dict]) -> Call:
    """The call that queues *job* with *answers* (its uploaded files' references in place)."""
    body: dict[str, Any] = dict(job.settings)
    body[QUESTIONS] = answers
    path = endpoint_path(conn, api.run, **{api.path.workflow_param: job.workflow_id})
    return Call("POST", path, api.run, body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                content_type="application/json; charset=utf-8")


def _look(conn: Connection, api: Api, job_id: str) -> Call:
    """The call that reads a job's status (with its messages and outputs)."""
    return Call("GET", endpoint_path(conn, api.status, jobId=job_id), api.status)


def _cancel(conn: Connection, job_id: str) -> Call | Outcome:
    """The call that cancels a job, or why there is none."""
    endpoint = catalogue.find("jobs.cancel")
    if conn.legacy:
        return Outcome(None, error_type=ErrorType.NOT_AVAILABLE,
                       error="cancelling (DELETE /v3/jobs/{jobId}) is not available on the legacy OAuth1 API")
    missing = conn.not_available(endpoint)  # an older Server cannot cancel a job through V3
    if missing is not None:
        return Outcome(None, error_type=ErrorType.NOT_AVAILABLE, error=missing)
    return Call("DELETE", endpoint_path(conn, endpoint, jobId=job_id), endpoint)


# --------------------------------------------------------------------------
# reading job views
# --------------------------------------------------------------------------


def _message_lines(messages: list) -> list[tuple[str, str]]:
    lines = []
    for m in messages if isinstance(messages, list) else []:
        if not isinstance(m, dict):
            continue
        try:
            code = int(m.get("status") or 0)
        except (TypeError, ValueError):
            code = 0
        level = _LEVELS.get(code, "Info")
        text = str(m.get("text") or "").strip()
        tool = m.get("toolId")
        where = f" (tool {tool})" if isinstance(tool, int) and tool > 0 else ""
        lines.append((level, f"{level}{where}: {text}"))
    return lines


def _messages_text(messages: list) -> str:
    return redact("\n".join(line for _, line in _message_lines(messages)))


def _engine_errors(messages: list, level: str = "Error") -> str:
    lines = [line.split(": ", 1)[1] if ": " in line else line for lv, line in _message_lines(messages) if lv == level]
    return redact("; ".join(lines))


def _now_iso() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _values(job: Job) -> dict[str, Any]:
    """The job's output columns."""
    seconds = job.ended - job.submitted if not (math.isnan(job.ended) or math.isnan(job.submitted)) else math.nan
    return {"JobId": job.job_id, "Status": job.status, "Disposition": job.disposition, "QueuedAt": job.queued_at,
            "EndedAt": job.ended_at, "Seconds": round(seconds, 3) if not math.isnan(seconds) else None,
            "StatusRequests": job.polls, "Messages": _messages_text(job.messages),
            "Outputs": json.dumps(job.outputs, ensure_ascii=False)}


# --------------------------------------------------------------------------
# the program of one row
# --------------------------------------------------------------------------


class _Run:
    """What the programs of one run share: the settings, and the counters of the summary."""

    def __init__(self, conn: Connection, api: Api, options: JobOptions, output_fmt: str | None,
                 journaled: bool = False):
        self.conn, self.api, self.options = conn, api, options
        self.journaled = journaled
        self.first, self.cap = options.poll_interval
        self.output_fmt = output_fmt
        self.folder = Path(options.output_folder or DEFAULT_OUTPUT_DIR)
        self.jobs: dict[int, Job] = {}
        self.claims = Claims(conn, api)
        self.output_items: dict[int, list[OutputItem]] = {}
        self.stats = {"jobs": 0, "status_requests": 0, "warnings": 0, "timed_out": 0, "cancelled": 0,
                      "uploads": 0}

    def count(self, name: str, n: int = 1) -> None:
        self.stats[name] += n  # the GIL makes += of an int atomic enough for a counter read at the end

    def program(self, job: Job, record_id: Any) -> Program:
        """Upload the row's files, queue its job, look at it until it ends, fetch its outputs."""
        answers = [dict(a) for a in job.answers]
        for index, path in job.files:
            reference, outcome = yield from upload(path)
            if outcome.journal != "answered":
                self.count("uploads")
            if reference is None:
                return self._failed(outcome, f"uploading {answers[index]['name']!r} ({path}) failed")
            answers[index]["value"] = reference
        queued = yield from self._queue(job, answers)
        problem = self._queued(job, queued)
        if problem is not None:
            return problem
        ending = yield from self._follow(job, queued)
        if queued.journal == "adopted":
            ending.note = f"reconciled: job {job.job_id}, queued by an earlier run, was found and followed"
        if ending.ok and self.output_fmt is not None and job.outputs:
            self.output_items[job.pos] = yield from fetch_outputs(self.conn, record_id, job.job_id, job.outputs,
                                                                  self.output_fmt, self.folder)
        return ending

    def _queue(self, job: Job, answers: list[dict]) -> Generator[Step, Any, Outcome]:
        """Queue the job; with a journal, in the workflow's turn, until its id is journaled (see :mod:`.inflight`)."""
        done = (yield from self.claims.turns.take(job.workflow_id)) if self.journaled else None
        try:
            queued = yield from self._send_queuing(job, answers)
            while queued.journal == "in_flight":  # an earlier run stopped while queuing it: was it queued?
                queued = yield from self._settle(job, answers)
            view = queued.value() if queued.ok else None
            if isinstance(view, dict) and view.get("id"):
                self.claims.hold(str(view["id"]))  # held before the turn passes: the next row's settling sees it
                if self.journaled:
                    yield Remember({"job": str(view["id"])})  # the answer and the job journaled, before it passes
        finally:
            self.claims.settled(job)
            if done is not None:
                done()
        return queued

    def _settle(self, job: Job, answers: list[dict]) -> Generator[Step, Any, Outcome]:
        """The queuing left in flight by an earlier run: queue it now, follow the job it made, or say why not."""
        decision, detail = yield from self.claims.settle(job)
        # journaled: a later run replaying this row decides the same, whatever the listing shows by then
        decision, detail = yield Remember([decision, detail])
        if decision == QUEUE_AGAIN:  # (itself in flight when a later run stopped: settled again, from its time)
            return (yield from self._send_queuing(job, answers))
        if decision == "adopt":
            self.claims.hold(str(detail))
            found = yield Send(_look(self.conn, self.api, str(detail)))
            found.journal = "adopted"
            return found
        return Outcome(None, error_type=ErrorType.OUTCOME_UNKNOWN, error=detail, journal="unsettled")

    def _send_queuing(self, job: Job, answers: list[dict]) -> Generator[Step, Any, Outcome]:
        """The queuing request, its time journaled just before it goes out."""
        job.submitted = yield Remember(time.time())
        job.sent_at.append(job.submitted)
        return (yield Send(_enqueue(self.conn, self.api, job, answers)))

    def _failed(self, outcome: Outcome, note: str | None = None) -> Ending:
        error = outcome.error or f"status {outcome.status}"
        return Ending.failed(outcome.error_type or ErrorType.HTTP_ERROR, f"{note}: {error}" if note else error,
                             status=outcome.status, response=scrub(outcome.text),
                             sent=outcome.error_type != ErrorType.CONNECTION)

    def _queued(self, job: Job, outcome: Outcome) -> Ending | None:
        """Take in the answer to queuing; an ending when there is no job to follow."""
        if outcome.journal == "unsettled":
            return Ending.failed(ErrorType.OUTCOME_UNKNOWN,
                                 f"an earlier run stopped while queuing this row's job, and {outcome.error}; it was "
                                 f"not queued again. Look at the jobs of workflow {job.workflow_id} "
                                 "(ax.get(conn, 'workflows.jobs', ...)), then run this row without the journal if it "
                                 "is still needed", sent=False)
        if not outcome.ok:
            return self._failed(outcome)
        view = outcome.value()
        if not isinstance(view, dict) or not view.get("id"):
            return Ending.failed(ErrorType.HTTP_ERROR, "the Server's answer to queuing the job holds no job id",
                                 status=outcome.status, response=scrub(outcome.text), values=_values(job))
        if outcome.journal not in ("answered", "adopted"):
            self.count("jobs")
        job.job_id = str(view["id"])
        self.claims.hold(job.job_id)
        job.queued_at = str(view.get("createDateTime") or view.get("createDate") or "")
        job.status = str(view.get("status") or "")
        job.active = True
        log.debug("row %s: job %s queued", job.key, job.job_id)
        return None

    def _follow(self, job: Job, last: Outcome) -> Program:
        """Look at the job, with growing waits, until it ends or runs out of time."""
        timeout = self.options.job_timeout
        left = math.inf if timeout is None else max(0.0, timeout - (time.time() - job.submitted))
        deadline = time.monotonic() + left
        interval, failures, final_look = self.first, 0, False
        yield Wait(min(self.first, left))
        while True:
            outcome = yield Send(_look(self.conn, self.api, job.job_id))
            job.polls += 1
            self.count("status_requests")
            now = time.monotonic()
            if not outcome.ok:
                failures += 1
                if outcome.status in (401, 403, 404) or failures >= MAX_POLL_FAILURES:
                    where = f" after {failures} tries" if failures > 1 else ""
                    return self._end(job, Ending.failed(
                        outcome.error_type or ErrorType.HTTP_ERROR,
                        f"the status of job {job.job_id} could not be read{where}: {outcome.error}",
                        status=outcome.status, response=scrub(outcome.text)))
            else:
                failures = 0
                last = outcome
                self._read_view(job, outcome.value())
                if job.status.strip().lower() in _TERMINAL:
                    job.ended, job.ended_at = time.time(), _now_iso()
                    return self._end(job, self._ended(job, outcome))
            if now >= deadline or final_look:
                self.count("timed_out")
                if not self.options.cancel_on_timeout:
                    return self._end(job, self._timed_out(job, last, f"job {job.job_id} is still "
                                                                     f"{job.status or 'queued'} on the Server (not "
                                                                     "cancelled: cancel_on_timeout=False)"))
                cancel = _cancel(self.conn, job.job_id)
                cancelled = cancel if isinstance(cancel, Outcome) else (yield Send(cancel))
                if cancelled.ok:
                    self.count("cancelled")
                    return self._end(job, self._timed_out(job, last, "it was cancelled on the Server"))
                if cancelled.status == 400 and not final_look:
                    # Most likely the job ended between the last look and the cancel: look once more.
                    self.count("timed_out", -1)
                    final_look = True
                    continue
                return self._end(job, self._timed_out(job, last, f"cancelling it failed, so it may still be on the "
                                                                 f"Server: {cancelled.error}"))
            interval = min(interval * BACKOFF, self.cap)
            yield Wait(min(interval, max(0.0, deadline - now)))

    @staticmethod
    def _read_view(job: Job, view: Any) -> None:
        if isinstance(view, dict):
            job.status = str(view.get("status") or job.status)
            job.disposition = str(view.get("disposition") or "")
            job.messages = view.get("messages") or []
            job.outputs = normal_outputs(view.get("outputs"))

    def _end(self, job: Job, ending: Ending) -> Ending:
        if math.isnan(job.ended) and job.job_id:
            job.ended, job.ended_at = time.time(), _now_iso()
        job.active = False
        ending.values.update(_values(job))
        return ending

    def _ended(self, job: Job, outcome: Outcome) -> Ending:
        status, disposition = job.status.strip().lower(), job.disposition.strip().lower()
        response = scrub(outcome.text)
        if status in ("completed", "complete") and disposition not in ("error", "cancelled", "canceled", "failed"):
            if disposition == "warning" and self.options.warnings_fail:
                warnings = _engine_errors(job.messages, "Warning") or "no warning message"
                return Ending.failed(ErrorType.JOB_FAILED, f"job {job.job_id} ended with warnings "
                                                           f"(warnings_fail=True): {warnings}",
                                     status=outcome.status, response=response)
            if disposition == "warning":
                self.count("warnings")
            return Ending(True, outcome.status)
        if status in ("cancelled", "canceled") or disposition in ("cancelled", "canceled"):
            error = f"job {job.job_id} was cancelled on the Server"
        else:
            detail = _engine_errors(job.messages) or "the Server gave no error message"
            error = f"job {job.job_id} ended {job.status} with disposition {job.disposition or 'unknown'}: {detail}"
        return Ending.failed(ErrorType.JOB_FAILED, error, status=outcome.status, response=response)

    def _timed_out(self, job: Job, last: Outcome, note: str) -> Ending:
        limit = f"{self.options.job_timeout:g} s" if self.options.job_timeout is not None else "its time"
        return Ending.failed(ErrorType.JOB_TIMEOUT, f"job {job.job_id} did not end within {limit}; {note}",
                             status=last.status, response=scrub(last.text) if last.ok else "")

    def cancel_active(self) -> None:
        """Ctrl-C: cancel the run's jobs still queued or running on the Server (best effort)."""
        left = [job for job in self.jobs.values() if job.active and job.job_id]
        if left:
            log.warning("axframe: interrupted; cancelling %d job(s) of this run on the Server", len(left))
        for job in left:
            cancel = _cancel(self.conn, job.job_id)
            if isinstance(cancel, Call):
                try:
                    self.conn.send(cancel)
                except BaseException:  # best effort only
                    break


# --------------------------------------------------------------------------
# run_jobs
# --------------------------------------------------------------------------