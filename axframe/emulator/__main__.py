"""Run the emulator in the foreground: ``python -m axframe.emulator [--port N] [--seed FILE]``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .server import Emulator
from .state.realism import QUIRKS
from .state.legacy import PAGING_MODES


def build_parser(prog: str = "python -m axframe.emulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local Alteryx Server emulator on loopback until interrupted.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--seed", default="default",
                        help="'default', 'empty' or a JSON/YAML seed file (default: the built-in seed)")
    parser.add_argument("--token-lifetime", type=int, default=None, help="token lifetime in seconds (default 3599)")
    parser.add_argument("--job-slots", type=int, default=None, help="jobs that run at once (default 4)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
    parser.add_argument("--admin-paging", choices=PAGING_MODES, default=None,
                        help="how the paged Admin listings count pages (default one-based; the real "
                             "Server's base is not documented)")
    parser.add_argument("--server-version", default=None, metavar="RELEASE",
                        help="the Server release to emulate, e.g. 2021.4 or 2022.1 (default: the newest); older "
                             "releases lack some V3 operations and fields")
    parser.add_argument("--tidy", action="store_true",
                        help="answer exactly as the Swagger says, without the quirks of real Servers")
    parser.add_argument("--quirk", action="append", default=[], metavar="NAME=on|off",
                        help="turn one quirk of real answers on or off (repeatable): " + ", ".join(QUIRKS))
    parser.add_argument("--json", action="store_true", help="print the URL and keys as one JSON line")
    return parser


def main(argv: list[str] | None = None) -> int:
    return serve(build_parser().parse_args(argv))


def export_lines(server: Emulator) -> list[str]:
    """The shell lines that point axframe's command line at *server* (as its Curator)."""
    return [f"export AXFRAME_BASE_URL={server.url}", f"export AXFRAME_CLIENT_ID={server.curator[0]}",
            f"export AXFRAME_CLIENT_SECRET={server.curator[1]}"]


def serve(args: argparse.Namespace) -> int:
    """Run the emulator that *args* (of :func:`build_parser`) describe until Ctrl-C or SIGTERM."""
    try:
        server = Emulator(args.seed, host=args.host, port=args.port, token_lifetime=args.token_lifetime,
                          job_slots=args.job_slots, admin_paging=args.admin_paging,
                          server_version=args.server_version, realistic=not args.tidy,
                          quirks=_quirks(args.quirk))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.latency:
        server.faults.configure(latency=args.latency)
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    info = {"url": server.url, "curator": list(server.curator), "artisan": list(server.artisan),
            "serverVersion": server.server_version}
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(f"axframe emulator listening on {server.url} (Server {server.server_version})", flush=True)
        print(f"  Curator key:    {server.curator[0]}\n  Curator secret: {server.curator[1]}")
        print(f"  Artisan key:    {server.artisan[0]}\n  Artisan secret: {server.artisan[1]}")
        print("  Control API:    " + server.root + "/_emulator/stats  (Ctrl-C to stop)")
        print("To point the command line at it (as its Curator), in another terminal:")
        print("\n".join("  " + line for line in export_lines(server)), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _quirks(given: list[str]) -> dict[str, bool]:
    out = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or value.lower() not in ("on", "off", "true", "false", "1", "0"):
            raise ValueError(f"--quirk takes NAME=on or NAME=off, not {item!r}")
        out[name.strip()] = value.lower() in ("on", "true", "1")
    return out


if __name__ == "__main__":
    sys.exit(main())
