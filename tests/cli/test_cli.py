"""The axframe command, run as a subprocess against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

import axframe as ax
from axframe import catalogue


def run_cli(args, server=None, env_extra=None, cwd=None, timeout=120, process=False):
    """The ``axframe`` command with *args*: in this process (its environment, folder, stdin and outputs as a
    fresh process would have them), or with *process* in a process of its own (what signals and a clean
    ``sys.modules`` need)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
    if server is not None:
        env.update(AXFRAME_BASE_URL=server.url, AXFRAME_CLIENT_ID=server.curator[0],
                   AXFRAME_CLIENT_SECRET=server.curator[1])
    env.update(env_extra or {})
    if process:
        return subprocess.run([sys.executable, "-m", "axframe.cli", *args], capture_output=True, text=True, env=env,
                              cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)
    return _in_process(list(args), env, cwd)


def _in_process(args, env, cwd):
    import contextlib
    import io
    import warnings

    from axframe import cli
    from axframe.client import connection

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd, saved_stdin = dict(os.environ), os.getcwd(), sys.stdin
    os.environ.clear()
    os.environ.update(env)
    sys.stdin = io.StringIO("")  # not a terminal: no prompt for the secret, as with stdin=DEVNULL
    warned = set(connection._warned)
    connection._warned.clear()  # a fresh process warns afresh
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = lambda message, category, *rest, **kw: print(
                f"{category.__name__}: {message}", file=sys.stderr)
            try:
                code = cli.main(args)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.stdin = saved_stdin
        connection._warned.clear()
        connection._warned.update(warned)
    return subprocess.CompletedProcess(["axframe", *args], code, out.getvalue(), err.getvalue())


def collections_named(server, prefix):
    return sorted(c["name"] for c in server.state.collections.values() if c["name"].startswith(prefix))


def test_help_is_generated_from_the_catalogue():
    top = run_cli(["--help"])
    assert top.returncode == 0
    for command in ("get", "create", "post", "delete", "actions", "emulator", "demo"):
        assert command in top.stdout
    for macro in catalogue.MACROS:
        helped = run_cli([macro, "--help"])
        assert helped.returncode == 0
        for ep in catalogue.endpoints(macro):
            assert ep.name in helped.stdout, (macro, ep.name)


def test_actions_table_and_detail():
    table = run_cli(["actions", "collections"])
    assert table.returncode == 0 and "collections.add_user" in table.stdout
    detail = run_cli(["actions", "Collections_AddUserToCollection"])
    assert "axframe post collections.add_user" in detail.stdout
    assert "column collectionId" in detail.stdout and "body userId: string (required)" in detail.stdout
    as_csv = run_cli(["actions", "--macro", "delete", "--format", "csv"])
    frame = pd.read_csv(pd.io.common.StringIO(as_csv.stdout))
    assert set(frame["method"]) == {"DELETE"}


@pytest.mark.parametrize("ext", [".csv", ".xlsx", ".parquet"])
def test_create_from_each_format_writes_results_and_exit_codes(tmp_path, server, ext):
    frame = pd.DataFrame({"RecordID": ["1", "2", "3"], "name": [f"cli{ext} a", f"cli{ext} b", ""]})
    source = ax.write_frame(frame, tmp_path / f"collections{ext}")
    done = run_cli(["create", "collections.create", "--input", str(source)], server)
    assert done.returncode == 1, done.stderr  # one row failed on purpose
    assert "3 rows, 2 succeeded, 1 failed" in done.stdout
    if ext == ".xlsx":
        results = tmp_path / "collections.results.xlsx"
        assert ax.sheet_names(results) == ["Success", "Failure", "Summary"]
        failure = ax.read_frame(results, sheet="Failure")
    else:
        assert (tmp_path / f"collections.success{ext}").exists()
        failure = ax.read_frame(tmp_path / f"collections.failure{ext}")
    assert list(failure["RecordID"].astype(str)) == ["3"]
    assert collections_named(server, f"cli{ext}") == [f"cli{ext} a", f"cli{ext} b"]
    # fix the failure file and run it again: every row accounted for, nothing twice
    failure["name"] = f"cli{ext} c"
    fixed = ax.write_frame(failure, tmp_path / f"fixed{ext}")
    again = run_cli(["create", "collections.create", "--input", str(fixed)], server)
    assert again.returncode == 0, again.stdout + again.stderr
    assert collections_named(server, f"cli{ext}") == [f"cli{ext} a", f"cli{ext} b", f"cli{ext} c"]


def test_each_macro(tmp_path, server, ids):
    inputs = {
        "get": ("users.get", pd.DataFrame({"RecordID": [1], "userId": [ids["user:mia"]]})),
        "create": ("usergroups.create", pd.DataFrame({"RecordID": [1], "name": ["CLI Group"], "role": ["Viewer"]})),
        "post": ("collections.add_user", pd.DataFrame({"RecordID": [1], "collectionId": [ids["collection:opscol"]],
                                                       "userId": [ids["user:mia"]],
                                                       "contract": ['{"userId": "%s", "collectionsPermissions": {}}'
                                                                    % ids["user:mia"]]})),
        "delete": ("collections.remove_user", pd.DataFrame({"RecordID": [1], "collectionId": [ids["collection:fin"]],
                                                            "userId": [ids["user:ana"]]})),
    }
    for macro, (action, frame) in inputs.items():
        path = ax.write_frame(frame, tmp_path / f"{macro}.csv")
        done = run_cli([macro, action, "--input", str(path), "--output", str(tmp_path / f"{macro}-out.xlsx")], server)
        assert done.returncode == 0, (macro, done.stdout, done.stderr)
        success = ax.read_frame(tmp_path / f"{macro}-out.xlsx", sheet="Success")
        assert len(success) == 1
    assert ids["user:mia"] in server.state.collections[ids["collection:opscol"]]["users"]
    assert ids["user:ana"] not in server.state.collections[ids["collection:fin"]]["users"]


def test_get_expand(tmp_path, server):
    path = ax.write_frame(pd.DataFrame({"RecordID": [1]}), tmp_path / "one.csv")
    done = run_cli(["get", "workflows.list", "--input", str(path), "--expand", str(tmp_path / "wf.csv")], server)
    assert done.returncode == 0
    workflows = ax.read_frame(tmp_path / "wf.csv")
    assert len(workflows) == 5 and "name" in workflows


def test_dry_run_sends_nothing_and_needs_no_server(tmp_path, server):
    path = ax.write_frame(pd.DataFrame({"RecordID": [1, 2], "name": ["dry a", ""]}), tmp_path / "dry.csv")
    before = server.stats()["requests"]
    done = run_cli(["create", "collections.create", "--input", str(path), "--dry-run"], server)
    assert done.returncode == 1 and "would be sent" in done.stdout
    assert server.stats()["requests"] == before
    plan = ax.read_frame(tmp_path / "dry.dry-run.success.csv")
    assert plan.loc[0, "Method"] == "POST" and plan.loc[0, "URL"].endswith("/v3/collections")
    offline = run_cli(["create", "collections.create", "--input", str(path), "--dry-run", "--output",
                       str(tmp_path / "offline.xlsx")])
    assert offline.returncode == 1, offline.stderr


def test_usage_errors_exit_2_and_send_nothing(tmp_path, server):
    path = ax.write_frame(pd.DataFrame({"RecordID": [1], "name": ["x"]}), tmp_path / "in.csv")
    folder = tmp_path / "a folder.xlsx"
    folder.mkdir()
    before = server.stats()["requests"]
    cases = [
        (["create", "collections.create_it", "--input", str(path)], "Did you mean"),
        (["create", "collections.add_user", "--input", str(path)], "axframe post"),
        (["create", "collections.create", "--input", str(tmp_path / "missing.csv")], "missing.csv"),
        (["create", "collections.create", "--input", str(path), "--workers", "many"], "--workers"),
        # a bad --output is refused before anything is sent, not after every row went out
        (["create", "collections.create", "--input", str(path), "--output", str(tmp_path / "out.txt")],
         "unsupported file type '.txt'"),
        (["create", "collections.create", "--input", str(path), "--output", str(tmp_path / "out.xls")],
         "old .xls format"),
        (["create", "collections.create", "--input", str(path), "--output", str(folder)], "is a folder"),
        (["get", "collections.list", "--input", str(path), "--expand", str(tmp_path / "list.json")],
         "unsupported file type '.json'"),
        (["run-jobs", "--input", str(path), "--output", str(tmp_path / "jobs.txt")], "unsupported file type"),
    ]
    for args, message in cases:
        done = run_cli(args, server)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr
    no_secret = run_cli(["create", "collections.create", "--input", str(path)], server,
                        env_extra={"AXFRAME_CLIENT_SECRET": ""})
    assert no_secret.returncode == 2 and "AXFRAME_CLIENT_SECRET" in no_secret.stderr
    wrong = run_cli(["create", "collections.create", "--input", str(path)], server,
                    env_extra={"AXFRAME_CLIENT_SECRET": "not-the-secret"})
    assert wrong.returncode == 2 and "refused the API key" in wrong.stderr
    assert "not-the-secret" not in wrong.stderr + wrong.stdout
    assert server.stats()["routes"].get("Collections_CreateCollection", 0) == 0
    unreachable = run_cli(["create", "collections.create", "--input", str(path)], server,
                          env_extra={"AXFRAME_BASE_URL": "http://127.0.0.1:9"})
    assert unreachable.returncode == 2
    assert server.stats()["requests"] >= before


def test_results_of_an_xlsm_input_go_to_a_results_workbook(tmp_path, server):
    source = ax.write_frame(pd.DataFrame({"RecordID": [1], "name": ["from xlsm"]}), tmp_path / "book.xlsx")
    macro_book = source.rename(tmp_path / "book.xlsm")  # the same workbook, as a macro-enabled file
    done = run_cli(["create", "collections.create", "--input", str(macro_book)], server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ax.read_frame(tmp_path / "book.results.xlsx", sheet="Success")["name"].tolist() == ["from xlsm"]


def test_env_file_and_secret_never_echoed(tmp_path, server):
    env_file = tmp_path / "settings.env"
    env_file.write_text(f"AXFRAME_BASE_URL={server.url}\nexport AXFRAME_CLIENT_ID='{server.curator[0]}'\n"
                        f'AXFRAME_CLIENT_SECRET="{server.curator[1]}"\n# a comment\n')
    path = ax.write_frame(pd.DataFrame({"RecordID": [1], "name": ["from env file"]}), tmp_path / "in.csv")
    done = run_cli(["create", "collections.create", "--input", str(path), "--env-file", str(env_file)])
    assert done.returncode == 0, done.stderr
    for text in (done.stdout, done.stderr, (tmp_path / "in.success.csv").read_text(encoding="utf-8-sig"),
                 (tmp_path / "in.summary.json").read_text()):
        assert server.curator[1] not in text


def test_plain_progress_lines_when_not_a_terminal(tmp_path, server):
    path = ax.write_frame(ax.add_record_id(pd.DataFrame({"name": [f"p{i}" for i in range(20)]})), tmp_path / "p.csv")
    done = run_cli(["create", "collections.create", "--input", str(path)], server)
    assert done.stderr.splitlines()[-1] == "collections.create: 20 rows sent"
    assert "\r" not in done.stderr  # no progress bar


def test_progress_lines_count_only_the_rows_sent(tmp_path, server):
    # two rows refused before sending (a duplicate RecordID), then a journal that already holds every row
    frame = pd.DataFrame({"RecordID": [1, 2, 3, 3], "name": ["sent a", "sent b", "dup a", "dup b"]})
    path = ax.write_frame(frame, tmp_path / "p.csv")
    journal = tmp_path / "p.journal"
    done = run_cli(["create", "collections.create", "--input", str(path), "--journal", str(journal)], server)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines()[-1] == "collections.create: 2 rows sent, 2 refused before sending"
    again = run_cli(["create", "collections.create", "--input", str(path), "--journal", str(journal), "--overwrite"],
                    server)
    assert "(2 from the journal)" in again.stdout
    assert again.stderr.splitlines()[-1] == ("collections.create: 0 rows sent, 2 refused before sending, "
                                             "2 done by an earlier run (from the journal)")
    assert collections_named(server, "sent ") == ["sent a", "sent b"]


def test_excel_results_never_hold_live_formulas(tmp_path, server):
    frame = pd.DataFrame({"RecordID": [1, 2], "name": ['=HYPERLINK("http://evil.example","x")', "@SUM(A1)"]})
    path = ax.write_frame(frame, tmp_path / "f.csv")
    done = run_cli(["create", "collections.create", "--input", str(path), "--output", str(tmp_path / "f.xlsx")],
                   server)
    assert done.returncode == 0, done.stderr
    sheet = openpyxl.load_workbook(tmp_path / "f.xlsx")["Success"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=@"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_run_jobs_command(tmp_path, server, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2,
                          "Region": ["East", "ERROR: closed"]})
    path = ax.write_frame(frame, tmp_path / "answers.csv")
    done = run_cli(["run-jobs", "--input", str(path), "--outputs", "Csv"], server)
    assert done.returncode == 1, done.stdout + done.stderr
    success = ax.read_frame(tmp_path / "answers.success.csv")
    failure = ax.read_frame(tmp_path / "answers.failure.csv")
    assert list(success["Region"]) == ["East"] and list(failure["ErrorType"]) == ["JobFailed"]
    outputs = ax.read_frame(tmp_path / "answers.outputs.csv")
    assert outputs.loc[0, "Region"] == "East" and outputs.loc[0, "RecordID"] == "1"
    # plain progress lines (stderr is not a terminal), counting the jobs sent
    assert done.stderr.splitlines()[-1] == "run-jobs: 2 rows sent"


def test_run_jobs_progress_lines_count_only_the_rows_sent(tmp_path, server, ids):
    frame = pd.DataFrame({"RecordID": [1, 2, 3], "workflowId": [ids["workflow:sales"], "", ids["workflow:sales"]],
                          "Region": ["East", "West", "North"]})
    path = ax.write_frame(frame, tmp_path / "answers.csv")
    done = run_cli(["run-jobs", "--input", str(path)], server)
    assert done.returncode == 1, done.stdout + done.stderr  # row 2 has no workflowId: never sent
    assert done.stderr.splitlines()[-1] == "run-jobs: 2 rows sent, 1 refused before sending"
    assert "\r" not in done.stderr


def test_run_jobs_outputs_keep_ids_and_can_stay_text(tmp_path, server, ids):
    frame = pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2,
                          "Region": ["02134", "1.50"], "Year": ["2024", "12345678901234567890123"]})
    path = ax.write_frame(frame, tmp_path / "answers.csv")
    done = run_cli(["run-jobs", "--input", str(path), "--outputs", "Csv"], server)
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = ax.read_frame(tmp_path / "answers.outputs.csv").sort_values("RecordID")
    assert outputs["Region"].tolist() == ["02134", "1.50"] and outputs["Year"].tolist() == frame["Year"].tolist()
    frame["Region"] = ["1.50", "2"]
    frame["Year"] = ["2024", "2025"]
    ax.write_frame(frame, path)
    done = run_cli(["run-jobs", "--input", str(path), "--outputs", "Csv", "--overwrite"], server)
    assert done.returncode == 0, done.stdout + done.stderr
    # inferred as numbers, written as numbers: "1.50" loses its trailing zero
    assert ax.read_frame(tmp_path / "answers.outputs.csv").sort_values("RecordID")["Region"].tolist() == ["1.5", "2"]
    done = run_cli(["run-jobs", "--input", str(path), "--outputs", "Csv", "--no-infer-types", "--overwrite"], server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ax.read_frame(tmp_path / "answers.outputs.csv").sort_values("RecordID")["Region"].tolist() == ["1.50", "2"]


def test_run_jobs_job_timeout(tmp_path, server, ids):
    from axframe import cli

    assert cli._job_timeout(0, 3600.0) is None and cli._job_timeout(None, 3600.0) == 3600.0
    with server.state.lock:
        server.state.workflows[ids["workflow:sales"]]["behaviour"] = {"runSeconds": 1.5}
    frame = pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]], "Region": ["East"]})
    path = ax.write_frame(frame, tmp_path / "answers.csv")
    short = run_cli(["run-jobs", "--input", str(path), "--job-timeout", "0.3"], server)
    assert short.returncode == 1 and ax.read_frame(tmp_path / "answers.failure.csv")["ErrorType"].tolist() == \
        ["JobTimeout"]
    unlimited = run_cli(["run-jobs", "--input", str(path), "--job-timeout", "0", "--overwrite"], server)
    assert unlimited.returncode == 0, unlimited.stdout + unlimited.stderr  # 0: no per-job timeout
    assert ax.read_frame(tmp_path / "answers.success.csv")["Status"].tolist() == ["Completed"]
    before = server.stats()["requests"]
    negative = run_cli(["run-jobs", "--input", str(path), "--job-timeout", "-1", "--overwrite"], server)
    assert negative.returncode == 2 and "--job-timeout" in negative.stderr
    assert server.stats()["requests"] == before
    assert "no per-job timeout" in run_cli(["run-jobs", "--help"]).stdout


def test_demo_runs_end_to_end(tmp_path):
    done = run_cli(["demo", "--output-dir", str(tmp_path / "demo")], timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "9 failed on purpose" in done.stdout
    results = tmp_path / "demo" / "results"
    users_failed = ax.read_frame(results / "users.failure.csv")
    assert sorted(users_failed["RecordID"]) == ["10", "11", "12", "9"]
    jobs = ax.read_frame(results / "jobs.xlsx", sheet="Failure")
    assert list(jobs["RecordID"]) == ["5"]


def test_deploy_command(tmp_path, server, ids):
    from axframe.packages import build_package

    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "Quarterly Close.yxzp").write_bytes(build_package("Quarterly Close"))
    (folder / "Regional Sales Report.yxzp").write_bytes(build_package("Regional Sales Report", kind="app"))
    plan = run_cli(["deploy", str(folder), "--owner", "ana.artisan@example.com", "--dry-run",
                    "--output", str(tmp_path / "plan.xlsx")], server)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "created" in plan.stdout and "new version" in plan.stdout
    before = len(server.state.workflows)
    done = run_cli(["deploy", str(folder), "--owner", "ana.artisan@example.com", "--output",
                    str(tmp_path / "deploy.xlsx")], server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(server.state.workflows) == before + 1
    again = run_cli(["deploy", str(folder), "--owner", "ana.artisan@example.com", "--output",
                     str(tmp_path / "again.xlsx")], server)
    assert again.stdout.count("unchanged") == 2


def test_deploy_never_writes_into_the_folder(tmp_path, server):
    from axframe.packages import build_package

    folder = tmp_path / "checkout"
    folder.mkdir()
    (folder / "Quarterly Close.yxzp").write_bytes(build_package("Quarterly Close"))
    (folder / "sub").mkdir()
    before = server.stats()["requests"]
    for output in (folder / "report.xlsx", folder / "sub" / "report.csv", "report.xlsx"):
        refused = run_cli(["deploy", ".", "--owner", "ana.artisan@example.com", "--output", str(output)], server,
                          cwd=folder)
        assert refused.returncode == 2, (output, refused.stdout, refused.stderr)
        assert "inside" in refused.stderr and "--output" in refused.stderr
    assert server.stats()["requests"] == before  # refused before anything was sent
    # run from inside the folder it deploys, the default report goes beside the folder
    done = run_cli(["deploy", ".", "--owner", "ana.artisan@example.com", "--dry-run"], server, cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in folder.rglob("*")) == ["Quarterly Close.yxzp", "sub"]
    assert ax.sheet_names(tmp_path / "checkout.deploy.xlsx") == ["Success", "Failure", "Summary"]
    assert str(tmp_path / "checkout.deploy.xlsx") in done.stdout


def test_default_outputs_never_overwrite_other_results(tmp_path, server):
    book = tmp_path / "onboarding.xlsx"
    ax.write_sheets({"Groups": pd.DataFrame({"RecordID": [1], "name": ["Sheet Group"], "role": ["Viewer"]}),
                     "Collections": pd.DataFrame({"RecordID": [1], "name": ["Sheet Collection"]})}, book)
    groups = run_cli(["create", "usergroups.create", "-i", str(book), "--sheet", "Groups"], server)
    collections = run_cli(["create", "collections.create", "-i", str(book), "--sheet", "Collections"], server)
    assert groups.returncode == collections.returncode == 0, groups.stderr + collections.stderr
    assert ax.read_frame(tmp_path / "onboarding.Groups.results.xlsx", sheet="Success")["name"].tolist() == \
        ["Sheet Group"]
    assert ax.read_frame(tmp_path / "onboarding.Collections.results.xlsx", sheet="Success")["name"].tolist() == \
        ["Sheet Collection"]
    # a dry run after a real run writes its plan beside the results, not over them, and shows it
    source = ax.write_frame(pd.DataFrame({"RecordID": [1], "name": ["Planned"]}), tmp_path / "plan.csv")
    real = run_cli(["create", "collections.create", "-i", str(source)], server)
    dry = run_cli(["create", "collections.create", "-i", str(source), "--dry-run"], server)
    assert real.returncode == dry.returncode == 0
    assert "1: POST http" in dry.stdout and '{"name": "Planned"}' in dry.stdout
    assert "StatusCode" in ax.read_frame(tmp_path / "plan.success.csv").columns  # the real results, kept
    assert "URL" in ax.read_frame(tmp_path / "plan.dry-run.success.csv").columns


def test_a_listing_needs_no_input_file_and_messages_speak_files(tmp_path, server):
    listed = run_cli(["get", "workflows.list"], server, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert len(ax.read_frame(tmp_path / "workflows.list.success.csv")) == 1
    needs = run_cli(["get", "workflows.get"], server, cwd=tmp_path)
    assert needs.returncode == 2 and "give --input FILE" in needs.stderr
    no_id = tmp_path / "no_id.csv"
    no_id.write_text("name\nx\n")
    refused = run_cli(["create", "collections.create", "-i", str(no_id)], server)
    assert refused.returncode == 2 and "add a column RecordID" in refused.stderr and "ax." not in refused.stderr
    unknown = run_cli(["actions", "colections.ad"])
    assert unknown.returncode == 2 and "collections.add_user" in unknown.stderr


def test_emulator_paging_modes_named_in_help_and_checked_without_loading_the_emulator_for_other_commands():
    from axframe.emulator.state.legacy import PAGING_MODES

    helped = run_cli(["emulator", "--help"])
    text = " ".join(helped.stdout.split())
    assert helped.returncode == 0 and all(mode in text for mode in PAGING_MODES)
    refused = run_cli(["emulator", "--admin-paging", "two-based", "--port", "0"], timeout=30)
    assert refused.returncode == 2 and "two-based" in refused.stderr
    loaded = subprocess.run([sys.executable, "-c", "import sys, axframe.cli; axframe.cli.build_parser(); "
                             "print('axframe.emulator' in sys.modules)"], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False", loaded.stderr


def test_no_output_is_replaced_without_overwrite(tmp_path, server):
    path = ax.write_frame(pd.DataFrame({"RecordID": [1], "name": ["Kept"]}), tmp_path / "in.csv")
    real = tmp_path / "real.results.xlsx"
    first = run_cli(["create", "collections.create", "-i", str(path), "-o", str(real)], server)
    assert first.returncode == 0, first.stderr
    before = real.read_bytes()
    calls = server.stats()["requests"]
    for extra in (["--dry-run"], []):  # a dry run never replaces real results, and neither does a real run
        again = run_cli(["create", "collections.create", "-i", str(path), "-o", str(real), *extra], server)
        assert again.returncode == 2 and "exists" in again.stderr and "--overwrite" in again.stderr
    assert real.read_bytes() == before and server.stats()["requests"] == calls  # nothing sent, nothing written
    keep = tmp_path / "keep.csv"
    keep.write_text("mine\n", encoding="utf-8")
    listing = run_cli(["get", "collections.list", "-o", str(tmp_path / "l.csv"), "--expand", str(keep)], server)
    assert listing.returncode == 2 and "keep.csv exists" in listing.stderr
    assert keep.read_text(encoding="utf-8") == "mine\n"
    replaced = run_cli(["create", "collections.create", "-i", str(path), "-o", str(real), "--dry-run", "--overwrite"],
                       server)
    assert replaced.returncode == 0 and real.read_bytes() != before
