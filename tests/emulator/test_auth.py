"""Authentication: the OAuth2 token endpoint, bearer checks, roles, legacy OAuth1."""

from __future__ import annotations

import json

import base64

import pytest
import requests
from requests_oauthlib import OAuth1

from axframe.emulator import Emulator

from ..conftest import Api


def token_request(server, **kw):
    return requests.post(f"{server.url}/oauth2/token", timeout=10, **kw)


def test_token_with_form_fields(server):
    key, secret = server.curator
    r = token_request(server, data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["expires_in"] == 3599
    assert body["token_type"].lower() == "bearer"


def test_token_with_basic_header(server):
    key, secret = server.curator
    basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
    r = token_request(server, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200
    token = r.json()["access_token"]
    r = requests.get(f"{server.url}/v3/usergroups", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200


@pytest.mark.parametrize("data,error", [
    ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"}, "invalid_client"),
    ({"grant_type": "password", "client_id": "a", "client_secret": "b"}, "unsupported_grant_type"),
])
def test_token_refused(server, data, error):
    r = token_request(server, data=data)
    assert r.status_code == 400
    assert r.json()["error"] == error


def test_wrong_secret_is_refused(server):
    key, _ = server.curator
    r = token_request(server, data={"grant_type": "client_credentials", "client_id": key, "client_secret": "wrong"})
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_client"}


def test_missing_and_unknown_bearer_get_401(server):
    r = requests.get(f"{server.url}/v3/users", timeout=10)
    assert r.status_code == 401
    r = requests.get(f"{server.url}/v3/users", headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert r.status_code == 401
    assert "denied" in r.json()["message"]


def test_token_expires_on_the_emulator_clock(server, api):
    assert api.get("/v3/usergroups").status_code == 200
    server.advance(3598)
    assert api.get("/v3/usergroups").status_code == 200
    server.advance(2)
    assert api.get("/v3/usergroups").status_code == 401


def test_tokens_issued_are_counted(server):
    before = server.stats()["tokensIssued"]
    Api(server)
    Api(server)
    assert server.stats()["tokensIssued"] == before + 2


def test_non_curator_refused_on_curator_only_operation(server, artisan_api):
    assert artisan_api.get("/v3/users").status_code == 401
    assert artisan_api.get("/v3/collections").status_code == 401
    # ...but may use the operations the Swagger leaves open
    assert artisan_api.get("/v3/workflows").status_code == 200
    assert artisan_api.get("/v3/credentials").status_code == 200


def test_inactive_user_cannot_get_token(server, api):
    key, secret = server.artisan
    ana = next(u for u in server.state.users.values() if u["apiKey"] == key)
    assert api.post(f"/v3/users/{ana['id']}/deactivate").status_code == 200
    r = token_request(server, data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret})
    assert r.status_code == 400


def _legacy_url(server, path):
    return f"{server.root}/gallery/api{path}"


def test_oauth1_signed_request_accepted(server):
    key, secret = server.curator
    auth = OAuth1(key, client_secret=secret, signature_type="query")
    r = requests.get(_legacy_url(server, "/admin/v1/users/"), params={"page": 1, "pageSize": 5}, auth=auth,
                     timeout=10)
    assert r.status_code == 200, r.text
    assert len(json.loads(r.content.decode("utf-8-sig"))) == 5  # a legacy answer may start with a BOM


def test_oauth1_header_form_accepted(server):
    key, secret = server.artisan
    auth = OAuth1(key, client_secret=secret)  # Authorization: OAuth header
    r = requests.get(_legacy_url(server, "/v1/workflows/subscription/"), auth=auth, timeout=10)
    assert r.status_code == 200, r.text
    assert json.loads(r.content.decode("utf-8-sig"))


def test_oauth1_tampered_signature_refused(server):
    key, secret = server.curator
    auth = OAuth1(key, client_secret=secret, signature_type="query")
    prepared = requests.Request("GET", _legacy_url(server, "/admin/v1/users/"),
                                params={"page": 1, "pageSize": 5}, auth=auth).prepare()
    tampered = prepared.url.replace("pageSize=5", "pageSize=6")
    r = requests.get(tampered, timeout=10)
    assert r.status_code == 401
    assert r.json()["message"] == "The provided signature(oauth_signature) is invalid."
    assert r.json()["exceptionName"] == "UnauthorizedException"


def test_oauth1_wrong_secret_refused(server):
    key, _ = server.curator
    auth = OAuth1(key, client_secret="not-the-secret", signature_type="query")
    r = requests.get(_legacy_url(server, "/admin/v1/users/"), auth=auth, timeout=10)
    assert r.status_code == 401


def test_oauth1_replayed_request_refused(server):
    key, secret = server.curator
    auth = OAuth1(key, client_secret=secret, signature_type="query")
    prepared = requests.Request("GET", _legacy_url(server, "/admin/v1/subscriptions/"), auth=auth).prepare()
    assert requests.get(prepared.url, timeout=10).status_code == 200
    assert requests.get(prepared.url, timeout=10).status_code == 401


def test_bearer_token_does_not_open_legacy_routes(server, api):
    r = requests.get(_legacy_url(server, "/admin/v1/users/"), headers={"Authorization": f"Bearer {api.token}"},
                     timeout=10)
    assert r.status_code == 401


def test_v3_is_not_served_under_legacy_prefix(server):
    key, secret = server.curator
    r = requests.get(_legacy_url(server, "/v3/users"), auth=OAuth1(key, client_secret=secret), timeout=10)
    assert r.status_code == 404


def test_empty_seed_still_has_keys():
    with Emulator("empty") as server:
        assert Api(server).get("/v3/users").status_code == 200
        assert Api(server, server.artisan).get("/v3/workflows").json() == []
