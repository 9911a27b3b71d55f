"""Role gates (real-server-evidence.md, "who may call V1/V2", high): since 2022.1 a Server answers the V1
Subscription API and User V2 only for an Artisan's or a Curator's key; Viewers and Members get 401 with
Web API's "Authorization has been denied" body.  2021.4 let every role through."""

from __future__ import annotations

import pytest

from axframe.emulator import Emulator

from ..conftest import Api

DENIED = {"message": "Authorization has been denied for this request."}
GATED = ("/v1/workflows/subscription/", "/user/v2/credentials")


def _member_keys(server: Emulator) -> tuple[str, str]:
    user = next(u for u in server.state.users.values() if u["role"] == "Member")
    with server.state.lock:
        user["isApiEnabled"] = True
        user.setdefault("apiKey", server.state.new_secret(16))
        user.setdefault("apiSecret", server.state.new_secret(32))
        user["apiKey"] = user["apiKey"] or server.state.new_secret(16)
        user["apiSecret"] = user["apiSecret"] or server.state.new_secret(32)
    return user["apiKey"], user["apiSecret"]


@pytest.mark.parametrize("path", GATED)
def test_a_viewer_and_a_member_are_refused_v1_and_user_v2(server, path):
    for keys in (server.keys("Viewer"), _member_keys(server)):
        r = Api(server, keys).get(path)
        assert r.status_code == 401 and r.json() == DENIED, (path, r.text)


def test_a_viewer_is_refused_the_questions_and_a_run_too(server, ids):
    viewer = Api(server, server.keys("Viewer"))
    app = ids["workflow:churn"]
    assert viewer.get(f"/v1/workflows/{app}/questions/").status_code == 401
    assert viewer.post(f"/v1/workflows/{app}/jobs/", json={"questions": []}).status_code == 401
    assert not any(j["appId"] == app and j.get("userId") == ids["user:vic"] for j in server.state.jobs.values())


@pytest.mark.parametrize("path", GATED)
def test_an_artisan_and_a_curator_pass_the_gate(server, artisan_api, api, path):
    assert artisan_api.get(path).status_code == 200
    assert api.get(path).status_code == 200


def test_the_viewer_keeps_v3(server):
    assert Api(server, server.keys("Viewer")).get("/v3/workflows").status_code == 200


def test_on_2021_4_every_role_passes():
    with Emulator(server_version="2021.4") as old:
        assert Api(old, old.keys("Viewer")).get("/v1/workflows/subscription/").status_code == 200


def test_2022_1_gates():
    with Emulator(server_version="2022.1") as gated:
        assert Api(gated, gated.keys("Viewer")).get("/v1/workflows/subscription/").status_code == 401
