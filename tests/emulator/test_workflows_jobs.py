"""Workflows (multipart upload, versions, packages), jobs and their outputs, legacy job paths."""

from __future__ import annotations

import csv
import io
import json
import time

import openpyxl
import pytest
import requests

from axframe.packages import build_package, content_hash, read_package


def upload_form(owner_id: str, **extra):
    form = {"name": "Uploaded App", "ownerId": owner_id, "isPublic": "false", "isReadyForMigration": "true",
            "othersMayDownload": "true", "othersCanExecute": "true", "executionMode": "Standard",
            "workflowCredentialType": "Default"}
    form.update(extra)
    return form


APP = build_package("Uploaded App", kind="app", questions=[{"name": "Region", "default": "West"},
                                                            {"name": "Count", "default": "3"}])


def test_upload_download_round_trip(api, ids):
    r = api.post("/v3/workflows", data=upload_form(ids["user:ana"], districtTags='["emea"]',
                                                   collectionIds=json.dumps([ids["collection:fin"]])),
                 files={"file": ("app.yxzp", APP)})
    assert r.status_code == 200, r.text
    wid = r.json()
    assert isinstance(wid, str) and len(wid) == 24
    view = api.get(f"/v3/workflows/{wid}").json()
    assert view["packageWorkflowType"] == "App" and view["districtTags"] == ["emea"]
    assert view["isReadyForMigration"] is True
    assert wid in api.get(f"/v3/collections/{ids['collection:fin']}").json()["workflowIds"]
    r = api.get(f"/v3/workflows/{wid}/package")
    assert r.status_code == 200 and r.content == APP
    assert r.headers["Content-Type"] == "application/octet-stream"
    questions = api.get(f"/v3/workflows/{wid}/questions").json()
    assert [q["name"] for q in questions] == ["Region", "Count"]


def test_upload_that_is_not_multipart_gets_415(api, ids):
    r = api.post("/v3/workflows", json=upload_form(ids["user:ana"]))
    assert r.status_code == 415
    r = api.post("/v3/workflows", data=upload_form(ids["user:ana"]))  # form-urlencoded
    assert r.status_code == 415


@pytest.mark.parametrize("missing", ["name", "ownerId", "isPublic", "executionMode", "workflowCredentialType"])
def test_upload_missing_required_field_is_400_with_model_state(api, ids, missing):
    form = upload_form(ids["user:ana"])
    del form[missing]
    r = api.post("/v3/workflows", data=form, files={"file": ("app.yxzp", APP)})
    assert r.status_code == 400
    assert missing in r.json()["modelState"]


def test_upload_without_file_or_with_bad_values(api, ids):
    r = api.post("/v3/workflows", data=upload_form(ids["user:ana"]), files={"other": ("x.txt", b"x")})
    assert r.status_code == 400
    r = api.post("/v3/workflows", data=upload_form(ids["user:ana"], executionMode="Fast"),
                 files={"file": ("app.yxzp", APP)})
    assert r.status_code == 400 and "executionMode" in r.json()["modelState"]
    r = api.post("/v3/workflows", data=upload_form(ids["user:ana"], isPublic="maybe"),
                 files={"file": ("app.yxzp", APP)})
    assert r.status_code == 400 and "isPublic" in r.json()["modelState"]
    r = api.post("/v3/workflows", data=upload_form(ids["user:ana"]), files={"file": ("app.yxzp", b"not a zip")})
    assert r.status_code == 400 and "file" in r.json()["modelState"]


def test_source_app_id_must_be_new(api, ids):
    form = upload_form(ids["user:ana"], sourceAppId="src-1")
    assert api.post("/v3/workflows", data=form, files={"file": ("a.yxzp", APP)}).status_code == 200
    assert api.post("/v3/workflows", data=form, files={"file": ("a.yxzp", APP)}).status_code == 400


def test_versions_and_publishing(api, ids):
    wid = ids["workflow:churn"]
    v2 = build_package("Customer Churn Scoring", kind="app", description="v2",
                       questions=[{"name": "Threshold"}, {"name": "Customer File", "type": "FileBrowse"}])
    form = {"name": "Churn v2", "ownerId": ids["user:ana"], "othersMayDownload": "true", "othersCanExecute": "true",
            "executionMode": "Safe", "makePublished": "false", "workflowCredentialType": "Default",
            "comments": "second"}
    r = api.post(f"/v3/workflows/{wid}/versions", data=form, files={"file": ("c.yxzp", v2)})
    assert r.status_code == 200, r.text
    view = r.json()
    assert [v["versionNumber"] for v in view["versions"]] == [1, 2]
    new_version = view["versions"][1]
    assert new_version["published"] is False
    assert api.get(f"/v3/workflows/{wid}/package").content != v2
    assert api.get(f"/v3/workflows/{wid}/package", params={"versionId": new_version["versionId"]}).content == v2
    assert api.get(f"/v3/workflows/{wid}/package", params={"versionId": "nope"}).status_code == 400
    update = {k: view[k] for k in ("name", "ownerId", "workerTag", "districtTags", "comments", "isPublic",
                                   "isReadyForMigration", "othersMayDownload", "othersCanExecute",
                                   "executionMode")}
    update.update(versionId=new_version["versionId"], makePublished=True, workflowCredentialType="Default",
                  credentialId="")
    r = api.put(f"/v3/workflows/{wid}", json=update)
    assert r.status_code == 200 and r.json()["publishedVersionId"] == new_version["versionId"]
    assert api.get(f"/v3/workflows/{wid}/package").content == v2
    assert api.post("/v3/workflows/000000000000000000000000/versions", data=form,
                    files={"file": ("c.yxzp", v2)}).status_code == 404


def test_workflow_delete_with_schedules_needs_force(api, ids):
    wid = ids["workflow:refresh"]
    assert api.delete(f"/v3/workflows/{wid}").status_code == 400
    assert api.delete(f"/v3/workflows/{wid}", params={"force": "true"}).status_code == 200
    assert api.get(f"/v3/schedules/{ids['schedule:nightly']}").status_code == 404
    assert wid not in api.get(f"/v3/collections/{ids['collection:opscol']}").json()["workflowIds"]


def test_transfer_workflow(api, ids):
    wid = ids["workflow:sales"]
    r = api.put(f"/v3/workflows/{wid}/transfer", json={"ownerId": ids["user:mia"], "transferSchedules": True})
    assert r.status_code == 200
    assert api.get(f"/v3/schedules/{ids['schedule:weekly']}").json()["ownerId"] == ids["user:mia"]
    r = api.put(f"/v3/workflows/{wid}/transfer", json={"ownerId": "x"})
    assert r.status_code == 400 and isinstance(r.json(), str)
    r = api.put("/v3/workflows/000000000000000000000000/transfer", json={"ownerId": ids["user:mia"],
                                                                        "transferSchedules": False})
    assert r.status_code == 404 and isinstance(r.json(), str)


def wait_for(api, job_id, server, path="/v3/jobs/{}"):
    server.advance(60)
    return api.get(path.format(job_id)).json()


def test_job_lifecycle_and_csv_output(server, api, ids):
    wid = ids["workflow:sales"]
    r = api.post(f"/v3/workflows/{wid}/jobs", json={"questions": [{"name": "Region", "value": "North"}],
                                                    "priority": "High"})
    assert r.status_code == 200
    job = r.json()
    assert job["status"] == "Queued"
    job = wait_for(api, job["id"], server)
    assert job["status"] == "Completed" and job["disposition"] == "Success"
    assert job["messages"]
    output = job["outputs"][0]
    assert "Csv" in output["availableFormats"]
    r = api.get(f"/v1/jobs/{job['id']}/output/{output['id']}", params={"format": "Csv"})
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows == [{"Region": "North", "Year": "2026"}]  # the answer, and the default for Year
    r = api.get(f"/v1/jobs/{job['id']}/output/{output['id']}", params={"format": "Xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in sheet[2]] == ["North", "2026"]
    assert api.get(f"/v1/jobs/{job['id']}/output/{output['id']}", params={"format": "Pdf"}).status_code == 400
    assert api.get(f"/v1/jobs/{job['id']}/output/nope", params={"format": "Csv"}).status_code == 404
    assert api.get(f"/v3/jobs/{job['id']}", params={"includeMessages": "false"}).json().get("messages") is None
    assert api.get(f"/v3/jobs/{job['id']}/messages").json()[0]["text"].startswith("Running")


def test_jobs_move_through_queued_running_completed_in_real_time(server, api, ids):
    job = api.post(f"/v3/workflows/{ids['workflow:sales']}/jobs", json={}).json()
    seen = {job["status"]}
    deadline = time.monotonic() + 5
    while job["status"] != "Completed" and time.monotonic() < deadline:
        time.sleep(0.02)
        job = api.get(f"/v3/jobs/{job['id']}").json()
        seen.add(job["status"])
    assert seen == {"Queued", "Running", "Completed"}


def test_job_slots_limit_concurrency(server, api, ids):
    server.state.job_slots = 2
    # a run time far longer than the real time the requests take, so that a busy machine cannot finish a job
    server.state.workflows[ids["workflow:sales"]]["behaviour"] = {"runSeconds": 100}
    jobs = [api.post(f"/v3/workflows/{ids['workflow:sales']}/jobs", json={}).json()["id"] for _ in range(5)]
    server.advance(0.01)
    statuses = [api.get(f"/v3/jobs/{j}").json()["status"] for j in jobs]
    assert statuses.count("Running") == 2 and statuses.count("Queued") == 3
    server.advance(100)  # first two finish, next two start at exactly that moment
    statuses = [api.get(f"/v3/jobs/{j}").json()["status"] for j in jobs]
    assert statuses.count("Completed") == 2 and statuses.count("Running") == 2
    server.advance(300)
    assert {api.get(f"/v3/jobs/{j}").json()["status"] for j in jobs} == {"Completed"}


@pytest.mark.parametrize("answer,disposition", [("ERROR: bad region", "Error"), ("WARNING: old data", "Warning")])
def test_answers_can_make_a_job_fail_or_warn(server, api, ids, answer, disposition):
    job = api.post(f"/v3/workflows/{ids['workflow:sales']}/jobs",
                   json={"questions": [{"name": "Region", "value": answer}]}).json()
    job = wait_for(api, job["id"], server)
    assert job["status"] == "Completed" and job["disposition"] == disposition
    texts = [m["text"] for m in job["messages"]]
    assert answer.split(": ", 1)[1] in texts
    assert bool(job["outputs"]) is (disposition != "Error")


def test_seeded_broken_workflow_errors(server, api, ids):
    job = api.post(f"/v3/workflows/{ids['workflow:broken']}/jobs", json={}).json()
    job = wait_for(api, job["id"], server)
    assert job["disposition"] == "Error"
    assert any("legacy-db" in m["text"] for m in job["messages"])


def test_behaviour_control_endpoint(server, api, ids):
    wid = ids["workflow:sales"]
    r = api.session.put(f"{server.root}/_emulator/workflows/{wid}/behaviour", json={"disposition": "Error"})
    assert r.status_code == 200
    job = wait_for(api, api.post(f"/v3/workflows/{wid}/jobs", json={}).json()["id"], server)
    assert job["disposition"] == "Error"


def test_unknown_question_is_400(api, ids):
    r = api.post(f"/v3/workflows/{ids['workflow:sales']}/jobs", json={"questions": [{"name": "Nope", "value": "1"}]})
    assert r.status_code == 400


def test_cancel_jobs(server, api, ids):
    server.state.job_slots = 1
    first = api.post(f"/v3/workflows/{ids['workflow:sales']}/jobs", json={}).json()["id"]
    second = api.post(f"/v3/workflows/{ids['workflow:sales']}/jobs", json={}).json()["id"]
    assert api.get(f"/v3/jobs/{first}").json()["status"] == "Running"
    assert api.delete(f"/v3/jobs/{second}").status_code == 200  # queued: removed
    assert api.get(f"/v3/jobs/{second}").status_code == 404
    assert api.delete(f"/v3/jobs/{first}").status_code == 200  # running: cancelled
    assert api.get(f"/v3/jobs/{first}").json()["status"] == "Cancelled"
    assert api.delete(f"/v3/jobs/{first}").status_code == 400


def test_job_queue_is_paged(server, api, ids):
    for _ in range(5):
        api.post(f"/v3/workflows/{ids['workflow:sales']}/jobs", json={})
    page = api.get("/v3/jobs", params={"limit": 2, "offset": 2}).json()
    assert len(page["data"]) == 2
    assert page["pagination"] == {"currentPage": 2, "pageSize": 2, "totalItems": 5, "totalPages": 3,
                                  "hasNextPage": True, "hasPreviousPage": True}


def test_workflow_jobs_listing(server, api, ids):
    wid = ids["workflow:sales"]
    api.post(f"/v3/workflows/{wid}/jobs", json={"questions": [{"name": "Region", "value": "ERROR: x"}]})
    api.post(f"/v3/workflows/{wid}/jobs", json={})
    server.advance(10)
    assert len(api.get(f"/v3/workflows/{wid}/jobs").json()) == 2
    assert len(api.get(f"/v3/workflows/{wid}/jobs", params={"resultCode": "Error"}).json()) == 1


def test_v1_and_user_v2_job_paths(server, api, artisan_api, ids):
    wid = ids["workflow:sales"]
    for path in ("/v1/workflows/{}/jobs", "/v1/workflows/{}/jobs/", "/user/v2/workflows/{}/jobs"):
        r = artisan_api.post(path.format(wid), json={"questions": [{"name": "Region", "value": "East"}],
                                                     "priority": "1"})
        assert r.status_code == 200, (path, r.text)
        assert r.json()["status"] == "Queued"
        job = wait_for(artisan_api, r.json()["id"], server, "/v1/jobs/{}/")
        assert job["status"] == "Completed" and job["outputs"][0]["formats"]
    assert len(artisan_api.get(f"/v1/workflows/{wid}/jobs").json()) == 3
    assert artisan_api.get(f"/v1/workflows/{wid}/questions").json()[0]["name"] == "Region"
    assert artisan_api.get(f"/v1/workflows/{wid}/package").content[:2] == b"PK"
    assert artisan_api.get(f"/v1/{wid}/package/").content[:2] == b"PK"


CUSTOMERS = b"id,name\n1,Ann\n2,Bo\n"


def test_input_file_upload_reaches_output(server, artisan_api, ids):
    r = artisan_api.post("/user/v2/inputfiles", data={"name": "customers.csv"},
                         files={"file": ("customers.csv", CUSTOMERS)})
    assert r.status_code == 200
    ref = r.json()
    assert isinstance(ref, str) and ref.endswith("customers.csv")
    job = artisan_api.post(f"/v3/workflows/{ids['workflow:churn']}/jobs",
                           json={"questions": [{"name": "Customer File", "value": ref}]}).json()
    job = wait_for(artisan_api, job["id"], server)
    out = artisan_api.get(f"/v1/jobs/{job['id']}/output/{job['outputs'][0]['id']}", params={"format": "Csv"})
    row = next(csv.DictReader(io.StringIO(out.text)))
    assert row["Customer File"] == ref and row["Customer File_bytes"] == str(len(CUSTOMERS))


def test_non_curator_permissions_on_workflows(server, artisan_api, ids):
    vic = server.keys("Viewer")
    from ..conftest import Api

    viewer = Api(server, vic)
    # the viewer is in the Finance studio, so sees Finance workflows but may not publish
    assert ids["workflow:sales"] in {w["id"] for w in viewer.get("/v3/workflows").json()}
    r = viewer.post("/v3/workflows", data=upload_form(ids["user:vic"]), files={"file": ("a.yxzp", APP)})
    assert r.status_code == 401
    # Omar (Operations) cannot see Finance's private workflows
    omar = Api(server, server.state.users[ids["user:omar"]]["apiKey"] and
               (server.state.users[ids["user:omar"]]["apiKey"], server.state.users[ids["user:omar"]]["apiSecret"]))
    assert omar.get(f"/v3/workflows/{ids['workflow:churn']}").status_code == 404
    assert omar.get(f"/v3/workflows/{ids['workflow:churn']}/package").status_code == 403


def test_admin_publish_with_source_id_adds_versions(api, ids):
    form = {"name": "Migrated", "owner": "ana.artisan@example.com", "validate": "false", "isPublic": "false",
            "sourceId": "source-123", "workerTag": "", "canDownload": "true"}
    first = api.post("/admin/v1/workflows/", data=form, files={"file": ("m.yxzp", APP)})
    assert first.status_code == 200, first.text
    second = api.post("/admin/v1/workflows", data=form, files={"file": ("m.yxzp", APP)})
    assert second.json() == first.json()
    assert len(api.get(f"/v3/workflows/{first.json()}").json()["versions"]) == 2
    bad = dict(form, owner="nobody@example.com")
    assert api.post("/admin/v1/workflows", data=bad, files={"file": ("m.yxzp", APP)}).status_code == 400


def test_migratable_listing_and_toggle(api, ids):
    listed = api.get("/admin/v1/workflows/migratable/").json()
    assert {w["id"] for w in listed} == {ids["workflow:sales"], ids["workflow:refresh"]}
    only = api.get("/admin/v1/workflows/migratable", params={"subscriptionIds": ids["subscription:finance"]}).json()
    assert [w["id"] for w in only] == [ids["workflow:sales"]]
    assert set(only[0]) == {"id", "publishedVersionId", "subscriptionId"}
    r = api.put(f"/admin/v1/workflows/migratable/{ids['workflow:sales']}")
    assert r.status_code == 200 and r.json()["isReadyForMigration"] is False
    assert len(api.get("/admin/v1/workflows/migratable").json()) == 1
    assert api.get(f"/admin/v1/{ids['workflow:sales']}/package").content[:2] == b"PK"


def test_audit_log_records_changes(api, ids):
    cid = api.post("/v3/collections", json={"name": "Audited"}).json()
    api.put(f"/v3/collections/{cid}", json={"name": "Audited 2", "ownerId": ids["user:admin"]})
    api.delete(f"/v3/collections/{cid}")
    events = [e for e in api.get("/admin/v1/auditlog", params={"entity": "Collection", "page": 1,
                                                               "pageSize": 1000}).json()
              if e["entityId"] == cid]
    assert [e["event"] for e in events] == ["Insert", "Update", "Delete"]
    update = events[1]
    assert json.loads(update["oldValues"]) == {"name": "Audited"}
    assert json.loads(update["newValues"]) == {"name": "Audited 2"}
    assert update["userId"] == ids["user:admin"]
    assert api.get("/admin/v1/auditlog", params={"entity": "Collection"}).status_code == 400


@pytest.mark.parametrize("entity,change", [
    ("User", lambda api, ids: api.post("/v3/users", json={"firstName": "a", "lastName": "b", "email": "x@y.zz"})),
    ("UserGroup", lambda api, ids: api.post("/v3/usergroups", json={"name": "G", "role": "Viewer"})),
    ("Credential", lambda api, ids: api.post("/v3/credentials", json={"username": "u", "password": "p"})),
    ("Subscription", lambda api, ids: api.post("/v3/subscriptions", json={"name": "S"})),
    ("AppInfo", lambda api, ids: api.put(f"/admin/v1/workflows/migratable/{ids['workflow:sales']}")),
])
def test_each_audited_entity_writes_events(api, ids, entity, change):
    def count():
        return len(api.get("/admin/v1/auditlog", params={"entity": entity, "page": 1, "pageSize": 10000}).json())

    before = count()
    assert change(api, ids).status_code in (200, 201)
    assert count() == before + 1


def test_package_helpers_round_trip():
    data = build_package("X", kind="macro")
    assert read_package(data).kind == "Macro"
    assert content_hash(data) == content_hash(build_package("X", kind="macro"))
    assert content_hash(data) != content_hash(build_package("Y", kind="macro"))


@pytest.mark.parametrize("field", ["createdate", "CreateDate", "status", "disposition", "priority", "workerTag"])
def test_v1_workflow_jobs_take_the_jobs_sort_fields(server, api, ids, field):
    wid = ids["workflow:sales"]
    for _ in range(2):
        api.post(f"/v1/workflows/{wid}/jobs", json={})
        server.advance(1)
    r = api.get(f"/v1/workflows/{wid}/jobs", params={"sortField": field, "direction": "asc"})
    assert r.status_code == 200, r.text
    assert len(r.json()) == 2


def test_v1_workflow_jobs_sort_by_create_date(server, api, ids):
    wid = ids["workflow:sales"]
    made = []
    for _ in range(3):
        made.append(api.post(f"/v1/workflows/{wid}/jobs", json={}).json()["id"])
        server.advance(1)
    path = f"/v1/workflows/{wid}/jobs"
    assert [j["id"] for j in api.get(path, params={"sortField": "createdate", "direction": "asc"}).json()] == made
    assert [j["id"] for j in api.get(path, params={"sortField": "createdate", "direction": "desc"}).json()] \
        == made[::-1]


@pytest.mark.parametrize("field", ["uploaddate", "runcount", "bogus"])
def test_v1_workflow_jobs_refuse_other_sort_fields(api, ids, field):
    r = api.get(f"/v1/workflows/{ids['workflow:sales']}/jobs", params={"sortField": field})
    assert r.status_code == 400
    assert "sortField" in r.json()["modelState"]


def test_v1_workflow_jobs_sort_under_the_legacy_prefix(server, ids):
    from requests_oauthlib import OAuth1

    key, secret = server.curator
    auth = OAuth1(key, client_secret=secret, signature_type="query")
    url = f"{server.root}/gallery/api/v1/workflows/{ids['workflow:sales']}/jobs/"
    r = requests.get(url, params={"sortField": "createdate", "direction": "desc"}, auth=auth, timeout=10)
    assert r.status_code == 200, r.text
