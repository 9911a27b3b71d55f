"""``axframe run-jobs``: a workflow or analytic app run once per row, its outputs collected."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .common import (Lines, Out, add_connection_options, add_overwrite_option, add_progress_options, claim, connect,
                     count_tokens, default_output, interactive, report)

__all__ = ["add_commands", "cmd_run_jobs", "job_timeout", "outputs_path"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("run-jobs", help="run a workflow or analytic app once per row and collect its outputs",
                       description="Queue one job per row (workflowId and answers), wait for every job, "
                                   "and write success and failure files (and the outputs).")
    p.add_argument("--input", "-i", required=True, metavar="FILE", help="a .csv, .xlsx or .parquet file")
    p.add_argument("--sheet", help="the Excel sheet to read (default: the first)")
    p.add_argument("--output", "-o", metavar="FILE", help="where results go (as for the other commands)")
    add_overwrite_option(p)
    p.add_argument("--api", choices=("v3", "v1", "user_v2"), default=None,
                   help="which API queues the jobs (default v3; v1 on a legacy connection)")
    p.add_argument("--question-columns", nargs="+", metavar="COLUMN",
                   help="the columns holding answers (default: every column that is not axframe's)")
    p.add_argument("--files", nargs="+", default=None, metavar="QUESTION",
                   help="the questions whose answers are local files to upload first (default: the workflow's "
                        "File Browse questions, where the answer is an existing local file)")
    p.add_argument("--no-uploads", action="store_true", help="upload no file: every answer is sent as text")
    p.add_argument("--files-root", metavar="FOLDER",
                   help="the folder files may be uploaded from (default: the input file's folder); hidden files "
                        "and anything outside it are never uploaded")
    p.add_argument("--outputs", metavar="FORMAT", help="download each job's outputs in this format (e.g. Csv)")
    p.add_argument("--output-folder", help="where non-CSV outputs are saved (default ./axframe-outputs)")
    p.add_argument("--max-queued", type=int, default=None, help="jobs of this run queued at once (default 20)")
    p.add_argument("--job-timeout", type=float, default=None, metavar="SECONDS",
                   help="seconds from queuing before a job that has not ended counts as failed (and is "
                        "cancelled); default 3600; 0 means no per-job timeout")
    p.add_argument("--keep-running", action="store_true", help="do not cancel a job that timed out")
    p.add_argument("--warnings-fail", action="store_true", help="count jobs that ended with warnings as failed")
    p.add_argument("--no-infer-types", dest="infer_types", action="store_false",
                   help="keep every CSV output cell as text (default: columns of numbers become numbers; "
                        "ids and codes such as 02134 stay text either way)")
    p.add_argument("--workers", type=int, default=None, help="HTTP calls in flight at once (default 8)")
    p.add_argument("--journal", metavar="FILE",
                   help="record each row's job; re-running with the same journal follows the jobs already queued "
                        "instead of queuing new ones")
    add_progress_options(p)
    add_connection_options(p)
    p.set_defaults(run=cmd_run_jobs)


def cmd_run_jobs(args: argparse.Namespace, out: Out) -> int:
    from .. import frames
    from ..errors import FrameError
    from ..io import check_output_path, read_frame, results_paths, write_frame, write_results
    from ..jobs import DEFAULT_JOB_TIMEOUT, DEFAULT_MAX_QUEUED, run_jobs

    input_path = Path(args.input).expanduser()
    frame = read_frame(input_path, sheet=args.sheet)
    try:  # a frame that cannot be used at all is refused before connecting: nothing is sent
        frames.prepare_input(frame)
    except FrameError as exc:
        raise UsageError(f"{input_path}: {exc.for_files()}") from None
    output = Path(args.output).expanduser() if args.output else default_output(input_path, sheet=args.sheet)
    claim(results_paths(output, input_path=input_path), args)  # a bad --output is refused before any job is queued
    if args.outputs:
        claim([check_output_path(outputs_path(output))], args)
    timeout = job_timeout(args.job_timeout, DEFAULT_JOB_TIMEOUT)
    conn = connect(args)
    shown = interactive(args)
    lines = None if shown else Lines("run-jobs")
    try:
        result = run_jobs(conn, frame, api=args.api, question_columns=args.question_columns,
                          files=[] if args.no_uploads else args.files if args.files is not None else "auto",
                          files_root=Path(args.files_root).expanduser() if args.files_root else input_path.parent,
                          outputs=args.outputs, output_folder=args.output_folder,
                          max_queued=args.max_queued or DEFAULT_MAX_QUEUED, job_timeout=timeout,
                          cancel_on_timeout=not args.keep_running, warnings_fail=args.warnings_fail,
                          max_workers=args.workers, progress=shown, infer_types=args.infer_types,
                          journal=args.journal, on_row=lines)
    finally:
        conn.close()
    count_tokens(result, conn)
    if lines is not None:
        lines.close(result.summary)
    paths = write_results(result, output, input_path=input_path)
    if result.outputs is not None:
        paths.append(write_frame(result.outputs, outputs_path(output)))
    return report(result, paths, out, label="run-jobs")


def job_timeout(value: float | None, default: float) -> float | None:
    """``--job-timeout``: the default when not given, None (no per-job timeout) for 0."""
    if value is None:
        return default
    if value != value or value < 0:  # NaN too
        raise UsageError(f"--job-timeout takes seconds (0 for no per-job timeout), not {value:g}")
    return None if value == 0 else value


def outputs_path(output: Path) -> Path:
    """Where run-jobs writes the gathered job outputs: beside the results."""
    stem = output.name[: -len(output.suffix)] if output.suffix else output.name
    return output.with_name(f"{stem}.outputs{'.xlsx' if output.suffix.lower() == '.xlsx' else '.csv'}")

