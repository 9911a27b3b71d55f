"""Answers to frames: records_frame is json_normalize's frame, made without flattening flat records."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from axframe.engine.shape import expand_json, records_frame


def _record(rng: random.Random, i: int, nested: bool) -> dict:
    record: dict = {"id": f"{i:024x}", "name": rng.choice(["Ada", "Grace", None]), "n": rng.choice([1, 2, None]),
                    "ok": rng.choice([True, False]), "score": rng.choice([1.5, 2, None]),
                    "tags": rng.choice([[], ["a"], None])}
    if rng.random() < 0.3:
        del record["name"]  # keys some records lack
    if rng.random() < 0.2:
        record["late"] = rng.choice(["x", 3])
    if nested and rng.random() < 0.5:
        record["owner"] = {"id": str(i), "meta": {"level": rng.choice([1, None])}}
    return record


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_the_frame_of_records_is_json_normalizes(seed, nested):
    rng = random.Random(seed)
    records = [_record(rng, i, nested) for i in range(400)]
    pd.testing.assert_frame_equal(records_frame(records), pd.json_normalize(records))


def test_uniform_and_odd_columns():
    for records in ([{"a": 1}], [{"a": None}, {"a": None}], [{"a": {"b": 1}}, {"a": 2}], [{"a": [1, {"b": 2}]}],
                    [{"x": "1", "y": True}, {"y": None, "x": "2"}], [{}, {"a": 1}]):
        pd.testing.assert_frame_equal(records_frame(records), pd.json_normalize(records))


def test_an_answer_that_does_not_parse_raises_rather_than_giving_an_empty_frame():
    frame = pd.DataFrame({"RecordID": [1, 2], "Response": ['[{"id": "a"}]', '[{"id": "b"}, {"id": ']})
    with pytest.raises(ValueError, match=r"the Response of RecordID 2 is not JSON \(Expecting value: line 1 "
                                         r"column 22\)") as caught:
        expand_json(frame)
    assert caught.value.__cause__ is None and "{" not in str(caught.value)  # the answer itself is not repeated
    assert expand_json(frame.iloc[:1])["id"].tolist() == ["a"]
