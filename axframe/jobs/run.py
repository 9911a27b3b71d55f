"""Running one job per row: the frame prepared, each row a program on the one engine, the frames shaped.

Each row is a program on the one engine (:mod:`axframe.engine.rows`), written
in :mod:`.program`: its File Browse uploads and its queuing are steps that
change the Server (so a journal records them, and a resumed run follows the
jobs it already queued instead of queuing new ones), and its looks at the job
are separated by timed waits that hold no thread.  At most ``max_queued``
rows are between queuing and the end of their job at once.  Here: the
options checked, workflows found by name, the jobs and their uploads planned
(a row that cannot be planned fails before anything is sent), the run's
summary, and on resume the outputs of jobs an earlier run saw end.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from .. import frames
from ..client.connection import Connection
from ..engine.journal import digest
from ..engine.rows import Engine, Program, Row
from ..engine.run import RunOptions, run_rows
from ..engine.shape import Ending, Result, Shape, Summary
from ..errors import ConfigurationError, ErrorType, FrameError
from .outputs import fetch_outputs, normal_outputs, output_format, outputs_result
from ..names import Names, kind_of, resolve_columns
from .plan import (JOB_COLUMNS, QUESTIONS, WORKFLOW_ID, WORKFLOW_NAME, Api, Job, api_for, input_frame,
                   named_workflows, plan_job, question_columns)
from .uploads import file_browse_questions, local_file, plan_uploads
from .program import (DEFAULT_JOB_TIMEOUT, DEFAULT_MAX_QUEUED, DEFAULT_POLL_INTERVAL, MAX_POLL_FAILURES,
                      JobOptions, _Run)

__all__ = ["run_jobs", "JobOptions", "JobsResult", "JobSummary", "JOBS", "DEFAULT_MAX_QUEUED",
           "DEFAULT_POLL_INTERVAL", "DEFAULT_JOB_TIMEOUT", "MAX_POLL_FAILURES"]

log = logging.getLogger("axframe")

#: The frames of a run of jobs: the job's columns in both, the failure's after them.
JOBS = Shape(success=JOB_COLUMNS, failure=JOB_COLUMNS + ("StatusCode", "ErrorType", "Error", "Response"),
             kinds={"Seconds": "float", "StatusRequests": "int", "Outputs": "json"})


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------


@dataclass
class JobSummary(Summary):
    """:class:`axframe.Summary` plus what a run of jobs did.

    Attributes
    ----------
    jobs : int
        Jobs the Server created for this run.
    status_requests : int
        Requests for a job's status, all jobs together.
    warnings : int
        Successful rows whose job ended with disposition Warning.
    timed_out, cancelled : int
        Rows that ran out of time, and jobs axframe cancelled on the Server.
    uploads : int
        Files uploaded for File Browse questions.
    max_in_flight : int
        The most jobs of this run queued or running at once (client's view).
    outputs, output_failures : int
        Outputs downloaded, and outputs that could not be.
    """

    jobs: int = 0
    status_requests: int = 0
    warnings: int = 0
    timed_out: int = 0
    cancelled: int = 0
    uploads: int = 0
    max_in_flight: int = 0
    outputs: int = 0
    output_failures: int = 0

    @property
    def status_requests_per_job(self) -> float:
        """Status requests per job the Server created (0 when none was)."""
        return self.status_requests / self.jobs if self.jobs else 0.0

    def __str__(self) -> str:
        text = super().__str__()
        text += (f"; {self.jobs} job{'s' * (self.jobs != 1)}, {self.status_requests} status requests "
                 f"({self.status_requests_per_job:.1f} per job)")
        if self.warnings:
            text += f", {self.warnings} with warnings"
        if self.timed_out:
            text += f", {self.timed_out} timed out ({self.cancelled} cancelled)"
        if self.outputs or self.output_failures:
            text += f", {self.outputs} outputs"
            if self.output_failures:
                text += f" ({self.output_failures} failed)"
        return text

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["status_requests_per_job"] = self.status_requests_per_job
        return out


class JobsResult(Result):
    """The outcome of :func:`run_jobs`: unpacks into ``(success, failure)``.

    Attributes
    ----------
    success, failure : pandas.DataFrame
    summary : JobSummary
    outputs : pandas.DataFrame or None
        With ``outputs=`` given: the outputs of the successful jobs, as the
        first frame :func:`job_outputs` returns (for CSV, every output row
        after ``RecordID``, ``JobId`` and ``Output``; else the files saved).
    output_failures : pandas.DataFrame or None
        Outputs that could not be downloaded or saved, one row each.
    """

    def __init__(self, success: pd.DataFrame, failure: pd.DataFrame, summary: Summary,
                 outputs: pd.DataFrame | None = None, output_failures: pd.DataFrame | None = None):
        super().__init__(success, failure, summary)
        self.outputs = outputs
        self.output_failures = output_failures


# --------------------------------------------------------------------------


def _positive(name: str, value: Any, integer: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a positive number, not {value!r}") from None
    if not number > 0 or (integer and number != int(number)):
        raise ConfigurationError(f"{name} must be a positive {'whole ' if integer else ''}number, not {value!r}")
    return number


def _checked(options: JobOptions) -> JobOptions:
    """*options* with their numbers checked (0 as a job timeout means none, as on the command line)."""
    limit = int(_positive("max_queued", options.max_queued, integer=True))
    timeout = options.job_timeout
    if timeout is not None:
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout == 0:
            timeout = None
        else:
            timeout = _positive("job_timeout", timeout)
    try:
        first, cap = (float(v) for v in options.poll_interval)
    except (TypeError, ValueError):
        raise ConfigurationError("poll_interval must be two numbers: (first, cap) in seconds") from None
    if not (first > 0 and cap >= first):
        raise ConfigurationError("poll_interval must be (first, cap) with 0 < first <= cap")
    from dataclasses import replace

    return replace(options, max_queued=limit, job_timeout=timeout, poll_interval=(first, cap))


def _file_questions(files: Iterable[str] | str, answer_columns: list[str], df: pd.DataFrame) -> set[str] | None:
    """The questions named as files (None: find them out, ``files="auto"``)."""
    if isinstance(files, str) and files == "auto":
        return None
    named = {files} if isinstance(files, str) else {str(f) for f in files}
    unknown = sorted(named - {str(c) for c in answer_columns})
    if unknown and QUESTIONS not in df.columns:
        raise FrameError(f"files names {', '.join(unknown)}, which is neither a question column nor answerable "
                         "through a 'questions' column")
    return named


def run_jobs(conn: Connection, frame: Any, *, api: str | None = None,
             question_columns: Iterable[str] | str | None = None, files: Iterable[str] | str = "auto",
             outputs: str | None = None, output_folder: str | os.PathLike | None = None,
             max_queued: int = DEFAULT_MAX_QUEUED, job_timeout: float | None = DEFAULT_JOB_TIMEOUT,
             cancel_on_timeout: bool = True, warnings_fail: bool = False,
             poll_interval: tuple[float, float] = DEFAULT_POLL_INTERVAL, max_workers: int | str | None = None,
             progress: bool | None = None, infer_types: bool = True,
             files_root: str | os.PathLike | None = None, journal: str | os.PathLike | None = None,
             on_row: Callable[[int, Any], None] | None = None) -> JobsResult:
    """Run one job per row and wait for every job to end.

    Parameters
    ----------
    conn : Connection
        From :func:`axframe.authenticate`.
    frame : pandas.DataFrame
        One row per job: ``RecordID``, ``workflowId`` (or, instead of that
        column, the workflow's name in a ``workflow`` column: found with one
        listing, a name that matches no workflow or several fails its row as
        ``NotFound`` or ``Ambiguous``, nothing queued), answers in columns
        named after the questions (or in a ``questions`` JSON column), and
        optionally ``priority``, ``credentialId``, ``workerTag``.  See
        :mod:`axframe.jobs` for the rules.
    api : {"v3", "v1", "user_v2"}, optional
        Which job path queues the jobs: ``POST /v3/workflows/{workflowId}/jobs``
        (the default), the Subscription API's ``POST /v1/workflows/{appId}/jobs``
        or ``POST /user/v2/workflows/{appId}/jobs`` (with ``credentialId``) for
        older Servers.  V1 is the default, and the only choice, on a legacy
        OAuth1 connection.  V3 jobs are polled with ``GET /v3/jobs/{jobId}``,
        the others with ``GET /v1/jobs/{jobId}``.
    question_columns : list of str, optional
        The answer columns; by default every column other than ``RecordID``,
        ``workflowId``, ``priority``, ``credentialId``, ``workerTag`` and
        ``questions`` (and ``workflow`` where it names the workflow).
    files : "auto" or list of str
        Which answers are local files to upload first.  ``"auto"`` (default):
        answers to the workflow's File Browse questions that are paths of
        existing local files (the Server is asked which questions those are,
        once per workflow).  A list names the questions (a missing file fails
        the row); ``[]`` uploads nothing.  Either way only files inside
        *files_root* are uploaded, never hidden ones: the input may come from
        someone else, and it must not be able to send your files away.
    files_root : path, optional
        The folder uploads may come from (default: the current folder).  A
        File Browse answer naming a file elsewhere fails its row
        (``InvalidFile``) and nothing is uploaded.
    outputs : str, optional
        Also download the outputs of every successful job in this format
        (``"Csv"``, ``"Xlsx"``, ...), as :func:`job_outputs` does, as each
        job ends: ``result.outputs`` is the frame of outputs,
        ``result.output_failures`` the outputs that failed.
    output_folder : path, optional
        Where outputs other than CSV are saved (default ``axframe-outputs``).
    max_queued : int
        At most this many jobs of the run queued or running at once (20);
        two or three times the Server's job slots keeps it busy.
    job_timeout : float or None
        Seconds from queuing after which a job that has not ended fails the
        row with ``JobTimeout`` (default an hour; None or 0: no per-job limit,
        each job is waited for until it ends).
    cancel_on_timeout : bool
        Cancel a timed-out job on the Server (``DELETE /v3/jobs/{jobId}``);
        also cancels the run's jobs still in flight on Ctrl-C (without a
        journal: with one, they are left running for the resumed run).
    warnings_fail : bool
        Count a job that ends with disposition Warning as failed (JobFailed).
    poll_interval : (float, float)
        The first interval between looks at a job, and the cap the interval
        grows to (1.5 times per look), in seconds.
    max_workers : int, optional
        Requests in flight at once (default: the connection's, 8).
    progress : bool, optional
        Show a progress bar (default: at a terminal or in a notebook only).
    infer_types : bool
        With ``outputs="Csv"``: turn output columns of numbers into numbers,
        as :func:`job_outputs` does (ids and codes such as ``02134`` stay
        text); ``False`` keeps every output cell as text.
    journal : path, optional
        Record each row's uploads, its queued job and its end: running the
        same frame again with the same journal after a crash or Ctrl-C
        follows the jobs already queued instead of queuing new ones, and
        sends only the rows that have not started.
    on_row : callable, optional
        Called as ``on_row(pos, ending)`` each time a job's row ends (``pos``
        is the row's position in the frame; ``ending.ok``,
        ``ending.error_type`` and ``ending.error`` say how).  Rows refused
        before sending are not reported.

    Returns
    -------
    JobsResult
        Unpacks into ``(success, failure)``.  Both hold ``RecordID``, the
        input columns unchanged, then ``JobId``, ``Status``, ``Disposition``,
        ``QueuedAt`` (the Server's creation time), ``EndedAt`` (UTC, when
        axframe saw the end), ``Seconds`` (from just before the queuing
        request to the end, as axframe saw it), ``StatusRequests``,
        ``Messages`` (the engine's messages, one per line) and ``Outputs``
        (JSON list of ``{id, name, formats}``).  ``failure`` adds
        ``StatusCode``, ``ErrorType``, ``Error`` and ``Response`` (the
        Server's last answer).  ``result.summary`` is a :class:`JobSummary`;
        ``result.outputs`` and ``result.output_failures`` the outputs, if
        asked for.

    Raises
    ------
    FrameError, ConfigurationError
        Before anything is sent (no RecordID or workflowId column, bad
        options).  Problems of single rows never raise.
    """
    options = JobOptions(api, question_columns, files, files_root, outputs, output_folder, max_queued, job_timeout,
                         cancel_on_timeout, warnings_fail, poll_interval, infer_types)
    return run_jobs_with(conn, frame, options, RunOptions(max_workers, progress, journal, on_row))


def run_jobs_with(conn: Connection, frame: Any, options: JobOptions, run: RunOptions) -> JobsResult:
    """:func:`run_jobs` with its options as objects."""
    started = time.perf_counter()
    api = api_for(conn, options.api)
    options = _checked(options)
    output_fmt = output_format(options.outputs) if options.outputs is not None else None
    if run.max_workers == "auto":
        run = run.but(max_workers=8)  # jobs are paced by max_queued, not by finding a rate
    given = input_frame(frame)
    named = named_workflows(given)
    df, unnamed = _named(conn, given) if named else (given, {})
    answer_columns = question_columns(df, options.question_columns, named=named)
    named_files = _file_questions(options.files, answer_columns, df)
    records = df.to_dict("records")
    planned, refused = _planned_jobs(records, api, answer_columns)
    for pos, (error_type, error) in unnamed.items():  # the reason its workflowId is missing
        refused[pos] = Ending.refused(error_type, error)
    state = _Run(conn, api, options, output_fmt, journaled=run.journal is not None)
    rows = _job_rows(state, planned, records, named_files, refused, run)
    summary = JobSummary("run_jobs")
    hook = _Counted(summary, state)
    try:
        result, endings = run_rows(conn, df, rows, refused, spec=JOBS, summary=summary, options=run,
                                   action="run_jobs", started=started, max_active=options.max_queued,
                                   engine_hook=hook,
                                   on_journal=functools.partial(state.claims.load, jobs=list(state.jobs.values())))
    except KeyboardInterrupt:
        if options.cancel_on_timeout and run.journal is None:
            state.cancel_active()
        elif run.journal is not None:
            log.warning("axframe: interrupted; this run's jobs are left running: run it again with the same "
                        "journal to follow them")
        raise
    if output_fmt is None:
        return JobsResult(result.success, result.failure, summary)
    _outputs_of_replayed(conn, state, records, endings, run)
    items = [item for pos in sorted(state.output_items) for item in state.output_items[pos]]
    outs = outputs_result(items, output_fmt, options.infer_types, time.perf_counter() - started)
    summary.outputs, summary.output_failures = outs.summary.succeeded, outs.summary.failed
    summary.elapsed = time.perf_counter() - started
    return JobsResult(result.success, result.failure, summary, outs.success, outs.failure)


def _named(conn: Connection, df: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, tuple[ErrorType, str]]]:
    """*df* with the workflows its rows name (a ``workflow`` column, no ``workflowId``) as ids, and the rows
    whose name matches no workflow, or several."""
    if conn.legacy:
        raise FrameError("a 'workflow' column names workflows through the V3 API, which a legacy OAuth1 connection "
                         "does not reach: give each row's id in a 'workflowId' column")
    return resolve_columns(Names(conn), df, {WORKFLOW_ID: (kind_of("workflow"), WORKFLOW_NAME)})


def _planned_jobs(records: list[dict], api: Api, answer_columns: list[str]) -> tuple[list[Job], dict[int, Ending]]:
    """The rows' jobs, and the rows refused before anything is sent (a bad RecordID, a job that cannot be planned)."""
    ids = [r[frames.RECORD_ID] for r in records]
    keys = [frames.record_key(i) for i in ids]
    refused: dict[int, Ending] = {pos: Ending.refused(p.error_type, p.error)
                                  for pos, p in frames.record_id_problems(ids).items()}
    planned: list[Job] = []
    for pos, record in enumerate(records):
        if pos in refused:
            continue
        job = plan_job(pos, keys[pos], record, api, answer_columns)
        if isinstance(job, Job):
            planned.append(job)
        else:
            refused[pos] = Ending.refused(*job)
    return planned, refused


def _job_rows(state: _Run, planned: list[Job], records: list[dict], named_files: set[str] | None,
              refused: dict[int, Ending], run: RunOptions) -> list[Row]:
    """The engine's rows of the planned jobs whose uploads can be planned; the others are added to *refused*."""
    conn = state.conn
    # the Server is asked for File Browse questions only where some answer is a local file
    browse = file_browse_questions(conn, {job.workflow_id for job in planned
                                          if any(local_file(a["value"]) for a in job.answers)}) \
        if named_files is None and not conn.legacy else {}
    root = Path(state.options.files_root).expanduser() if state.options.files_root is not None else Path.cwd()
    rows = []
    for job in planned:
        problem = plan_uploads(job, named_files or set(), browse.get(job.workflow_id, set()), root, conn.legacy)
        if problem is not None:
            refused[job.pos] = Ending.refused(*problem)
            continue
        state.jobs[job.pos] = job
        record_id = records[job.pos][frames.RECORD_ID]
        rows.append(Row(job.pos, job.key, functools.partial(state.program, job, record_id),
                        digest(state.api.name, job.plan()) if run.journal is not None else ""))
    return rows


class _Counted:
    """Fills the summary with the run's own figures once the engine has run (before it is shaped and logged)."""

    def __init__(self, summary: JobSummary, state: "_Run") -> None:
        self.summary, self.state = summary, state

    def __call__(self, engine: Engine) -> None:
        for name, value in self.state.stats.items():
            setattr(self.summary, name, value)
        self.summary.max_in_flight = engine.max_in_flight


def _outputs_of_replayed(conn: Connection, state: _Run, records: list[dict], endings: list[Ending],
                         run: RunOptions) -> None:
    """A resumed run: the outputs of the jobs that had ended in an earlier run are fetched now."""
    assert state.output_fmt is not None
    fmt = state.output_fmt
    replayed = [(pos, e) for pos, e in enumerate(endings) if e.ok and e.from_journal and e.values.get("JobId")]
    if not replayed:
        return

    def program(pos: int, ending: Ending) -> Program:
        listed = ending.values.get("Outputs")
        outputs = normal_outputs(json.loads(listed) if isinstance(listed, str) else listed)
        state.output_items[pos] = yield from fetch_outputs(conn, records[pos][frames.RECORD_ID],
                                                           str(ending.values["JobId"]), outputs, fmt, state.folder)
        return Ending(True)

    from ..engine.rows import workers_for

    workers, _ = workers_for(conn, run.max_workers)
    Engine(conn, workers=workers).run([Row(pos, str(pos), functools.partial(program, pos, e))
                                       for pos, e in replayed])
