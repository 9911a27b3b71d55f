"""The command line's own sentences: what a run did, in the words of the command that ran it."""

from __future__ import annotations

import json

import pandas as pd

import axframe as ax
from axframe.cli import interrupted_advice
from axframe.demo import clip

from .test_cli import run_cli


def _rows(tmp_path, name, column="name", values=("m1", "m2")):
    return ax.write_frame(pd.DataFrame({"RecordID": range(1, len(values) + 1), column: list(values)}),
                          tmp_path / name)


def test_rows_refused_before_sending_are_not_called_done(tmp_path, server):
    source = _rows(tmp_path, "bad.csv", column="nme")  # no 'name': both rows fail before sending
    done = run_cli(["create", "collections.create", "-i", str(source)], server)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1] == "collections.create: 0 rows sent, 2 refused before sending"
    assert "rows done" not in done.stderr


def test_the_summary_file_counts_the_token_the_command_asked_for(tmp_path, server):
    issued = server.stats()["tokensIssued"]
    source = _rows(tmp_path, "in.csv")
    done = run_cli(["create", "collections.create", "-i", str(source)], server)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "in.summary.json").read_text())
    assert summary["tokens_requested"] == server.stats()["tokensIssued"] - issued == 1


def test_run_jobs_lines_name_the_command(tmp_path, server):
    source = _rows(tmp_path, "jobs.csv", column="workflow", values=("No Such Workflow",))
    done = run_cli(["run-jobs", "-i", str(source)], server)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("run-jobs: 1 row, 0 succeeded, 1 failed"), done.stdout
    assert "run_jobs" not in done.stdout.splitlines()[0]  # the command's name, not the Python function's
    assert done.stderr.splitlines()[-1] == "run-jobs: 0 rows sent, 1 refused before sending"


def test_a_dry_run_without_an_address_says_its_urls_are_placeholders(tmp_path):
    source = _rows(tmp_path, "in.csv")
    done = run_cli(["create", "collections.create", "-i", str(source), "--dry-run"])
    assert done.returncode == 0, done.stderr
    assert "POST https://your-server/webapi/v3/collections" in done.stdout
    assert "no Server address was given" in done.stdout and "AXFRAME_BASE_URL" in done.stdout
    assert "example.com" not in done.stdout
    given = run_cli(["create", "collections.create", "-i", str(source), "--dry-run", "--overwrite",
                     "--base-url", "https://gallery.corp.test/webapi"])
    assert "POST https://gallery.corp.test/webapi/v3/collections" in given.stdout
    assert "no Server address" not in given.stdout


def test_an_interrupted_run_says_how_to_go_on():
    with_journal = interrupted_advice("run.journal")
    assert "journal run.journal" in with_journal and "run the same command again to resume" in with_journal
    assert "if you gave one" not in with_journal
    without = interrupted_advice(None)
    assert "no --journal was given" in without and "check the Server" in without


def test_the_demo_cuts_long_errors_between_words():
    text = "the field 'name' is required and must be a text of at most 255 characters, not a number"
    assert clip(text, 200) == text
    short = clip(text, 40)
    assert len(short) <= 40 and short.endswith("...")
    assert text.startswith(short[:-3]) and text[len(short) - 3] == " "  # cut where a word ends
    assert clip("x" * 50, 20) == "x" * 17 + "..."  # one long word: cut, still marked


def test_axframe_emulator_prints_the_export_lines_of_the_readme_and_takes_the_emulators_options(tmp_path):
    import os
    import re
    import subprocess
    import sys

    from ..conftest import ROOT

    process = subprocess.Popen([sys.executable, "-m", "axframe.cli", "emulator", "--port", "0", "--host",
                                "127.0.0.1", "--token-lifetime", "5"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        lines = []
        while len([line for line in lines if line.strip().startswith("export ")]) < 3:
            line = process.stdout.readline()
            assert line, (lines, process.stderr.read() if process.poll() is not None else "")
            lines.append(line)
        exports = [line.strip() for line in lines if line.strip().startswith("export ")]
        port = re.search(r"127\.0\.0\.1:(\d+)/webapi", exports[0]).group(1)
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        block = re.search(r"```bash\n(export AXFRAME_BASE_URL=.*?)```", readme, re.S).group(1)
        assert [line.replace(f":{port}/", ":8080/") for line in exports] == block.strip().splitlines()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
        env.update(dict(line.removeprefix("export ").split("=", 1) for line in exports))
        source = _rows(tmp_path, "in.csv")
        done = subprocess.run([sys.executable, "-m", "axframe.cli", "create", "collections.create", "-i",
                               str(source)], env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        assert json.loads((tmp_path / "in.summary.json").read_text())["succeeded"] == 2
    finally:
        process.terminate()
        process.wait(timeout=30)
    help_text = subprocess.run([sys.executable, "-m", "axframe.cli", "emulator", "--help"], capture_output=True,
                               text=True, timeout=60).stdout
    assert help_text.startswith("usage: axframe emulator") and "--token-lifetime" in help_text \
        and "--host" in help_text
