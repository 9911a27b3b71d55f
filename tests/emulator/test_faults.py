"""Fault injection: each kind of fault, from Python and from the control endpoint."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from ..conftest import Api


def users(server):
    return len(server.state.users)


def create_user(api, n):
    return api.post("/v3/users", json={"firstName": "F", "lastName": "L", "email": f"u{n}@example.com"},
                    timeout=(5, 2))


def test_latency_is_added(server, api):
    server.faults.configure(latency=0.2)
    started = time.perf_counter()
    assert api.get("/v3/usergroups").status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_latency_is_the_answer_s_time_with_the_work_done_first(server, api):
    """A Server with a latency of L answers in L, its work included: the change is made when the request
    arrives and the answer waits out the rest (so calls at once in L are the Server's whole capacity)."""
    server.faults.configure(latency=3.0)
    before = users(server)
    answers: list[int] = []
    call = threading.Thread(target=lambda: answers.append(api.post(
        "/v3/users", json={"firstName": "F", "lastName": "L", "email": "early@example.com"}, timeout=30).status_code))
    call.start()
    deadline = time.monotonic() + 30
    while users(server) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    made = users(server) == before + 1
    waiting = call.is_alive()
    call.join()
    assert made and waiting and answers == [201]


@pytest.mark.parametrize("status", [503, 429, 500])
def test_error_share_answers_before_applying(server, api, status):
    server.faults.configure(error_rates={status: 1.0}, retry_after=2)
    before = users(server)
    r = create_user(api, 1)
    assert r.status_code == status
    assert users(server) == before
    if status in (429, 503):
        assert r.headers["Retry-After"] == "2"
    else:
        assert "Retry-After" not in r.headers


def test_error_share_is_a_share(server, api):
    server.faults.configure(error_rates={503: 0.5}, seed=7)
    codes = [api.get("/v3/usergroups").status_code for _ in range(200)]
    assert 60 < codes.count(503) < 140
    assert set(codes) == {200, 503}


def test_reset_before_applying_changes_nothing(server, api):
    server.faults.configure(reset_before=1.0)
    before = users(server)
    with pytest.raises(requests.ConnectionError):
        create_user(api, 2)
    assert users(server) == before
    assert server.stats()["resets"]["beforeApplied"] == 1


def test_reset_after_applying_keeps_the_change(server, api):
    server.faults.configure(reset_after=1.0)
    before = users(server)
    with pytest.raises(requests.ConnectionError):
        create_user(api, 3)
    assert users(server) == before + 1
    assert server.stats()["resets"]["afterApplied"] == 1


def test_slow_answer_past_the_read_timeout_keeps_the_change(server, api):
    server.faults.configure(slow_rate=1.0, slow_seconds=1.5)
    before = users(server)
    with pytest.raises(requests.ReadTimeout):
        api.post("/v3/users", json={"firstName": "F", "lastName": "L", "email": "slow@example.com"},
                 timeout=(5, 0.3))
    assert users(server) == before + 1


def test_token_expiry_every_n_calls(server, api):
    server.faults.configure(expire_tokens_every=3)
    codes = [api.get("/v3/usergroups").status_code for _ in range(3)]
    assert codes == [200, 200, 401]
    assert Api(server).get("/v3/usergroups").status_code == 200  # a new token works


def test_scripted_faults_in_order(server, api):
    server.faults.script("503", "429", "reset_before")
    assert api.get("/v3/usergroups").status_code == 503
    assert api.get("/v3/usergroups").status_code == 429
    with pytest.raises(requests.ConnectionError):
        api.get("/v3/usergroups")
    assert api.get("/v3/usergroups").status_code == 200


def test_faults_filter_by_method_and_path(server, api):
    server.faults.configure(error_rates={503: 1.0}, methods=["POST"], path_pattern="/v3/users")
    assert api.get("/v3/users").status_code == 200
    assert api.post("/v3/usergroups", json={"name": "G", "role": "Viewer"}).status_code == 201
    assert create_user(api, 4).status_code == 503


def test_token_endpoint_spared_unless_included(server):
    server.faults.configure(error_rates={503: 1.0})
    Api(server)  # gets a token despite the fault
    server.faults.configure(error_rates={503: 1.0}, include_token=True)
    r = requests.post(f"{server.url}/oauth2/token", data={"grant_type": "client_credentials",
                                                          "client_id": server.curator[0],
                                                          "client_secret": server.curator[1]}, timeout=5)
    assert r.status_code == 503


def test_capacity_limits_requests_in_flight(server):
    server.faults.configure(capacity=2, latency=0.2, queue_limit=0, overload_status=503, retry_after=1)
    api = Api(server)
    codes: list[int] = []

    def call():
        session = requests.Session()
        session.headers.update(api.session.headers)
        codes.append(session.get(f"{server.url}/v3/usergroups", timeout=10).status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.faults.peak_inflight <= 2
    assert codes.count(200) >= 2 and codes.count(503) >= 1
    assert set(codes) <= {200, 503}


def test_capacity_queues_when_allowed(server):
    server.faults.configure(capacity=1, latency=0.05)
    api = Api(server)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(
        requests.get(f"{server.url}/v3/usergroups", headers=dict(api.session.headers), timeout=10).status_code))
        for _ in range(4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    assert time.perf_counter() - started >= 0.2  # served one at a time
    assert server.faults.peak_inflight == 1


def test_control_endpoint_sets_and_clears_faults(server, api):
    root = server.root
    r = requests.put(f"{root}/_emulator/faults", json={"error_rates": {"503": 1.0}}, timeout=5)
    assert r.status_code == 200 and r.json()["settings"]["error_rates"] == {"503": 1.0}
    assert api.get("/v3/usergroups").status_code == 503
    assert requests.get(f"{root}/_emulator/faults", timeout=5).json()["counters"]["injected_503"] == 1
    requests.delete(f"{root}/_emulator/faults", timeout=5)
    assert api.get("/v3/usergroups").status_code == 200
    assert requests.put(f"{root}/_emulator/faults", json={"nonsense": 1}, timeout=5).status_code == 400
    assert requests.put(f"{root}/_emulator/faults", json={"reset_before": 2}, timeout=5).status_code == 400


def test_control_endpoint_counters_clock_reset(server, api):
    root = server.root
    api.get("/v3/usergroups")
    stats = requests.get(f"{root}/_emulator/stats", timeout=5).json()
    assert stats["routes"]["UserGroups_GetUserGroups"] == 1
    assert stats["tokensIssued"] == 1
    requests.post(f"{root}/_emulator/clock", json={"advance": 4000}, timeout=5)
    assert api.get("/v3/usergroups").status_code == 401
    api.post("/v3/usergroups", json={"name": "tmp", "role": "Viewer"})
    r = requests.post(f"{root}/_emulator/reset", json={"seed": "empty"}, timeout=5)
    assert r.status_code == 200 and r.json()["counts"]["workflows"] == 0
    r = requests.post(f"{root}/_emulator/seed", json={"userGroups": [{"ref": "g", "name": "Seeded"}]}, timeout=5)
    assert "group:g" in r.json()["refs"]
    assert requests.post(f"{root}/_emulator/tokens/expire", timeout=5).status_code == 200


def test_settings_and_info(server):
    r = requests.put(f"{server.root}/_emulator/settings", json={"tokenLifetime": 5, "jobSlots": 9}, timeout=5)
    assert r.json()["tokenLifetime"] == 5 and server.state.job_slots == 9
    info = requests.get(f"{server.root}/_emulator/info", timeout=5).json()
    assert info["url"] == server.url and info["curator"] == list(server.curator)


def test_admin_paging_is_kept_across_resets_and_checked():
    from axframe.emulator import Emulator

    emulator = Emulator("empty", admin_paging="zero-based")
    assert emulator.state.admin_paging == "zero-based"
    emulator.reset()
    assert emulator.state.admin_paging == "zero-based"
    assert Emulator("empty").state.admin_paging == "one-based"
    with pytest.raises(ValueError, match="admin_paging"):
        Emulator("empty", admin_paging="two-based")
