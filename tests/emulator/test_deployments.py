"""Real deployments: two nodes behind a load balancer, and Windows authentication."""

from __future__ import annotations

import pytest
import requests

from axframe.emulator import Emulator

from ..conftest import Api

DENIED = {"message": "Authorization has been denied for this request."}


def _token(server: Emulator, session: requests.Session) -> str:
    key, secret = server.curator
    r = session.post(f"{server.url}/oauth2/token", timeout=10,
                     data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_a_token_used_on_the_other_node_of_a_non_sticky_balancer_gets_401():
    with Emulator(nodes=2, sticky=False) as server:
        session = requests.Session()
        token = _token(server, session)  # node 0
        headers = {"Authorization": f"Bearer {token}"}
        first = session.get(f"{server.url}/v3/workflows", headers=headers, timeout=10)  # node 1
        assert first.status_code == 401 and first.json() == DENIED
        second = session.get(f"{server.url}/v3/workflows", headers=headers, timeout=10)  # node 0 again
        assert second.status_code == 200
        assert "Set-Cookie" not in first.headers
        stats = server.stats()
        assert stats["nodes"] == [2, 1] and stats["counters"]["tokens_refused_other_node"] == 1


def test_a_sticky_balancer_keeps_a_client_with_its_cookie_on_one_node():
    with Emulator(nodes=2, sticky=True) as server:
        session = requests.Session()  # keeps the affinity cookie
        token = _token(server, session)
        assert session.cookies.get("ARRAffinity") == "n0"
        for _ in range(4):
            r = session.get(f"{server.url}/v3/workflows", headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert r.status_code == 200
        assert server.stats()["nodes"] == [5, 0]
        # a client that drops the cookie lands on the other node, where the token is unknown
        bare = requests.get(f"{server.url}/v3/workflows", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert bare.status_code == 401


def test_one_node_is_what_it_always_was(server):
    assert Api(server).get("/v3/workflows").status_code == 200
    assert server.stats()["nodes"] == [server.stats()["requests"]]


def test_nodes_must_be_positive():
    with pytest.raises(ValueError):
        Emulator(nodes=0)


def test_axframe_on_a_non_sticky_balancer_says_so():
    import axframe as ax

    with Emulator(nodes=2, sticky=False) as server:
        try:
            conn = ax.authenticate(server.url, *server.curator)
            result = ax.get(conn, "workflows.list")
            said = " ".join(str(v) for v in result.failure["Error"])
        except Exception as exc:  # set-up failing as an exception says it too
            said = str(exc)
        assert "sticky" in said


# --------------------------------------------------------------------------
# Windows authentication
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def windows():
    with Emulator(auth="windows") as server:
        yield server


def test_windows_auth_refuses_post_users(windows):
    api = Api(windows)
    before = len(windows.state.users)
    r = api.post("/v3/users", json={"firstName": "New", "lastName": "Person", "email": "new.person@example.com"})
    assert r.status_code == 400
    assert "Windows authentication" in r.json()["message"]
    assert len(windows.state.users) == before
    uid = next(iter(windows.state.users))
    assert api.post(f"/v3/users/{uid}/passwordReset").status_code == 400


def test_windows_users_come_from_the_directory(windows):
    assert all(u["sId"].startswith("S-1-5-21-") for u in windows.state.users.values())
    user = windows.directory_sign_in("dora.directory@example.com", "Dora", "Directory")
    assert user["role"] == "Evaluated" and user["sId"].startswith("S-1-5-21-")
    again = windows.directory_sign_in("DORA.directory@example.com")
    assert again["id"] == user["id"]
    api = Api(windows)
    listed = api.get("/v3/users", params={"email": "dora.directory@example.com"}).json()
    assert [u["id"] for u in listed] == [user["id"]]
    # the path that works there: a Curator updates the signed-in user's role
    full = api.get(f"/v3/users/{user['id']}").json()
    body = {k: v for k, v in full.items() if v is not None}
    body.update(role="Artisan", defaultCredentialId="")
    assert api.put(f"/v3/users/{user['id']}", json=body).status_code == 200, api.put(
        f"/v3/users/{user['id']}", json=body).text


def test_builtin_auth_creates_users(server):
    r = Api(server).post("/v3/users", json={"firstName": "New", "lastName": "Person", "email": "np@example.com"})
    assert r.status_code == 201
    with pytest.raises(RuntimeError):
        server.directory_sign_in("x@example.com")
