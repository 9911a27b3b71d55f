"""The figures of the reliability edges, measured: ``python -m benchmarks.edges``.

- a faulted delete run of 1,000 rows (resets after and before the change, 503s, 429s): how many rows are
  reported failed although their record is gone from the Server (should be 0);
- two runs started at once on one journal (300 rows): how many collections the Server holds after (300);
- eight workers reading endless answers with the default bounds: the peak memory of the process (RSS),
  against the documented bound (``max_bytes_in_flight``, 1 GiB, about twice that while copied whole).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory

import pandas as pd

import axframe as ax
from axframe.emulator import Emulator


def faulted_deletes(rows: int = 1000) -> dict:
    with Emulator() as server:
        conn = ax.authenticate(server.url, *server.curator,
                               retry=ax.RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05,
                                                    max_retry_after=0.05))
        made = ax.create(conn, "collections.create",
                         ax.add_record_id(pd.DataFrame({"name": [f"del-{i}" for i in range(rows)]})), progress=False)
        ids = [json.loads(t) for t in made.success["Response"]]
        server.faults.configure(reset_after=0.1, reset_before=0.05, error_rates={503: 0.05, 429: 0.03},
                                retry_after=0.01, methods=["DELETE"], seed=11)
        result = ax.delete(conn, "collections.delete", pd.DataFrame({"RecordID": range(1, rows + 1),
                                                                     "collectionId": ids}), progress=False)
        server.faults.clear()
        left = {c["id"] for c in server.state.collections.values()}
        failed_ids = set(result.failure["collectionId"]) if len(result.failure) else set()
        return {"rows": rows, "succeeded": len(result.success), "failed": len(result.failure),
                "failed but gone": len(failed_ids - left), "reconciled": result.summary.reconciled,
                "still on the Server": len(set(ids) & left), "error types": result.summary.error_types}


RUN = textwrap.dedent("""\
    import sys, axframe as ax, pandas as pd
    conn = ax.authenticate(sys.argv[1], sys.argv[2], sys.argv[3])
    frame = ax.add_record_id(pd.DataFrame({"name": [f"pair-{i}" for i in range(300)]}))
    try:
        ax.create(conn, "collections.create", frame, journal=sys.argv[4], progress=False, max_workers=4)
    except ax.JournalError as exc:
        print(exc)
        sys.exit(2)
    """)


def two_runs_one_journal() -> dict:
    with Emulator() as server, TemporaryDirectory() as folder:
        server.faults.configure(latency=0.005)
        script = Path(folder) / "run.py"
        script.write_text(RUN)
        argv = [sys.executable, str(script), server.url, *server.curator, str(Path(folder) / "pair.journal")]
        runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [run.communicate()[0].strip() for run in runs]
        made = [c for c in server.state.collections.values() if c["name"].startswith("pair-")]
        return {"exit codes": sorted(r.returncode for r in runs), "collections": len(made),
                "refusal": next((o for o in outs if o), "")}


class _Endless(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"access_token": "tok-0123456789abcdef", "expires_in": 3599}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        block = b" " * (1 << 20)
        try:
            while True:
                self.wfile.write(block)
        except OSError:
            pass

    def log_message(self, *args) -> None:
        pass


def endless_answers(workers: int = 8) -> dict:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/webapi"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn = ax.authenticate(url, "key-0123456789", "secret-0123456789")
    started = time.perf_counter()
    success, failure = ax.get(conn, "users.get", pd.DataFrame({"RecordID": range(1, workers + 1),
                                                              "userId": [f"u{i}" for i in range(workers)]}),
                              max_workers=workers, progress=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    httpd.shutdown()
    return {"workers": workers, "rows refused": len(failure), "peak RSS MiB": round(peak / 1024),
            "RSS before MiB": round(before / 1024), "seconds": round(time.perf_counter() - started, 1),
            "budget peak MiB": round(conn.budget.peak / (1 << 20))}


def main() -> int:
    for name, figure in (("faulted deletes", faulted_deletes), ("two runs, one journal", two_runs_one_journal),
                         ("endless answers", endless_answers)):
        print(f"{name}: {figure()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
