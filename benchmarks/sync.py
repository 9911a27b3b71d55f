"""Export and plan on a large Server, measured: ``python -m benchmarks.sync``.

A seeded emulator (in its own process) of 5,000 users, 300 groups, 200 collections and 40,000
memberships: the wall time and the calls of an export, of a plan of that export against the same
Server (0 changes expected), and of a membership sync (add and remove a few hundred).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import axframe as ax

from .common import EmulatorProcess


def large_seed(users: int = 5000, groups: int = 300, collections: int = 200, memberships: int = 40_000) -> dict:
    from axframe.emulator.seed import default_seed

    seed = default_seed()
    per_group = memberships // groups
    seed["users"] += [{"ref": f"u{i}", "firstName": f"U{i}", "lastName": "Bulk", "email": f"u{i:05d}@big.example.com",
                       "role": "Viewer"} for i in range(users)]
    seed["userGroups"] += [{"ref": f"g{g}", "name": f"Group {g:03d}", "role": "Viewer",
                            "members": [f"u{(g * 37 + k) % users}" for k in range(per_group)]} for g in range(groups)]
    seed["collections"] += [{"ref": f"c{c}", "name": f"Collection {c:03d}", "owner": "admin",
                             "users": [{"user": f"u{(c * 11 + k) % users}"} for k in range(10)],
                             "groups": [{"group": f"g{c % groups}"}]} for c in range(collections)]
    return seed


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        seed = Path(folder) / "large.json"
        seed.write_text(json.dumps(large_seed()), encoding="utf-8")
        with EmulatorProcess(seed=str(seed)) as emu:
            conn = ax.authenticate(emu.url, *emu.curator)
            calls = conn.stats["calls"]
            started = time.perf_counter()
            book = ax.export(conn, progress=False)
            export_s, export_calls = time.perf_counter() - started, conn.stats["calls"] - calls
            sizes = {name: len(frame) for name, frame in book.items()}
            started = time.perf_counter()
            plan = ax.plan(conn, book)
            plan_s = time.perf_counter() - started
            members = book["GroupMembers"]
            desired = pd.concat([members.iloc[200:], pd.DataFrame({"group": ["Group 001"] * 200,
                                                                   "user": [f"u{i:05d}@big.example.com"
                                                                            for i in range(4800, 5000)]})])
            started = time.perf_counter()
            sync = ax.plan(conn, {"GroupMembers": desired}, prune=True, force=True)
            applied = ax.apply(conn, sync, progress=False)
            sync_s = time.perf_counter() - started
            print(f"sheets: {sizes}")
            print(f"export: {export_s:.1f} s, {export_calls} calls")
            print(f"plan of the export: {plan_s:.1f} s, {plan.reads} calls, {plan.pending} changes")
            print(f"membership sync: {sync.counts}, applied {applied.summary.succeeded} ok / {applied.summary.failed} "
                  f"failed, {applied.summary.calls} calls, {sync_s:.1f} s")
            print(f"plan after the sync: {ax.plan(conn, {'GroupMembers': desired}, prune=True, force=True).pending} "
                  "changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
