"""The sample data: small, realistic inputs for the demo, the notebooks and the tests.

One source of truth: the frames and packages are built here, and
``write_samples(folder)`` writes them as files (what ``sample_data/`` in the
repository holds, regenerated with ``python tools/make_sample_data.py``).  A
few rows are wrong on purpose; :data:`DELIBERATE_ERRORS` says which and why,
and the folder's README repeats it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .packages import build_package

__all__ = ["users", "user_groups", "collections", "memberships", "job_answers", "workflow_packages",
           "write_samples", "DELIBERATE_ERRORS", "DEMO_DOMAIN"]

DEMO_DOMAIN = "example.com"


def users() -> pd.DataFrame:
    """Twelve people to onboard; rows 9-12 are wrong on purpose."""
    rows = [
        (1, "Priya", "Natarajan", "priya.natarajan", "Artisan", True, "Europe/London", "Sales Analysts"),
        (2, "Tomás", "García", "tomas.garcia", "Artisan", True, "Europe/Madrid", "Sales Analysts"),
        (3, "Mei", "Chen", "mei.chen", "Member", False, "Asia/Singapore", "Regional Managers"),
        (4, "Jonas", "Berg", "jonas.berg", "Viewer", False, "Europe/Oslo", "Regional Managers"),
        (5, "Amara", "Okafor", "amara.okafor", "Artisan", True, "Africa/Lagos", "Data Stewards"),
        (6, "Liam", "O'Brien", "liam.obrien", "Member", False, "Europe/Dublin", "Sales Analysts"),
        (7, "Sofia", "Rossi", "sofia.rossi", "Viewer", False, "Europe/Rome", "Regional Managers"),
        (8, "Kenji", "Watanabe", "kenji.watanabe", "Artisan", True, "Asia/Tokyo", "Data Stewards"),
        (9, "Sam", "Smith", "sam.smith(at)example.com", "Member", False, "UTC", "Sales Analysts"),
        (10, "Noor", "", "noor.haddad", "Viewer", False, "Asia/Dubai", "Regional Managers"),
        (11, "Ana", "Artisan", "ana.artisan", "Artisan", True, "UTC", "Data Stewards"),
        (12, "Olu", "Adeyemi", "olu.adeyemi", "Admin", False, "Africa/Lagos", "Data Stewards"),
    ]
    frame = pd.DataFrame(rows, columns=["RecordID", "firstName", "lastName", "email", "role", "canScheduleJobs",
                                        "timeZone", "group"])
    frame["email"] = [e if "@" in e or "(at)" in e else f"{e}@{DEMO_DOMAIN}" for e in frame["email"]]
    return frame


def user_groups() -> pd.DataFrame:
    """Four user groups; the last one has a role the Server does not know."""
    return pd.DataFrame({"RecordID": [1, 2, 3, 4],
                         "name": ["Sales Analysts", "Regional Managers", "Data Stewards", "Executives"],
                         "role": ["Artisan", "Viewer", "Member", "Superuser"]})


def collections() -> pd.DataFrame:
    """Four collections; the last one has no name."""
    return pd.DataFrame({"RecordID": [1, 2, 3, 4],
                         "name": ["Sales Reporting", "Regional Dashboards", "Data Quality", ""]})


def memberships() -> pd.DataFrame:
    """Who goes into which collection, by email and collection name (resolved to ids by the caller)."""
    rows = [
        (1, "priya.natarajan@example.com", "Sales Reporting", True, True, True),
        (2, "tomas.garcia@example.com", "Sales Reporting", False, True, True),
        (3, "liam.obrien@example.com", "Sales Reporting", False, False, False),
        (4, "mei.chen@example.com", "Regional Dashboards", True, False, False),
        (5, "jonas.berg@example.com", "Regional Dashboards", False, False, False),
        (6, "amara.okafor@example.com", "Data Quality", True, True, True),
        (7, "kenji.watanabe@example.com", "Marketing", False, True, False),
        (8, "sam.smith(at)example.com", "Sales Reporting", False, False, False),
    ]
    return pd.DataFrame(rows, columns=["RecordID", "email", "collection", "collectionsPermissions.isAdmin",
                                       "collectionsPermissions.canAddAssets",
                                       "collectionsPermissions.canUpdateAssets"])


def job_answers() -> pd.DataFrame:
    """Answers for the Regional Sales Forecast app, one job per row; the last one makes the job fail."""
    return pd.DataFrame({"RecordID": [1, 2, 3, 4, 5],
                         "workflow": ["Regional Sales Forecast"] * 5,
                         "Region": ["West", "East", "North", "South", "ERROR: no data for region Atlantis"],
                         "Horizon": ["3", "6", "12", "6", "3"]})


def workflow_packages() -> dict[str, bytes]:
    """Two small valid packages: an analytic app and a plain workflow."""
    app = build_package("Regional Sales Forecast", kind="app", description="Forecasts sales for one region.",
                        questions=[{"name": "Region", "type": "DropDown", "default": "West",
                                    "items": ["West", "East", "North", "South"]},
                                   {"name": "Horizon", "type": "NumericUpDown", "default": "6"}],
                        hints={"runSeconds": 0.3})
    flow = build_package("Inventory Cleanup", kind="workflow", description="Removes stale inventory rows.",
                         hints={"runSeconds": 0.2})
    return {"Regional Sales Forecast.yxzp": app, "Inventory Cleanup.yxzp": flow}


DELIBERATE_ERRORS = {
    "users.csv / users.xlsx": [
        ("9", "email 'sam.smith(at)example.com' is not an email address: axframe refuses the row, nothing is sent"),
        ("10", "lastName is empty: the Server requires it, so axframe refuses the row"),
        ("11", "ana.artisan@example.com already exists on the emulator: the Server answers 400"),
        ("12", "role 'Admin' is not a Server role (NoAccess, Viewer, Member, Artisan, Curator, Evaluated)"),
    ],
    "onboarding.xlsx, sheet UserGroups": [
        ("4", "role 'Superuser' is not a Server role: refused before sending"),
    ],
    "onboarding.xlsx, sheet Collections": [
        ("4", "the collection has no name: refused before sending"),
    ],
    "memberships.csv": [
        ("7", "no collection is named 'Marketing': NotFound, refused before sending"),
        ("8", "no user has the email 'sam.smith(at)example.com' (row 9 of users.csv was never created): "
              "NotFound, refused before sending"),
    ],
    "job_answers.csv": [
        ("5", "the answer starts with 'ERROR:', which makes the emulator's job end with disposition Error"),
    ],
}


def _readme() -> str:
    lines = ["# Sample data", "",
             "Small, realistic inputs for `axframe demo`, the notebooks and the tests, written by",
             "`python tools/make_sample_data.py` from `axframe/samples.py` (edit that module, not these files).", "",
             "| file | what it is |", "| --- | --- |",
             "| `users.csv`, `users.xlsx` | twelve people to onboard with `ax.create(conn, \"users.create\", frame)` |",
             "| `onboarding.xlsx` | sheets `UserGroups` and `Collections` to create first |",
             "| `memberships.csv` | who goes into which collection, by email and collection name |",
             "| `job_answers.csv` | answers for the *Regional Sales Forecast* app, one job per row |",
             "| `workflows/*.yxzp` | two small valid packages (an app and a workflow) |",
             "| `emulator_seed.json` | the emulator's default seed (`python -m axframe.emulator --seed ...`) |",
             "", "## Rows that are wrong on purpose", "",
             "| file | RecordID | why it fails |", "| --- | --- | --- |"]
    for file, rows in DELIBERATE_ERRORS.items():
        for record_id, why in rows:
            lines.append(f"| {file} | {record_id} | {why} |")
    lines += ["", "Every other row succeeds against the emulator's default seed.", "",
              "## Names, not ids", "",
              "People write names; the API wants ids.  `memberships.csv` names users by email (`email`) and",
              "collections by name (`collection`), and `job_answers.csv` names its app (`workflow`): axframe",
              "finds the ids itself, once per run, with one listing per kind, and fails a row whose name",
              "matches nothing (`NotFound`) or more than one thing (`Ambiguous`) before anything is sent.",
              "The README's \"Rows in\" table lists every name column.", "",
              "## The files with the command line", "",
              "Against the emulator (`axframe emulator` in another terminal, and the `export` lines it",
              "prints), from this folder, in this order (the exit code is 1 where rows fail on purpose):", "",
              "```bash",
              "axframe create usergroups.create -i onboarding.xlsx --sheet UserGroups   # exit 1: row 4",
              "axframe create collections.create -i onboarding.xlsx --sheet Collections # exit 1: row 4",
              "axframe create users.create -i users.csv                                 # exit 1: rows 9-12",
              "axframe post collections.add_user -i memberships.csv                     # exit 1: rows 7, 8",
              "axframe deploy workflows --owner ada.admin@example.com                   # exit 0",
              "axframe run-jobs -i job_answers.csv                                      # exit 1: row 5",
              "```", "",
              "Each writes its results beside its input (`users.success.csv`, `users.failure.csv`,",
              "`users.summary.json`; `onboarding.UserGroups.results.xlsx`...); a second run of the same",
              "command needs `--overwrite` to replace them.", ""]
    return "\n".join(lines)


def write_samples(folder: str | Path) -> list[Path]:
    """Write every sample file into *folder*; return their paths."""
    from .emulator.seed import default_seed
    from .io import write_frame, write_sheets

    folder = Path(folder)
    (folder / "workflows").mkdir(parents=True, exist_ok=True)
    written = [
        write_frame(users(), folder / "users.csv"),
        write_frame(users(), folder / "users.xlsx", sheet="Users"),
        write_frame(memberships(), folder / "memberships.csv"),
        write_frame(job_answers(), folder / "job_answers.csv"),
    ]
    written.append(write_sheets({"UserGroups": user_groups(), "Collections": collections()},
                                folder / "onboarding.xlsx"))
    for name, data in workflow_packages().items():
        path = folder / "workflows" / name
        path.write_bytes(data)
        written.append(path)
    seed = folder / "emulator_seed.json"
    seed.write_text(json.dumps(default_seed(), indent=2) + "\n", encoding="utf-8")
    readme = folder / "README.md"
    readme.write_text(_readme(), encoding="utf-8")
    return written + [seed, readme]
