"""The ``axframe`` command: bulk changes from files, generated from the catalogue.

::

    axframe get|create|post|delete ACTION --input FILE [--output FILE] [...]
    axframe run-jobs --input FILE     one job per row, outputs collected
    axframe deploy FOLDER             publish a folder of packages: created, new version, unchanged
    axframe export FILE               the Server as a workbook of sheets that name each other
    axframe plan DESIRED              what it takes to make the Server look like DESIRED (a diff, a plan file)
    axframe apply PLAN                make the plan (or, with --yes, a desired workbook) true
    axframe diff A B                  two workbooks compared, offline, by name
    axframe actions [FILTER]          the catalogue as a table
    axframe emulator                  a local Server in the foreground
    axframe demo                      a bulk change against the emulator, end to end

Connection settings come from options or the ``AXFRAME_*`` environment
variables, and from a ``.env`` file with ``--env-file``.  The secret is never
an option (it would land in the shell's history): it comes from
``AXFRAME_CLIENT_SECRET``, the ``.env`` file, or a prompt at a terminal.

Exit codes: 0 every row succeeded; 1 some rows failed (the outputs are still
written); 2 a usage, file or connection error (nothing was sent); 130
interrupted.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Sequence

from .. import __version__
from ..errors import UsageError
from . import actions, calls, deploy, jobs, local, sync
from .common import EXIT_OK, EXIT_ROWS_FAILED, EXIT_USAGE, default_output, read_env_file
from .jobs import job_timeout as _job_timeout  # noqa: F401  (the name the tests knew)

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_ROWS_FAILED", "EXIT_USAGE", "default_output", "read_env_file"]

COMMAND_MODULES = (calls, jobs, deploy, sync, actions, local)


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
    for module in COMMAND_MODULES:
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["emulator"]:  # the emulator's own options, parsed by the emulator (one list, never two)
        return local.run_emulator(given[1:])
    parser = build_parser()
    args = parser.parse_args(given)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    from ..errors import AxframeError

    def out(text: str) -> None:
        print(text, flush=True)

    try:
        return args.run(args, out)
    except UsageError as exc:
        print(f"axframe: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AxframeError as exc:
        from ..client.secrets import redact

        print(f"axframe: error: {redact(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"axframe: interrupted; {interrupted_advice(getattr(args, 'journal', None))}", file=sys.stderr)
        return 130


def interrupted_advice(journal: str | None) -> str:
    """What an interrupted run leaves, and how to go on: resume from its journal, or check before a rerun."""
    if journal:
        return (f"the rows that ended are in the journal {journal}: run the same command again to resume "
                f"(rows already done are not sent again)")
    return ("no --journal was given, so nothing records which rows ended: check the Server before running "
            "the same rows again, and give --journal FILE to make a run resumable")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
