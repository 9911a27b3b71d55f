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


# --------------------------------------------------------------------------
# Emulator(server_version=...) serves that surface
# --------------------------------------------------------------------------

import pytest  # noqa: E402
import requests  # noqa: E402

from axframe.emulator import Emulator  # noqa: E402
from axframe.emulator.__main__ import build_parser  # noqa: E402
from axframe.emulator.state.versions import surface  # noqa: E402

from ..conftest import Api  # noqa: E402


@pytest.fixture(scope="module")
def older():
    with Emulator(server_version="2021.4") as emulator:
        yield emulator


def test_an_older_server_answers_a_route_it_lacks_as_web_api_does(older):
    api = Api(older)
    r = api.get("/v3/jobs")
    assert r.status_code == 404
    assert r.json() == {"message": f"No HTTP resource was found that matches the request URI "
                                   f"'{older.url}/v3/jobs'."}
    assert api.get("/v3/usage").status_code == 404
    assert api.post("/v3/usage", files={"file": ("a.csv", b"x")}).status_code == 404
    # where the path has other methods, ASP.NET Web API answers 405 with the methods it has
    job = api.delete("/v3/jobs/5f0000000000000000000001")
    assert job.status_code == 405
    assert job.json() == {"message": "The requested resource does not support http method 'DELETE'."}
    assert job.headers["Allow"] == "GET"
    assert api.post("/v3/credentials", json={"username": "u", "password": "p"}).status_code == 405
    assert api.put("/v3/credentials/5f0000000000000000000001", json={"newPassword": "p"}).status_code == 405
    collaboration = api.put("/v3/dcm/connections/abc/sharing/collaboration", json={})
    assert collaboration.status_code == 404 and collaboration.json()["message"].startswith("No HTTP resource")
    assert api.get("/v3/workflows").status_code == 200  # what it has, it serves
    assert older.stats()["routes"].get("Jobs_GetJobsInQueue") is None  # nothing reached the state


def test_the_newest_server_serves_the_operations_the_older_lacks(server):
    api = Api(server)
    assert api.get("/v3/jobs").status_code == 200
    usage = api.get("/v3/usage")
    assert usage.json() == {"message": "No usage records are available for download."}  # the route answers


def test_an_older_server_leaves_the_newer_fields_out_of_its_answers(older):
    api = Api(older)
    workflow_id = next(iter(older.state.workflows))
    view = api.get(f"/v3/workflows/{workflow_id}").json()
    assert "packageWorkflowType" not in view and "othersCanViewHistory" in view
    assert all("packageWorkflowType" in v for v in view["versions"])  # the older WorkflowVersionView had it


def test_an_older_server_ignores_a_newer_field_in_a_body_and_does_not_require_it(older):
    api = Api(older)
    workflow_id = next(iter(older.state.workflows))
    view = api.get(f"/v3/workflows/{workflow_id}").json()
    body = {k: view[k] for k in ("name", "ownerId", "workerTag", "districtTags", "comments", "isPublic",
                                 "isReadyForMigration", "othersMayDownload", "othersCanExecute", "executionMode",
                                 "workflowCredentialType") if k in view}
    body.update(versionId=view["publishedVersionId"], makePublished=True, workflowCredentialType="Default",
                executionMode=view["versions"][0]["executionMode"], othersCanViewHistory=True,
                credentialId=view["versions"][0].get("credentialId") or "")
    before = dict(older.state.workflows[workflow_id])
    r = api.put(f"/v3/workflows/{workflow_id}", json=body)
    assert r.status_code == 200, r.text
    assert older.state.workflows[workflow_id].get("othersCanViewHistory") == before.get("othersCanViewHistory")


def test_an_older_schedule_contract_has_no_cron():
    older_surface = surface("2021.4")
    contract = older_surface.contract({"$ref": "CreateScheduleContract"})
    iteration = contract["properties"]["iteration"]
    assert "cronContract" not in iteration["properties"]
    newest = surface(None).contract({"$ref": "CreateScheduleContract"})
    assert "cronContract" in newest["properties"]["iteration"]["properties"]


def test_the_server_serves_its_own_swagger_document_without_a_token(server, older):
    doc = requests.get(f"{server.url}/swagger/docs/3", timeout=10).json()
    ops = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    assert doc["swagger"] == "2.0" and doc["info"]["version"] == "3" and len(ops) == 97
    assert "packageWorkflowType" in doc["definitions"]["WorkflowView"]["properties"]
    assert doc["host"] == f"127.0.0.1:{server.port}"
    old = requests.get(f"{older.url}/swagger/docs/3", timeout=10).json()
    old_ops = {op["operationId"] for item in old["paths"].values() for op in item.values()}
    assert len(old_ops) == 90
    assert ops - old_ops == {o["operationId"] for o in json.loads(VERSIONS.read_text())["lacks"]["operations"]}
    assert "packageWorkflowType" not in old["definitions"]["WorkflowView"]["properties"]
    assert "cronContract" not in old["definitions"]["IterationContract"]["properties"]
    assert "/v3/jobs" not in old["paths"] and "delete" not in old["paths"]["/v3/jobs/{jobId}"]
    assert old["definitions"]["ReducedWorkflowView"]["properties"]["sourceAppId"] == {"type": "string"}


@pytest.mark.parametrize("given", ["2020.3", "2021", "next", "21.4"])
def test_a_release_before_v3_or_not_a_release_is_refused(given):
    with pytest.raises(ValueError):
        Emulator(server_version=given)


def test_releases_map_to_surfaces_and_role_gates():
    assert surface("2021.4").older and not surface("2021.4").role_gates
    assert surface("2022.1").older and surface("2022.1").role_gates
    assert not surface("2023.1").older and surface("2023.1").role_gates
    assert not surface(None).older and surface("newest") == surface(None)


def test_the_command_line_takes_a_server_version():
    args = build_parser().parse_args(["--server-version", "2021.4", "--port", "0"])
    assert args.server_version == "2021.4"
    assert Emulator(server_version=args.server_version).info()["server"]["surface"] == "older"
