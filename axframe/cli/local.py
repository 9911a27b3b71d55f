"""``axframe emulator`` and ``axframe demo``: a Server of one's own, and a bulk change against it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import Out

__all__ = ["add_commands", "cmd_emulator", "cmd_demo"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("emulator", help="run a local emulated Server in the foreground")
    p.add_argument("--port", type=int, default=8080, help="the loopback port to listen on (default 8080; 0: any free)")
    p.add_argument("--seed", default="default", help="'default', 'empty' or a JSON/YAML seed file")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
    p.add_argument("--job-slots", type=int, default=None, help="jobs that run at once (default 4)")
    p.add_argument("--admin-paging", metavar="MODE", default=None,  # checked by the emulator's own parser
                   help="how the paged Admin listings count pages: one-based (default), zero-based or "
                        "one-based-lenient")
    p.add_argument("--json", action="store_true", help="print the URL and keys as one JSON line")
    p.set_defaults(run=cmd_emulator)
    p = sub.add_parser("demo", help="a bulk change from the sample data against an in-process emulator")
    p.add_argument("--output-dir", default="axframe-demo", help="where inputs and results go (default ./axframe-demo)")
    p.add_argument("--workers", type=int, default=8)
    p.set_defaults(run=cmd_demo)


def cmd_emulator(args: argparse.Namespace, out: Out) -> int:
    from ..emulator.__main__ import main as emulator_main

    argv = ["--port", str(args.port), "--seed", args.seed, "--latency", str(args.latency)]
    if args.job_slots:
        argv += ["--job-slots", str(args.job_slots)]
    if args.admin_paging:
        argv += ["--admin-paging", args.admin_paging]
    if args.json:
        argv.append("--json")
    return emulator_main(argv)


def cmd_demo(args: argparse.Namespace, out: Out) -> int:
    from ..demo import run_demo

    return run_demo(Path(args.output_dir), workers=args.workers, out=out)

