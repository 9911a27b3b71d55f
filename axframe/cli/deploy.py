"""``axframe deploy FOLDER``: a folder of packages published: created, a new version, or unchanged."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .common import (Out, add_connection_options, add_overwrite_option, add_progress_options, claim, connect,
                     count_tokens, interactive, report)

__all__ = ["add_commands", "cmd_deploy"]


def add_commands(sub: Any) -> None:
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
    add_overwrite_option(p)
    p.add_argument("--workers", type=int, default=None, help="files handled at once (default 4)")
    p.add_argument("--journal", metavar="FILE",
                   help="record each file's steps; re-running with the same journal publishes nothing twice")
    add_progress_options(p)
    add_connection_options(p)
    p.set_defaults(run=cmd_deploy)


def cmd_deploy(args: argparse.Namespace, out: Out) -> int:
    from ..admin import deploy
    from ..io import results_paths, write_results

    folder = Path(args.folder).expanduser()
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    output = _deploy_report(folder, args.output)
    claim(results_paths(output), args)  # a bad --output is refused before anything is sent
    conn = connect(args)
    shown = interactive(args)
    try:
        result = deploy(conn, folder, owner=args.owner, recursive=not args.no_recursive, manifest=args.manifest,
                        dry_run=args.dry_run, collections=args.collection or None, is_public=args.public,
                        worker_tag=args.worker_tag, comments=args.comments, max_workers=args.workers,
                        progress=shown, journal=args.journal)
    finally:
        conn.close()
    count_tokens(result, conn)
    import pandas as pd

    frame = pd.concat([result.success, result.failure], ignore_index=True)
    for row in frame.itertuples(index=False):
        line = f"  {getattr(row, 'Action', ''):<12} {getattr(row, 'Path', '')}"
        error = getattr(row, "Error", None)
        out(line + (f"  ({error})" if isinstance(error, str) and error else ""))
    return report(result, write_results(result, output), out)


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

