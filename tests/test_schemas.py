"""The derived schema data: up to date with the Swagger, free of its prose, and the checks made with it."""

from __future__ import annotations

import importlib.util
import json

import pytest

from axframe import schemas

from .conftest import ROOT, SWAGGER


def _derive_module():
    spec = importlib.util.spec_from_file_location("derive_schemas", ROOT / "tools" / "derive_schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not SWAGGER.exists(), reason="needs ../shared/alteryx-api/swagger-v3.json")
def test_committed_schemas_match_a_fresh_derivation():
    derive = _derive_module()
    fresh = derive.render(derive.derive(json.loads(SWAGGER.read_text(encoding="utf-8"))))
    committed = (ROOT / "axframe" / "schemas" / "v3.json").read_text(encoding="utf-8")
    assert fresh == committed, "run: python tools/derive_schemas.py"


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def test_no_swagger_prose_is_shipped():
    text = (ROOT / "axframe" / "schemas" / "v3.json").read_text(encoding="utf-8")
    data = json.loads(text)
    prose = [s for s in _strings(data) if s.count(" ") >= 3 and s != data["source"]]
    assert prose == []
    for op in data["operations"].values():
        assert "description" not in op and "summary" not in op


@pytest.mark.parametrize("value,schema,expected", [
    ({"name": "x"}, {"$ref": "CreateCollectionContract"}, []),
    ({}, {"$ref": "CreateCollectionContract"}, ["name: is required"]),
    ({"name": 5}, {"$ref": "CreateCollectionContract"}, ["name: expected text, got the number 5"]),
    ({"name": "g", "role": "Boss"}, {"$ref": "CreateUserGroupContract"},
     ["role: must be one of NoAccess, Viewer, Member, Artisan, Curator, Evaluated (got 'Boss')"]),
    (["a", 1], {"type": "array", "items": {"type": "string"}}, ["[1]: expected text, got the number 1"]),
    ({"workflowId": "w", "iteration": {"iterationType": "Once", "startTime": "soon"}},
     {"$ref": "CreateScheduleContract"},
     ["iteration.startTime: expected a date-time such as 2030-01-31T09:00:00Z, got 'soon'"]),
    ({"hours": True, "minutes": 2**40}, {"$ref": "IterationHourlyContract"},
     ["hours: expected a whole number, got the boolean true", "minutes: 1099511627776 is out of range for a 32-bit integer"]),
    ("S-1-5", {"type": "string"}, []),
    ({"parameters": {"a": "b"}}, {"type": "object", "properties": {"parameters": {"type": "object",
                                                                                  "additionalProperties": {"type": "object"}}}}, []),
])
def test_validate(value, schema, expected):
    assert schemas.validate(value, schema) == expected


@pytest.mark.parametrize("value,schema,expected", [
    ("true", {"type": "boolean"}, True),
    ("No", {"type": "boolean"}, False),
    ("maybe", {"type": "boolean"}, "maybe"),
    ("5", {"type": "integer"}, 5),
    ("5.0", {"type": "integer"}, 5),
    (5.0, {"type": "integer"}, 5),
    ("5.5", {"type": "integer"}, "5.5"),
    ("a, b", {"type": "array", "items": {"type": "string"}}, ["a", "b"]),
    ('["a"]', {"type": "array", "items": {"type": "string"}}, ["a"]),
    ("", {"type": "array", "items": {"type": "string"}}, []),
    (12345.0, {"type": "string"}, "12345"),
    ('{"isAdmin": "true"}', {"$ref": "CollectionsPermissionsViewContract"}, {"isAdmin": True}),
])
def test_coerce(value, schema, expected):
    assert schemas.coerce(value, schema) == expected


def test_examples_validate():
    for name in schemas.V3["definitions"]:
        assert schemas.validate(schemas.example({"$ref": name}), {"$ref": name}) == [], name
