"""The compiled row plan plans every row exactly as plan_row does: the same call, or the same problem.

RowPlan works a column at a time (each distinct value checked once, bodies written from encoded
cells); these tests hold it to plan_row on frames made to hit every branch: bad and blank cells,
enum names in another case, numbers where text goes, NaN, numpy and Python scalars in object
columns, missing required fields, path and query parameters, merged updates, no body at all.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

import axframe as ax
from axframe import catalogue, frames

ROWS = 300


def _plans(name: str, df: pd.DataFrame, *, merge: bool = True, contract_columns=None):
    endpoint = catalogue.find(name)
    df = frames.prepare_input(df)
    body = frames.contract_columns_for(endpoint, list(df.columns), contract_columns)
    plan = frames.RowPlan(endpoint, list(df.columns), body, merge=merge)
    got = dict(plan.planned(df))
    want = {pos: frames.plan_row(endpoint, record, columns=body, merge=merge)
            for pos, record in enumerate(df.to_dict("records"))}
    return plan, got, want


def _same(got, want) -> None:
    assert set(got) == set(want)
    for pos in want:
        a, b = got[pos], want[pos]
        assert type(a) is type(b), (pos, a, b)
        if isinstance(b, frames.Problem):
            assert (a.error_type, a.error) == (b.error_type, b.error), pos
            continue
        assert (a.call.method, a.call.path, a.call.params, a.call.body, a.call.content_type) == \
            (b.call.method, b.call.path, b.call.params, b.call.body, b.call.content_type), pos
        assert (a.merge, a.partial, a.shown_body) == (b.merge, b.partial, b.shown_body), pos


def _pick(rng: random.Random, choices: list, n: int) -> list:
    return [rng.choice(choices) for _ in range(n)]


def _users(rng: random.Random, n: int = ROWS) -> pd.DataFrame:
    emails = [f"u{i}@example.com" for i in range(n)]
    for i in rng.sample(range(n), n // 10):
        emails[i] = rng.choice(["not an email", "", "   ", None, math.nan, 42, "a@b", "é@ü.de", 'quo"te@x.io'])
    return ax.add_record_id(pd.DataFrame({
        "email": pd.Series(emails, dtype=object),
        "firstName": _pick(rng, ["Ada", "Grace", "", None, 7, 7.0, 2.5, np.int64(3), True, "tab\tname", "ünï"], n),
        "lastName": [f"Last {i}" for i in range(n)],
        "role": _pick(rng, ["Viewer", "viewer", "ARTISAN", "Curator", "Boss", None, ""], n),
        "isActive": _pick(rng, ["true", "no", "1", 0, 1, True, "maybe", None, 2], n),
        "canScheduleJobs": pd.Series(_pick(rng, [True, False], n), dtype=bool),
    }))


@pytest.mark.parametrize("seed", range(4))
def test_users_create_rows_are_planned_as_plan_row_plans_them(seed):
    plan, got, want = _plans("users.create", _users(random.Random(seed)))
    assert plan.fast
    assert sum(isinstance(p, frames.Problem) for p in want.values()) > 10  # bad rows were hit
    assert sum(isinstance(p, frames.Planned) for p in want.values()) > 10  # and good ones
    _same(got, want)


def test_text_columns_of_the_string_dtype_with_missing_values():
    n = ROWS
    df = ax.add_record_id(pd.DataFrame({
        "email": pd.array([f"u{i}@example.com" if i % 7 else None for i in range(n)], dtype="str"),
        "firstName": pd.array(["Ada"] * n, dtype="str"),
        "lastName": pd.array([f"L{i % 5}" if i % 11 else "" for i in range(n)], dtype="string"),
        "role": pd.Categorical(["viewer", "Artisan"] * (n // 2)),
    }))
    plan, got, want = _plans("users.create", df)
    assert plan.fast
    _same(got, want)


def test_a_body_without_missing_cells_is_written_as_json_dumps_writes_the_dict():
    df = ax.add_record_id(pd.DataFrame({"email": [f"u{i}@example.com" for i in range(50)],
                                        "firstName": "Ada", "lastName": "Lovelace \"Countess\" \\ ∑",
                                        "role": "viewer", "isActive": 1}))
    _, got, want = _plans("users.create", df)
    _same(got, want)
    assert got[0].shown_body == ('{"email": "u0@example.com", "firstName": "Ada", "lastName": '
                                 '"Lovelace \\"Countess\\" \\\\ ∑", "role": "Viewer", "isActive": true}')


def test_merged_updates_with_path_ids():
    rng = random.Random(7)
    df = _users(rng)
    df["userId"] = _pick(rng, ["abc123", "", None, "..", "a/b c", 17, 17.0, "x\x01y"], ROWS)
    for merge in (True, False):
        plan, got, want = _plans("users.update", df, merge=merge)
        assert plan.fast == merge  # without merging, every row misses required fields: planned row by row
        _same(got, want)


def test_nested_json_cells_and_required_objects():
    rng = random.Random(3)
    n = ROWS
    df = ax.add_record_id(pd.DataFrame({
        "collectionId": _pick(rng, ["c1", "c 2", None], n),
        "userId": _pick(rng, ["u1", None, 5], n),
        "collectionsPermissions": _pick(rng, ['{"isAdmin": true}', '{"isAdmin": "yes"}', "{not json", None,
                                              {"isAdmin": False, "password": "hunter2"}, [1, 2]], n),
        "expirationDate": _pick(rng, ["2030-01-01T00:00:00Z", "tomorrow", None, "2030-13-01"], n),
    }))
    plan, got, want = _plans("collections.add_user", df)
    assert plan.fast
    _same(got, want)


def test_query_parameters_and_actions_without_a_body():
    rng = random.Random(5)
    df = ax.add_record_id(pd.DataFrame({
        "view": _pick(rng, ["Default", "full", "nonsense", None], ROWS),
        "active": _pick(rng, ["true", "no", 1, "perhaps", None], ROWS),
        "email": _pick(rng, ["a@b.co", "", None], ROWS),
        "createdAfter": _pick(rng, ["2030-01-01", "yesterday", None], ROWS),
    }))
    plan, got, want = _plans("users.list", df)
    assert plan.fast
    _same(got, want)
    df2 = ax.add_record_id(pd.DataFrame({"userId": _pick(rng, ["u1", "u 2", "", None, 3.0, ".", "é"], ROWS)}))
    plan, got, want = _plans("users.delete", df2)
    assert plan.fast
    _same(got, want)


def test_a_missing_required_column_and_a_contract_column_go_the_row_by_row_way():
    df = ax.add_record_id(pd.DataFrame({"email": ["a@b.co", "x"], "firstName": ["A", "B"]}))
    plan, got, want = _plans("users.create", df)
    assert not plan.fast
    _same(got, want)
    df = ax.add_record_id(pd.DataFrame({"contract": ['{"email": "a@b.co", "firstName": "A", "lastName": "B"}',
                                                     "{bad", None]}))
    plan, got, want = _plans("users.create", df)
    assert not plan.fast
    _same(got, want)


def test_rows_given_as_skipped_are_left_out():
    df = ax.add_record_id(pd.DataFrame({"email": ["a@b.co", "x", "c@d.co"], "firstName": "A", "lastName": "B"}))
    endpoint = catalogue.find("users.create")
    plan = frames.RowPlan(endpoint, list(df.columns), ["email", "firstName", "lastName"])
    assert [pos for pos, _ in plan.planned(df, skip={0})] == [1, 2]


def test_whole_number_record_ids_are_checked_as_the_values_are():
    ids = pd.Series([1, 2, 2, 3, 1, 4])
    assert {k: (v.error_type, v.error) for k, v in frames.record_id_problems(ids).items()} == \
        {k: (v.error_type, v.error) for k, v in frames.record_id_problems(ids.tolist()).items()}
    assert frames.record_id_problems(pd.Series([1, 2, 3])) == {}
    mixed = pd.Series([1, None, "1", 2.0, 2])
    assert frames.record_id_problems(mixed) == frames.record_id_problems(mixed.tolist())


def test_a_dry_run_shows_what_plan_row_plans(conn):
    rng = random.Random(11)
    df = _users(rng)
    df["password"] = _pick(rng, ["s3cret!", None], ROWS)
    success, failure = ax.create(conn, "users.create", df, dry_run=True, progress=False)
    endpoint = catalogue.find("users.create")
    body = frames.contract_columns_for(endpoint, list(df.columns), None)
    want = [frames.plan_row(endpoint, r, columns=body) for r in df.to_dict("records")]
    good = [i for i, p in enumerate(want) if isinstance(p, frames.Planned)]
    assert success["RecordID"].tolist() == [i + 1 for i in good]
    assert failure["Error"].tolist() == [p.error for p in want if isinstance(p, frames.Problem)]
    assert set(success["Method"]) == {"POST"} and set(success["URL"]) == {conn.url("/v3/users")}
    assert "s3cret!" not in "".join(success["Body"]) and "s3cret!" not in {str(v) for v in success["password"]}
    plain = [b for b, i in zip(success["Body"], good) if '"password"' not in want[i].shown_body]
    assert plain == [want[i].shown_body for i in good if '"password"' not in want[i].shown_body]


def test_a_dry_run_masks_secrets_inside_the_cells_of_a_body(conn):
    from axframe.client.secrets import masked_text

    df = ax.add_record_id(pd.DataFrame({
        "collectionId": ["c1"] * 6, "userId": ["u1", "u2", None, "u4", "u5", "u6"],
        "collectionsPermissions": [{"isAdmin": False, "password": "hunter2"}, '{"isAdmin": true}', "{}",
                                   '{"secret": "x"}', "{bad", {"isAdmin": True}]}))
    success, failure = ax.post(conn, "collections.add_user", df, dry_run=True, progress=False)
    endpoint = catalogue.find("collections.add_user")
    body = frames.contract_columns_for(endpoint, list(df.columns), None)
    want = [frames.plan_row(endpoint, r, columns=body) for r in df.to_dict("records")]
    assert success["Body"].tolist() == [masked_text(p.shown_body) for p in want if isinstance(p, frames.Planned)]
    assert "hunter2" not in "".join(success["Body"]) and '"password": "***"' in success["Body"].iloc[0]
    assert failure["Error"].tolist() == [p.error for p in want if isinstance(p, frames.Problem)]
