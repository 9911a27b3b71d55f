"""The ``axframe`` command: bulk changes from files, generated from the catalogue.

::

    axframe get|create|post|delete ACTION --input FILE [--output FILE] [...]
    axframe run-jobs --input FILE     one job per row, outputs collected
    axframe deploy FOLDER             publish a folder of packages: created, new version, unchanged
    axframe actions [FILTER]          the catalogue as a table
    axframe emulator                  a local Server in the foreground
    axframe demo                      a bulk change against the emulator, end to end

Connection settings come from options or the ``AXFRAME_*`` environment
variables, and from a ``.env`` file with ``--env-file``.  The secret is never
an option (it would land in the shell's history): it comes from
``AXFRAME_CLIENT_SECRET``, the ``.env`` file, or a prompt at a terminal.

Exit codes: 0 every row succeeded; 1 some rows failed (the outputs are still
written); 2 a usage, file or connection error (nothing was sent).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from . import __version__, catalogue
from .errors import UsageError

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_ROWS_FAILED", "EXIT_USAGE"]

EXIT_OK, EXIT_ROWS_FAILED, EXIT_USAGE = 0, 1, 2
ENV_KEYS = ("AXFRAME_BASE_URL", "AXFRAME_CLIENT_ID", "AXFRAME_CLIENT_SECRET", "AXFRAME_CA_BUNDLE")




# --------------------------------------------------------------------------
# the parser, generated from the catalogue
# --------------------------------------------------------------------------


def _action_list(macro: str, width: int = 100) -> str:
    lines = []
    for ep in catalogue.endpoints(macro):
        lines.append(f"  {ep.name:<40} {ep.doc}"[:width])
    return "\n".join(lines)


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection (or set AXFRAME_BASE_URL, AXFRAME_CLIENT_ID, AXFRAME_CLIENT_SECRET)")
    group.add_argument("--base-url", help="the Server's Web API address, e.g. https://alteryx.example.com/webapi")
    group.add_argument("--client-id", help="your API access key (My Profile > Keys)")
    group.add_argument("--env-file", nargs="?", const=".env", default=None, metavar="FILE",
                       help="read AXFRAME_* settings from a .env file (default: ./.env)")
    group.add_argument("--legacy", action="store_true", help="sign with OAuth1 (Servers before 2022.1)")
    group.add_argument("--insecure", action="store_true", help="do not check the TLS certificate (not advised)")
    group.add_argument("--ca-bundle", help="a CA bundle file for a private certificate authority")
    group.add_argument("--timeout", type=float, default=None, help="seconds to wait for each answer (default 300)")


def _add_run_options(parser: argparse.ArgumentParser, macro: str) -> None:
    parser.add_argument("action", metavar="ACTION", help="an action name, operationId or 'METHOD /path' "
                                                         "(see the list below, or: axframe actions)")
    parser.add_argument("--input", "-i", metavar="FILE",
                        help="a .csv, .xlsx or .parquet file, one row per call; without it, one call (for actions "
                             "that need no values, such as listings)")
    parser.add_argument("--sheet", help="the Excel sheet to read (default: the first)")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="where results go: .xlsx (one workbook: Success, Failure, Summary) or .csv/.parquet "
                             "(two files: NAME.success.EXT and NAME.failure.EXT); default: next to the input, "
                             "named after it (and the sheet; dry runs: NAME.dry-run...)")
    parser.add_argument("--contract-columns", nargs="+", metavar="COLUMN",
                        help="build the body from these columns (dotted names nest) instead of a 'contract' column")
    parser.add_argument("--workers", default=None, help="calls in flight at once: a number or 'auto' (default 8)")
    parser.add_argument("--max-per-second", type=float, default=None, help="cap the calls per second")
    parser.add_argument("--dry-run", action="store_true", help="send nothing; show each row's method, URL and body")
    parser.add_argument("--journal", metavar="FILE",
                        help="record finished rows; re-running with the same journal sends only unfinished rows")
    parser.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    if macro in ("create", "post"):
        parser.add_argument("--file-column", default="file", help="the column of file paths for uploads")
    if macro == "post":
        parser.add_argument("--no-merge", action="store_true",
                            help="send partial updates as they are instead of merging them into the current record")
    if macro == "get":
        parser.add_argument("--download-dir", help="where downloads are saved (default ./axframe-downloads)")
        parser.add_argument("--expand", metavar="FILE",
                            help="also write the JSON answers expanded into rows (one per returned object) to FILE")
    _add_connection_options(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="axframe",
        description="The Alteryx Server Web API from files: one call per row, success and failure files out.",
        epilog=textwrap.dedent("""\
            exit codes: 0 every row succeeded; 1 some rows failed (outputs written); 2 usage or connection error
            (nothing sent).  Try it with no Server at all:  axframe demo"""),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"axframe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    titles = {"get": "read: GET endpoints", "create": "create records: POST endpoints that create",
              "post": "update: PUT, PATCH and POSTs that change a record", "delete": "delete: DELETE endpoints"}
    for macro in catalogue.MACROS:
        p = sub.add_parser(macro, help=titles[macro], formatter_class=argparse.RawDescriptionHelpFormatter,
                           description=f"Call one {macro.upper()} action once per row of a file.",
                           epilog=f"actions:\n{_action_list(macro)}")
        _add_run_options(p, macro)
    p = sub.add_parser("run-jobs", help="run a workflow or analytic app once per row and collect its outputs",
                       description="Queue one job per row (workflowId and answers), wait for every job, "
                                   "and write success and failure files (and the outputs).")
    p.add_argument("--input", "-i", required=True, metavar="FILE", help="a .csv, .xlsx or .parquet file")
    p.add_argument("--sheet", help="the Excel sheet to read (default: the first)")
    p.add_argument("--output", "-o", metavar="FILE", help="where results go (as for the other commands)")
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
    p.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    _add_connection_options(p)
    p = sub.add_parser("deploy", help="publish a folder of .yxzp files: new workflows, new versions, or nothing",
                       description="For each .yxzp in FOLDER: publish it if the Server has no workflow of that "
                                   "name for the owner, add a version if its content changed, do nothing if not.")
    p.add_argument("folder", metavar="FOLDER", help="a folder of .yxzp files (a git checkout, typically)")
    p.add_argument("--owner", required=True, help="the owner's email or user id")
    p.add_argument("--dry-run", action="store_true", help="show the plan: created, new version, unchanged")
    p.add_argument("--no-recursive", action="store_true", help="only the folder itself, not its subfolders")
    p.add_argument("--manifest", default="axframe-deploy.json",
                   help="an optional JSON file in the folder mapping files to names or workflow ids")
    p.add_argument("--collection", action="append", help="add new workflows to this collection (repeatable)")
    p.add_argument("--public", action="store_true", help="publish new workflows as public")
    p.add_argument("--worker-tag", default="", help="the worker tag of new workflows")
    p.add_argument("--comments", default=None, help="version comments")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="where the report goes, outside FOLDER (default: FOLDER.deploy.xlsx beside the folder)")
    p.add_argument("--workers", type=int, default=None, help="files handled at once (default 4)")
    p.add_argument("--journal", metavar="FILE",
                   help="record each file's steps; re-running with the same journal publishes nothing twice")
    p.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    _add_connection_options(p)
    p = sub.add_parser("actions", help="list the actions (the catalogue) as a table")
    p.add_argument("filter", nargs="?", help="text to look for in names, paths and descriptions, or one action name")
    p.add_argument("--macro", choices=catalogue.MACROS, help="only one macro's actions")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="a table to read (default), or CSV or JSON to process")
    p = sub.add_parser("emulator", help="run a local emulated Server in the foreground")
    p.add_argument("--port", type=int, default=8080, help="the loopback port to listen on (default 8080; 0: any free)")
    p.add_argument("--seed", default="default", help="'default', 'empty' or a JSON/YAML seed file")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
    p.add_argument("--job-slots", type=int, default=None, help="jobs that run at once (default 4)")
    p.add_argument("--admin-paging", metavar="MODE", default=None,  # checked by the emulator's own parser
                   help="how the paged Admin listings count pages: one-based (default), zero-based or "
                        "one-based-lenient")
    p.add_argument("--json", action="store_true", help="print the URL and keys as one JSON line")
    p = sub.add_parser("demo", help="a bulk change from the sample data against an in-process emulator")
    p.add_argument("--output-dir", default="axframe-demo", help="where inputs and results go (default ./axframe-demo)")
    p.add_argument("--workers", type=int, default=8)
    return parser


# --------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------


def read_env_file(path: str) -> dict[str, str]:
    """The ``KEY=VALUE`` lines of a .env file (see :func:`axframe.client.load_env_file`)."""
    from .client import load_env_file
    from .errors import ConfigurationError

    try:
        return load_env_file(path)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    env = {k: os.environ[k] for k in ENV_KEYS if os.environ.get(k)}
    if args.env_file:
        from_file = read_env_file(args.env_file)
        env = {**{k: v for k, v in from_file.items() if k in ENV_KEYS}, **env}
    base_url = args.base_url or env.get("AXFRAME_BASE_URL")
    client_id = args.client_id or env.get("AXFRAME_CLIENT_ID")
    secret = env.get("AXFRAME_CLIENT_SECRET")
    if not base_url:
        raise UsageError("no Server address: use --base-url or set AXFRAME_BASE_URL")
    if not client_id:
        raise UsageError("no API key: use --client-id or set AXFRAME_CLIENT_ID")
    if not secret:
        if sys.stdin.isatty():
            secret = getpass.getpass("API secret (not echoed): ")
        if not secret:
            raise UsageError("no API secret: set AXFRAME_CLIENT_SECRET (or put it in a .env file and pass "
                             "--env-file); it is never taken as an option, so it stays out of your shell history")
    return {"base_url": base_url, "client_id": client_id, "client_secret": secret,
            "ca_bundle": args.ca_bundle or env.get("AXFRAME_CA_BUNDLE")}


def _connect(args: argparse.Namespace, workers: Any = None):
    from .client import DEFAULT_TIMEOUT, authenticate

    settings = _settings(args)
    timeout = (DEFAULT_TIMEOUT[0], args.timeout) if args.timeout else DEFAULT_TIMEOUT
    return authenticate(settings["base_url"], settings["client_id"], settings["client_secret"], legacy=args.legacy,
                        verify=False if args.insecure else None, ca_bundle=settings["ca_bundle"], timeout=timeout,
                        max_per_second=getattr(args, "max_per_second", None))


def _dry_run_connection(args: argparse.Namespace):
    """A dry run sends nothing, not even a token request: URLs only, keys not needed."""
    from .client import Connection

    env = dict(read_env_file(args.env_file)) if args.env_file else {}
    base_url = args.base_url or os.environ.get("AXFRAME_BASE_URL") or env.get("AXFRAME_BASE_URL") \
        or "https://alteryx.example.com/webapi"
    return Connection(base_url, "dry-run-key", "dry-run-secret", legacy=args.legacy)


def _workers(value: str | None) -> int | str | None:
    if value is None or value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"--workers takes a number or 'auto', not {value!r}") from None
    if number < 1:
        raise UsageError("--workers must be at least 1")
    return number


def default_output(input_path: Path | None, *, sheet: str | None = None, dry_run: bool = False,
                   action: str = "results") -> Path:
    """Where results go when ``--output`` is not given: beside the input, named after it.

    ``NAME.results.xlsx`` for an Excel input, ``NAME.success/.failure.EXT`` otherwise; the sheet's
    name joins NAME when ``--sheet`` is given (two sheets of one workbook never share results), and a
    dry run writes ``NAME.dry-run...`` (a plan never replaces the results of a real run).  Without an
    input file: ``ACTION.success.csv`` in the current folder.
    """
    if input_path is None:
        base, ext = Path(action), ".csv"
    else:
        base, ext = input_path.with_suffix(""), input_path.suffix.lower()
    name = base.name + (f".{_safe_part(sheet)}" if sheet else "") + (".dry-run" if dry_run else "")
    if ext in (".xlsx", ".xlsm"):
        return base.with_name(f"{name}.results.xlsx")
    return base.with_name(name + ext)


def _safe_part(text: str) -> str:
    """*text* fit to stand in a file name."""
    return "".join(c if c.isalnum() or c in "-_ " else "_" for c in str(text)).strip() or "sheet"


# --------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------


class _Lines:
    """Plain progress lines when stderr is not a terminal (CI logs, scheduled tasks).

    Passed as ``on_row=``, it is called once per row sent; rows refused before
    sending or taken from a journal never reach it, so it counts only what it
    sees: a line every *every* seconds while rows end, and :meth:`close`
    prints the final count.
    """

    def __init__(self, label: str, every: float = 5.0):
        self.label, self.every = label, every
        self.done = 0
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def __call__(self, pos: int, row: Any) -> None:
        with self.lock:
            self.done += 1
            now = time.monotonic()
            if now - self.last >= self.every:
                self.last = now
                self._print(f"{self.done} {'row' if self.done == 1 else 'rows'} done so far")

    def close(self) -> None:
        """The last line: how many rows were sent and ended."""
        with self.lock:
            self._print(f"{self.done} {'row' if self.done == 1 else 'rows'} done")

    def _print(self, text: str) -> None:
        print(f"{self.label}: {text}", file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from .engine.run import RunOptions
    from .errors import UnknownActionError, WrongMacroError
    from .io import check_output_path, results_paths, write_frame, write_results
    from .macros import run_action

    macro = args.command
    try:
        endpoint = catalogue.find(args.action, macro)
    except (UnknownActionError, WrongMacroError) as exc:
        raise UsageError(exc.for_files()) from None
    input_path = Path(args.input).expanduser() if args.input else None
    frame = _action_frame(args, endpoint, input_path)
    workers = _workers(args.workers)
    output = Path(args.output).expanduser() if args.output else \
        default_output(input_path, sheet=args.sheet, dry_run=args.dry_run, action=endpoint.name)
    results_paths(output, input_path=input_path)  # a bad --output is refused before anything is sent
    expand = Path(args.expand).expanduser() if macro == "get" and getattr(args, "expand", None) and not args.dry_run \
        else None
    if expand is not None:
        check_output_path(expand)
    conn = _dry_run_connection(args) if args.dry_run else _connect(args)
    interactive = sys.stderr.isatty() if args.progress is None else args.progress
    lines = None if interactive or args.dry_run else _Lines(endpoint.name)
    options: dict[str, Any] = {"contract_columns": args.contract_columns, "dry_run": args.dry_run,
                               "options": RunOptions(workers, interactive, args.journal, lines),
                               **_macro_options(args, macro)}
    try:
        result = run_action(conn, endpoint, frame, macro=macro, **options)
    finally:
        conn.close()
    if lines is not None:
        lines.close()
    if args.dry_run:
        _show_plan(result.success, out)
    paths = write_results(result, output, input_path=input_path)
    if expand is not None:
        paths.append(write_frame(result.expand(), expand))
    return _report(result, paths, out)


def _action_frame(args: argparse.Namespace, endpoint: catalogue.Endpoint, input_path: Path | None) -> Any:
    """The rows to send: the input file's, or one row for an action that needs no values; checked as a whole."""
    import pandas as pd

    from . import frames
    from .errors import FrameError
    from .io import read_frame

    if input_path is None:
        if endpoint.path_params or any(p.required for p in endpoint.query_params) or endpoint.body_kind() != "none":
            raise UsageError(f"{endpoint.name} needs values from a file: give --input FILE (one row per call); "
                             f"see: axframe actions {endpoint.name}")
        frame = pd.DataFrame({frames.RECORD_ID: [1]})  # one call, as for a listing
    else:
        frame = read_frame(input_path, sheet=args.sheet)
    try:  # problems of the frame as a whole are reported before anything is sent, a token request included
        checked = frames.prepare_input(frame)
        frames.contract_columns_for(endpoint, list(checked.columns), args.contract_columns)
    except FrameError as exc:
        raise UsageError(f"{input_path}: {exc.for_files()}" if input_path else str(exc)) from None
    return frame


def _macro_options(args: argparse.Namespace, macro: str) -> dict[str, Any]:
    """The options only some macros take."""
    options: dict[str, Any] = {}
    if macro in ("create", "post"):
        options["file_column"] = args.file_column
    if macro == "post":
        options["merge"] = not args.no_merge
    if macro == "get":
        options["download_dir"] = args.download_dir
    return options


def _show_plan(plan: Any, out: Callable[[str], None], limit: int = 20) -> None:
    """A dry run's calls, one line per row (the first *limit*; all are in the output file)."""
    for record in plan.head(limit).to_dict("records"):
        body = str(record.get("Body") or "")
        body = body if len(body) <= 160 else body[:157] + "..."
        out(f"  {record['RecordID']}: {record['Method']} {record['URL']}" + (f"  {body}" if body else ""))
    if len(plan) > limit:
        out(f"  ... and {len(plan) - limit} more (see the output file)")


def _report(result: Any, paths: list[Path], out: Callable[[str], None]) -> int:
    """The closing summary: rows, succeeded, failed, elapsed, error types, where the outputs went."""
    s = result.summary
    out(f"{s.action}: {s.rows} rows, {s.succeeded} {'would be sent' if s.dry_run else 'succeeded'}, "
        f"{s.failed} failed, {s.elapsed:.1f} s" + (f" ({s.from_journal} from the journal)" if s.from_journal else ""))
    for kind, count in sorted(s.error_types.items()):
        out(f"  {count} x {kind}")
    for path in paths:
        out(f"  wrote {path}")
    return EXIT_OK if s.failed == 0 else EXIT_ROWS_FAILED


def cmd_run_jobs(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from .io import check_output_path, read_frame, results_paths, write_frame, write_results
    from .jobs import DEFAULT_JOB_TIMEOUT, DEFAULT_MAX_QUEUED, run_jobs

    from . import frames
    from .errors import FrameError

    input_path = Path(args.input).expanduser()
    frame = read_frame(input_path, sheet=args.sheet)
    try:  # a frame that cannot be used at all is refused before connecting: nothing is sent
        frames.prepare_input(frame)
    except FrameError as exc:
        raise UsageError(f"{input_path}: {exc.for_files()}") from None
    output = Path(args.output).expanduser() if args.output else default_output(input_path, sheet=args.sheet)
    results_paths(output, input_path=input_path)  # a bad --output is refused before any job is queued
    if args.outputs:
        check_output_path(_outputs_path(output))
    job_timeout = _job_timeout(args.job_timeout, DEFAULT_JOB_TIMEOUT)
    conn = _connect(args)
    interactive = sys.stderr.isatty() if args.progress is None else args.progress
    lines = None if interactive else _Lines("run-jobs")
    try:
        result = run_jobs(conn, frame, api=args.api, question_columns=args.question_columns,
                          files=[] if args.no_uploads else args.files if args.files is not None else "auto",
                          files_root=Path(args.files_root).expanduser() if args.files_root else input_path.parent,
                          outputs=args.outputs, output_folder=args.output_folder,
                          max_queued=args.max_queued or DEFAULT_MAX_QUEUED, job_timeout=job_timeout,
                          cancel_on_timeout=not args.keep_running, warnings_fail=args.warnings_fail,
                          max_workers=args.workers, progress=interactive, infer_types=args.infer_types,
                          journal=args.journal, on_row=lines)
    finally:
        conn.close()
    if lines is not None:
        lines.close()
    paths = write_results(result, output, input_path=input_path)
    if result.outputs is not None:
        paths.append(write_frame(result.outputs, _outputs_path(output)))
    return _report(result, paths, out)


def _job_timeout(value: float | None, default: float) -> float | None:
    """``--job-timeout``: the default when not given, None (no per-job timeout) for 0."""
    if value is None:
        return default
    if value != value or value < 0:  # NaN too
        raise UsageError(f"--job-timeout takes seconds (0 for no per-job timeout), not {value:g}")
    return None if value == 0 else value


def _outputs_path(output: Path) -> Path:
    """Where run-jobs writes the gathered job outputs: beside the results."""
    stem = output.name[: -len(output.suffix)] if output.suffix else output.name
    return output.with_name(f"{stem}.outputs{'.xlsx' if output.suffix.lower() == '.xlsx' else '.csv'}")


def cmd_deploy(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from .io import results_paths, write_results
    from .admin import deploy

    folder = Path(args.folder).expanduser()
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    output = _deploy_report(folder, args.output)
    results_paths(output)  # a bad --output is refused before anything is sent
    conn = _connect(args)
    interactive = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        result = deploy(conn, folder, owner=args.owner, recursive=not args.no_recursive, manifest=args.manifest,
                        dry_run=args.dry_run, collections=args.collection or None, is_public=args.public,
                        worker_tag=args.worker_tag, comments=args.comments, max_workers=args.workers,
                        progress=interactive, journal=args.journal)
    finally:
        conn.close()
    import pandas as pd

    frame = pd.concat([result.success, result.failure], ignore_index=True)
    for row in frame.itertuples(index=False):
        line = f"  {getattr(row, 'Action', ''):<12} {getattr(row, 'Path', '')}"
        error = getattr(row, "Error", None)
        out(line + (f"  ({error})" if isinstance(error, str) and error else ""))
    return _report(result, write_results(result, output), out)


def _deploy_report(folder: Path, output: str | None) -> Path:
    """Where deploy's report goes: never inside the folder it deploys (a git checkout, typically).

    The default is ``<parent>/<folder name>.deploy.xlsx``, beside the folder.
    """
    root = folder.resolve()
    if output is None:
        report = root.parent / f"{root.name or 'deploy'}.deploy.xlsx"
        if report.resolve().is_relative_to(root):  # the folder is the file system's root
            raise UsageError(f"{folder} has no folder beside it for the report; give --output FILE")
        return report
    report = Path(output).expanduser()
    if report.resolve().is_relative_to(root):
        raise UsageError(f"--output {output} is inside {folder}, the folder being deployed, and deploy never "
                         "writes into it; write the report outside the folder")
    return report


def cmd_actions(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from .errors import UnknownActionError
    from .macros import actions

    if args.filter:
        try:
            ep = catalogue.find(args.filter)
        except UnknownActionError:
            ep = None
        if ep is not None:
            out(describe_action(ep))
            return EXIT_OK
    frame = actions(args.filter, macro=args.macro)
    if frame.empty:
        import difflib

        names = [ep.name for ep in catalogue.endpoints()]
        near = difflib.get_close_matches(str(args.filter), names, n=4, cutoff=0.5) if args.filter else []
        raise UsageError(f"no action matches {args.filter!r}" + (f"; did you mean {', '.join(near)}?" if near else
                                                                 "; 'axframe actions' lists them all"))
    if args.format == "csv":
        out(frame.to_csv(index=False).rstrip("\n"))
    elif args.format == "json":
        out(frame.to_json(orient="records", indent=1))
    else:
        for row in frame.itertuples(index=False):
            out(f"{row.function[3:]:<7} {row.name:<42} {row.method:<6} {row.path}")
        out(f"({len(frame)} actions; 'axframe actions NAME' shows one in full)")
    return EXIT_OK


def describe_action(ep: catalogue.Endpoint) -> str:
    """One action in full: how to call it, its columns and its body."""
    from . import schemas

    lines = [f"{ep.name}: {ep.doc}", f"  axframe {ep.macro} {ep.name} --input FILE",
             f"  {ep.method} {ep.path}" + (f"   (operationId {ep.operation_id})" if ep.operation_id else "")]
    if ep.curator_only:
        lines.append("  needs a Curator's API key")
    for p in ep.path_params:
        lines.append(f"  column {p.name}: the id in the path (required)")
    for p in ep.query_params:
        extra = f", one of {', '.join(p.enum)}" if p.enum else ""
        lines.append(f"  column {p.name}: query parameter ({p.type}{extra}){' (required)' if p.required else ''}")
    schema = ep.contract_schema()
    if ep.multipart:
        lines.append("  column file: the local path of the file to upload")
    if schema is not None:
        resolved = schemas.resolve(schema)
        kind = ep.body_kind()
        if kind in ("array", "string"):
            lines.append(f"  contract: a JSON {kind} ({ep.body_name})")
        else:
            lines += _body_lines(resolved, "")
            example = schemas.example(schema)
            import json

            lines.append(f"  minimal contract: {json.dumps(example)}")
    return "\n".join(lines)


def _body_lines(schema: dict, prefix: str, depth: int = 0) -> list[str]:
    """``body NAME: type`` lines, with the fields of nested objects under their dotted names (the
    column names that build them: ``collectionsPermissions.isAdmin``)."""
    from . import schemas

    lines = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        prop = schemas.resolve(prop)
        kind = prop.get("type", "object")
        enum = f", one of {', '.join(map(str, prop['enum']))}" if "enum" in prop else ""
        lines.append(f"  body {prefix}{name}: {kind}{enum}{' (required)' if name in required else ''}")
        if kind == "object" and prop.get("properties") and depth < 3:
            lines += _body_lines(prop, f"{prefix}{name}.", depth + 1)
    return lines


def cmd_emulator(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from .emulator.__main__ import main as emulator_main

    argv = ["--port", str(args.port), "--seed", args.seed, "--latency", str(args.latency)]
    if args.job_slots:
        argv += ["--job-slots", str(args.job_slots)]
    if args.admin_paging:
        argv += ["--admin-paging", args.admin_paging]
    if args.json:
        argv.append("--json")
    return emulator_main(argv)


def cmd_demo(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from .demo import run_demo

    return run_demo(Path(args.output_dir), workers=args.workers, out=out)


COMMANDS: dict[str, Callable[[argparse.Namespace, Callable[[str], None]], int]] = {
    "get": cmd_run, "create": cmd_run, "post": cmd_run, "delete": cmd_run,
    "run-jobs": cmd_run_jobs, "deploy": cmd_deploy, "actions": cmd_actions, "emulator": cmd_emulator, "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    from .errors import AxframeError

    def out(text: str) -> None:
        print(text, flush=True)

    try:
        return COMMANDS[args.command](args, out)
    except UsageError as exc:
        print(f"axframe: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AxframeError as exc:
        from .client.secrets import redact

        print(f"axframe: error: {redact(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("axframe: interrupted; finished rows are in the journal, if you gave one", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
