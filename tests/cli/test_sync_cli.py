"""``axframe export``, ``plan``, ``apply`` and ``diff`` against the emulator."""

from __future__ import annotations

import pandas as pd

import axframe as ax
from axframe.emulator import Emulator

from .test_cli import run_cli


def _user(server, email):
    return next(u for u in server.state.users.values() if u["email"] == email)


def test_export_edit_plan_apply_plan_again(server, tmp_path):
    book = tmp_path / "prod.xlsx"
    exported = run_cli(["export", str(book)], server)
    assert exported.returncode == 0, exported.stderr
    assert "Users" in exported.stdout and f"wrote {book}" in exported.stdout
    sheets = {name: ax.read_frame(book, sheet=name) for name in ("Users", "UserGroups")}
    users = sheets["Users"]
    users.loc[users["email"] == "mia.member@example.com", "role"] = "Artisan"
    desired = tmp_path / "desired.xlsx"
    ax.write_sheets(sheets, desired)

    planned = run_cli(["plan", str(desired), "--check"], server)
    assert planned.returncode == 1, planned.stderr  # something to change
    assert "~ Users mia.member@example.com  (role: Member -> Artisan)" in planned.stdout
    assert "plan: 0 to create, 1 to update, 0 to remove" in planned.stdout
    plan_file = tmp_path / "desired.plan.xlsx"
    assert plan_file.exists() and "axframe apply" in planned.stdout
    assert _user(server, "mia.member@example.com")["role"] == "Member"  # a plan changes nothing

    again = run_cli(["plan", str(desired)], server)
    assert again.returncode == 2 and "--overwrite" in again.stderr  # the plan file is not replaced unasked

    applied = run_cli(["apply", str(plan_file)], server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "apply: 1 row, 1 succeeded, 0 failed" in applied.stdout
    assert _user(server, "mia.member@example.com")["role"] == "Artisan"
    assert (tmp_path / "desired.plan.results.xlsx").exists()

    settled = run_cli(["plan", str(desired), "-o", str(tmp_path / "after.csv"), "--check"], server)
    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert "plan: 0 to create, 0 to update, 0 to remove" in settled.stdout


def test_apply_of_a_desired_workbook_asks_unless_yes(server, tmp_path):
    desired = ax.write_frame(pd.DataFrame({"name": ["From The CLI"], "role": ["Viewer"]}), tmp_path / "UserGroups.csv")
    refused = run_cli(["apply", str(desired)], server)  # stdin is not a terminal: no one to ask
    assert refused.returncode == 2 and "--yes" in refused.stderr and "axframe plan" in refused.stderr
    assert not any(g["name"] == "From The CLI" for g in server.state.groups.values())
    done = run_cli(["apply", str(desired), "--yes"], server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "+ UserGroups From The CLI" in done.stdout
    assert [g["role"] for g in server.state.groups.values() if g["name"] == "From The CLI"] == ["Viewer"]


def test_a_blocked_plan_is_applied_only_with_force(server, tmp_path):
    desired = ax.write_frame(pd.DataFrame({"name": ["Operations"], "role": ["Member"]}), tmp_path / "UserGroups.csv")
    planned = run_cli(["plan", str(desired), "--prune"], server)
    assert planned.returncode == 0 and "blocked: UserGroups" in planned.stdout
    groups = len(server.state.groups)
    plan_file = tmp_path / "UserGroups.plan.xlsx"
    refused = run_cli(["apply", str(plan_file)], server)
    assert refused.returncode == 2 and "blocked" in refused.stderr and "--force" in refused.stderr
    assert len(server.state.groups) == groups  # nothing sent
    forced = run_cli(["apply", str(plan_file), "--force"], server)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert [g["name"] for g in server.state.groups.values()] == ["Operations"]


def test_a_folder_export_and_two_servers_diffed(tmp_path):
    with Emulator() as dev, Emulator(random_seed=5) as prod:
        ax.create(ax.authenticate(prod.url, *prod.curator), "usergroups.create",
                  pd.DataFrame({"RecordID": [1], "name": ["Prod Only"], "role": ["Viewer"]}))
        assert run_cli(["export", str(tmp_path / "dev"), "--format", "csv"], dev).returncode == 0
        assert (tmp_path / "dev" / "Users.csv").exists()
        assert run_cli(["export", str(tmp_path / "prod.xlsx")], prod).returncode == 0
        same = run_cli(["diff", str(tmp_path / "dev"), str(tmp_path / "dev"), "--check"])
        assert same.returncode == 0 and "0 to create, 0 to update, 0 to remove" in same.stdout
        differ = run_cli(["diff", str(tmp_path / "dev"), str(tmp_path / "prod.xlsx"), "--check",
                          "-o", str(tmp_path / "d.csv")])
        assert differ.returncode == 1, differ.stdout + differ.stderr
        assert "+ UserGroups Prod Only" in differ.stdout
        frame = ax.read_frame(tmp_path / "d.csv")
        assert frame.query("Action != 'unchanged'")[["Sheet", "Key", "Action"]].values.tolist() == \
            [["UserGroups", "Prod Only", "create"]]
        # a folder export is not overwritten unasked either
        again = run_cli(["export", str(tmp_path / "dev"), "--format", "csv"], dev)
        assert again.returncode == 2 and "--overwrite" in again.stderr


def test_usage_mistakes_say_what_to_do(server, tmp_path):
    assert "a .xlsx file, or a folder" in run_cli(["export", str(tmp_path / "out.txt")], server).stderr
    lost = run_cli(["plan", str(tmp_path / "nowhere.xlsx")], server)
    assert lost.returncode == 2 and "no such file" in lost.stderr
    odd = ax.write_frame(pd.DataFrame({"x": [1]}), tmp_path / "odd.xlsx")
    assert "axframe export FILE" in run_cli(["plan", str(odd)], server).stderr
    users = ax.write_frame(pd.DataFrame({"email": ["ada.admin@example.com"], "role": ["Viewer"]}),
                           tmp_path / "Users.csv")
    assert "--prune" in run_cli(["plan", str(users), "--delete-users"], server).stderr
