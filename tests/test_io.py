"""Files in and out (axframe.io): real files in tmp_path, the emulator for the engine round trip."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

import axframe as ax
from axframe.errors import FrameError
from axframe.io import (EXCEL_CELL_LIMIT, InputFileError, OutputFileError, read_frame, sheet_names, write_frame,
                        write_results)

FORMATS = ["csv", "xlsx", "parquet"]
DEFAULT_STR = pd.Series(["a"]).dtype  # object on pandas 2, str on pandas 3

CONTRACTS = [
    '{"name": "Sales, \\"EU\\"", "note": "a,b"}',
    '{\n  "name": "two\\nlines",\r\n  "x": 1\n}',
    '  {"name": "Zoë ✓ 😀 日本"}  ',
    '=HYPERLINK("http://x","y")',
    '+{"a": 1}',
    '-1',
    '@SUM(A1)',
    '#N/A',
    '"quoted"',
    'tab\there, cr\ronly, ctl\x01\x0b end',
    '_x000D_ literal escape text',
    '{"deep": {"list": [1, 2, "3"], "null": null}}',
]
IDS = ["5f1a2b3c4d5e6f7a8b9c0d1e", "007", "12345678901234567890", "0012", "1e5", "00000000000000000000000a",
       "-0", "1.0", "  7  ", "NaN", "null", "TRUE"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"RecordID": IDS, "contract": CONTRACTS})


def _is_plain(dtype) -> bool:
    return not isinstance(dtype, pd.api.extensions.ExtensionDtype) or dtype == DEFAULT_STR


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("ext", FORMATS)
def test_contracts_and_ids_round_trip_exactly(tmp_path, ext):
    path = write_frame(_frame(), tmp_path / f"in.{ext}")
    back = read_frame(path)
    assert list(back.columns) == ["RecordID", "contract"]
    assert back["RecordID"].tolist() == IDS
    assert back["contract"].tolist() == CONTRACTS
    assert all(isinstance(v, str) for v in back["RecordID"].tolist() + back["contract"].tolist())
    assert all(_is_plain(d) for d in back.dtypes)


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_text_formats_read_everything_as_text(tmp_path, ext):
    frame = pd.DataFrame({"RecordID": [1, 2, 3], "status": [404.0, np.nan, 200.0],
                          "StatusCode": pd.Series([404, None, 12345678901234567890], dtype=object),
                          "ratio": [0.5, 0.25, np.nan], "flag": [True, False, True],
                          "when": pd.to_datetime(["2024-01-31", "2024-02-01 09:30", None], format="ISO8601")})
    back = read_frame(write_frame(frame, tmp_path / f"t.{ext}"))
    assert back.to_dict("list") == {
        "RecordID": ["1", "2", "3"], "status": ["404", "", "200"],
        "StatusCode": ["404", "", "12345678901234567890"], "ratio": ["0.5", "0.25", ""],
        "flag": ["true", "false", "true"],
        "when": ["2024-01-31T00:00:00", "2024-02-01T09:30:00", ""]}
    assert all(_is_plain(d) for d in back.dtypes)


def test_csv_bytes_bom_crlf_and_plain_numbers(tmp_path):
    frame = pd.DataFrame({"RecordID": [1, 2], "StatusCode": pd.Series([404, None], dtype=object),
                          "code": [201.0, np.nan], "text": ["a\nb", "x"]})
    raw = write_frame(frame, tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfRecordID,StatusCode,code,text\r\n")
    assert raw[3:].decode("utf-8") == 'RecordID,StatusCode,code,text\r\n1,404,201,"a\nb"\r\n2,,,x\r\n'
    back = read_frame(tmp_path / "out.csv")  # the BOM and CRLF read back: the text as written, a newline kept
    assert back.to_dict("list") == {"RecordID": ["1", "2"], "StatusCode": ["404", ""], "code": ["201", ""],
                                    "text": ["a\nb", "x"]}


def test_parquet_keeps_types_and_writes_mixed_columns_as_text(tmp_path):
    frame = pd.DataFrame({"RecordID": pd.Series([1, "a2", None], dtype=object),
                          "contract": pd.Series([{"name": "x"}, [1, 2], None], dtype=object),
                          "n": [1, 2, 3], "f": [0.5, np.nan, 2.0],
                          "empty": pd.Series([None, None, None], dtype=object)})
    back = read_frame(write_frame(frame, tmp_path / "t.parquet"))
    assert back["RecordID"].tolist()[:2] == ["1", "a2"] and pd.isna(back["RecordID"][2])
    assert json.loads(back["contract"][0]) == {"name": "x"} and back["contract"][1] == "[1, 2]"
    assert back["n"].dtype == "int64" and back["f"].dtype == "float64"
    assert all(_is_plain(d) for d in back.dtypes)
    empty = read_frame(write_frame(frame.iloc[:0], tmp_path / "empty.parquet"))
    assert list(empty.columns) == list(frame.columns) and len(empty) == 0


def test_parquet_nullable_extension_dtypes_come_back_plain(tmp_path):
    path = tmp_path / "ext.parquet"
    pd.DataFrame({"i": pd.array([1, None], dtype="Int64"), "j": pd.array([1, 2], dtype="Int64"),
                  "b": pd.array([True, None], dtype="boolean"),
                  "s": pd.array(["x", None], dtype="string")}).to_parquet(path)
    back = read_frame(path)
    assert all(_is_plain(d) for d in back.dtypes), back.dtypes
    assert back["i"].tolist() == [1, None] and back["j"].dtype == "int64"
    assert back["b"].tolist() == [True, None] and back["s"][0] == "x" and pd.isna(back["s"][1])


# ---------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------


def test_excel_text_is_never_a_formula(tmp_path):
    formula = '=HYPERLINK("http://x","y")'
    frame = pd.DataFrame({"RecordID": ["1", "2", "3", "4"], "=SUM(A1:A2)": [formula, "+1", "#N/A", "@x"]})
    path = write_frame(frame, tmp_path / "f.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert ws["B2"].data_type == "s" and ws["B2"].value == formula
    assert ws["B1"].data_type == "s" and ws["B1"].value == "=SUM(A1:A2)"
    assert [(ws[f"B{r}"].data_type, ws[f"B{r}"].value) for r in (3, 4, 5)] == [("s", "+1"), ("s", "#N/A"),
                                                                                ("s", "@x")]
    assert read_frame(path).equals(frame)


def test_excel_formulas_without_a_saved_value_are_named_not_read_as_empty(tmp_path):
    wb = openpyxl.Workbook()  # openpyxl writes formulas without their values, as scripts do
    ws = wb.active
    ws.title = "Users"
    ws.append(["RecordID", "email", "firstName"])
    ws.append([1, '=LOWER("A@X.COM")', "Ann"])
    ws.append([2, "b@x.com", '=PROPER("bob")'])
    wb.save(tmp_path / "formulas.xlsx")
    with pytest.raises(InputFileError, match=r"sheet 'Users' of .*formulas.xlsx: 2 cell\(s\) hold a formula with "
                                             r"no saved value: B2 \(=LOWER.*\), C3 \(=PROPER.*\); .*save it"):
        read_frame(tmp_path / "formulas.xlsx")
    # a workbook whose formulas have saved values (as Excel saves them) reads those values
    path = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(tmp_path / "formulas.xlsx") as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</f><v />", b"</f><v>saved</v>")  # a cached value, as Excel writes it
                data = data.replace(b'<c r="B2"', b'<c t="str" r="B2"').replace(b'<c r="C3"', b'<c t="str" r="C3"')
                assert data.count(b"<v>saved</v>") == 2
            target.writestr(item, data)
    assert read_frame(path).to_dict("list") == {"RecordID": ["1", "2"], "email": ["saved", "b@x.com"],
                                                 "firstName": ["Ann", "saved"]}


def test_excel_cells_read_as_their_natural_text(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Users"
    ws.append(["RecordID", "int", "whole", "frac", "sum", "big", "date", "stamp", "flag", "typed", "blank"])
    ws.append([1, 7, 1.0, 0.5, 0.1 + 0.2, 1e20, dt.datetime(2024, 1, 31), dt.datetime(2024, 1, 31, 9, 30),
               True, "007", None])
    ws.append([2, -3, 5.0, 1e-5, 2.5, 123456789012345.0, dt.date(2024, 2, 29), None, False, " x ", None])
    wb.save(tmp_path / "natural.xlsx")
    back = read_frame(tmp_path / "natural.xlsx")
    assert back.to_dict("records") == [
        {"RecordID": "1", "int": "7", "whole": "1", "frac": "0.5", "sum": "0.3", "big": "100000000000000000000",
         "date": "2024-01-31", "stamp": "2024-01-31T09:30:00", "flag": "true", "typed": "007", "blank": ""},
        {"RecordID": "2", "int": "-3", "whole": "5", "frac": "0.00001", "sum": "2.5", "big": "123456789012345",
         "date": "2024-02-29", "stamp": "", "flag": "false", "typed": " x ", "blank": ""}]


def test_excel_over_long_values_are_split_and_joined_back(tmp_path):
    long = ("{\"name\": \"é😀\",\r\n \"x\": \"_x0041_\"}" * 6000)[:150_000]
    frame = pd.DataFrame({"RecordID": ["1", "2"], "Response": [long, "short"], "after": ["a", "b"]})
    path = write_frame(frame, tmp_path / "long.xlsx")
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    assert header[:3] == ["RecordID", "Response", "Response (part 2)"] and header[-1] == "after"
    for column in ws.iter_cols(min_row=2):
        for cell in column:
            assert len(str(cell.value or "").encode("utf-16-le")) // 2 <= EXCEL_CELL_LIMIT
    back = read_frame(path)
    assert list(back.columns) == ["RecordID", "Response", "after"]
    assert back["Response"][0] == long and back["Response"][1] == "short"


def test_excel_with_a_wrong_recorded_used_range_is_read_whole(tmp_path):
    wb = openpyxl.Workbook()
    for row in (["RecordID", "name"], ["1", "a"], ["2", "b"], ["3", "c"]):
        wb.active.append(row)
    wb.save(tmp_path / "ok.xlsx")
    with zipfile.ZipFile(tmp_path / "ok.xlsx") as src, zipfile.ZipFile(tmp_path / "dim.xlsx", "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'<dimension ref="A1:B4"\s*/>', b'<dimension ref="A1"/>', data)
                assert count == 1
            dst.writestr(item, data)
    assert read_frame(tmp_path / "dim.xlsx").to_dict("list") == {"RecordID": ["1", "2", "3"],
                                                                 "name": ["a", "b", "c"]}


def test_excel_row_limit_is_a_clear_error(tmp_path, monkeypatch):
    import axframe.io

    monkeypatch.setattr(axframe.io, "EXCEL_MAX_ROWS", 4)  # Excel's real limit is 1,048,576 rows
    with pytest.raises(OutputFileError, match="do not fit in an Excel sheet"):
        write_frame(_frame(), tmp_path / "big.xlsx")
    assert not (tmp_path / "big.xlsx").exists()


def test_a_users_own_part_columns_are_not_joined(tmp_path):
    frame = pd.DataFrame({"RecordID": ["1"], "Score": ["5"], "Score (part 2)": ["7"]})
    assert read_frame(write_frame(frame, tmp_path / "s.xlsx")).equals(frame)


def test_sheets_chosen_listed_and_named(tmp_path):
    path = tmp_path / "book.xlsx"
    write_results(ax.Result(pd.DataFrame({"RecordID": ["1"]}), pd.DataFrame({"RecordID": ["2"]}),
                            ax.Summary("x")), path)
    assert sheet_names(path) == ["Success", "Failure", "Summary"]
    assert read_frame(path)["RecordID"].tolist() == ["1"]
    assert read_frame(path, sheet="Failure")["RecordID"].tolist() == ["2"]
    assert read_frame(path, sheet=1)["RecordID"].tolist() == ["2"]
    write_frame(pd.DataFrame({"a": ["1"]}), path, sheet="New starters")
    assert sheet_names(path) == ["New starters"]
    with pytest.raises(OutputFileError, match="31"):
        write_frame(pd.DataFrame({"a": ["1"]}), tmp_path / "x.xlsx", sheet="x" * 32)
    with pytest.raises(OutputFileError, match="may not contain"):
        write_frame(pd.DataFrame({"a": ["1"]}), tmp_path / "x.xlsx", sheet="a/b")


# ---------------------------------------------------------------------------
# CSV specifics
# ---------------------------------------------------------------------------


def test_csv_with_a_bom_semicolons_and_a_header_only(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeffRecordID,name\r\n007,Zoë\r\n".encode("utf-8"))
    assert read_frame(tmp_path / "bom.csv").to_dict("list") == {"RecordID": ["007"], "name": ["Zoë"]}
    (tmp_path / "semi.csv").write_text("RecordID;name\n1;a,b\n", encoding="utf-8")
    assert read_frame(tmp_path / "semi.csv").to_dict("list") == {"RecordID": ["1"], "name": ["a,b"]}
    (tmp_path / "utf16.csv").write_bytes("RecordID\tname\r\n1\tZoë\r\n".encode("utf-16"))
    assert read_frame(tmp_path / "utf16.csv").to_dict("list") == {"RecordID": ["1"], "name": ["Zoë"]}
    (tmp_path / "head.csv").write_text("RecordID,name\n", encoding="utf-8")
    head = read_frame(tmp_path / "head.csv")
    assert list(head.columns) == ["RecordID", "name"] and len(head) == 0


def test_csv_blank_rows_and_unnamed_empty_columns_are_skipped(tmp_path):
    (tmp_path / "b.csv").write_text(" RecordID ,name,\n1,a,\n,,\n\n2,b,\n", encoding="utf-8")
    assert read_frame(tmp_path / "b.csv").to_dict("list") == {"RecordID": ["1", "2"], "name": ["a", "b"]}


def test_csv_in_another_encoding_is_one_clear_error(tmp_path):
    path = tmp_path / "ansi.csv"
    path.write_bytes("RecordID,name\r\n1,Zoë Müller\r\n".encode("cp1252"))
    with pytest.raises(InputFileError) as err:
        read_frame(path)
    assert str(path) in str(err.value) and "encoding=" in str(err.value)
    assert read_frame(path, encoding="cp1252")["name"].tolist() == ["Zoë Müller"]


# ---------------------------------------------------------------------------
# errors: one clear exception each, before anything else
# ---------------------------------------------------------------------------


def _corrupt_xlsx(path):
    write_frame(_frame(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _truncated_parquet(path):
    write_frame(_frame(), path)
    data = path.read_bytes()
    path.write_bytes(data[:-20])


def _blank_first_row_xlsx(path):
    wb = openpyxl.Workbook()
    wb.active["A2"], wb.active["A3"] = "RecordID", "1"
    wb.save(path)


def _duplicate_xlsx(path):
    wb = openpyxl.Workbook()
    wb.active.append(["RecordID", "name", "name"])
    wb.active.append([1, "a", "b"])
    wb.save(path)


def _empty_sheet_xlsx(path):
    openpyxl.Workbook().save(path)


ERRORS = [
    ("missing.csv", None, "no such file"),
    ("input.txt", lambda p: p.write_text("a,b\n"), "unsupported file type '.txt'"),
    ("input.xls", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0"), "save it as .xlsx"),
    ("empty.csv", lambda p: p.write_bytes(b""), "is empty"),
    ("empty.xlsx", lambda p: p.write_bytes(b""), "is empty"),
    ("empty.parquet", lambda p: p.write_bytes(b""), "is empty"),
    ("blank.csv", lambda p: p.write_text(" \n\n  \n"), "is empty"),
    ("emptysheet.xlsx", _empty_sheet_xlsx, "is empty"),
    ("noheader.csv", lambda p: p.write_text("\n1,abc\n2,def\n"), "no header row"),
    ("noheader.xlsx", _blank_first_row_xlsx, "no header row"),
    ("dupes.csv", lambda p: p.write_text("RecordID,name,name\n1,a,b\n"), "duplicate column names: 'name'"),
    ("dupes.xlsx", _duplicate_xlsx, "duplicate column names: 'name'"),
    ("unnamed.csv", lambda p: p.write_text("RecordID,,name\n1,x,a\n"), "column 2 holds values but has no name"),
    ("ragged.csv", lambda p: p.write_text("RecordID,name\n1,a\n2,b,c\n"), "row 3 .* has 3 values"),
    ("quote.csv", lambda p: p.write_text('RecordID,name\n1,"a\n'), "never closed"),
    ("corrupt.xlsx", _corrupt_xlsx, "not a readable Excel workbook"),
    ("text.xlsx", lambda p: p.write_text("RecordID\n1\n"), "not a readable Excel workbook"),
    ("truncated.parquet", _truncated_parquet, "not a readable Parquet file"),
    ("garbage.parquet", lambda p: p.write_bytes(b"not parquet at all"), "not a readable Parquet file"),
    ("book.csv", lambda p: write_frame(_frame(), p.with_suffix(".xlsx")).rename(p), "looks like an Excel"),
]


@pytest.mark.parametrize("name, make, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_files_raise_one_clear_error(tmp_path, name, make, message):
    path = tmp_path / name
    if make is not None:
        make(path)
    with pytest.raises(InputFileError, match=message) as err:
        read_frame(path)
    assert isinstance(err.value, FrameError)
    assert name in str(err.value)


def test_unknown_sheet_lists_the_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Users"
    wb.active.append(["RecordID"])
    wb.create_sheet("Groups")
    wb.save(path)
    with pytest.raises(InputFileError, match=r"no sheet 'users' \(did you mean 'Users'\?\).*'Users', 'Groups'"):
        read_frame(path, sheet="users")
    with pytest.raises(InputFileError, match="no sheet number 5"):
        read_frame(path, sheet=5)
    with pytest.raises(InputFileError, match="Excel workbooks only"):
        read_frame(write_frame(_frame(), tmp_path / "x.csv"), sheet="Users")


def test_write_errors_leave_an_existing_file_alone(tmp_path):
    path = write_frame(_frame(), tmp_path / "keep.csv")
    before = path.read_bytes()
    dupes = pd.DataFrame([[1, 2]], columns=["a", "a"])
    for target in (path, tmp_path / "keep.xlsx", tmp_path / "keep.parquet"):
        with pytest.raises(OutputFileError, match="duplicate column names"):
            write_frame(dupes, target)
    assert path.read_bytes() == before
    with pytest.raises(OutputFileError, match="save it as .xlsx"):
        write_frame(_frame(), tmp_path / "old.xls")
    with pytest.raises(OutputFileError, match="unsupported"):
        write_frame(_frame(), tmp_path / "x.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]  # no temporary files left behind


def test_paths_expand_home_and_create_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    written = write_frame(_frame(), "~/out/deeper/users.csv")
    assert written == tmp_path / "out" / "deeper" / "users.csv" and written.is_file()
    assert read_frame("~/out/deeper/users.csv")["contract"].tolist() == CONTRACTS


def test_named_index_is_kept_as_columns(tmp_path):
    frame = _frame().set_index("RecordID")
    assert read_frame(write_frame(frame, tmp_path / "i.csv"))["RecordID"].tolist() == IDS


# ---------------------------------------------------------------------------
# write_results
# ---------------------------------------------------------------------------


def _result(success_rows: int, failure_rows: int) -> ax.Result:
    success = pd.DataFrame({"RecordID": [f"s{i}" for i in range(success_rows)], "name": ["n"] * success_rows})
    success["StatusCode"] = pd.array([201] * success_rows, dtype="int64")
    success["Response"] = pd.Series(['{"id": "5f1a2b3c4d5e6f7a8b9c0d1e"}'] * success_rows, dtype=object)
    failure = pd.DataFrame({"RecordID": [f"f{i}" for i in range(failure_rows)], "name": [""] * failure_rows})
    failure["StatusCode"] = pd.Series([404 if i % 2 else None for i in range(failure_rows)], dtype=object)
    failure["ErrorType"] = pd.Series(["NotFound"] * failure_rows, dtype=object)
    failure["Error"] = pd.Series(["=not a formula"] * failure_rows, dtype=object)
    failure["Response"] = pd.Series([""] * failure_rows, dtype=object)
    summary = ax.Summary("collections.create", rows=success_rows + failure_rows, succeeded=success_rows,
                         failed=failure_rows, error_types={"NotFound": failure_rows} if failure_rows else {})
    return ax.Result(success, failure, summary)


@pytest.mark.parametrize("ext", ["csv", "parquet"])
@pytest.mark.parametrize("counts", [(2, 3), (0, 2), (2, 0), (0, 0)])
def test_write_results_side_by_side_files(tmp_path, ext, counts):
    result = _result(*counts)
    paths = write_results(result, tmp_path / f"run.{ext}")
    assert [p.name for p in paths] == [f"run.success.{ext}", f"run.failure.{ext}", "run.summary.json"]
    success, failure = read_frame(paths[0]), read_frame(paths[1])
    assert list(success.columns) == ["RecordID", "name", "StatusCode", "Response"] and len(success) == counts[0]
    assert list(failure.columns) == ["RecordID", "name", "StatusCode", "ErrorType", "Error", "Response"]
    assert failure["RecordID"].tolist() == [f"f{i}" for i in range(counts[1])]
    if ext == "csv" and counts[1]:
        assert failure["StatusCode"].tolist()[:2] == ["", "404"]
    summary = json.loads(paths[2].read_text(encoding="utf-8"))
    assert summary["succeeded"] == counts[0] and summary["failed"] == counts[1]
    assert summary["success"] == paths[0].name and summary["action"] == "collections.create"


@pytest.mark.parametrize("counts", [(2, 3), (0, 2), (2, 0), (0, 0)])
def test_write_results_one_workbook(tmp_path, counts):
    (path,) = write_results(_result(*counts), tmp_path / "run.xlsx", input_path=tmp_path / "in.csv")
    assert sheet_names(path) == ["Success", "Failure", "Summary"]
    failure = read_frame(path, sheet="Failure")
    assert list(failure.columns) == ["RecordID", "name", "StatusCode", "ErrorType", "Error", "Response"]
    assert failure["StatusCode"].tolist() == ["404" if i % 2 else "" for i in range(counts[1])]
    assert len(read_frame(path, sheet="Success")) == counts[0]
    summary = read_frame(path, sheet="Summary")
    assert list(summary.columns) == ["Field", "Value"]
    table = dict(zip(summary["Field"], summary["Value"]))
    assert table["action"] == "collections.create" and table["failed"] == str(counts[1])
    assert table["input"] == str(tmp_path / "in.csv")
    if counts[1]:
        assert table["error_types.NotFound"] == str(counts[1])
        ws = openpyxl.load_workbook(path)["Failure"]
        assert ws["E2"].value == "=not a formula" and ws["E2"].data_type == "s"


def test_write_results_never_overwrites_its_input(tmp_path):
    source = write_frame(_frame(), tmp_path / "users.xlsx")
    before = source.read_bytes()
    with pytest.raises(OutputFileError, match="is the input file"):
        write_results(_result(1, 1), tmp_path / "users.xlsx", input_path=source)
    assert source.read_bytes() == before
    failed = write_frame(_frame(), tmp_path / "run.failure.csv")
    with pytest.raises(OutputFileError, match="is the input file"):
        write_results(_result(1, 1), tmp_path / "run.csv", input_path=failed)
    assert not (tmp_path / "run.success.csv").exists()


def test_write_results_takes_a_success_failure_pair(tmp_path):
    result = _result(2, 1)
    paths = write_results((result.success, result.failure), tmp_path / "pair.csv")
    summary = json.loads(paths[2].read_text(encoding="utf-8"))
    assert (summary["rows"], summary["succeeded"], summary["failed"]) == (3, 2, 1)
    with pytest.raises(OutputFileError, match="expected an axframe Result"):
        write_results("not a result", tmp_path / "x.csv")


# ---------------------------------------------------------------------------
# the whole loop against the emulator: file in, run, fix the failures, run again
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("ext", FORMATS)
def test_failure_file_feeds_straight_back_into_the_engine(tmp_path, server, conn, ext):
    names = ["Team 007", "", "Zoë, \"quoted\"", "   ", "=HYPERLINK(\"x\")"]
    source = write_frame(pd.DataFrame({"RecordID": ["001", "002", "003", "004", "005"], "name": names}),
                         tmp_path / f"collections.{ext}")
    before = len(server.state.collections)

    first = ax.create(conn, "collections.create", read_frame(source))
    paths = write_results(first, tmp_path / f"run1.{ext}", input_path=source)
    assert sorted(first.success["RecordID"]) == ["001", "003", "005"]

    failed = read_frame(paths[0], sheet="Failure") if ext == "xlsx" else read_frame(paths[1])
    assert failed["RecordID"].tolist() == ["002", "004"]
    assert set(failed.columns) >= {"StatusCode", "ErrorType", "Error", "Response"}
    failed["name"] = ["Fixed two", "Fixed four"]
    second = ax.create(conn, "collections.create", failed)
    assert second.failure.empty, second.failure.to_dict("records")

    done = list(first.success["RecordID"]) + list(second.success["RecordID"])
    assert sorted(done) == ["001", "002", "003", "004", "005"]  # each row exactly once
    assert len(server.state.collections) == before + 5
    created = {c["name"] for c in server.state.collections.values()}
    assert {"Team 007", "Zoë, \"quoted\"", "=HYPERLINK(\"x\")", "Fixed two", "Fixed four"} <= created
