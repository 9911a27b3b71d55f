"""The evidence of real answers, held against the emulator (real-server-evidence.md).

Every row of the evidence file's "Matches" table has a test here that sends the call and checks the
answer the row describes, with realistic answers on (the default) and off; a change that breaks a match
fails.  Every row of its "Divergences" table is pinned: the emulator's realistic answer is the one the
row says real Servers give.  A row added to either table without a test here fails
``test_every_row_of_the_evidence_file_has_its_test``.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from requests_oauthlib import OAuth1

from axframe.emulator import Emulator
from axframe.emulator.state.realism import QUIRKS
from axframe.packages import build_package

from ..conftest import ROOT, Api

EVIDENCE = ROOT.parent / "shared" / "alteryx-api" / "real-server-evidence.md"
DENIED = {"message": "Authorization has been denied for this request."}
APP = build_package("Evidence App", kind="app", questions=[{"name": "Region", "default": "West"}])


def _rows(title: str) -> list[str]:
    """The first cells of the table under the heading that starts with *title*."""
    if not EVIDENCE.exists():
        pytest.skip(f"{EVIDENCE} is missing (tests/test_project.py says so in CI)")
    text = EVIDENCE.read_text(encoding="utf-8")
    section = text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    return [row.split("|")[1].strip() for row in rows[1:]]


@pytest.fixture(params=["realistic", "tidy"], scope="module")
def emulator(request):
    with Emulator(realistic=request.param == "realistic") as server:
        yield server


@pytest.fixture
def api(emulator):
    return Api(emulator)


def _ids(server: Emulator) -> dict[str, str]:
    return server.refs


def _upload_form(owner_id: str, name: str = "Evidence App") -> dict[str, str]:
    return {"name": name, "ownerId": owner_id, "isPublic": "false", "isReadyForMigration": "false",
            "othersMayDownload": "true", "othersCanExecute": "true", "executionMode": "Standard",
            "workflowCredentialType": "Default"}


def _run(server: Emulator, api: Api, workflow_id: str) -> dict:
    queued = api.post(f"/v3/workflows/{workflow_id}/jobs", json={"questions": []})
    assert queued.status_code == 200, queued.text
    return queued.json()


# --------------------------------------------------------------------------
# Matches
# --------------------------------------------------------------------------


def match_token_answer_fields(server: Emulator, api: Api) -> None:
    key, secret = server.curator
    r = requests.post(f"{server.url}/oauth2/token", timeout=10,
                      data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret})
    body = r.json()
    assert r.status_code == 200 and {"access_token", "token_type", "expires_in"} <= set(body)
    assert isinstance(body["expires_in"], int) and isinstance(body["access_token"], str)


def match_401_text_on_webapi(server: Emulator, api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        r = requests.get(f"{server.url}/v3/workflows", headers=headers, timeout=10)
        assert r.status_code == 401 and r.json() == DENIED


def match_401_on_legacy_oauth1(server: Emulator, api: Api) -> None:
    key, _ = server.curator
    r = requests.get(f"{server.root}/gallery/api/v1/workflows/subscription/", timeout=10,
                     auth=OAuth1(key, "not-the-secret", signature_type="query"))
    assert r.status_code == 401
    assert json.loads(r.content.decode("utf-8-sig")) == {
        "data": None, "exceptionName": "UnauthorizedException", "innerExceptionMessage": "",
        "message": "The provided signature(oauth_signature) is invalid."}


def match_post_v3_workflows(server: Emulator, api: Api) -> None:
    owner = _ids(server)["user:ana"]
    r = api.post("/v3/workflows", data=_upload_form(owner), files={"file": ("app.yxzp", APP)})
    assert r.status_code == 200, r.text
    assert re.fullmatch(r'"[0-9a-f]{24}"', r.text)  # a bare quoted id


def match_415_on_publish(server: Emulator, api: Api) -> None:
    owner = _ids(server)["user:ana"]
    assert api.post("/v3/workflows", json=_upload_form(owner)).status_code == 415
    assert api.post("/v3/workflows", data=_upload_form(owner)).status_code == 415  # urlencoded
    session_wide = api.post("/v3/workflows", data=_upload_form(owner), files={"file": ("a.yxzp", APP)},
                            headers={"Content-Type": "application/json"})
    assert session_wide.status_code == 415


def match_put_needs_the_whole_record(server: Emulator, api: Api) -> None:
    wid = _ids(server)["workflow:sales"]
    r = api.put(f"/v3/workflows/{wid}", json={"name": "Only a name"})
    assert r.status_code == 400
    missing = " ".join(r.json()["modelState"])
    assert "workflowCredentialType" in missing and "credentialId" in missing


def match_job_status_and_disposition(server: Emulator, api: Api) -> None:
    job = _run(server, api, _ids(server)["workflow:sales"])
    assert job["status"] == "Queued"
    server.advance(60)
    done = api.get(f"/v3/jobs/{job['id']}").json()
    assert (done["status"], done["disposition"]) == ("Completed", "Success")
    refresh = _ids(server)["workflow:refresh"]
    with server.state.lock:  # a job that cannot end before the cancel reaches it, however loaded the machine
        server.state.workflows[refresh]["behaviour"] = {"runSeconds": 3600}
    waiting = _run(server, api, refresh)  # cancelled before it can finish
    assert api.delete(f"/v3/jobs/{waiting['id']}").status_code == 200
    assert api.get(f"/v3/jobs/{waiting['id']}").json()["status"] == "Cancelled"


def match_v1_job_fields(server: Emulator, api: Api) -> None:
    wid = _ids(server)["workflow:sales"]
    r = api.post(f"/v1/workflows/{wid}/jobs/", json={"questions": []})
    assert r.status_code == 200, r.text
    server.advance(60)
    job = api.get(f"/v1/jobs/{r.json()['id']}/").json()
    assert {"appId", "id", "createDate", "status", "disposition", "outputs", "messages", "priority",
            "workerTag", "runWithE2"} <= set(job)


def match_v1_questions(server: Emulator, api: Api) -> None:
    questions = api.get(f"/v1/workflows/{_ids(server)['workflow:churn']}/questions/").json()
    assert questions
    for q in questions:
        assert {"name", "type", "description", "value", "multiple", "items"} <= set(q)
        assert all(set(item) == {"key", "value"} for item in q["items"] or [])


def match_v1_output_download(server: Emulator, api: Api) -> None:
    job = _run(server, api, _ids(server)["workflow:sales"])
    server.advance(60)
    done = api.get(f"/v1/jobs/{job['id']}/").json()
    output = done["outputs"][0]
    assert "Csv" in output["formats"]
    r = api.get(f"/v1/jobs/{job['id']}/output/{output['id']}", params={"format": "Csv"})
    assert r.status_code == 200 and r.content


def match_admin_v1_users_unpaged(server: Emulator, api: Api) -> None:
    users = api.get("/admin/v1/users/").json()
    assert len(users) == len(server.state.users)


def match_v3_membership_answers(server: Emulator, api: Api) -> None:
    ids = _ids(server)
    collection = api.post("/v3/collections", json={"name": f"Evidence {len(server.state.collections)}"}).json()
    added = api.post(f"/v3/collections/{collection}/workflows", json={"workflowId": ids["workflow:sales"]})
    assert added.status_code == 200 and ids["workflow:sales"] in added.json()["workflowIds"]
    group = api.post("/v3/usergroups", json={"name": f"Evidence {len(server.state.groups)}", "role": "Viewer"})
    users = api.post(f"/v3/usergroups/{group.json()}/users", json=[ids["user:ana"]])
    assert users.status_code == 200 and users.json()["successfullyAddedUserCount"] == 1


def match_migration_publish(server: Emulator, api: Api) -> None:
    form = {"name": "Migrated by evidence", "owner": "ana.artisan@example.com", "validate": "false",
            "isPublic": "false", "sourceId": f"evidence-{len(server.state.workflows)}", "workerTag": "",
            "canDownload": "true"}
    r = api.post("/admin/v1/workflows/", data=form, files={"file": ("m.yxzp", APP)})
    assert r.status_code == 200, r.text


def match_audit_log(server: Emulator, api: Api) -> None:
    events = api.get("/admin/v1/auditlog/", params={"entity": "User", "page": 1, "pageSize": 5}).json()
    assert events and all(set(e) == {"id", "entity", "entityId", "userId", "timestamp", "event", "oldValues",
                                      "newValues"} for e in events)


MATCHES = {
    "token answer fields": match_token_answer_fields,
    "401 text on /webapi": match_401_text_on_webapi,
    "401 on legacy OAuth1": match_401_on_legacy_oauth1,
    "`POST /v3/workflows`": match_post_v3_workflows,
    "415 on publish": match_415_on_publish,
    "PUT needs the whole record": match_put_needs_the_whole_record,
    "job status / disposition": match_job_status_and_disposition,
    "V1 job fields": match_v1_job_fields,
    "V1 questions": match_v1_questions,
    "V1 output download": match_v1_output_download,
    "Admin V1 users unpaged": match_admin_v1_users_unpaged,
    "V3 membership answers": match_v3_membership_answers,
    "migration publish": match_migration_publish,
    "audit log": match_audit_log,
}


@pytest.mark.parametrize("topic", sorted(MATCHES))
def test_every_match_of_the_evidence_holds(emulator, api, topic):
    MATCHES[topic](emulator, api)


# --------------------------------------------------------------------------
# Divergences, fixed: realistic answers (the default) say what real Servers say
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    with Emulator(quirks={name: True for name in QUIRKS}) as server:  # every quirk, those off by default too
        yield server


def fixed_role_gates(server: Emulator) -> None:
    viewer = Api(server, server.keys("Viewer"))
    assert viewer.get("/v1/workflows/subscription/").json() == DENIED
    assert viewer.get(f"/v1/workflows/{server.refs['workflow:churn']}/questions/").status_code == 401


def fixed_workflow_list_items(server: Emulator) -> None:
    assert all("sourceAppId" not in item for item in Api(server).get("/v3/workflows").json())


def fixed_package_type(server: Emulator) -> None:
    assert all(w["packageType"] in (0, 1, 2) for w in Api(server).get("/v1/workflows/subscription/").json())


def fixed_admin_v1_collection_permissions(server: Emulator) -> None:
    collections = Api(server).get("/admin/v1/collections/", params={"page": 1, "pageSize": 50}).json()
    perms = next(u["permissions"] for c in collections for u in c["users"])
    assert perms["collection"] == {"isAdmin": perms["collection"]["isAdmin"]}
    assert set(perms["applications"]) == {"canAdd", "canRemove", "canUpdate"}
    assert set(perms["users"]) == {"canAdd", "canRemove"} and all("optOutUsers" in c for c in collections)


def fixed_admin_v1_schedule_iteration(server: Emulator) -> None:
    schedule = Api(server).get("/admin/v1/schedules/", params={"page": 1, "pageSize": 5}).json()[0]
    assert set(schedule["iteration"]) == {"__type", "day", "days", "hours", "minutes", "startTime", "endTime",
                                          "weekday"}


def fixed_admin_v2_author_subscription(server: Emulator) -> None:
    item = Api(server).get("/admin/v2/workflows/all/", params={"page": 0, "pageSize": 5}).json()[0]
    assert set(item["revisions"][0]["author"]["subscription"]) == {"Id", "Name"}


def fixed_admin_v2_subscriptions(server: Emulator) -> None:
    subs = Api(server).get("/admin/v2/subscriptions/", params={"page": 1, "pageSize": 5}).json()
    assert set(subs[0]) == {"active", "defaultWorkerTag", "expirationDate", "id", "name"}


def fixed_nulls(server: Emulator) -> None:
    wid = server.refs["workflow:sales"]
    view = Api(server).get(f"/v3/workflows/{wid}").json()
    first = view["versions"][0]
    assert None in view.values() or None in first.values()
    assert first["comments"] is None or first["comments"]  # never the empty text


def fixed_date_time_fractions(server: Emulator) -> None:
    with server.state.lock:
        server.state.workflows[server.refs["workflow:sales"]]["dateCreated"] = "2014-03-10T14:18:35.000Z"
    view = Api(server).get(f"/v3/workflows/{server.refs['workflow:sales']}").json()
    assert view["dateCreated"] == "2014-03-10T14:18:35Z"


def fixed_published_version_number(server: Emulator) -> None:
    assert {i["publishedVersionNumber"] for i in Api(server).get("/v3/workflows").json()} == {0}


def fixed_token_format(server: Emulator) -> None:
    token = Api(server).token
    assert len(token) > 600 and token.startswith("AQAAANCMnd8B")
    with Emulator(nodes=2, sticky=False) as balanced:
        session = requests.Session()
        key, secret = balanced.curator
        issued = session.post(f"{balanced.url}/oauth2/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": key, "client_secret": secret}).json()["access_token"]
        other = session.get(f"{balanced.url}/v3/workflows", headers={"Authorization": f"Bearer {issued}"}, timeout=10)
        assert other.status_code == 401


def fixed_legacy_bom(server: Emulator) -> None:
    key, secret = server.curator
    r = requests.get(f"{server.root}/gallery/api/v1/workflows/subscription/", timeout=10,
                     auth=OAuth1(key, secret, signature_type="query"))
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")


DIVERGENCES = {
    "who may call V1/V2": fixed_role_gates,
    "`GET /v3/workflows` items": fixed_workflow_list_items,
    "V1 `packageType`": fixed_package_type,
    "Admin V1 collection permissions": fixed_admin_v1_collection_permissions,
    "Admin V1 schedule `iteration`": fixed_admin_v1_schedule_iteration,
    "Admin V2 `workflows/all` author subscription": fixed_admin_v2_author_subscription,
    "Admin V2 subscriptions": fixed_admin_v2_subscriptions,
    "nulls": fixed_nulls,
    "date-time fractions": fixed_date_time_fractions,
    "`publishedVersionNumber`": fixed_published_version_number,
    "token format": fixed_token_format,
    "legacy answers": fixed_legacy_bom,
}


@pytest.mark.parametrize("topic", sorted(DIVERGENCES))
def test_every_divergence_of_the_evidence_is_pinned(real, topic):
    DIVERGENCES[topic](real)


def test_every_row_of_the_evidence_file_has_its_test():
    assert sorted(_rows("Matches")) == sorted(MATCHES)
    assert sorted(_rows("Divergences")) == sorted(DIVERGENCES)


def test_the_docs_account_for_every_divergence():
    docs = (ROOT / "docs" / "emulator.md").read_text(encoding="utf-8")
    section = docs.split("## Real Servers", 1)[-1]
    for topic in _rows("Divergences"):
        assert topic in section, f"docs/emulator.md does not account for the divergence {topic!r}"
