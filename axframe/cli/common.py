"""What the commands share: connection settings, where results go, progress lines, the closing summary."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..errors import UsageError

__all__ = ["EXIT_OK", "EXIT_ROWS_FAILED", "EXIT_USAGE", "ENV_KEYS", "Out", "add_connection_options",
           "add_progress_options", "read_env_file", "settings", "connect", "dry_run_connection", "workers_option",
           "default_output", "safe_part", "Lines", "report", "interactive", "add_overwrite_option", "claim"]

EXIT_OK, EXIT_ROWS_FAILED, EXIT_USAGE = 0, 1, 2
ENV_KEYS = ("AXFRAME_BASE_URL", "AXFRAME_CLIENT_ID", "AXFRAME_CLIENT_SECRET", "AXFRAME_CA_BUNDLE")
Out = Callable[[str], None]


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection (or set AXFRAME_BASE_URL, AXFRAME_CLIENT_ID, AXFRAME_CLIENT_SECRET)")
    group.add_argument("--base-url", help="the Server's Web API address, e.g. https://alteryx.example.com/webapi")
    group.add_argument("--client-id", help="your API access key (My Profile > Keys)")
    group.add_argument("--env-file", nargs="?", const=".env", default=None, metavar="FILE",
                       help="read AXFRAME_* settings from a .env file (default: ./.env)")
    group.add_argument("--legacy", action="store_true", help="sign with OAuth1 (Servers before 2022.1)")
    group.add_argument("--insecure", action="store_true", help="do not check the TLS certificate (not advised)")
    group.add_argument("--ca-bundle", help="a CA bundle file for a private certificate authority")
    group.add_argument("--timeout", type=float, default=None, help="seconds to wait for each answer (default 300)")



def add_progress_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")


def add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true",
                        help="replace output files that exist (without it, a command that would replace one stops "
                             "before it sends anything)")


def claim(paths: list[Path], args: argparse.Namespace) -> list[Path]:
    """*paths*, refused before anything is sent when one exists and ``--overwrite`` was not given.

    One rule for every output of every command (results, a dry run's plan, ``--expand``, job outputs, a
    report, an export, a plan file): what is there is never replaced unless asked.
    """
    existing = [p for p in paths if p.exists()]
    if existing and not getattr(args, "overwrite", False):
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UsageError(f"{existing[0]} exists{more}; give --overwrite to replace it, or --output another file "
                         "(nothing was sent)")
    return paths


def interactive(args: argparse.Namespace) -> bool:
    """Whether to draw a progress bar: at a terminal, unless ``--progress``/``--no-progress`` says."""
    return sys.stderr.isatty() if args.progress is None else bool(args.progress)


def read_env_file(path: str) -> dict[str, str]:
    """The ``KEY=VALUE`` lines of a .env file (see :func:`axframe.client.load_env_file`)."""
    from ..client import load_env_file
    from ..errors import ConfigurationError

    try:
        return load_env_file(path)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def settings(args: argparse.Namespace) -> dict[str, Any]:
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


def connect(args: argparse.Namespace, workers: Any = None):
    from ..client import DEFAULT_TIMEOUT, authenticate

    given = settings(args)
    timeout = (DEFAULT_TIMEOUT[0], args.timeout) if args.timeout else DEFAULT_TIMEOUT
    return authenticate(given["base_url"], given["client_id"], given["client_secret"], legacy=args.legacy,
                        verify=False if args.insecure else None, ca_bundle=given["ca_bundle"], timeout=timeout,
                        max_per_second=getattr(args, "max_per_second", None))


PLACEHOLDER_SERVER = "https://your-server"  # a dry run's URLs when no address is set: plainly not a real one


def dry_run_connection(args: argparse.Namespace):
    """A dry run sends nothing, not even a token request: URLs only, keys not needed.

    Without a Server address the URLs are shown on :data:`PLACEHOLDER_SERVER`, and
    :func:`placeholder_note` says so.
    """
    from ..client import Connection

    env = dict(read_env_file(args.env_file)) if args.env_file else {}
    base_url = args.base_url or os.environ.get("AXFRAME_BASE_URL") or env.get("AXFRAME_BASE_URL") \
        or PLACEHOLDER_SERVER + ("/gallery/api" if args.legacy else "/webapi")
    return Connection(base_url, "dry-run-key", "dry-run-secret", legacy=args.legacy)


def placeholder_note(conn: Any) -> str | None:
    """The line a dry run prints when its URLs are on the placeholder address, else None."""
    if not str(conn.base_url).startswith(PLACEHOLDER_SERVER + "/"):
        return None
    return (f"  (no Server address was given, so the URLs are shown on {PLACEHOLDER_SERVER}: "
            "give --base-url or set AXFRAME_BASE_URL to see your Server's)")


def workers_option(value: str | None) -> int | str | None:
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
    name = base.name + (f".{safe_part(sheet)}" if sheet else "") + (".dry-run" if dry_run else "")
    if ext in (".xlsx", ".xlsm"):
        return base.with_name(f"{name}.results.xlsx")
    return base.with_name(name + ext)


def safe_part(text: str) -> str:
    """*text* fit to stand in a file name."""
    return "".join(c if c.isalnum() or c in "-_ " else "_" for c in str(text)).strip() or "sheet"


class Lines:
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

    def close(self, summary: Any = None) -> None:
        """The last line: how many rows were sent and ended, and, given the run's *summary*, how many were not."""
        with self.lock:
            text = f"{self.done} {'row' if self.done == 1 else 'rows'} sent"
            held = getattr(summary, "not_sent", 0)
            journal = getattr(summary, "from_journal", 0)
            if held:
                text += f", {held} refused before sending"
            if journal:
                text += f", {journal} done by an earlier run (from the journal)"
            self._print(text)

    def _print(self, text: str) -> None:
        print(f"{self.label}: {text}", file=sys.stderr, flush=True)


def count_tokens(result: Any, conn: Any) -> None:
    """A command's connection is its own: every token it requested, the first one included, counts for the run."""
    result.summary.tokens_requested = max(result.summary.tokens_requested, conn.tokens_requested)


def report(result: Any, paths: list[Path], out: Out, label: str | None = None) -> int:
    """The closing summary: rows, succeeded, failed, elapsed, error types, where the outputs went.

    *label* names the command in the line (``run-jobs``), when it is not the summary's action.
    """
    s = result.summary
    out(f"{label or s.action}: {s.rows} {'row' if s.rows == 1 else 'rows'}, {s.succeeded} {'would be sent' if s.dry_run else 'succeeded'}, "
        f"{s.failed} failed, {s.elapsed:.1f} s" + (f" ({s.from_journal} from the journal)" if s.from_journal else ""))
    for kind, count in sorted(s.error_types.items()):
        out(f"  {count} x {kind}")
    for path in paths:
        out(f"  wrote {path}")
    return EXIT_OK if s.failed == 0 else EXIT_ROWS_FAILED

