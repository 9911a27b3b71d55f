"""The state model on its own: no HTTP, no sockets."""

from __future__ import annotations

import json

import pytest

from axframe.emulator.error_map import body_of, status_of
from axframe.emulator.seed import apply_seed, default_seed
from axframe.emulator.state import Actor, Clock, Invalid, NotFound, State, Unauthorized, project
from axframe.packages import build_package


@pytest.fixture
def state():
    s = State(seed=1, clock=Clock(start=1_800_000_000, frozen=True))
    refs = apply_seed(s, default_seed())
    s.refs = refs
    return s


def actor(state, ref):
    return Actor.of(state.users[state.refs[f"user:{ref}"]])


def test_ids_look_like_object_ids(state):
    ids = {state.new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)
    assert all(i.startswith(f"{1_800_000_000:08x}") for i in ids)


def test_same_seed_same_ids():
    a, b = State(seed=3, clock=Clock(start=1e9)), State(seed=3, clock=Clock(start=1e9))
    assert apply_seed(a, default_seed()) == apply_seed(b, default_seed())


def test_tokens_issue_and_expire(state):
    user = state.users[state.refs["user:admin"]]
    token = state.issue_token(user["apiKey"], user["apiSecret"])["access_token"]
    assert state.authenticate(token) is user
    state.clock.advance(3599)
    with pytest.raises(Unauthorized):
        state.authenticate(token)
    with pytest.raises(Unauthorized):
        state.issue_token(user["apiKey"], "wrong")


def test_job_scheduler_is_exact_on_a_moved_clock(state):
    admin = actor(state, "admin")
    state.job_slots = 2
    wid = state.refs["workflow:sales"]  # runSeconds 0.2
    jobs = [state.services.jobs.enqueue(admin, wid) for _ in range(5)]
    state.clock.advance(0.5)
    state.tick()
    starts = [j["_start"] - jobs[0]["_created"] for j in jobs]
    assert [round(s, 6) for s in starts] == [0, 0, 0.2, 0.2, 0.4]
    assert [j["status"] for j in jobs] == ["Completed"] * 4 + ["Running"]


def test_priority_jumps_the_queue(state):
    admin = actor(state, "admin")
    state.job_slots = 1
    wid = state.refs["workflow:sales"]
    jobs = state.services.jobs
    first = jobs.enqueue(admin, wid)
    low = jobs.enqueue(admin, wid, priority="Low")
    critical = jobs.enqueue(admin, wid, priority="Critical")
    state.clock.advance(0.3)
    state.tick()
    assert first["status"] == "Completed"
    assert critical["status"] == "Running" and low["status"] == "Queued"


def test_non_curator_priority_is_ignored(state):
    ana = actor(state, "ana")
    job = state.services.jobs.enqueue(ana, state.refs["workflow:sales"], priority="Critical")
    assert job["priority"] == "Default"


def test_audit_records_only_changed_fields(state):
    admin = actor(state, "admin")
    sharing = state.services.sharing
    cid = sharing.create_collection(admin, name="A").value
    sharing.update_collection(admin, cid, name="A", owner_id=admin.id)  # no change: no event
    sharing.update_collection(admin, cid, name="B", owner_id=admin.id)
    events = [e for e in state.audit if e["entityId"] == cid]
    assert [e["event"] for e in events] == ["Insert", "Update"]
    assert json.loads(events[1]["oldValues"]) == {"name": "A"}


def test_credential_password_never_in_audit_or_views(state):
    admin = actor(state, "admin")
    credentials = state.services.credentials
    view = credentials.create_credential(admin, username="u", password="hunter2").value
    credentials.update_credential(admin, view["credentialId"], new_password="hunter3")
    text = json.dumps(state.audit) + json.dumps(view) + json.dumps(credentials.list_credentials(admin, view="Full"))
    assert "hunter2" not in text and "hunter3" not in text


def test_projection_fills_required_and_drops_empty_optional():
    out = project({"id": "1", "name": None, "extra": 1}, "ReducedUserGroupView")
    assert out == {"id": "1", "name": "", "role": "NoAccess"}
    assert "defaultCredentialId" not in project({"id": "1"}, "UserView")


def test_errors_map_to_statuses(state):
    admin = actor(state, "admin")
    with pytest.raises(NotFound) as missing:
        state.services.sharing.get_collection(admin, "nope")
    assert status_of(missing.value) == 404
    with pytest.raises(Invalid) as err:
        state.services.people.create_group(admin, name="finance analysts", role="Viewer")  # the seed has it
    assert status_of(err.value) == 400 and body_of(err.value)["modelState"] == {
        "name": ["A user group named 'finance analysts' already exists."]}


def test_publish_or_version_by_source_id(state):
    admin = actor(state, "admin")
    pkg = build_package("M")
    workflows = state.services.workflows
    a = workflows.publish_or_version(admin, name="M", owner_id=admin.id, package=pkg, settings={}, source_id="s1")
    b = workflows.publish_or_version(admin, name="M", owner_id=admin.id, package=pkg, settings={}, source_id="s1")
    assert a is b and len(a["versions"]) == 2 and a["versions"][1]["published"]


def test_counts(state):
    counts = state.counts()
    assert counts["users"] == 8 and counts["workflows"] == 5 and counts["collections"] == 2


@pytest.mark.parametrize("wrapper", [None, {"object": None}, "text"])
def test_dcm_null_credential_is_400_even_past_the_validator(state, wrapper):
    contract = {"name": "c", "schemaName": "s", "parameters": {},
                "dataSource": {"object": {"name": "d", "schemaName": "s", "parameters": {}}},
                "credentials": {"password": wrapper}}
    with pytest.raises(Invalid) as caught:
        state.services.dcm.add_connection(contract, state.refs["user:admin"])
    assert caught.value.problems == {"credentials.password": ["Must not be null."]}
    assert state.dcm_connections == {} or all(c["name"] != "c" for c in state.dcm_connections.values())
