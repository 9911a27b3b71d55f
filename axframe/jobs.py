"""Running workflows from a dataframe, collecting their outputs, and moving packages.

:func:`run_jobs` queues one job per row, waits for every job to end and
returns success and failure frames; :func:`job_outputs` downloads the outputs
of finished jobs (CSV outputs as one dataframe, other formats as files);
:func:`package_frame` builds the frame ``ax.create(conn, "workflows.upload",
frame)`` publishes a folder of ``.yxzp`` packages with, and
:func:`download_packages` saves workflow packages to a folder.

Column conventions of :func:`run_jobs`
--------------------------------------
- ``RecordID``: required, unique, not empty (as everywhere in axframe).
- ``workflowId``: the workflow or analytic app to run (the V1 and User V2 paths
  call it ``appId``; the column is ``workflowId`` whatever the API).
- ``priority`` (``Default``, ``Low``, ``Medium``, ``High``, ``Critical``, any
  case, or ``0``-``3`` for Low-Critical), ``credentialId``, ``workerTag``:
  optional; an empty cell leaves the setting to the Server.
- ``questions``: optional, the answers as JSON text: ``[{"name": ..., "value":
  ...}]`` as the API takes them, or an object ``{"Region": "West"}``.
- Every other column is the answer to the question of the same name, unless
  ``question_columns=`` names the answer columns explicitly (then other
  columns are carried along untouched).  An empty cell is not sent, so the
  question keeps its default; send an empty answer through ``questions``.
  A column answer wins over a ``questions`` entry of the same name.
- File Browse questions: where a row answers a File Browse question with the
  path of a local file, the file is uploaded (``POST /user/v2/inputfiles``)
  just before its job is queued, and the reference the Server answers becomes
  the answer.  With ``files="auto"`` (the default) axframe asks the Server
  which questions are File Browse (``GET /v3/workflows/{id}/questions``, once
  per workflow, and only for workflows where some answer is the path of an
  existing local file); an answer to any other question, or a path that is
  not a local file (a path on the Server, say), stays text.  ``files=[names]``
  names the questions instead (a missing file is then a row error), and
  ``files=[]`` uploads nothing.  Only files inside ``files_root`` (default:
  the current folder) are ever uploaded, and never a hidden one (``.env``,
  ``.ssh``): an input file may come from someone else, and must not be able
  to send the user's files to the Server.
- The output columns (``JobId``, ``Status``, ``Disposition``, ``QueuedAt``,
  ``EndedAt``, ``Seconds``, ``StatusRequests``, ``Messages``, ``Outputs``, and
  ``StatusCode``, ``ErrorType``, ``Error``, ``Response``) are axframe's: copies
  in an input frame are dropped, so a failure frame can be run again as it is.
  A question with one of these names is answered through ``questions``.

How a row ends
--------------
A row succeeds when its job reaches ``Completed`` with a disposition other
than ``Error`` (and other than ``Warning`` with ``warnings_fail=True``).  A job
that completes with disposition ``Error`` is a failure row of type
``JobFailed`` whose ``Error`` holds the engine's error messages; a job that is
cancelled on the Server is ``JobFailed`` too.  A job still queued or running
after ``job_timeout`` seconds is ``JobTimeout``, and is cancelled on the Server
(``DELETE /v3/jobs/{jobId}``) unless ``cancel_on_timeout=False``.  Rows that
cannot be sent (no RecordID, no workflowId, bad ``questions`` JSON, unknown
priority, missing local file) are failure rows and nothing is sent for them.

Polling
-------
One scheduler (the calling thread) keeps every job of the run in a heap
ordered by when it is next due to be looked at; the requests themselves run
on a small pool of worker threads (``max_workers``, the connection's default
8) shared with queuing, uploads and output downloads, so there is never a
thread per row.  Each job is first looked at ``poll_interval[0]`` seconds
after it is queued, then at intervals growing 1.5 times each time up to
``poll_interval[1]``, and once more at its deadline.  At most ``max_queued``
of the run's jobs are queued or running at once (from the client's point of
view: from the moment the job is requested until axframe has seen it end), so
a frame of 10,000 rows never floods the Server's queue; to keep a Server
busy, make it two or three times the number of jobs the Server runs at once
(its job slots), since a slot whose job has ended stays idle until axframe
notices and queues the next.  ``result.summary`` counts the status requests
(total and per job).

Choices where the Server's documentation is silent
--------------------------------------------------
- Terminal statuses: ``Completed`` (also ``Complete``), ``Cancelled``,
  ``Error``, ``Failed``; everything else (``Created``, ``Queued``,
  ``Initializing``, ``Running``, unknown words) is still going.
- Engine message levels: ``status`` 2 is a warning and 3 an error, anything
  else information (reference 7 marks the codes undocumented).
- Jobs are polled with their messages included (the reference's default),
  so the poll that sees the end is also the one that reads the messages.
- V1 and User V2 priorities are sent as ``"0"``-``"3"`` (the S4 client's
  spelling); V3 priorities as the enum names.
- Timings: the V3 ``JobView`` gives only ``createDateTime`` (``QueuedAt``,
  the V1 ``createDate``); ``EndedAt`` (UTC) and ``Seconds`` (from the queuing
  answer to the poll that saw the end) are measured by axframe, so they are
  late by at most one poll interval.
- A file is uploaded once per row that names it, never shared between jobs:
  whether a Server keeps an input file after the job that used it is unknown.
- Outputs are downloaded through ``GET /v1/jobs/{jobId}/output/{outputId}``,
  the only output download the Server has (reference 7).
"""

from __future__ import annotations

import concurrent.futures
import heapq
import io
import itertools
import json
import logging
import math
import os
import queue
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import quote

import pandas as pd

from . import bulk, catalogue, frames
from .auth import redact
from .client import Call, Connection, Outcome
from .errors import ConfigurationError, ErrorType, FrameError
from .journal import record_key

__all__ = ["run_jobs", "job_outputs", "package_frame", "download_packages", "JobsResult", "JobSummary",
           "JOB_COLUMNS", "DEFAULT_MAX_QUEUED", "DEFAULT_POLL_INTERVAL", "DEFAULT_JOB_TIMEOUT"]

log = logging.getLogger("axframe")

WORKFLOW_ID, PRIORITY, CREDENTIAL_ID, WORKER_TAG, QUESTIONS = \
    "workflowId", "priority", "credentialId", "workerTag", "questions"
SETTINGS_COLUMNS = (WORKFLOW_ID, PRIORITY, CREDENTIAL_ID, WORKER_TAG, QUESTIONS)
JOB_COLUMNS = ("JobId", "Status", "Disposition", "QueuedAt", "EndedAt", "Seconds", "StatusRequests",
               "Messages", "Outputs")

DEFAULT_MAX_QUEUED = 20
DEFAULT_POLL_INTERVAL = (0.2, 5.0)
DEFAULT_JOB_TIMEOUT = 3600.0
DEFAULT_OUTPUT_DIR = "axframe-outputs"
BACKOFF = 1.5
MAX_POLL_FAILURES = 5  # consecutive unanswered status requests before a row gives up
INTERRUPT_GRACE = 5.0  # seconds Ctrl-C waits for queuing requests under way, to cancel their jobs too

_TERMINAL = {"completed", "complete", "cancelled", "canceled", "error", "failed"}
_PRIORITY_NAMES = {"default": "Default", "low": "Low", "medium": "Medium", "high": "High", "critical": "Critical",
                   "0": "Low", "1": "Medium", "2": "High", "3": "Critical"}
_V1_PRIORITY = {"Low": "0", "Medium": "1", "High": "2", "Critical": "3"}
_LEVELS = {2: "Warning", 3: "Error"}


@dataclass(frozen=True)
class _Api:
    name: str
    run: str  # catalogue name of the enqueue endpoint
    job: str  # catalogue name of the job status endpoint
    fields: tuple[str, ...]  # optional settings the body may carry


_APIS = {
    "v3": _Api("v3", "workflows.run", "jobs.get", (PRIORITY, CREDENTIAL_ID, WORKER_TAG)),
    "v1": _Api("v1", "v1.run", "v1.job", (PRIORITY,)),
    "user_v2": _Api("user_v2", "user_v2.run", "v1.job", (PRIORITY, CREDENTIAL_ID)),
}
_API_ALIASES = {"v3": "v3", "v1": "v1", "user_v2": "user_v2", "userv2": "user_v2", "v2": "user_v2",
                "user/v2": "user_v2"}


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------


@dataclass
class JobSummary(bulk.Summary):
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


class JobsResult(bulk.Result):
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

    def __init__(self, success: pd.DataFrame, failure: pd.DataFrame, summary: bulk.Summary,
                 outputs: pd.DataFrame | None = None, output_failures: pd.DataFrame | None = None):
        super().__init__(success, failure, summary)
        self.outputs = outputs
        self.output_failures = output_failures


# --------------------------------------------------------------------------
# planning rows
# --------------------------------------------------------------------------


@dataclass
class _Job:
    """One row on its way through the Server, owned by the scheduler."""

    pos: int
    key: str
    workflow_id: str
    answers: list[dict]
    settings: dict
    files: list[tuple[int, str]]  # (index into answers, local path)
    phase: str = "waiting"  # waiting, submitting, active, cancelling, done
    job_id: str = ""
    status: str = ""
    disposition: str = ""
    queued_at: str = ""
    messages: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    submitted: float = math.nan
    ended: float = math.nan
    ended_at: str = ""
    deadline: float = math.inf
    interval: float = 0.0
    polls: int = 0
    poll_failures: int = 0
    final_look: bool = False
    token: int = 0  # which heap entry is current
    last: Outcome | None = None


@dataclass
class _End:
    """How a row ended."""

    ok: bool
    status_code: int | None = None
    error_type: str | None = None
    error: str | None = None
    response: str = ""
    sent: bool = True


class _Problem(ValueError):
    def __init__(self, error_type: str, error: str):
        super().__init__(error)
        self.error_type = error_type
        self.error = error


def _api_for(conn: Connection, api: str | None) -> _Api:
    if api is None:
        return _APIS["v1" if conn.legacy else "v3"]
    name = _API_ALIASES.get(str(api).strip().lower())
    if name is None:
        raise ConfigurationError(f"api must be 'v3', 'v1' or 'user_v2', not {api!r}")
    if conn.legacy and name != "v1":
        raise ConfigurationError(f"the legacy OAuth1 API has only the V1 job paths; use api='v1', not {api!r}")
    return _APIS[name]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return frames.as_text(value)  # lists and dicts as JSON text, numpy numbers and all


def _parse_questions(raw: Any) -> list[dict]:
    if frames.is_missing(raw):
        return []
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise _Problem(ErrorType.INVALID_CONTRACT, f"questions is not valid JSON: {exc}") from None
    if isinstance(value, dict):
        value = [{"name": k, "value": v} for k, v in value.items()]
    if not isinstance(value, list):
        raise _Problem(ErrorType.INVALID_CONTRACT,
                       'questions must be a JSON list of {"name": ..., "value": ...} or an object of answers')
    answers = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise _Problem(ErrorType.INVALID_CONTRACT, f"questions[{i}] must be an object with a 'name'")
        extra = set(item) - {"name", "value"}
        if extra:
            raise _Problem(ErrorType.INVALID_CONTRACT,
                           f"questions[{i}] has unknown fields {', '.join(sorted(extra))}; use name and value")
        answer = item.get("value")
        answers.append({"name": item["name"], "value": "" if answer is None else _text(answer)})
    return answers


def _plan(record: dict, api: _Api, question_columns: list[str]) -> _Job | _End:
    """The job a row asks for (its uploads come later: :func:`_plan_uploads`), or why it cannot be sent."""
    try:
        raw_id = record.get(WORKFLOW_ID)
        if frames.is_missing(raw_id):
            raise _Problem(ErrorType.MISSING_PARAMETER, "workflowId is missing: each row needs the id of the "
                                                        "workflow to run in a 'workflowId' column")
        workflow_id = frames.as_text(raw_id)
        if workflow_id in (".", "..") or any(ord(c) < 32 for c in workflow_id):
            raise _Problem(ErrorType.INVALID_PARAMETER, f"workflowId {workflow_id!r} is not a valid id")
        settings: dict[str, str] = {}
        for name in (PRIORITY, CREDENTIAL_ID, WORKER_TAG):
            value = record.get(name)
            if frames.is_missing(value):
                continue
            if name not in api.fields:
                raise _Problem(ErrorType.NOT_AVAILABLE, f"{name} cannot be sent through the {api.name} job path; "
                                                        "use api='v3' (or leave the column empty)")
            settings[name] = frames.as_text(value)
        if PRIORITY in settings:
            priority = _PRIORITY_NAMES.get(settings[PRIORITY].strip().lower())
            if priority is None:
                raise _Problem(ErrorType.INVALID_PARAMETER,
                               f"priority {settings[PRIORITY]!r} is not one of Default, Low, Medium, High, "
                               "Critical (or 0-3)")
            if priority == "Default" and api.name != "v3":
                del settings[PRIORITY]
            else:
                settings[PRIORITY] = priority if api.name == "v3" else _V1_PRIORITY[priority]
        answers = _parse_questions(record.get(QUESTIONS))
        by_name = {a["name"]: i for i, a in enumerate(answers)}
        for column in question_columns:
            value = record.get(column)
            if frames.is_missing(value):
                continue
            name = str(column)
            entry = {"name": name, "value": _text(value)}
            if name in by_name:
                answers[by_name[name]] = entry
            else:
                by_name[name] = len(answers)
                answers.append(entry)
    except _Problem as problem:
        return _End(False, error_type=problem.error_type, error=problem.error, sent=False)
    return _Job(pos=-1, key="", workflow_id=workflow_id, answers=answers, settings=settings, files=[])


def _plan_uploads(job: _Job, files: set[str], browse: set[str], root: Path, legacy: bool) -> _End | None:
    """Set the files *job* uploads first: answers to the questions named in *files*, and answers to the
    File Browse questions *browse* that are local files; or say why the row cannot be sent."""
    by_name = {a["name"]: i for i, a in enumerate(job.answers)}
    wanted = files & set(by_name)
    wanted |= {name for name in browse & set(by_name) - wanted
               if _local_file(job.answers[by_name[name]]["value"])}  # found by asking the Server: only real files
    for name in sorted(wanted):
        index = by_name[name]
        path = os.path.expanduser(job.answers[index]["value"].strip())
        if legacy:
            error_type, error = ErrorType.NOT_AVAILABLE, ("File Browse uploads (/user/v2/inputfiles) are not "
                                                          "available on the legacy OAuth1 API")
        elif not os.path.isfile(path):
            error_type, error = ErrorType.INVALID_FILE, f"{name}: no such file: {path}"
        else:
            problem = _outside(Path(path), root)
            if not problem:
                job.files.append((index, path))
                continue
            error_type, error = ErrorType.INVALID_FILE, f"{name}: {path} {problem}; nothing was uploaded"
        return _End(False, error_type=error_type, error=error, sent=False)
    return None


def _outside(path: Path, root: Path) -> str:
    """Why *path* may not be uploaded from *root* ("" when it may).

    An input file names the files to upload, and it may come from someone else: only files inside the
    folder uploads may come from (links resolved), and no hidden file or folder (``.env``, ``.ssh``...),
    ever leave the machine.
    """
    real, base = path.resolve(), root.resolve()
    try:
        inside = real.relative_to(base)
    except ValueError:
        return (f"is outside the folder uploads may come from ({base}); to allow it, give files_root= "
                "(axframe run-jobs --files-root)")
    if any(part.startswith(".") for part in inside.parts):
        return "is a hidden file or in a hidden folder, which are never uploaded"
    return ""


def _local_file(value: Any) -> bool:
    text = value.strip() if isinstance(value, str) else ""
    return bool(text) and len(text) < 4096 and os.path.isfile(os.path.expanduser(text))


def _is_file_browse(question: Any) -> bool:
    """A question view (V3 ``questionType``, V1 ``type``) of a File Browse question."""
    if not isinstance(question, dict):
        return False
    kind = question.get("questionType", question.get("type"))
    return isinstance(kind, str) and "filebrowse" in "".join(c for c in kind.lower() if c.isalnum())


def _file_browse_questions(conn: Connection, workflow_ids: Iterable[str]) -> dict[str, set[str]]:
    """The File Browse questions of each workflow, asked of the Server once per workflow.

    A workflow whose questions cannot be read gets none (its answers are then sent as text, and the
    job itself says what it thinks of them).
    """
    found: dict[str, set[str]] = {}
    v3 = not conn.legacy
    endpoint = catalogue.find("workflows.questions" if v3 else "v1.questions")
    for workflow_id in sorted(set(workflow_ids)):
        path = _path(conn, endpoint, **{"workflowId" if v3 else "appId": workflow_id})
        outcome = conn.send(Call("GET", path, endpoint))
        try:
            questions = outcome.json() if outcome.ok else None
        except ValueError:
            questions = None
        if not isinstance(questions, list):
            log.warning("could not read the questions of workflow %s (%s); its File Browse answers are sent "
                        "as text, not uploaded", workflow_id, outcome.error or outcome.status)
            questions = []
        found[workflow_id] = {q["name"] for q in questions if _is_file_browse(q) and isinstance(q.get("name"), str)}
    return found


def _suffix(conn: Connection, endpoint: catalogue.Endpoint) -> str:
    return "/" if conn.legacy and endpoint.family in ("v1", "admin_v1") else ""


def _path(conn: Connection, endpoint: catalogue.Endpoint, **values: str) -> str:
    path = endpoint.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path + _suffix(conn, endpoint)


# --------------------------------------------------------------------------
# the requests (run on worker threads; they touch no shared state)
# --------------------------------------------------------------------------


def _enqueue(conn: Connection, api: _Api, job: _Job) -> tuple[Outcome, str | None, int]:
    """Upload the row's files, then queue its job.  Returns the outcome, a note on what failed, and uploads."""
    answers = [dict(a) for a in job.answers]
    uploads = 0
    if job.files:
        upload = catalogue.find("user_v2.upload_file")
        for index, path in job.files:
            call = Call("POST", upload.path, upload, form={"name": os.path.basename(path)}, file_path=path)
            outcome = conn.send(call)
            uploads += 1
            if not outcome.ok:
                return outcome, f"uploading {answers[index]['name']!r} ({path}) failed", uploads
            try:
                reference = outcome.json()
            except ValueError:
                reference = None
            if isinstance(reference, dict):  # a Server that wraps the reference
                reference = reference.get("reference") or reference.get("id") or reference.get("path")
            if not isinstance(reference, str) or not reference:
                outcome.error_type = ErrorType.HTTP_ERROR
                outcome.error = "the Server's answer to the file upload holds no file reference"
                return outcome, f"uploading {answers[index]['name']!r} ({path}) failed", uploads
            answers[index]["value"] = reference
    endpoint = catalogue.find(api.run)
    body: dict[str, Any] = dict(job.settings)
    body[QUESTIONS] = answers
    param = "workflowId" if api.name == "v3" else "appId"
    job.submitted = time.monotonic()  # before it goes out: Seconds never undercounts the Server's run time
    call = Call("POST", _path(conn, endpoint, **{param: job.workflow_id}), endpoint,
                body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                content_type="application/json; charset=utf-8")
    return conn.send(call), None, uploads


def _look(conn: Connection, api: _Api, job_id: str) -> Outcome:
    endpoint = catalogue.find(api.job)
    return conn.send(Call("GET", _path(conn, endpoint, jobId=job_id), endpoint))


def _cancel(conn: Connection, job_id: str) -> Outcome:
    endpoint = catalogue.find("jobs.cancel")
    if conn.legacy:
        return Outcome(None, error_type=ErrorType.NOT_AVAILABLE,
                       error="cancelling (DELETE /v3/jobs/{jobId}) is not available on the legacy OAuth1 API")
    return conn.send(Call("DELETE", _path(conn, endpoint, jobId=job_id), endpoint))


# --------------------------------------------------------------------------
# reading job views
# --------------------------------------------------------------------------


def _normal_outputs(raw: Any) -> list[dict]:
    """V3 ``{id, availableFormats, fileName}`` and V1 ``{id, formats, name}`` as ``{id, name, formats}``."""
    out = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        formats = item.get("availableFormats", item.get("formats")) or []
        name = item.get("fileName") or item.get("name") or str(item["id"])
        out.append({"id": str(item["id"]), "name": str(name), "formats": [str(f) for f in formats]})
    return out


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


# --------------------------------------------------------------------------
# the scheduler
# --------------------------------------------------------------------------


def _positive(name: str, value: Any, integer: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a positive number, not {value!r}") from None
    if not number > 0 or (integer and number != int(number)):
        raise ConfigurationError(f"{name} must be a positive {'whole ' if integer else ''}number, not {value!r}")
    return number


def _workers(conn: Connection, max_workers: int | str | None) -> int:
    workers = max_workers if max_workers is not None else conn.max_workers
    if workers == "auto":
        return 8
    return int(_positive("max_workers", workers, integer=True))


class _Scheduler:
    """Queues jobs up to a bound, looks at each when it is due, and collects how rows end."""

    def __init__(self, conn: Connection, api: _Api, jobs: list[_Job], ends: list, *, max_queued: int,
                 workers: int, first: float, cap: float, timeout: float | None, cancel: bool,
                 warnings_fail: bool, outputs: Callable[[_Job], Any] | None, bar: Any,
                 on_row: Callable[[int, _End], None] | None = None):
        self.conn, self.api, self.ends = conn, api, ends
        self.waiting = list(reversed(jobs))
        self.max_queued, self.workers = max_queued, workers
        self.first, self.cap = first, cap
        self.timeout, self.cancel, self.warnings_fail = timeout, cancel, warnings_fail
        self.fetch_outputs, self.bar, self.on_row = outputs, bar, on_row
        self.events: queue.Queue = queue.Queue()
        self.heap: list[tuple[float, int, _Job]] = []
        self.seq = itertools.count()
        self.in_flight = 0
        self.max_in_flight = 0
        self.outstanding = 0
        self.active: dict[int, _Job] = {}
        self.submissions: dict[int, concurrent.futures.Future] = {}
        self.output_results: dict[int, Any] = {}
        self.stats = {"jobs": 0, "status_requests": 0, "warnings": 0, "timed_out": 0, "cancelled": 0,
                      "uploads": 0}

    # -- plumbing --------------------------------------------------------
    def _task(self, kind: str, job: _Job, fn: Callable[[], Any]) -> concurrent.futures.Future:
        def work() -> None:
            try:
                self.events.put((kind, job, fn(), None))
            except BaseException as exc:  # a bug (or Ctrl-C): report it in the scheduler's thread
                self.events.put((kind, job, None, exc))

        self.outstanding += 1
        return self.pool.submit(work)

    def _schedule(self, job: _Job, due: float) -> None:
        job.token = next(self.seq)
        heapq.heappush(self.heap, (due, job.token, job))

    def _release(self, job: _Job) -> None:
        if job.phase in ("submitting", "active", "cancelling"):
            self.in_flight -= 1
        job.phase = "done"
        self.active.pop(job.pos, None)

    def _finish(self, job: _Job, end: _End) -> None:
        if math.isnan(job.ended) and job.job_id:
            job.ended, job.ended_at = time.monotonic(), _now_iso()
        self._release(job)
        self.ends[job.pos] = (end, job)
        self.bar.update()
        if self.on_row is not None:
            self.on_row(job.pos, end)

    # -- the loop --------------------------------------------------------
    def run(self) -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.workers,
                                                          thread_name_prefix="axframe-jobs")
        try:
            self._loop()
        except KeyboardInterrupt:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self._interrupted()
            raise
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while self.waiting or self.in_flight or self.outstanding:
            while self.waiting and self.in_flight < self.max_queued:
                job = self.waiting.pop()
                job.phase = "submitting"
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                self.active[job.pos] = job
                self.submissions[job.pos] = self._task("queued", job,
                                                       lambda job=job: _enqueue(self.conn, self.api, job))
            now = time.monotonic()
            while self.heap and self.heap[0][0] <= now:
                _, token, job = heapq.heappop(self.heap)
                if token != job.token or job.phase != "active":
                    continue
                self._task("looked", job, lambda job=job: _look(self.conn, self.api, job.job_id))
            wait = 0.5
            if self.heap:
                wait = min(wait, max(0.0, self.heap[0][0] - time.monotonic()))
            try:
                event = self.events.get(timeout=wait) if wait > 0 else self.events.get_nowait()
            except queue.Empty:
                continue
            self._handle(event)
            while True:  # everything else that has arrived, before deciding again
                try:
                    event = self.events.get_nowait()
                except queue.Empty:
                    break
                self._handle(event)

    def _handle(self, event: tuple) -> None:
        kind, job, value, exc = event
        self.outstanding -= 1
        if exc is not None:
            raise exc
        getattr(self, "_on_" + kind)(job, value)

    # -- events ----------------------------------------------------------
    def _on_queued(self, job: _Job, value: tuple[Outcome, str | None, int]) -> None:
        self.submissions.pop(job.pos, None)
        outcome, note, uploads = value
        self.stats["uploads"] += uploads
        job.last = outcome
        if not outcome.ok:
            error = outcome.error or f"status {outcome.status}"
            self._finish(job, _End(False, outcome.status, outcome.error_type or ErrorType.HTTP_ERROR,
                                   f"{note}: {error}" if note else error, bulk.scrub(outcome.text),
                                   sent=outcome.error_type != ErrorType.CONNECTION))
            return
        try:
            view = outcome.json()
        except ValueError:
            view = None
        if not isinstance(view, dict) or not view.get("id"):
            self._finish(job, _End(False, outcome.status, ErrorType.HTTP_ERROR,
                                   "the Server's answer to queuing the job holds no job id",
                                   bulk.scrub(outcome.text)))
            return
        self.stats["jobs"] += 1
        job.job_id = str(view["id"])
        job.queued_at = str(view.get("createDateTime") or view.get("createDate") or "")
        job.status = str(view.get("status") or "")
        job.phase = "active"
        job.deadline = job.submitted + self.timeout if self.timeout is not None else math.inf
        job.interval = self.first
        log.debug("row %s: job %s queued", job.key, job.job_id)
        self._schedule(job, min(job.submitted + self.first, job.deadline))

    def _on_looked(self, job: _Job, outcome: Outcome) -> None:
        job.polls += 1
        self.stats["status_requests"] += 1
        job.last = outcome
        now = time.monotonic()
        if not outcome.ok:
            job.poll_failures += 1
            if outcome.status in (401, 403, 404) or job.poll_failures >= MAX_POLL_FAILURES:
                where = f" after {job.poll_failures} tries" if job.poll_failures > 1 else ""
                self._finish(job, _End(False, outcome.status, outcome.error_type or ErrorType.HTTP_ERROR,
                                       f"the status of job {job.job_id} could not be read{where}: {outcome.error}",
                                       bulk.scrub(outcome.text)))
                return
        else:
            job.poll_failures = 0
            try:
                view = outcome.json()
            except ValueError:
                view = None
            if isinstance(view, dict):
                job.status = str(view.get("status") or job.status)
                job.disposition = str(view.get("disposition") or "")
                job.messages = view.get("messages") or []
                job.outputs = _normal_outputs(view.get("outputs"))
            if job.status.strip().lower() in _TERMINAL:
                job.ended, job.ended_at = now, _now_iso()
                self._ended(job, outcome)
                return
        if now >= job.deadline or job.final_look:
            self._timed_out(job)
            return
        job.interval = min(job.interval * BACKOFF, self.cap)
        self._schedule(job, min(now + job.interval, job.deadline))

    def _ended(self, job: _Job, outcome: Outcome) -> None:
        status, disposition = job.status.strip().lower(), job.disposition.strip().lower()
        response = bulk.scrub(outcome.text)
        if status in ("completed", "complete") and disposition not in ("error", "cancelled", "canceled", "failed"):
            if disposition == "warning" and self.warnings_fail:
                warnings = _engine_errors(job.messages, "Warning") or "no warning message"
                self._finish(job, _End(False, outcome.status, ErrorType.JOB_FAILED,
                                       f"job {job.job_id} ended with warnings (warnings_fail=True): {warnings}",
                                       response))
                return
            if disposition == "warning":
                self.stats["warnings"] += 1
            if self.fetch_outputs is not None and job.outputs:
                self._task("outputs", job, lambda job=job: self.fetch_outputs(job))
            self._finish(job, _End(True, outcome.status))
            return
        if status in ("cancelled", "canceled") or disposition in ("cancelled", "canceled"):
            error = f"job {job.job_id} was cancelled on the Server"
        else:
            detail = _engine_errors(job.messages) or "the Server gave no error message"
            error = f"job {job.job_id} ended {job.status} with disposition {job.disposition or 'unknown'}: {detail}"
        self._finish(job, _End(False, outcome.status, ErrorType.JOB_FAILED, error, response))

    def _timed_out(self, job: _Job) -> None:
        self.stats["timed_out"] += 1
        if self.cancel:
            job.phase = "cancelling"
            self._task("cancelled", job, lambda job=job: _cancel(self.conn, job.job_id))
            return
        self._finish(job, self._timeout_end(job, f"job {job.job_id} is still {job.status or 'queued'} on the "
                                                 "Server (not cancelled: cancel_on_timeout=False)"))

    def _timeout_end(self, job: _Job, note: str) -> _End:
        limit = f"{self.timeout:g} s" if self.timeout is not None else "its time"
        last = job.last
        return _End(False, last.status if last is not None else None, ErrorType.JOB_TIMEOUT,
                    f"job {job.job_id} did not end within {limit}; {note}",
                    bulk.scrub(last.text) if last is not None and last.ok else "")

    def _on_cancelled(self, job: _Job, outcome: Outcome) -> None:
        if outcome.ok:
            self.stats["cancelled"] += 1
            self._finish(job, self._timeout_end(job, "it was cancelled on the Server"))
            return
        if outcome.status == 400 and not job.final_look:
            # Most likely the job ended between the last look and the cancel: look once more.
            self.stats["timed_out"] -= 1
            job.final_look = True
            job.phase = "active"
            self._schedule(job, time.monotonic())
            return
        self._finish(job, self._timeout_end(job, f"cancelling it failed, so it may still be on the Server: "
                                                 f"{outcome.error}"))

    def _on_outputs(self, job: _Job, value: Any) -> None:
        self.output_results[job.pos] = value

    # -- Ctrl-C ----------------------------------------------------------
    def _interrupted(self) -> None:
        """Cancel the run's jobs on the Server, including those whose queuing was under way."""
        if not self.cancel:
            return
        started = [f for f in self.submissions.values() if not f.cancelled()]
        concurrent.futures.wait(started, timeout=INTERRUPT_GRACE)
        while True:
            try:
                kind, job, value, exc = self.events.get_nowait()
            except queue.Empty:
                break
            if kind == "queued" and exc is None and value[0].ok:
                try:
                    view = value[0].json()
                except ValueError:
                    view = None
                if isinstance(view, dict) and view.get("id"):
                    job.job_id, job.phase = str(view["id"]), "active"
        left = [j for j in self.active.values() if j.job_id and j.phase in ("active", "cancelling")]
        if left:
            log.warning("axframe: interrupted; cancelling %d job(s) of this run on the Server", len(left))
        for job in left:
            try:
                _cancel(self.conn, job.job_id)
            except BaseException:  # best effort only
                break


# --------------------------------------------------------------------------
# run_jobs
# --------------------------------------------------------------------------


def _input_frame(frame: Any) -> pd.DataFrame:
    df = frames.prepare_input(frame)
    ours = [c for c in JOB_COLUMNS if c in df.columns]
    if ours:
        df = df.drop(columns=ours)
    if WORKFLOW_ID not in df.columns:
        near = [c for c in df.columns if str(c).strip().lower().replace("_", "").replace(" ", "")
                in ("workflowid", "appid")]
        hint = f" (there is a column {near[0]!r}; rename it to 'workflowId')" if near else ""
        raise FrameError(f"the frame has no 'workflowId' column{hint}: each row names the workflow to run by its "
                         "id (list them with ax.get(conn, 'workflows.list').expand(), or from a shell: "
                         "axframe get workflows.list)")
    return df


def _question_columns(df: pd.DataFrame, question_columns: Iterable[str] | str | None) -> list[str]:
    if question_columns is None:
        return [c for c in df.columns if c != frames.RECORD_ID and c not in SETTINGS_COLUMNS]
    chosen = [question_columns] if isinstance(question_columns, str) else list(question_columns)
    missing = [c for c in chosen if c not in df.columns]
    if missing:
        raise FrameError(f"question_columns not in the frame: {', '.join(map(str, missing))}")
    clash = [c for c in chosen if c == frames.RECORD_ID or c in SETTINGS_COLUMNS]
    if clash:
        raise FrameError(f"{', '.join(map(str, clash))} cannot be question columns; answer such questions "
                         "through the 'questions' column")
    return chosen


def run_jobs(conn: Connection, frame: Any, *, api: str | None = None,
             question_columns: Iterable[str] | str | None = None, files: Iterable[str] | str = "auto",
             outputs: str | None = None, output_folder: str | os.PathLike | None = None,
             max_queued: int = DEFAULT_MAX_QUEUED, job_timeout: float | None = DEFAULT_JOB_TIMEOUT,
             cancel_on_timeout: bool = True, warnings_fail: bool = False,
             poll_interval: tuple[float, float] = DEFAULT_POLL_INTERVAL, max_workers: int | str | None = None,
             progress: bool | None = None, infer_types: bool = True,
             files_root: str | os.PathLike | None = None,
             on_row: Callable[[int, Any], None] | None = None) -> JobsResult:
    """Run one job per row and wait for every job to end.

    Parameters
    ----------
    conn : Connection
        From :func:`axframe.authenticate`.
    frame : pandas.DataFrame
        One row per job: ``RecordID``, ``workflowId``, answers in columns
        named after the questions (or in a ``questions`` JSON column), and
        optionally ``priority``, ``credentialId``, ``workerTag``.  See the
        module docstring for the rules.
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
        ``questions``.
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
        (``"Csv"``, ``"Xlsx"``, ...), as :func:`job_outputs` does, while the
        other jobs are still running: ``result.outputs`` is the frame of
        outputs, ``result.output_failures`` the outputs that failed.
    output_folder : path, optional
        Where outputs other than CSV are saved (default ``axframe-outputs``).
    max_queued : int
        At most this many jobs of the run queued or running at once (20);
        two or three times the Server's job slots keeps it busy.
    job_timeout : float or None
        Seconds from queuing after which a job that has not ended fails the
        row with ``JobTimeout`` (default an hour; None: no per-job limit,
        each job is waited for until it ends).
    cancel_on_timeout : bool
        Cancel a timed-out job on the Server (``DELETE /v3/jobs/{jobId}``);
        also cancels the run's jobs still in flight on Ctrl-C.
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
    on_row : callable, optional
        Called as ``on_row(pos, end)`` each time a job's row ends (``pos`` is
        the row's position in the frame; ``end.ok``, ``end.error_type`` and
        ``end.error`` say how), from the scheduler's thread.  Rows refused
        before sending are not reported: like ``ax.create``'s ``on_row``, it
        counts only the rows sent.

    Returns
    -------
    JobsResult
        Unpacks into ``(success, failure)``.  Both hold ``RecordID``, the
        input columns unchanged, then ``JobId``, ``Status``, ``Disposition``,
        ``QueuedAt`` (the Server's creation time), ``EndedAt`` (UTC, when
        axframe saw the end), ``Seconds`` (queued to end, as axframe saw it),
        ``StatusRequests``, ``Messages`` (the engine's messages, one per
        line) and ``Outputs`` (JSON list of ``{id, name, formats}``).
        ``failure`` adds ``StatusCode``, ``ErrorType``, ``Error`` and
        ``Response`` (the Server's last answer).  ``result.summary`` is a
        :class:`JobSummary`; ``result.outputs`` and
        ``result.output_failures`` the outputs, if asked for.

    Raises
    ------
    FrameError, ConfigurationError
        Before anything is sent (no RecordID or workflowId column, bad
        options).  Problems of single rows never raise.
    """
    started = time.perf_counter()
    chosen_api = _api_for(conn, api)
    limit = int(_positive("max_queued", max_queued, integer=True))
    if job_timeout is not None:
        job_timeout = _positive("job_timeout", job_timeout)
    try:
        first, cap = (float(v) for v in poll_interval)
    except (TypeError, ValueError):
        raise ConfigurationError("poll_interval must be two numbers: (first, cap) in seconds") from None
    if not (first > 0 and cap >= first):
        raise ConfigurationError("poll_interval must be (first, cap) with 0 < first <= cap")
    output_format = _format(outputs) if outputs is not None else None
    workers = _workers(conn, max_workers)
    df = _input_frame(frame)
    answer_columns = _question_columns(df, question_columns)
    auto = isinstance(files, str) and files == "auto"
    file_questions = set() if auto else {files} if isinstance(files, str) else {str(f) for f in files}
    if file_questions - {str(c) for c in answer_columns} and QUESTIONS not in df.columns:
        unknown = sorted(file_questions - {str(c) for c in answer_columns})
        raise FrameError(f"files names {', '.join(unknown)}, which is neither a question column nor answerable "
                         "through a 'questions' column")

    records = df.to_dict("records")
    n = len(records)
    ends: list[tuple[_End, _Job | None] | None] = [None] * n
    keys = [record_key(r[frames.RECORD_ID]) for r in records]
    bad_ids = frames.record_id_problems([r[frames.RECORD_ID] for r in records])
    planned_jobs: list[_Job] = []
    for pos, rec in enumerate(records):
        if pos in bad_ids:
            ends[pos] = (_End(False, error_type=bad_ids[pos].error_type, error=bad_ids[pos].error, sent=False), None)
            continue
        planned = _plan(rec, chosen_api, answer_columns)
        if isinstance(planned, _End):
            ends[pos] = (planned, None)
            continue
        planned.pos, planned.key = pos, keys[pos]
        planned_jobs.append(planned)
    # the Server is asked for File Browse questions only where some answer is a local file
    browse = _file_browse_questions(conn, {job.workflow_id for job in planned_jobs
                                           if any(_local_file(a["value"]) for a in job.answers)}) \
        if auto and not conn.legacy else {}
    root = Path(files_root).expanduser() if files_root is not None else Path.cwd()
    jobs: list[_Job] = []
    for job in planned_jobs:
        refused = _plan_uploads(job, file_questions, browse.get(job.workflow_id, set()), root, conn.legacy)
        if refused is not None:
            ends[job.pos] = (refused, None)
        else:
            jobs.append(job)

    stats_before = dict(conn.stats)
    tokens_before = conn.tokens_requested
    label = "run_jobs"
    bar = bulk.Progress(len(jobs), label, progress, rows=n)
    bar.update(0)
    fetch = None
    folder = Path(output_folder or DEFAULT_OUTPUT_DIR)
    if output_format is not None:
        def fetch(job: _Job) -> list:
            return _fetch_outputs(conn, records[job.pos][frames.RECORD_ID], job.job_id, job.outputs,
                                  output_format, folder)
    scheduler = _Scheduler(conn, chosen_api, jobs, ends, max_queued=limit, workers=workers, first=first, cap=cap,
                           timeout=job_timeout, cancel=cancel_on_timeout, warnings_fail=warnings_fail,
                           outputs=fetch, bar=bar, on_row=on_row)
    if jobs:
        scheduler.run()

    summary = JobSummary("run_jobs", rows=n,
                         calls=conn.stats["calls"] - stats_before.get("calls", 0),
                         retries=conn.stats["retries"] - stats_before.get("retries", 0),
                         tokens_requested=conn.tokens_requested - tokens_before,
                         max_in_flight=scheduler.max_in_flight, **scheduler.stats)
    success, failure = _job_frames(df, ends, summary)
    output_result: bulk.Result | None = None
    if output_format is not None:
        items = []
        for pos in sorted(scheduler.output_results):
            items.extend(scheduler.output_results[pos])
        output_result = _outputs_result(items, output_format, infer_types, time.perf_counter() - started)
        summary.outputs = output_result.summary.succeeded
        summary.output_failures = output_result.summary.failed
    summary.elapsed = time.perf_counter() - started
    bar.close(summary)
    log.info("%s", summary)
    if output_result is None:
        return JobsResult(success, failure, summary)
    return JobsResult(success, failure, summary, output_result.success, output_result.failure)


def _job_columns(picked: list[tuple[_End, _Job | None]]) -> dict[str, pd.Series]:
    def col(values: list, dtype: Any = object) -> pd.Series:
        return pd.Series(values, dtype=dtype)

    jobs = [job for _, job in picked]
    seconds = [job.ended - job.submitted if job is not None and not math.isnan(job.ended)
               and not math.isnan(job.submitted) else math.nan for job in jobs]
    return {
        "JobId": col([job.job_id if job else "" for job in jobs]),
        "Status": col([job.status if job else "" for job in jobs]),
        "Disposition": col([job.disposition if job else "" for job in jobs]),
        "QueuedAt": col([job.queued_at if job else "" for job in jobs]),
        "EndedAt": col([job.ended_at if job else "" for job in jobs]),
        "Seconds": col([round(s, 3) if not math.isnan(s) else math.nan for s in seconds], "float64"),
        "StatusRequests": col([job.polls if job else 0 for job in jobs], "int64"),
        "Messages": col([_messages_text(job.messages) if job else "" for job in jobs]),
        "Outputs": col([json.dumps(job.outputs, ensure_ascii=False) if job else "[]" for job in jobs]),
    }


def _job_frames(df: pd.DataFrame, ends: list, summary: JobSummary) -> tuple[pd.DataFrame, pd.DataFrame]:
    ok_pos = [i for i, e in enumerate(ends) if e[0].ok]
    bad_pos = [i for i, e in enumerate(ends) if not e[0].ok]
    success = bulk._ordered(df.iloc[ok_pos], mask=True)  # plain cells, sent passwords masked
    for name, values in _job_columns([ends[i] for i in ok_pos]).items():
        success[name] = values
    failure = bulk._ordered(df.iloc[bad_pos])
    for name, values in _job_columns([ends[i] for i in bad_pos]).items():
        failure[name] = values
    bad = [ends[i][0] for i in bad_pos]
    failure["StatusCode"] = pd.Series([e.status_code for e in bad], dtype=object)
    failure["ErrorType"] = pd.Series([e.error_type for e in bad], dtype=object)
    failure["Error"] = pd.Series([redact(e.error or "") for e in bad], dtype=object)
    failure["Response"] = pd.Series([e.response for e in bad], dtype=object)
    summary.succeeded, summary.failed = len(ok_pos), len(bad_pos)
    summary.not_sent = sum(1 for e in bad if not e.sent)
    types: dict[str, int] = {}
    for e in bad:
        types[e.error_type] = types.get(e.error_type, 0) + 1
    summary.error_types = types
    return success, failure


# --------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------

_FORMATS = ("Raw", "Yxdb", "Shp", "Kml", "Tab", "Mif", "Dbf", "Csv", "Pdf", "Docx", "Xlsx", "Html", "Tde", "Zip")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_INT = re.compile(r"^-?[0-9]+$", re.ASCII)
_FLOAT = re.compile(r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$", re.ASCII)
_EXACT_DIGITS = 15  # a float64 holds 15 significant digits exactly; longer numbers are ids, kept as text


def _format(value: Any) -> str:
    text = str(value).strip().lower()
    for name in _FORMATS:
        if name.lower() == text:
            return name
    raise ConfigurationError(f"format must be one of {', '.join(_FORMATS)}, not {value!r}")


@dataclass
class _OutputItem:
    record_id: Any
    job_id: str
    output: str
    ok: bool
    data: bytes = b""
    file: str = ""
    size: int = 0
    status: int | None = None
    error_type: str | None = None
    error: str | None = None
    response: str = ""


def _fetch_outputs(conn: Connection, record_id: Any, job_id: str, outputs: list[dict], fmt: str,
                   folder: Path) -> list[_OutputItem]:
    """Download every output of one job in *fmt*; CSV stays in memory, other formats go to *folder*."""
    endpoint = catalogue.find("v1.job_output")
    items = []
    for output in outputs:
        name = output["name"]
        offered = output.get("formats") or []
        if offered and fmt.lower() not in {f.lower() for f in offered}:
            items.append(_OutputItem(record_id, job_id, name, False, error_type=ErrorType.NOT_AVAILABLE,
                                     error=f"output {name!r} is not offered as {fmt}; it is offered as "
                                           f"{', '.join(offered)}"))
            continue
        path = _path(conn, endpoint, jobId=job_id, outputId=output["id"])
        outcome = conn.send(Call("GET", path, endpoint, params=[("format", fmt)]))
        if not outcome.ok:
            items.append(_OutputItem(record_id, job_id, name, False, status=outcome.status,
                                     error_type=outcome.error_type or ErrorType.HTTP_ERROR,
                                     error=outcome.error or f"status {outcome.status}",
                                     response=bulk.scrub(outcome.text)))
            continue
        data = outcome.content if outcome.content is not None else outcome.text.encode("utf-8")
        if fmt == "Csv":
            items.append(_OutputItem(record_id, job_id, name, True, data=data, size=len(data),
                                     status=outcome.status))
            continue
        try:
            saved = _save_output(folder, record_id, job_id, name, fmt, outcome, data)
        except OSError as exc:
            items.append(_OutputItem(record_id, job_id, name, False, status=outcome.status,
                                     error_type=ErrorType.SAVE_FAILED, error=f"could not save the output: {exc}"))
            continue
        items.append(_OutputItem(record_id, job_id, name, True, file=str(saved), size=len(data),
                                 status=outcome.status))
    return items


_EXTENSIONS = {"Raw": "", "Csv": ".csv", "Xlsx": ".xlsx", "Html": ".html", "Yxdb": ".yxdb", "Pdf": ".pdf",
               "Docx": ".docx", "Zip": ".zip", "Tde": ".tde", "Kml": ".kml", "Dbf": ".dbf", "Shp": ".zip",
               "Tab": ".zip", "Mif": ".zip"}


def _save_output(folder: Path, record_id: Any, job_id: str, name: str, fmt: str, outcome: Outcome,
                 data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    disposition = outcome.headers.get("Content-Disposition", "") if outcome.headers else ""
    match = re.search(r'filename="?([^";]+)"?', disposition)
    if match:
        file_name = os.path.basename(match.group(1))
    else:
        base = name.rsplit(".", 1)[0] if "." in name else name
        file_name = base + _EXTENSIONS.get(fmt, "")
    file_name = _UNSAFE.sub("_", file_name).strip(" .") or "output"
    path = folder / f"{_UNSAFE.sub('_', record_key(record_id))}_{_UNSAFE.sub('_', job_id)}_{file_name}"
    path.write_bytes(data)
    return path


def _read_csv(data: bytes) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if not text.strip():
        return pd.DataFrame()
    return pd.read_csv(io.StringIO(text), dtype=object, keep_default_na=False)


def _number_text(text: str) -> bool:
    """Whether *text* may be read as a number without losing what it says.

    Only plain decimal numbers qualify: an optional ``-``, digits, an
    optional decimal point and exponent.  Text that looks like an id or a
    code stays text: a leading zero (``02134``; ``0`` and ``0.5`` are
    numbers), a leading ``+`` (``+44``), thousands separators (``1,234``),
    more than 15 significant digits (a float64 would change them), or a
    number too large for a float64 (``1e400``).
    """
    if not _FLOAT.fullmatch(text):
        return False
    mantissa = re.split("[eE]", text.lstrip("-"), maxsplit=1)[0]
    whole, _, fraction = mantissa.partition(".")
    if len(whole) > 1 and whole.startswith("0"):
        return False
    digits = (whole + fraction.rstrip("0")).lstrip("0")
    return len(digits) <= _EXACT_DIGITS and math.isfinite(float(text))


def _typed(series: pd.Series) -> pd.Series:
    """Numbers as numbers, ids and codes as text, in plain dtypes only.

    A column becomes numeric only when every non-empty cell is a number by
    :func:`_number_text`.  Whole numbers become int64, or an object column of
    ints and None when some cells are empty (never float: ``2024`` must not
    read back as ``2024.0``); a decimal point or exponent in any cell makes
    the column float64 (empty cells NaN).  Anything else stays text.
    """
    values = series.tolist()
    present = [v.strip() for v in values if isinstance(v, str) and v.strip() != ""]
    missing = len(present) != len(values)
    if not present or not all(_number_text(v) for v in present):
        return pd.Series([v if isinstance(v, str) else None for v in values], index=series.index, dtype=object)
    if all(_INT.fullmatch(v) for v in present):
        numbers = [int(v) if isinstance(v, str) and v.strip() else None for v in values]
        if missing:
            return pd.Series(numbers, index=series.index, dtype=object)
        return pd.Series(numbers, index=series.index, dtype="int64")
    return pd.Series([float(v) if isinstance(v, str) and v.strip() else math.nan for v in values],
                     index=series.index, dtype="float64")


def _outputs_result(items: list[_OutputItem], fmt: str, infer_types: bool, elapsed: float) -> bulk.Result:
    good = [i for i in items if i.ok]
    bad = [i for i in items if not i.ok]
    lead = ("RecordID", "JobId", "Output")
    if fmt == "Csv":
        parts = []
        for item in good:
            part = _read_csv(item.data)
            part.columns = _deduplicated([str(c) for c in part.columns], lead)
            head = pd.DataFrame({"RecordID": [item.record_id] * len(part), "JobId": [item.job_id] * len(part),
                                 "Output": [item.output] * len(part)}, dtype=object)
            parts.append(pd.concat([head, part.reset_index(drop=True)], axis=1))
        if parts:
            success = pd.concat(parts, ignore_index=True, sort=False)
        else:
            success = pd.DataFrame({c: pd.Series([], dtype=object) for c in lead})
        for column in success.columns:
            if column in lead:
                continue
            success[column] = _typed(success[column]) if infer_types else \
                pd.Series([v if isinstance(v, str) else None for v in success[column]], dtype=object)
        success["RecordID"] = _plain(success["RecordID"].tolist())
        success["JobId"] = success["JobId"].astype(object)
        success["Output"] = success["Output"].astype(object)
    else:
        success = pd.DataFrame({"RecordID": _plain([i.record_id for i in good]),
                                "JobId": pd.Series([i.job_id for i in good], dtype=object),
                                "Output": pd.Series([i.output for i in good], dtype=object),
                                "Format": pd.Series([fmt] * len(good), dtype=object),
                                "File": pd.Series([i.file for i in good], dtype=object),
                                "Bytes": pd.Series([i.size for i in good], dtype="int64")})
    failure = pd.DataFrame({"RecordID": _plain([i.record_id for i in bad]),
                            "JobId": pd.Series([i.job_id for i in bad], dtype=object),
                            "Output": pd.Series([i.output for i in bad], dtype=object),
                            "StatusCode": pd.Series([i.status for i in bad], dtype=object),
                            "ErrorType": pd.Series([i.error_type for i in bad], dtype=object),
                            "Error": pd.Series([redact(i.error or "") for i in bad], dtype=object),
                            "Response": pd.Series([i.response for i in bad], dtype=object)})
    types: dict[str, int] = {}
    for i in bad:
        types[i.error_type or ""] = types.get(i.error_type or "", 0) + 1
    summary = bulk.Summary(f"job_outputs ({fmt})", rows=len(items), succeeded=len(good), failed=len(bad),
                           elapsed=elapsed, error_types=types)
    return bulk.Result(success, failure, summary)


def _plain(values: list) -> pd.Series:
    """RecordIDs as int64 when they all are whole numbers, else as objects."""
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pd.Series(values, dtype="int64")
    return pd.Series([v.item() if hasattr(v, "item") else v for v in values], dtype=object)


def _deduplicated(names: list[str], taken: Sequence[str]) -> list[str]:
    """An output's own column named like one of ours gets ``.1`` (pandas' way with duplicate names)."""
    used = set(taken)
    out = []
    for name in names:
        new, k = name, 0
        while new in used:
            k += 1
            new = f"{name}.{k}"
        used.add(new)
        out.append(new)
    return out


def job_outputs(conn: Connection, frame: Any, format: str = "Csv", *,
                folder: str | os.PathLike | None = None, api: str | None = None, infer_types: bool = True,
                max_workers: int | str | None = None) -> bulk.Result:
    """Download the outputs of finished jobs.

    Parameters
    ----------
    conn : Connection
    frame : pandas.DataFrame
        Rows with ``RecordID`` and ``JobId``: typically the success frame of
        :func:`run_jobs`, whose ``Outputs`` column spares a request per job.
        Without that column each job is looked up first.
    format : str
        ``"Csv"`` (the default), or any format the outputs offer (``"Xlsx"``,
        ``"Html"``, ``"Raw"``...).
    folder : path, optional
        Where outputs other than CSV are saved (default ``axframe-outputs``),
        as ``<RecordID>_<JobId>_<file name>``.
    api : {"v3", "v1", "user_v2"}, optional
        Which path looks jobs up when the frame has no ``Outputs`` column.
    infer_types : bool
        Turn CSV columns of numbers into numbers: whole numbers into int64
        (an object column of ints and None when some cells are empty), and
        columns where a decimal point or exponent appears into float64.  Ids
        and codes stay text: a column is left as text when any cell has a
        leading zero (``02134``; not ``0`` or ``0.5``), a leading ``+``,
        thousands separators or more than 15 significant digits.  ``False``
        keeps every cell as text.
    max_workers : int, optional
        Downloads in flight at once (default: the connection's, 8).

    Returns
    -------
    Result
        Unpacks into ``(outputs, failure)``.  For CSV, ``outputs`` holds
        every row of every output: ``RecordID``, ``JobId``, ``Output`` (the
        output's name), then the output's own columns (one of those named
        like ours gets a ``.1`` suffix).  For other formats it lists the
        files saved: ``RecordID``, ``JobId``, ``Output``, ``Format``, ``File``,
        ``Bytes``.  ``failure`` holds ``RecordID``, ``JobId``, ``Output``,
        ``StatusCode``, ``ErrorType``, ``Error``, ``Response``, one row per
        output (or job) that could not be had.

    Raises
    ------
    FrameError, ConfigurationError
        Before anything is sent.
    """
    started = time.perf_counter()
    fmt = _format(format)
    chosen_api = _api_for(conn, api)
    workers = _workers(conn, max_workers)
    df = frames.prepare_input(frame)
    for column in (frames.RECORD_ID, "JobId"):
        if column not in df.columns:
            raise FrameError(f"the frame has no {column!r} column (pass the success frame of run_jobs)")
    target = Path(folder or DEFAULT_OUTPUT_DIR)
    records = df.to_dict("records")
    has_outputs = "Outputs" in df.columns

    def one(rec: dict) -> list[_OutputItem]:
        record_id = rec[frames.RECORD_ID]
        raw_job = rec.get("JobId")
        if frames.is_missing(raw_job):
            return [_OutputItem(record_id, "", "", False, error_type=ErrorType.MISSING_PARAMETER,
                                error="JobId is missing: this row has no job")]
        job_id = frames.as_text(raw_job)
        outputs = None
        if has_outputs and not frames.is_missing(rec.get("Outputs")):
            try:
                outputs = _normal_outputs(json.loads(rec["Outputs"]) if isinstance(rec["Outputs"], str)
                                          else rec["Outputs"])
            except ValueError:
                outputs = None
        if outputs is None:
            outcome = _look(conn, chosen_api, job_id)
            if not outcome.ok:
                return [_OutputItem(record_id, job_id, "", False, status=outcome.status,
                                    error_type=outcome.error_type or ErrorType.HTTP_ERROR,
                                    error=f"the job could not be read: {outcome.error}",
                                    response=bulk.scrub(outcome.text))]
            try:
                view = outcome.json()
            except ValueError:
                view = {}
            outputs = _normal_outputs(view.get("outputs") if isinstance(view, dict) else None)
        return _fetch_outputs(conn, record_id, job_id, outputs, fmt, target)

    items: list[_OutputItem] = []
    if records:
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(records)),
                                                   thread_name_prefix="axframe-outputs") as pool:
            for found in pool.map(one, records):
                items.extend(found)
    result = _outputs_result(items, fmt, infer_types, time.perf_counter() - started)
    log.info("%s", result.summary)
    return result


# --------------------------------------------------------------------------
# packages
# --------------------------------------------------------------------------

_UPLOAD_DEFAULTS = {
    "workflows.upload": {"isPublic": False, "isReadyForMigration": False, "othersMayDownload": True,
                         "othersCanExecute": True, "executionMode": "Standard",
                         "workflowCredentialType": "Default"},
    "workflows.add_version": {"othersMayDownload": True, "othersCanExecute": True, "executionMode": "Standard",
                              "makePublished": True, "workflowCredentialType": "Default"},
}


def package_frame(source: str | os.PathLike | Iterable[str | os.PathLike], *, ownerId: str | None = None,
                 action: str = "workflows.upload", recursive: bool = False, **fields: Any) -> pd.DataFrame:
    """A frame that publishes ``.yxzp`` packages with ``ax.create`` / ``ax.post``.

    Parameters
    ----------
    source : path or list of paths
        A folder (its ``.yxzp`` files, sorted by name; ``recursive=True`` looks
        in subfolders too) or a list of package files.
    ownerId : str, optional
        The id of the user who will own the workflows.  Required by the
        Server; left empty, every row fails with a clear message until the
        ``ownerId`` column is filled in.
    action : {"workflows.upload", "workflows.add_version"}
        New workflows (``ax.create(conn, "workflows.upload", frame)``) or new
        versions (``ax.post(conn, "workflows.add_version", frame)``; add a
        ``workflowId`` column, or pass ``workflowId=`` for a single package).
    **fields
        Form fields for every row, overriding the defaults: ``isPublic=False``,
        ``isReadyForMigration=False``, ``othersMayDownload=True``,
        ``othersCanExecute=True``, ``executionMode="Standard"``,
        ``workflowCredentialType="Default"`` (and ``makePublished=True`` for
        versions).  ``name=`` replaces every row's name.

    Returns
    -------
    pandas.DataFrame
        ``RecordID`` (1, 2...), ``file`` (the package's path), ``name`` (the
        package's MetaInfo name, else its main document's or file's name),
        ``ownerId`` and the form fields.  A package that cannot be read still
        gets a row; uploading it fails that row with ``InvalidFile``.

    Raises
    ------
    ConfigurationError
        For a missing folder, an unknown action or an unknown form field.
    """
    if action not in _UPLOAD_DEFAULTS:
        raise ConfigurationError(f"action must be 'workflows.upload' or 'workflows.add_version', not {action!r}")
    endpoint = catalogue.find(action)
    allowed = {p.name for p in endpoint.form if p.type != "file"} | {p.name for p in endpoint.path_params}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        import difflib

        hints = [m for u in unknown for m in difflib.get_close_matches(u, sorted(allowed), n=1)]
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        raise ConfigurationError(f"{action} has no form field {', '.join(unknown)}{hint}; "
                                 f"its fields are {', '.join(sorted(allowed))}")
    paths = _package_paths(source, recursive)
    from .packages import PackageError, read_package

    rows = []
    for i, path in enumerate(paths, start=1):
        try:
            name = read_package(path.read_bytes()).name
        except (PackageError, OSError):
            name = path.stem
        row: dict[str, Any] = {"RecordID": i, "file": str(path), "name": name, "ownerId": ownerId}
        row.update(_UPLOAD_DEFAULTS[action])
        row.update(fields)
        rows.append(row)
    columns = ["RecordID", "file", "name", "ownerId"] + [c for c in _UPLOAD_DEFAULTS[action] if c not in
                                                          ("name", "ownerId")]
    columns += [c for c in fields if c not in columns]
    out = pd.DataFrame(rows, columns=columns)
    out["RecordID"] = out["RecordID"].astype("int64")
    for column in out.columns:
        if column != "RecordID" and out[column].dtype != bool:
            out[column] = out[column].astype(object)
    return out


def _package_paths(source: Any, recursive: bool) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        folder = Path(source).expanduser()
        if folder.is_file():
            return [folder]
        if not folder.is_dir():
            raise ConfigurationError(f"no such folder: {folder}")
        pattern = "**/*" if recursive else "*"
        return sorted((p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() == ".yxzp"),
                      key=lambda p: str(p).lower())
    return [Path(p).expanduser() for p in source]


def download_packages(conn: Connection, frame: Any, folder: str | os.PathLike, *,
                      max_workers: int | str | None = None, progress: bool | None = None) -> bulk.Result:
    """Save each row's workflow package (``.yxzp``) in *folder*.

    Parameters
    ----------
    conn : Connection
    frame : pandas.DataFrame
        ``RecordID``, ``workflowId`` and, optionally, ``versionId`` (a version
        other than the published one).
    folder : path
        Created if needed; files are named ``<RecordID>_<package name>.yxzp``.
    max_workers : int, optional
        Downloads in flight at once.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    Result
        ``success`` holds ``RecordID``, the input columns, ``StatusCode``,
        ``File`` (the saved path), ``Bytes`` and ``Response``; ``failure`` the
        engine's failure columns (e.g. ``NotFound`` for an unknown workflow,
        ``BadRequest`` for an unknown version).
    """
    return bulk.run(conn, "workflows.download", frame, macro="get", download_dir=folder,
                    max_workers=max_workers, progress=progress)
