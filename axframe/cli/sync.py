"""``axframe export|plan|apply|diff``: the Server as a workbook, and a desired workbook made true.

::

    axframe export prod.xlsx                   the Server as a workbook (or a folder: --format csv)
    axframe plan desired.xlsx                  what it takes; the diff printed, the plan written beside it
    axframe apply desired.plan.xlsx            the plan made, each change as planned or not at all
    axframe apply desired.xlsx --yes           plan and apply in one go
    axframe diff dev.xlsx prod.xlsx            two workbooks compared, offline, by name

A desired workbook is a ``.xlsx`` file, a folder of CSV or Parquet files named
after the sheets, or one such file (``Users.csv``): any subset of the sheets
and columns ``axframe export`` writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .common import (EXIT_OK, EXIT_ROWS_FAILED, Out, add_connection_options, add_overwrite_option,
                     add_progress_options, claim, connect, count_tokens, interactive, report)

__all__ = ["add_commands", "cmd_export", "cmd_plan", "cmd_apply", "cmd_diff"]

SHOWN = 200  # lines of a diff printed; the whole plan is in its file


def add_commands(sub: Any) -> None:
    p = sub.add_parser("export", help="the Server as a workbook of sheets that name each other (never by id)",
                       description="Read the Server (users, groups and members, collections and their shares, "
                                   "workflows, schedules, credentials, data connections) into one workbook.")
    p.add_argument("path", metavar="FILE", help="a .xlsx file, or a folder with --format csv or parquet")
    p.add_argument("--format", choices=("xlsx", "csv", "parquet"), default=None,
                   help="how FILE is written (default: from its suffix)")
    _run_options(p)
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("plan", help="what it takes to make the Server look like a desired workbook",
                       description="Compare a desired workbook with the Server, by name; print the changes as a "
                                   "diff and write the plan, to read, edit and apply.")
    p.add_argument("desired", metavar="DESIRED", help="a .xlsx workbook, a folder of sheet files, or one sheet file")
    p.add_argument("--output", "-o", metavar="FILE", help="where the plan goes (default: DESIRED.plan.xlsx beside it)")
    _plan_options(p)
    p.add_argument("--check", action="store_true", help="exit 1 when there is anything to change (for CI)")
    p.add_argument("--all", action="store_true", help="also print what is unchanged")
    _run_options(p)
    p.set_defaults(run=cmd_plan)

    p = sub.add_parser("apply", help="make a plan (or a desired workbook) true on the Server",
                       description="Apply a plan file written by 'axframe plan', or plan a desired workbook and "
                                   "apply it (asking first, unless --yes). A change whose target changed since the "
                                   "plan is not sent (ChangedSincePlan).")
    p.add_argument("plan", metavar="PLAN", help="a plan file, or a desired workbook")
    p.add_argument("--output", "-o", metavar="FILE", help="where the results go (default: PLAN.results.xlsx)")
    p.add_argument("--yes", "-y", action="store_true", help="apply a desired workbook without asking")
    p.add_argument("--journal", metavar="FILE",
                   help="record each change's steps; applying again with the same journal resumes it")
    _plan_options(p)
    _run_options(p)
    p.set_defaults(run=cmd_apply)

    p = sub.add_parser("diff", help="two workbooks compared, by name (two exports: dev and prod, say)",
                       description="What differs between workbook A and workbook B, offline: '+' only in B, "
                                   "'-' only in A, '~' in both with other values (the plan that would make A "
                                   "look like B).")
    p.add_argument("a", metavar="A", help="a workbook (.xlsx, a folder of sheet files, or one sheet file)")
    p.add_argument("b", metavar="B", help="the workbook to compare it with")
    p.add_argument("--output", "-o", metavar="FILE", help="also write the differences to FILE")
    p.add_argument("--check", action="store_true", help="exit 1 when the two differ (for CI)")
    p.add_argument("--all", action="store_true", help="also print what is the same")
    add_overwrite_option(p)
    p.set_defaults(run=cmd_diff)


def _plan_options(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("what a plan may do")
    group.add_argument("--prune", action="store_true",
                       help="remove what the Server has and a given sheet does not (off: nothing is removed)")
    group.add_argument("--delete-users", action="store_true",
                       help="with --prune, delete users not in the Users sheet (default: deactivate them)")
    group.add_argument("--transfer-to", metavar="EMAIL",
                       help="who receives a deleted user's workflows, schedules and collections")
    group.add_argument("--me", metavar="EMAIL",
                       help="your own email: your account is never changed (without it, no Curator is removed, "
                            "deactivated or demoted)")
    group.add_argument("--max-prune", type=float, default=0.25, metavar="SHARE",
                       help="the share of a sheet's records a prune may remove before the plan is blocked "
                            "(default 0.25)")
    group.add_argument("--force", action="store_true", help="make (or apply) a plan over --max-prune all the same")


def _run_options(p: argparse.ArgumentParser) -> None:
    add_overwrite_option(p)
    p.add_argument("--workers", default=None, help="calls in flight at once: a number or 'auto' (default 8)")
    add_progress_options(p)
    add_connection_options(p)


def _workers(args: argparse.Namespace) -> Any:
    from .common import workers_option

    return workers_option(args.workers)


# ------------------------------------------------------------------ workbooks and plans as files


def _sheet_of(path: Path) -> str | None:
    """The sheet a single file stands for (``Users.csv``: Users), if its name is one."""
    from ..sync.sheets import sheet

    spec = sheet(path.stem)
    return spec.name if spec is not None else None


def _desired(path: Path) -> dict:
    """A desired workbook: a workbook, a folder of sheet files, or one sheet file."""
    from ..io import read_frame
    from ..sync import read_workbook

    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    name = _sheet_of(path) if path.is_file() else None
    if name is not None and path.suffix.lower() in (".csv", ".parquet"):
        return {name: read_frame(path)}
    return read_workbook(path)


def _is_plan(path: Path) -> bool:
    """Whether *path* is a plan written by ``axframe plan`` (else a desired workbook)."""
    from ..io import read_frame, sheet_names

    if not path.is_file() or _sheet_of(path) is not None:
        return False
    if path.suffix.lower() in (".xlsx", ".xlsm") and any(_sheet_of(Path(n)) for n in sheet_names(path)):
        return False
    return {"Sheet", "Action", "KeyJSON"} <= set(read_frame(path).columns)


def _beside(path: Path, what: str) -> Path:
    """``NAME.<what>.xlsx`` beside *path* (a file or a folder)."""
    stem = path.name if path.is_dir() else path.with_suffix("").name
    return path.resolve().parent / f"{stem}.{what}.xlsx"


def _show(plan: Any, out: Out, everything: bool, where: Path | None) -> None:
    lines = plan.diff(unchanged=everything).splitlines()
    body, tail = lines[:-1 - len(plan.blocked)], lines[len(lines) - 1 - len(plan.blocked):]
    for line in body[:SHOWN]:
        out(line)
    if len(body) > SHOWN:
        out(f"... and {len(body) - SHOWN} more" + (f" (all of them are in {where})" if where else ""))
    for line in tail:
        out(line)


def _plan_of(conn: Any, desired: dict, args: argparse.Namespace) -> Any:
    from ..sync import plan

    if args.delete_users and not args.prune:
        raise UsageError("--delete-users removes users only with --prune")
    return plan(conn, desired, prune=args.prune, delete_users=args.delete_users, transfer_to=args.transfer_to,
                me=args.me, max_prune=args.max_prune, force=args.force, max_workers=_workers(args),
                progress=interactive(args))


# ------------------------------------------------------------------ commands


def cmd_export(args: argparse.Namespace, out: Out) -> int:
    from ..sync import export
    from ..sync.sheets import SHEETS

    target = Path(args.path).expanduser()
    fmt = args.format or ("xlsx" if target.suffix.lower() == ".xlsx" else None)
    if fmt is None:
        raise UsageError(f"{target}: give a .xlsx file, or a folder with --format csv or --format parquet")
    if fmt != "xlsx" and target.suffix:
        raise UsageError(f"--format {fmt} writes a folder of files; give a folder name, not {target.name}")
    claim([target] if fmt == "xlsx" else [target / f"{s.name}.{fmt}" for s in SHEETS], args)
    conn = connect(args)
    try:
        book = export(conn, target, format=fmt, max_workers=_workers(args), progress=interactive(args))
    finally:
        conn.close()
    counts = ", ".join(f"{len(frame)} {name}" for name, frame in book.items() if len(frame))
    out(f"export: {counts or 'nothing'}")
    out(f"  wrote {target}")
    return EXIT_OK


def cmd_plan(args: argparse.Namespace, out: Out) -> int:
    from ..io import check_output_path, write_frame

    source = Path(args.desired).expanduser()
    desired = _desired(source)
    target = Path(args.output).expanduser() if args.output else _beside(source, "plan")
    claim([check_output_path(target)], args)
    conn = connect(args)
    try:
        made = _plan_of(conn, desired, args)
    finally:
        conn.close()
    write_frame(made.frame, target, **({"sheet": "Plan"} if target.suffix.lower() == ".xlsx" else {}))
    _show(made, out, args.all, target)
    out(f"  wrote {target}" + ("" if not made.pending else f"; apply it with: axframe apply {_quoted(target)}"))
    return EXIT_ROWS_FAILED if args.check and made.pending else EXIT_OK


def cmd_apply(args: argparse.Namespace, out: Out) -> int:
    from ..io import read_frame, results_paths, write_results
    from ..sync import Plan, apply

    source = Path(args.plan).expanduser()
    if not source.exists():
        raise UsageError(f"no such file or folder: {source}")
    is_plan = _is_plan(source)
    output = Path(args.output).expanduser() if args.output else _beside(source, "results")
    claim(results_paths(output, input_path=source if source.is_file() else None), args)
    if not is_plan and not args.yes and not sys.stdin.isatty():
        raise UsageError(f"{source} is a desired workbook, not a plan: give --yes to plan and apply it at once, "
                         f"or plan first (axframe plan {_quoted(source)}), read the plan, then apply that")
    conn = connect(args)
    try:
        if is_plan:
            made = Plan.read(read_frame(source))
        else:
            made = _plan_of(conn, _desired(source), args)
            _show(made, out, False, None)
            if not made.pending:
                out("nothing to change")
                return EXIT_OK
            if not args.yes and input(f"apply these {made.pending} changes? [y/N] ").strip().lower() not in ("y",
                                                                                                          "yes"):
                out("nothing applied")
                return EXIT_OK
        result = apply(conn, made, force=args.force, journal=args.journal, max_workers=_workers(args),
                       progress=interactive(args))
    finally:
        conn.close()
    count_tokens(result, conn)
    return report(result, write_results(result, output, input_path=source if source.is_file() else None), out)


def cmd_diff(args: argparse.Namespace, out: Out) -> int:
    from ..io import check_output_path, write_frame
    from ..sync import diff

    target = Path(args.output).expanduser() if args.output else None
    if target is not None:
        claim([check_output_path(target)], args)
    made = diff(_desired(Path(args.a).expanduser()), _desired(Path(args.b).expanduser()))
    _show(made, out, args.all, target)
    if target is not None:
        write_frame(made.frame, target)
        out(f"  wrote {target}")
    return EXIT_ROWS_FAILED if args.check and made.pending else EXIT_OK


def _quoted(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))
