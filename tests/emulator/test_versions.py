"""The older Server surface derived by tools/derive_versions.py agrees with the facts on record.

real-server-evidence.md ("Older Servers") and issue 17: the generated client in the mcp-server-alteryx
0.2.22 wheel has 90 V3 operations, all of them ours; it lacks 7 of ours and the fields cronContract,
othersCanViewHistory and packageWorkflowType.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "axframe" / "emulator" / "versions.json"

LACKING = {("POST", "/v3/credentials"), ("PUT", "/v3/credentials/{credentialId}"),
           ("PUT", "/v3/dcm/connections/{id}/sharing/collaboration"), ("GET", "/v3/jobs"),
           ("DELETE", "/v3/jobs/{jobId}"), ("GET", "/v3/usage"), ("POST", "/v3/usage")}


def _data() -> dict:
    return json.loads(VERSIONS.read_text(encoding="utf-8"))


def test_the_older_surface_lacks_the_seven_operations_on_record():
    data = _data()
    assert {(op["method"], op["path"]) for op in data["lacks"]["operations"]} == LACKING
    assert len(data["older"]["operations"]) == 90
    assert data["differences"]["unmatched_operations"] == []  # all 90 are ours


def test_the_older_surface_lacks_the_three_newer_fields_and_nothing_else():
    data = _data()
    lacking = {(d, f) for d, fields in data["lacks"]["fields"].items() for f in fields}
    assert {f for _, f in lacking} == {"cronContract", "othersCanViewHistory", "packageWorkflowType"}
    assert ("IterationContract", "cronContract") in lacking
    assert ("UpdateWorkflowContract", "othersCanViewHistory") in lacking
    assert ("WorkflowView", "packageWorkflowType") in lacking
    # "Its models match ours field for field" otherwise: no field of theirs that we lack, no type apart
    assert data["differences"]["extra_fields"] == {}
    assert data["differences"]["types"] == {}
    assert data["differences"]["unmatched_models"] == []


def test_the_derived_file_holds_names_and_types_only():
    text = VERSIONS.read_text(encoding="utf-8")
    data = json.loads(text)
    assert set(data) == {"source", "older", "lacks", "differences"}
    for definition in data["older"]["definitions"].values():
        assert set(definition) == {"fields", "required"}
        assert all(isinstance(f, str) and " " not in f for f in definition["fields"])
    assert "Identifier for" not in text and "Curators" not in text  # no prose of the Swagger's descriptions


def test_the_older_operations_are_operation_ids_of_our_swagger():
    from axframe import schemas

    data = _data()
    for op_id in data["older"]["operations"] + [op["operationId"] for op in data["lacks"]["operations"]]:
        assert schemas.operation(op_id)["method"]
    assert len(data["older"]["operations"]) + len(data["lacks"]["operations"]) == 97
