"""``axframe get|create|post|delete ACTION``: one call per row of a file (the five macros' four verbs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import catalogue
from ..errors import UsageError
from .common import (Lines, Out, add_connection_options, add_overwrite_option, add_progress_options, claim, connect,
                     count_tokens, default_output, dry_run_connection, interactive, placeholder_note, report,
                     workers_option)

__all__ = ["add_commands", "cmd_run"]

TITLES = {"get": "read: GET endpoints", "create": "create records: POST endpoints that create",
          "post": "update: PUT, PATCH and POSTs that change a record", "delete": "delete: DELETE endpoints"}


def add_commands(sub: Any) -> None:
    for macro in catalogue.MACROS:
        p = sub.add_parser(macro, help=TITLES[macro], formatter_class=argparse.RawDescriptionHelpFormatter,
                           description=f"Call one {macro.upper()} action once per row of a file.",
                           epilog=f"actions:\n{_action_list(macro)}")
        _add_run_options(p, macro)
        p.set_defaults(run=cmd_run)


def _action_list(macro: str, width: int = 100) -> str:
    lines = []
    for ep in catalogue.endpoints(macro):
        lines.append(f"  {ep.name:<40} {ep.doc}"[:width])
    return "\n".join(lines)


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
    add_overwrite_option(parser)
    parser.add_argument("--contract-columns", nargs="+", metavar="COLUMN",
                        help="build the body from these columns (dotted names nest) instead of a 'contract' column")
    parser.add_argument("--workers", default=None, help="calls in flight at once: a number or 'auto' (default 8)")
    parser.add_argument("--max-per-second", type=float, default=None, help="cap the calls per second")
    parser.add_argument("--dry-run", action="store_true", help="send nothing; show each row's method, URL and body")
    parser.add_argument("--journal", metavar="FILE",
                        help="record finished rows; re-running with the same journal sends only unfinished rows")
    add_progress_options(parser)
    if macro in ("create", "post"):
        parser.add_argument("--file-column", default="file", help="the column of file paths for uploads")
    if macro == "post":
        parser.add_argument("--no-merge", action="store_true",
                            help="send partial updates as they are instead of merging them into the current record")
    if macro == "get":
        parser.add_argument("--download-dir", help="where downloads are saved (default ./axframe-downloads)")
        parser.add_argument("--expand", metavar="FILE",
                            help="also write the JSON answers expanded into rows (one per returned object) to FILE")
    add_connection_options(parser)


def cmd_run(args: argparse.Namespace, out: Out) -> int:
    from ..engine.run import RunOptions
    from ..errors import UnknownActionError, WrongMacroError
    from ..io import check_output_path, results_paths, write_frame, write_results
    from ..macros import run_action

    macro = args.command
    try:
        endpoint = catalogue.find(args.action, macro)
    except (UnknownActionError, WrongMacroError) as exc:
        raise UsageError(exc.for_files()) from None
    input_path = Path(args.input).expanduser() if args.input else None
    frame = _action_frame(args, endpoint, input_path)
    workers = workers_option(args.workers)
    output = Path(args.output).expanduser() if args.output else \
        default_output(input_path, sheet=args.sheet, dry_run=args.dry_run, action=endpoint.name)
    claim(results_paths(output, input_path=input_path), args)  # a bad --output is refused before anything is sent
    expand = Path(args.expand).expanduser() if macro == "get" and getattr(args, "expand", None) and not args.dry_run \
        else None
    if expand is not None:
        claim([check_output_path(expand)], args)
    conn = dry_run_connection(args) if args.dry_run else connect(args)
    shown = interactive(args)
    lines = None if shown or args.dry_run else Lines(endpoint.name)
    options: dict[str, Any] = {"contract_columns": args.contract_columns, "dry_run": args.dry_run,
                               "options": RunOptions(workers, shown, args.journal, lines),
                               **_macro_options(args, macro)}
    try:
        result = run_action(conn, endpoint, frame, macro=macro, **options)
    finally:
        conn.close()
    count_tokens(result, conn)
    if lines is not None:
        lines.close(result.summary)
    if args.dry_run:
        _show_plan(result.success, out)
        note = placeholder_note(conn)
        if note:
            out(note)
    paths = write_results(result, output, input_path=input_path)
    if expand is not None:
        paths.append(write_frame(result.expand(), expand))
    return report(result, paths, out)


def _action_frame(args: argparse.Namespace, endpoint: catalogue.Endpoint, input_path: Path | None) -> Any:
    """The rows to send: the input file's, or one row for an action that needs no values; checked as a whole."""
    import pandas as pd

    from .. import frames
    from ..errors import FrameError
    from ..io import read_frame

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


def _show_plan(plan: Any, out: Out, limit: int = 20) -> None:
    """A dry run's calls, one line per row (the first *limit*; all are in the output file)."""
    for record in plan.head(limit).to_dict("records"):
        body = str(record.get("Body") or "")
        body = body if len(body) <= 160 else body[:157] + "..."
        out(f"  {record['RecordID']}: {record['Method']} {record['URL']}" + (f"  {body}" if body else ""))
    if len(plan) > limit:
        out(f"  ... and {len(plan) - limit} more (see the output file)")
