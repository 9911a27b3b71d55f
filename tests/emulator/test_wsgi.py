"""The emulator as a WSGI application, driven by hand-written PEP 3333 calls: no socket, no client code."""

from __future__ import annotations

import io
import json
import sys
from urllib.parse import urlsplit

import pytest
import requests

from axframe.emulator import Emulator, ResetConnection


def call(app, method: str, target: str, body: bytes = b"", headers: dict | None = None,
         raw_target: bool = True, port: int = 1) -> tuple[int, dict[str, str], bytes]:
    """One request through *app*, as a WSGI server would make it (no Host header: PEP 3333's SERVER_*)."""
    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(port), "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if raw_target:
        environ["REQUEST_URI"] = target
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    started: list = []

    def start_response(status, response_headers, exc_info=None):
        started.append((status, response_headers))

    chunks = b"".join(app(environ, start_response))
    status, response_headers = started[0]
    assert isinstance(status, str) and all(isinstance(k, str) and isinstance(v, str) for k, v in response_headers)
    return int(status.split()[0]), {k.lower(): v for k, v in response_headers}, chunks


def token(app, keys) -> str:
    form = f"grant_type=client_credentials&client_id={keys[0]}&client_secret={keys[1]}".encode()
    status, _, body = call(app, "POST", "/webapi/oauth2/token", form,
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    return json.loads(body)["access_token"]


@pytest.fixture
def emulator():
    return Emulator()


def test_building_binds_nothing_and_the_wsgi_url_is_loopback(emulator):
    with pytest.raises(RuntimeError):
        emulator.port  # not started: no socket
    parts = urlsplit(emulator.wsgi_url)
    assert (parts.scheme, parts.hostname, parts.path) == ("http", "127.0.0.1", "/webapi")
    assert parts.port is not None and parts.port < 1024
    assert Emulator().wsgi_url != emulator.wsgi_url  # two emulators, two names


def test_a_token_then_a_listing(emulator):
    app = emulator.wsgi_app
    bearer = {"Authorization": f"Bearer {token(app, emulator.curator)}"}
    status, headers, body = call(app, "GET", "/webapi/v3/workflows", headers=bearer)
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert headers["content-length"] == str(len(body))
    assert {w["name"] for w in json.loads(body)} >= {"Regional Sales Report", "Customer Churn Scoring"}
    assert "connection" not in headers  # hop-by-hop, the WSGI server's business


def test_a_change_made_in_process_is_in_the_state(emulator):
    app = emulator.wsgi_app
    headers = {"Authorization": f"Bearer {token(app, emulator.curator)}", "Content-Type": "application/json"}
    status, _, body = call(app, "POST", "/webapi/v3/collections", json.dumps({"name": "In process"}).encode(),
                           headers)
    assert status == 200
    assert emulator.state.collections[json.loads(body)]["name"] == "In process"
    assert emulator.stats()["routes"]["Collections_CreateCollection"] == 1


def test_without_a_token_401_and_unknown_paths_404(emulator):
    status, _, body = call(emulator.wsgi_app, "GET", "/webapi/v3/users")
    assert status == 401 and json.loads(body) == {"message": "Authorization has been denied for this request."}
    assert call(emulator.wsgi_app, "GET", "/elsewhere")[0] == 404


def test_the_control_api_is_served_too(emulator):
    app = emulator.wsgi_app
    assert json.loads(call(app, "GET", "/_emulator/health")[2]) == {"ok": True}
    status, _, body = call(app, "PUT", "/_emulator/settings", json.dumps({"jobSlots": 2}).encode(),
                           {"Content-Type": "application/json"})
    assert status == 200 and json.loads(body)["jobSlots"] == 2 and emulator.state.job_slots == 2


def test_a_reset_fault_raises_out_of_the_application(emulator):
    app = emulator.wsgi_app
    bearer = {"Authorization": f"Bearer {token(app, emulator.curator)}", "Content-Type": "application/json"}
    emulator.faults.script("reset_after", "reset_before")
    before = len(emulator.state.collections)
    with pytest.raises(ResetConnection) as after:
        call(app, "POST", "/webapi/v3/collections", b'{"name": "applied"}', bearer)
    assert after.value.applied and len(emulator.state.collections) == before + 1
    with pytest.raises(ResetConnection) as first:
        call(app, "POST", "/webapi/v3/collections", b'{"name": "not applied"}', bearer)
    assert not first.value.applied and len(emulator.state.collections) == before + 1
    assert emulator.stats()["resets"] == {"beforeApplied": 1, "afterApplied": 1}


def test_an_injected_status_is_answered(emulator):
    emulator.faults.script("503")
    bearer = {"Authorization": f"Bearer {token(emulator.wsgi_app, emulator.curator)}"}
    status, headers, _ = call(emulator.wsgi_app, "GET", "/webapi/v3/workflows", headers=bearer)
    assert status == 503 and headers["retry-after"] == "1"


def test_limits_match_the_socket_server(emulator):
    small = Emulator(max_body=10)
    assert call(small.wsgi_app, "POST", "/webapi/v3/collections", b"x" * 11)[0] == 413
    assert call(emulator.wsgi_app, "GET", "/webapi/v3/users", headers={"X-Big": "a" * 70_000})[0] == 431


def test_an_encoded_slash_stays_in_its_segment_given_the_raw_target(emulator):
    bearer = {"Authorization": f"Bearer {token(emulator.wsgi_app, emulator.curator)}"}
    status, _, _ = call(emulator.wsgi_app, "GET", "/webapi/v3/users/a%2Fb", headers=bearer)
    assert status == 404  # one unknown id, not the route /v3/users/{id}/{...}
    decoded = call(emulator.wsgi_app, "GET", "/webapi/v3/workflows?view=Full", headers=bearer, raw_target=False)
    assert decoded[0] == 200


def test_the_socket_and_wsgi_answers_are_the_same(emulator):
    with emulator:
        api_token = token(emulator.wsgi_app, emulator.curator)
        wid = emulator.refs["workflow:sales"]
        over_socket = requests.get(f"{emulator.url}/v3/workflows/{wid}",
                                   headers={"Authorization": f"Bearer {api_token}"}, timeout=10)
        status, headers, body = call(emulator.wsgi_app, "GET", f"/webapi/v3/workflows/{wid}",
                                     headers={"Authorization": f"Bearer {api_token}"})
    assert status == over_socket.status_code and body == over_socket.content
    socket_headers = {k.lower(): v for k, v in over_socket.headers.items() if k.lower() != "connection"}
    assert headers == socket_headers


def test_a_legacy_oauth1_call_signed_for_the_wsgi_url(emulator):
    from requests_oauthlib import OAuth1

    key, secret = emulator.curator
    url = emulator.wsgi_url.replace("/webapi", "/gallery/api") + "/admin/v1/users/?page=1&pageSize=5"
    signed = requests.Request("GET", url, auth=OAuth1(key, client_secret=secret)).prepare()  # never sent
    parts = urlsplit(signed.url)
    authorization = signed.headers["Authorization"]
    # environ values are native strings (PEP 3333); requests_oauthlib hands the header as bytes
    environ_headers = {"Authorization": authorization.decode("latin-1") if isinstance(authorization, bytes)
                       else authorization}
    target = parts.path + "?" + parts.query
    status, _, body = call(emulator.wsgi_app, "GET", target, headers=environ_headers, port=parts.port)
    assert status == 200 and len(json.loads(body)) == 5
    status, _, body = call(emulator.wsgi_app, "GET", target, headers=environ_headers, port=parts.port)  # nonce spent
    assert status == 401 and json.loads(body)["exceptionName"] == "UnauthorizedException"
