"""Bad input files through the command line: one clear error each, exit code 2, and nothing sent.

The errors themselves (their wording, one per file) are tested on ``read_frame`` in tests/test_io.py
(``test_bad_input_files_raise_one_clear_error``, ``test_unknown_sheet_lists_the_sheets``,
``test_csv_in_another_encoding_is_one_clear_error``); here the same files go to ``axframe create`` against a
live emulator, which must not see a single request, not even for a token.
"""

from __future__ import annotations

import openpyxl
import pytest

from ..cli.test_cli import run_cli
from ..test_io import _blank_first_row_xlsx, _empty_sheet_xlsx, _truncated_parquet


def _book_with_sheet(path):
    wb = openpyxl.Workbook()
    wb.active.title = "Users"
    wb.active.append(["RecordID", "name"])
    wb.active.append([1, "x"])
    wb.save(path)


def _other_encoding(path):
    path.write_bytes("RecordID,name\r\n1,Zoë Müller\r\n".encode("cp1252"))


CASES = [
    ("empty.csv", lambda p: p.write_bytes(b""), [], "is empty"),
    ("blank.csv", lambda p: p.write_text(" \n\n \n"), [], "is empty"),
    ("empty.xlsx", _empty_sheet_xlsx, [], "is empty"),
    ("empty.parquet", lambda p: p.write_bytes(b""), [], "is empty"),
    ("noheader.csv", lambda p: p.write_text("\n1,abc\n2,def\n"), [], "no header row"),
    ("noheader.xlsx", _blank_first_row_xlsx, [], "no header row"),
    ("book.xlsx", _book_with_sheet, ["--sheet", "Groups"], "no sheet 'Groups'"),
    ("truncated.parquet", _truncated_parquet, [], "not a readable Parquet file"),
    ("ansi.csv", _other_encoding, [], "encoding="),
    ("norecordid.csv", lambda p: p.write_text("name\nx\n"), [], "no 'RecordID' column"),
    ("columns.csv", lambda p: p.write_text("RecordID,name\n1,x\n"), ["--contract-columns", "nope"],
     "contract_columns not in the frame: nope"),
]


@pytest.mark.parametrize("name, make, extra, message", CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_one_clear_error_exit_2_and_nothing_sent(tmp_path, server, name, make, extra, message):
    path = tmp_path / name
    make(path)
    before = server.stats()
    done = run_cli(["create", "collections.create", "--input", str(path), *extra], server)
    after = server.stats()
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("axframe: error: "), done.stderr  # one clear error
    assert message in lines[0] and name in lines[0]
    assert "Traceback" not in done.stderr
    assert after["requests"] == before["requests"] and after["tokenRequests"] == before["tokenRequests"]
    assert not list(tmp_path.glob("*.success.*")) and not list(tmp_path.glob("*.results.*"))
