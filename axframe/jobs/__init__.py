"""Running workflows from a dataframe, collecting their outputs, and moving packages.

- :mod:`.run`: :func:`run_jobs`, each row a program on the one engine;
- :mod:`.program`: one row's program (upload, queue, look until it ends, fetch its outputs);
- :mod:`.plan`: from a row to the job it asks for;
- :mod:`.uploads`: File Browse answers that are local files;
- :mod:`.outputs`: :func:`job_outputs` and typed CSV outputs;
- :mod:`.packages`: :func:`package_frame` and :func:`download_packages`.

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
Every row is a program on the one engine (:mod:`axframe.engine.rows`): its
waits between looks park it on a timer heap, and the requests run on a small
pool of worker threads (``max_workers``, the connection's default 8) shared
with queuing, uploads and output downloads, so there is never a thread per
row.  Each job is first looked at ``poll_interval[0]`` seconds
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
  the V1 ``createDate``); ``EndedAt`` (UTC) and ``Seconds`` (from just before
  the queuing request to the poll that saw the end, wall-clock, kept across a
  resumed run) are measured by axframe, so they are late by at most one poll
  interval.
- A file is uploaded once per row that names it, never shared between jobs:
  whether a Server keeps an input file after the job that used it is unknown.
- Outputs are downloaded through ``GET /v1/jobs/{jobId}/output/{outputId}``,
  the only output download the Server has (reference 7).
"""

from __future__ import annotations

from .outputs import DEFAULT_OUTPUT_DIR, job_outputs
from .packages import download_packages, package_frame
from .plan import JOB_COLUMNS
from .run import (DEFAULT_JOB_TIMEOUT, DEFAULT_MAX_QUEUED, DEFAULT_POLL_INTERVAL, MAX_POLL_FAILURES, JobOptions,
                  JobsResult, JobSummary, run_jobs)

__all__ = ["run_jobs", "job_outputs", "package_frame", "download_packages", "JobsResult", "JobSummary",
           "JobOptions", "JOB_COLUMNS", "DEFAULT_MAX_QUEUED", "DEFAULT_POLL_INTERVAL", "DEFAULT_JOB_TIMEOUT",
           "DEFAULT_OUTPUT_DIR", "MAX_POLL_FAILURES"]
