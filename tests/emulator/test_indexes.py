"""Issue 19: the emulator is never the bottleneck of a client benchmark.  A user's email is checked for
uniqueness through an index kept in step with every write to the users table (not a scan per create), and
the audit log is paged from an index per entity (not filtered whole for every page)."""

from __future__ import annotations

import pytest

from axframe.emulator import State
from axframe.emulator.seed import apply_seed, resolve_seed
from axframe.emulator.state import Actor, Invalid
from axframe.emulator.state.people import UserSettings


@pytest.fixture
def state():
    state = State(seed=1)
    with state.lock:
        apply_seed(state, resolve_seed("default"))
    return state


def _admin(state):
    return Actor.of(next(u for u in state.users.values() if u["role"] == "Curator"))


def _scan_refused(state, monkeypatch):
    def scan(*args, **kwargs):
        raise AssertionError("the users table was scanned")
    for name in ("values", "items", "__iter__"):
        monkeypatch.setattr(state.users, name, scan, raising=False)


def test_a_create_checks_the_email_without_scanning_the_users(state, monkeypatch):
    people = state.services.people
    admin = _admin(state)
    with state.lock:
        people.create_user(admin, first_name="A", last_name="B", email="new.person@example.com", settings=UserSettings())
        monkeypatch.setattr(type(state.users), "values", lambda self: (_ for _ in ()).throw(AssertionError("scan")))
        with pytest.raises(Invalid):
            people._email_free("NEW.person@example.com")
        people._email_free("someone.else@example.com")


def test_the_index_follows_creates_updates_and_deletes(state):
    people = state.services.people
    admin = _admin(state)
    with state.lock:
        view = people.create_user(admin, first_name="A", last_name="B", email="one@example.com",
                                  settings=UserSettings())
        uid = view.value["id"] if hasattr(view, "value") else view["id"]
        with pytest.raises(Invalid):
            people.create_user(admin, first_name="C", last_name="D", email="ONE@example.com", settings=UserSettings())
        user = state.users[uid]
        people.update_user(admin, uid, email="two@example.com", role=user["role"], first_name="A", last_name="B",
                           settings=UserSettings())
        assert state.users.with_email("one@example.com") == []
        assert [u["id"] for u in state.users.with_email("Two@Example.com")] == [uid]
        people.create_user(admin, first_name="E", last_name="F", email="one@example.com", settings=UserSettings())  # free again
        del state.users[uid]
        assert state.users.with_email("two@example.com") == []


def test_direct_writes_to_the_table_are_indexed(state):
    with state.lock:
        state.users["x" * 24] = {"id": "x" * 24, "email": "Direct@Example.com"}
        assert [u["id"] for u in state.users.with_email("direct@example.com")] == ["x" * 24]
        state.users["x" * 24]["email"] = "moved@example.com"  # changed behind the index's back
        assert state.users.with_email("direct@example.com") == []  # never reported under its old email
        state.users.pop("x" * 24)
        assert state.users.with_email("moved@example.com") == []


def test_audit_pages_come_from_the_index_and_follow_the_log(state):
    admin = _admin(state)
    admin_api = state.services.admin
    with state.lock:
        for i in range(25):
            state.record("User", f"u{i}", "Add", admin, None, {"n": i})
        state.record("Collection", "c", "Add", admin, None, {"n": 0})
        expected = [e for e in state.audit if e["entity"] == "User"]
        pages = []
        number = 1
        while True:
            got = admin_api.audit_log(admin, entity="user", page=number, page_size=7)
            if not got:
                break
            pages += got
            number += 1
        assert [e["id"] for e in pages] == [e["id"] for e in expected]
        state.record("User", "late", "Add", admin, None, {"n": 99})
        assert state.audit_of("User")[-1]["entityId"] == "late"
        state.audit = [e for e in state.audit if e["entity"] != "User"]  # a log replaced, not appended to
        assert state.audit_of("User") == []
        assert len(state.audit_of("collection")) == len([e for e in state.audit if e["entity"] == "Collection"])


def test_reading_a_page_does_not_filter_the_whole_log(state, monkeypatch):
    admin = _admin(state)
    with state.lock:
        for i in range(50):
            state.record("User", f"u{i}", "Add", admin, None, {"n": i})
        state.audit_of("User")  # indexed once

        class Watched(list):
            def __iter__(self):
                raise AssertionError("the whole audit log was read for one page")

        watched = Watched(state.audit)
        state.audit = watched
        state._audit_last = watched[-1]
        assert len(state.services.admin.audit_log(admin, entity="User", page=2, page_size=10)) == 10
