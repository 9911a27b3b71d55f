"""The stand-in ``ayx`` refuses what Designer's Python tool refuses, and accepts axframe's plain frames."""

from __future__ import annotations

import datetime
import sys

import numpy as np
import pandas as pd
import pytest


def plain_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "RecordID": pd.Series([1, 2], dtype="int64"),
        "Seconds": pd.Series([0.5, np.nan], dtype="float64"),
        "ok": pd.Series([True, False], dtype="bool"),
        "when": pd.Series(pd.to_datetime(["2024-01-31", None]).astype("datetime64[ns]")),
        "StatusCode": pd.Series([404, None], dtype=object),
        "text": pd.Series(["a", None], dtype=object),
        "mixed": pd.Series([datetime.date(2024, 1, 31), 3.5], dtype=object),
    })


def test_read_gives_a_copy_of_what_was_fed(designer):
    frame = plain_frame()
    designer.Alteryx.feed({"#1": frame})
    got = designer.Alteryx.read("#1")
    pd.testing.assert_frame_equal(got, frame)
    got.loc[0, "text"] = "changed"
    assert designer.Alteryx.read("#1").loc[0, "text"] == "a"
    assert designer.Alteryx.getIncomingConnectionNames() == ["#1"]
    with pytest.raises(ValueError, match="not connected"):
        designer.Alteryx.read("#2")


def test_plain_frames_are_written(designer):
    frame = plain_frame()
    for anchor in range(1, 6):
        designer.Alteryx.write(frame, anchor)
    assert sorted(designer.Alteryx.written) == [1, 2, 3, 4, 5]
    pd.testing.assert_frame_equal(designer.Alteryx.written[3], frame)


def test_empty_frames_with_columns_are_written(designer):
    designer.Alteryx.write(plain_frame().iloc[:0], 1)
    assert list(designer.Alteryx.written[1].columns) == list(plain_frame().columns)


def test_the_default_text_dtype_is_plain(designer):
    frame = pd.DataFrame({"name": ["Ana", None]})  # "str" on pandas 3, object on pandas 2
    designer.Alteryx.write(frame, 1)
    if pd.__version__.startswith("3"):
        assert str(frame["name"].dtype) == "str"


@pytest.mark.parametrize("anchor", [0, 6, -1, "1", 1.0, True, None])
def test_anchors_are_whole_numbers_from_1_to_5(designer, anchor, capsys):
    with pytest.raises((TypeError, ValueError), match="outgoing connection number"):
        designer.Alteryx.write(plain_frame(), anchor)
    assert "ERROR: Alteryx.write" in capsys.readouterr().out
    assert designer.Alteryx.written == {}


@pytest.mark.parametrize("thing", [None, [{"a": 1}], {"a": [1]}, pd.Series([1]), "text"])
def test_only_dataframes_are_written(designer, thing):
    with pytest.raises(TypeError, match="dataframe"):
        designer.Alteryx.write(thing, 1)


def test_a_frame_without_columns_is_refused(designer):
    with pytest.raises(ValueError, match="no columns"):
        designer.Alteryx.write(pd.DataFrame(), 1)
    with pytest.raises(ValueError, match="no columns"):
        designer.Alteryx.write(pd.DataFrame(index=[0, 1]), 1)


def test_repeated_or_empty_names_are_refused(designer):
    with pytest.raises(ValueError, match="more than once"):
        designer.Alteryx.write(pd.DataFrame([[1, 2]], columns=["a", "a"]), 1)
    with pytest.raises(ValueError, match="empty name"):
        designer.Alteryx.write(pd.DataFrame({"": [1]}), 1)


REFUSED_DTYPES = {
    "Int64": lambda: pd.Series([1, None], dtype="Int64"),
    "Float64": lambda: pd.Series([1.5, None], dtype="Float64"),
    "boolean": lambda: pd.Series([True, None], dtype="boolean"),
    "category": lambda: pd.Series(["a", "b"], dtype="category"),
    "string[python]": lambda: pd.Series(["a", None], dtype="string[python]"),
    "string[pyarrow]": lambda: pd.Series(["a", None], dtype="string[pyarrow]"),
    "int32": lambda: pd.Series([1, 2], dtype="int32"),
    "float32": lambda: pd.Series([1.0, 2.0], dtype="float32"),
    "datetime64[us]": lambda: pd.Series(pd.to_datetime(["2024-01-31"]).astype("datetime64[us]")),
    "datetime64[ns, UTC]": lambda: pd.Series(pd.to_datetime(["2024-01-31"], utc=True)),
    "timedelta64[ns]": lambda: pd.Series(pd.to_timedelta([1, 2], unit="s")),
    "period": lambda: pd.Series(pd.period_range("2024-01", periods=2, freq="M")),
    "int64[pyarrow]": lambda: pd.Series([1, 2], dtype="int64[pyarrow]"),
}


@pytest.mark.parametrize("name", sorted(REFUSED_DTYPES))
def test_dtypes_that_are_not_plain_are_refused(designer, name, capsys):
    odd = REFUSED_DTYPES[name]()
    frame = pd.DataFrame({"RecordID": range(1, len(odd) + 1), "odd": odd})
    with pytest.raises(TypeError, match="couldn't find conversion for odd"):
        designer.Alteryx.write(frame, 1)
    out = capsys.readouterr().out
    assert out.startswith("ERROR: Alteryx.write(pandas_df, outgoing_connection_number):")
    assert 1 not in designer.Alteryx.written


@pytest.mark.parametrize("value", [{"id": "x"}, ["a", "b"], ("a",), {"a"}, b"bytes", pd.NA,
                                   datetime.datetime(2024, 1, 31, tzinfo=datetime.timezone.utc), object()],
                         ids=["dict", "list", "tuple", "set", "bytes", "NA", "aware-datetime", "object"])
def test_object_columns_of_other_things_are_refused(designer, value):
    frame = pd.DataFrame({"RecordID": [1, 2], "odd": pd.Series(["fine", value], dtype=object)})
    with pytest.raises(TypeError, match=r"column odd \(\"object\"\).*row 1"):
        designer.Alteryx.write(frame, 2)


def test_package_install_is_recorded_not_run(designer):
    designer.Package.installPackages(["axframe"])
    designer.Package.installPackages("axframe", install_type="install --no-index --find-links=C:\\wheels")
    assert designer.Package.installs == [(["axframe"], None),
                                         (["axframe"], "install --no-index --find-links=C:\\wheels")]
    designer.Package.installs.clear()
    with pytest.raises(TypeError):
        designer.Package.installPackages(42)


def test_the_stand_in_is_gone_after_the_test():
    assert "ayx" not in sys.modules
