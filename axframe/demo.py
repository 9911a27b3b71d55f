"""``axframe demo``: a realistic bulk change against an in-process emulator, end to end.

It writes the sample files (:mod:`axframe.samples`) into an inputs folder,
starts an emulated Server on a loopback port, and then, as an admin would:
creates user groups and collections from an Excel workbook, onboards users
from a CSV, puts them into their groups and collections, publishes two
workflows and runs the analytic app once per row of answers.  A few sample
rows are wrong on purpose; each step says what succeeded, what failed and
where the result files are.  Nothing leaves this machine.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import pandas as pd

__all__ = ["run_demo"]


def clip(text: str, width: int) -> str:
    """*text* in at most *width* characters, cut between words (never inside one), with "..." when cut."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[: width - 3].rsplit(" ", 1)[0].rstrip(" ,;:") if " " in text[: width - 3] else text[: width - 3]
    return cut + "..."

def run_demo(folder: Path, workers: int = 8, out: Callable[[str], None] = print) -> int:
    import axframe as ax

    from .emulator import Emulator
    from .io import read_frame, write_results
    from .jobs import package_frame, run_jobs
    from .samples import write_samples

    started = time.perf_counter()
    inputs, results = folder / "inputs", folder / "results"
    results.mkdir(parents=True, exist_ok=True)
    write_samples(inputs)
    out(f"Sample inputs written to {inputs}")
    steps: list[tuple[str, ax.Result, list[Path]]] = []

    def step(title: str, result: ax.Result, name: str) -> ax.Result:
        paths = write_results(result, results / name)
        steps.append((title, result, paths))
        s = result.summary
        out(f"  {title}: {s.succeeded} of {s.rows} succeeded, {s.failed} failed "
            f"({', '.join(f'{k} {v}' for k, v in sorted(s.error_types.items())) or 'no errors'})")
        for row in result.failure.head(5).itertuples(index=False):
            out(f"      RecordID {row.RecordID}: {row.ErrorType}: {clip(row.Error, 110)}")
        return result

    with Emulator() as server:
        out(f"Started an emulated Alteryx Server at {server.url} (no real Server is touched)")
        conn = ax.authenticate(server.url, *server.curator)
        out(f"Authenticated as the emulator's Curator: {conn!r}")

        out("1. User groups and collections from onboarding.xlsx")
        step("user groups", ax.create(conn, "usergroups.create",
                                      read_frame(inputs / "onboarding.xlsx", sheet="UserGroups"),
                                      max_workers=workers, progress=False), "user_groups.xlsx")
        step("collections", ax.create(conn, "collections.create",
                                      read_frame(inputs / "onboarding.xlsx", sheet="Collections"),
                                      max_workers=workers, progress=False), "collections.xlsx")

        out("2. Users from users.csv")
        users_in = read_frame(inputs / "users.csv")
        users = step("users", ax.create(conn, "users.create", users_in, max_workers=workers, progress=False),
                     "users.csv")
        user_ids = {email: answer["id"] for email, answer in
                    zip(users.success["email"], map(json.loads, users.success["Response"]))}

        out("3. Users into their user groups (one call per group, a list of user ids as the body)")
        members = users.success.groupby("group")["email"].apply(list)
        by_group = pd.DataFrame({"group": members.index,  # the user group by name
                                 "contract": [json.dumps([user_ids[e] for e in emails]) for emails in members]})
        step("group memberships", ax.post(conn, "usergroups.add_users", ax.add_record_id(by_group),
                                          progress=False), "group_memberships.csv")

        out("4. Users into collections from memberships.csv (users by email, collections by name)")
        step("collection memberships", ax.post(conn, "collections.add_user", read_frame(inputs / "memberships.csv"),
                                               max_workers=workers, progress=False), "collection_memberships.csv")

        out("5. Workflows published from the workflows folder, and added to Sales Reporting")
        uploads = package_frame(inputs / "workflows", owner="ada.admin@example.com", isReadyForMigration=True)
        published = step("workflows", ax.create(conn, "workflows.upload", uploads, progress=False),
                         "workflows.csv")
        into = pd.DataFrame({"RecordID": range(1, len(published.success) + 1), "collection": "Sales Reporting",
                             "workflow": list(published.success["name"])})
        step("workflows into a collection", ax.post(conn, "collections.add_workflow", into, progress=False),
             "workflow_collection.csv")

        out("6. The Regional Sales Forecast app run once per row of job_answers.csv (the app by name)")
        answers = read_frame(inputs / "job_answers.csv")
        jobs = run_jobs(conn, answers, outputs="Csv", progress=False)
        step("jobs", jobs, "jobs.xlsx")
        if jobs.outputs is not None and len(jobs.outputs):
            out(f"      outputs gathered into one frame: {len(jobs.outputs)} rows, "
                f"columns {', '.join(map(str, jobs.outputs.columns))}")
        conn.close()
        stats = server.stats()

    failed = sum(r.summary.failed for _, r, _ in steps)
    out(f"Done in {time.perf_counter() - started:.1f} s: {sum(r.summary.rows for _, r, _ in steps)} rows in "
        f"{len(steps)} steps, {failed} failed on purpose (see {inputs / 'README.md'}); "
        f"{stats['requests']} requests to the emulator, {stats['tokensIssued']} token(s).")
    out(f"Results (success and failure side by side) are in {results}")
    return 0
