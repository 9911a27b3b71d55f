"""What every answer carries: the Content-Type the Swagger's ``produces`` implies, and a declared status."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("method, path, params", [
    ("delete", "/v3/collections/{collection:opscol}", {"forceDelete": "true"}),
    ("delete", "/v3/usergroups/{group:viewers}", {"forceDelete": "true"}),
    ("put", "/v3/workflows/{workflow:sales}/transfer", None),
    ("delete", "/v3/users/{user:eve}", None),
])
def test_an_empty_answer_still_says_it_is_json(api, ids, method, path, params):
    for ref in ids:
        path = path.replace("{" + ref + "}", ids[ref])
    body = {"ownerId": ids["user:mia"], "transferSchedules": False} if method == "put" else None
    r = getattr(api, method)(path, params=params, json=body)
    assert r.status_code == 200, r.text
    assert r.content == b""
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"


def test_a_refused_download_is_answered_as_the_operation_produces(api, server):
    r = api.get("/v3/workflows/000000000000000000000000/package")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert json.loads(r.content)["message"] == "Workflow '000000000000000000000000' was not found."
    r = api.get("/v3/usage")  # nothing has run yet
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/octet-stream"
    assert "usage" in json.loads(r.content)["message"]


def test_a_legacy_download_keeps_json_errors(api):
    r = api.get("/v1/workflows/000000000000000000000000/package")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/json")


def test_an_unknown_user_in_a_put_is_the_declared_400(api, server, ids):
    full = dict(api.get(f"/v3/users/{ids['user:mia']}").json(), defaultCredentialId="")
    r = api.put("/v3/users/0123456789abcdef01234567", json=full)
    assert r.status_code == 400  # PUT /v3/users/{userId} declares 200, 400, 401: no 404
    assert r.json() == {"message": "User '0123456789abcdef01234567' was not found."}


def test_an_unknown_user_to_see_connections_as_is_the_declared_400(api):
    r = api.get("/v3/dcm/admin/connections", params={"visibleBy": "nobody"})
    assert r.status_code == 400 and r.json()["message"] == "User 'nobody' was not found."


def test_an_unknown_id_in_the_path_stays_404_where_declared(api):
    assert api.get("/v3/users/0123456789abcdef01234567").status_code == 404
