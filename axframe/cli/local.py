"""``axframe emulator`` and ``axframe demo``: a Server of one's own, and a bulk change against it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import Out

__all__ = ["add_commands", "run_emulator", "cmd_demo"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("emulator", help="run a local emulated Server in the foreground (--help: its options)",
                       add_help=False)
    p.add_argument("options", nargs=argparse.REMAINDER, help="the options of python -m axframe.emulator")
    p.set_defaults(run=lambda args, out: run_emulator(args.options))
    p = sub.add_parser("demo", help="a bulk change from the sample data against an in-process emulator")
    p.add_argument("--output-dir", default="axframe-demo", help="where inputs and results go (default ./axframe-demo)")
    p.add_argument("--workers", type=int, default=8)
    p.set_defaults(run=cmd_demo)


def run_emulator(argv: list[str]) -> int:
    """``axframe emulator ARGS``: ``python -m axframe.emulator ARGS``, its options and help included."""
    from ..emulator.__main__ import build_parser, serve

    return serve(build_parser(prog="axframe emulator").parse_args(argv))


def cmd_demo(args: argparse.Namespace, out: Out) -> int:
    from ..demo import run_demo

    return run_demo(Path(args.output_dir), workers=args.workers, out=out)

