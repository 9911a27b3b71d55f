"""How many requests per second the emulator serves on this machine.

Starts the emulator in a separate process, then sends a simple authenticated
GET (``/v3/usergroups``) over keep-alive connections from this process: with
``requests`` from 1 and 4 client threads, and with a bare socket client that
costs next to nothing, which shows the emulator's own ceiling.  This is what
the client benchmarks rely on: the emulator must not be their bottleneck.

    python benchmarks/emulator_throughput.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

import requests


def start_emulator() -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-m", "axframe.emulator", "--port", "0", "--json"],
                            stdout=subprocess.PIPE, text=True)
    info = json.loads(proc.stdout.readline())
    return proc, info


def token(info: dict) -> str:
    key, secret = info["curator"]
    r = requests.post(info["url"] + "/oauth2/token",
                      data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret}, timeout=10)
    r.raise_for_status()
    return r.json()["access_token"]


def run(info: dict, bearer: str, threads: int, seconds: float) -> float:
    counts = [0] * threads
    stop = time.perf_counter() + seconds
    url = info["url"] + "/v3/usergroups"

    def worker(i: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {bearer}"
        n = 0
        while time.perf_counter() < stop:
            r = session.get(url, timeout=10)
            assert r.status_code == 200
            n += 1
        counts[i] = n

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def run_raw(info: dict, bearer: str, seconds: float) -> float:
    """One keep-alive connection, a hand-written request, minimal parsing."""
    hostport = info["url"].split("//", 1)[1].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    request = (f"GET /webapi/v3/usergroups HTTP/1.1\r\nHost: {hostport}\r\n"
               f"Authorization: Bearer {bearer}\r\n\r\n").encode()
    n = 0
    with socket.create_connection((host, int(port))) as sock, sock.makefile("rb") as stream:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            sock.sendall(request)
            assert stream.readline().split()[1] == b"200"
            length = 0
            while (line := stream.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            stream.read(length)
            n += 1
        return n / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    proc, info = start_emulator()
    try:
        bearer = token(info)
        print(f"emulator {info['url']} (separate process), machine: {os.cpu_count()} cores")
        for threads in (1, 4):
            rate = run(info, bearer, threads, args.seconds)
            print(f"  requests, {threads} client thread(s), keep-alive GET /v3/usergroups: {rate:,.0f} requests/s")
        rate = run_raw(info, bearer, args.seconds)
        print(f"  bare socket client, 1 connection, same GET:                 {rate:,.0f} requests/s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
