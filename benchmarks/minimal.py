"""The cheapest client there is: one keep-alive ``http.client`` connection, a call, its answer read whole.

It is the floor of the benchmarks, used twice:

- in the benchmark's own process, as the *minimal loop* whose process CPU time
  per call is the yardstick of the client CPU figure (one loop, or one loop per
  thread, each thread with its own connection);
- in several worker processes at once (``python -m benchmarks.minimal URL TOKEN``),
  to measure the emulator's own ceiling: calls per second the emulator serves
  when the clients cost next to nothing and do not share one interpreter.

Nothing is parsed but the status: what any client must at least do is send the
request and read the answer off the socket.  Standard library only, so that a
worker process starts in a few milliseconds.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

GET, CREATE = "GET", "create"
ROUTES = {GET: "Collections_GetCollection", CREATE: "Collections_CreateCollection"}


class MinimalClient:
    """One keep-alive connection to the emulator's ``/v3/collections``: a GET of one collection, or a create."""

    def __init__(self, url: str, token: str):
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        self.base = parts.path.rstrip("/") + "/v3/collections"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def get(self, collection_id: str) -> int:
        self.connection.request("GET", f"{self.base}/{collection_id}", headers=self.headers)
        answer = self.connection.getresponse()
        answer.read()
        return answer.status

    def create(self, name: str) -> int:
        self.connection.request("POST", self.base, body=json.dumps({"name": name}).encode(), headers=self.headers)
        answer = self.connection.getresponse()
        answer.read()
        return answer.status

    def calls(self, kind: str, targets: list[str]) -> int:
        """Make one call per target (a collection id for GET, a name for create); the number answered 200."""
        call = self.get if kind == GET else self.create
        return sum(call(target) == 200 for target in targets)

    def close(self) -> None:
        self.connection.close()


class MinimalThreads:
    """*width* threads, each with its own :class:`MinimalClient`, sharing the calls evenly."""

    def __init__(self, url: str, token: str, width: int):
        self.clients = [MinimalClient(url, token) for _ in range(width)]

    def calls(self, kind: str, targets: list[str]) -> int:
        if len(self.clients) == 1:
            return self.clients[0].calls(kind, targets)
        done = [0] * len(self.clients)

        def work(i: int) -> None:
            done[i] = self.clients[i].calls(kind, targets[i::len(self.clients)])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(self.clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(done)

    def close(self) -> None:
        for client in self.clients:
            client.close()


def worker(url: str, token: str) -> None:
    """A ceiling worker: one JSON order a line on stdin (``kind``, ``targets``), one JSON answer a line on stdout.

    The answer carries ``started`` and ``ended`` (``time.perf_counter``, the
    system's monotonic clock, comparable between processes) and ``ok``.
    """
    client = MinimalClient(url, token)
    print("ready", flush=True)
    for line in sys.stdin:
        order = json.loads(line)
        started = time.perf_counter()
        ok = client.calls(order["kind"], order["targets"])
        print(json.dumps({"started": started, "ended": time.perf_counter(), "ok": ok}), flush=True)
    client.close()


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2])
