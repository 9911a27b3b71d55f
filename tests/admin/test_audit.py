"""The audit log and the other paged Admin listings through the pager, against a live emulator."""

from __future__ import annotations

import json
import math
import threading

import pandas as pd
import pytest

import axframe as ax
from axframe.emulator.state.core import iso
from axframe.admin import Pager, admin_listing, audit_log


def make_events(conn, count: int, prefix: str = "Audit") -> None:
    frame = ax.add_record_id(pd.DataFrame({"name": [f"{prefix} {i:03d}" for i in range(count)]}))
    ok, failed = ax.create(conn, "collections.create", frame, max_workers=8)
    assert failed.empty and len(ok) == count


def expected(server, entity: str) -> list[dict]:
    return [e for e in server.state.audit if e["entity"] == entity]


def pages_read(server) -> int:
    return server.stats()["routes"].get("admin_v1.audit_log", 0)


def test_the_audit_log_across_many_pages_matches_the_emulator(server, conn):
    make_events(conn, 300)
    events = expected(server, "Collection")
    assert len(events) > 300  # the seed's collections too
    before = pages_read(server)
    frame = audit_log(conn, "Collection", page_size=7)
    # page 0 (refused: this Server counts from 1), then pages 1... up to and including the short page
    assert pages_read(server) - before == 1 + len(events) // 7 + 1
    before = pages_read(server)
    told = audit_log(conn, "Collection", page_size=7, first_page=1)  # told the base: no page 0
    assert pages_read(server) - before == len(events) // 7 + 1
    pd.testing.assert_frame_equal(frame, told)
    assert list(frame.columns[:8]) == ["id", "entity", "entityId", "userId", "timestamp", "event", "oldValues",
                                       "newValues"]
    assert len(frame) == len(events)
    assert frame["id"].tolist() == [e["id"] for e in events]
    for column in ("entity", "entityId", "userId", "event", "oldValues", "newValues"):
        assert frame[column].tolist() == [e[column] for e in events], column
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert frame["timestamp"].tolist() == [pd.Timestamp(iso(e["timestamp"])) for e in events]  # ms, as served
    inserted = frame[frame["event"] == "Insert"]
    assert inserted["new.name"].tolist() == [json.loads(e["newValues"])["name"] for e in events
                                             if e["event"] == "Insert"]
    assert frame["id"].dtype == object and frame["event"].dtype == object


def test_a_known_total_fetches_pages_concurrently(server, conn):
    make_events(conn, 120)
    events = expected(server, "Collection")
    server.faults.configure(latency=0.03, path_pattern="auditlog")
    in_flight, peak, lock = [0], [0], threading.Lock()
    send = conn.send

    def counting(call):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return send(call)
        finally:
            with lock:
                in_flight[0] -= 1

    conn.send = counting
    sequential = audit_log(conn, "Collection", page_size=7)
    assert peak[0] == 1
    before = pages_read(server)
    concurrent = audit_log(conn, "collection", page_size=7, total=len(events), max_workers=6)
    assert peak[0] > 1
    assert pages_read(server) - before == 1 + math.ceil(len(events) / 7) + (len(events) % 7 == 0)  # 1: page 0
    pd.testing.assert_frame_equal(sequential, concurrent)
    ahead = audit_log(conn, "Collection", page_size=7, readahead=4)
    pd.testing.assert_frame_equal(sequential, ahead)


def test_an_understated_total_still_reads_to_the_end(server, conn):
    make_events(conn, 40)
    events = expected(server, "Collection")
    frame = audit_log(conn, "Collection", page_size=5, total=10)
    assert frame["id"].tolist() == [e["id"] for e in events]


def test_time_filters_and_value_columns(server, conn, ids):
    make_events(conn, 5, "Early")
    server.advance(7200)
    middle = pd.Timestamp.now(tz="UTC") + pd.Timedelta(seconds=3600)
    make_events(conn, 4, "Late")
    toggle = pd.DataFrame({"RecordID": [1], "appId": [ids["workflow:churn"]]})
    ok, failed = ax.post(conn, "admin_v1.toggle_migratable", toggle)
    assert failed.empty
    late = audit_log(conn, "Collection", start=middle, page_size=3)
    assert sorted(late["new.name"]) == [f"Late {i:03d}" for i in range(4)]
    early = audit_log(conn, "Collection", end=middle.tz_convert(None).to_pydatetime())  # naive means UTC
    assert len(early) + len(late) == len(expected(server, "Collection"))
    last_day = late["timestamp"].max().strftime("%Y-%m-%d")  # a bare date as end means the whole day
    whole = audit_log(conn, "Collection", start="2000-01-01", end=last_day)
    assert len(whole) == len(expected(server, "Collection"))
    none = audit_log(conn, "Collection", end="2000-01-01")
    assert none.empty and list(none.columns[:8]) == ["id", "entity", "entityId", "userId", "timestamp", "event",
                                                     "oldValues", "newValues"]
    flips = audit_log(conn, "AppInfo", start=middle)
    assert flips["old.isReadyForMigration"].tolist() == [False]
    assert flips["new.isReadyForMigration"].tolist() == [True]
    both = audit_log(conn, ["AppInfo", "Collection"])
    assert set(both["entity"]) == {"AppInfo", "Collection"}
    raw = audit_log(conn, "AppInfo", expand_values=False)
    assert not [c for c in raw.columns if c.startswith(("old.", "new."))]


def test_audit_log_set_up_problems(server, conn):
    before = server.stats()["requests"]
    with pytest.raises(ax.ConfigurationError, match="unknown audit entity"):
        audit_log(conn, "Workflow")
    with pytest.raises(ax.ConfigurationError, match="page_size"):
        audit_log(conn, "User", page_size=0)
    with pytest.raises(ax.ConfigurationError, match="start"):
        audit_log(conn, "User", start="yesterday-ish")
    with pytest.raises(ax.ConfigurationError, match="dict"):
        audit_log(conn, ["User", "AppInfo"], total=3)
    assert server.stats()["requests"] == before


def test_a_refused_page_raises(server, artisan_conn):
    from axframe import ListingError

    with pytest.raises(ListingError, match="401") as caught:
        audit_log(artisan_conn, "User")
    assert caught.value.status == 401


def test_admin_listings_through_the_pager(server, conn):
    users = admin_listing(conn, "users", page_size=2)
    assert users["id"].tolist() == list(server.state.users)
    assert "userProfile.picture" in users.columns  # nested objects are flattened
    workflows = admin_listing(conn, "workflows", page_size=2)  # zero-based pages
    assert workflows["id"].tolist() == list(server.state.workflows)
    assert isinstance(workflows.loc[0, "revisions"], str)  # lists stay as JSON text
    assert json.loads(workflows.loc[0, "revisions"])[0]["version"] == 1
    finance = server.refs["subscription:finance"]
    members = admin_listing(conn, "v2.users", page_size=1, subscriptionId=finance)
    assert set(members["subscriptionId"]) == {finance}
    assert len(members) == sum(u["subscriptionId"] == finance for u in server.state.users.values())
    collections = admin_listing(conn, "admin_v1.collections", page_size=1, total=2)
    assert collections["id"].tolist() == list(server.state.collections)
    for name in ("schedules", "subscriptions", "v2.subscriptions", "v2.workflows"):
        assert len(admin_listing(conn, name, page_size=2)) > 0, name
    with pytest.raises(ax.ConfigurationError, match="no parameter nope"):
        admin_listing(conn, "users", nope=1)
    with pytest.raises(ax.ConfigurationError, match="not a paged listing"):
        admin_listing(conn, "workflows.list")
    with pytest.raises(ax.ConfigurationError, match="audit_log"):
        admin_listing(conn, "admin_v1.audit_log")


def test_the_pager_counts_its_pages(server, conn):
    pager = Pager(conn, "admin_v1.users", page_size=3)
    assert pager.first is None  # not documented: found out on the first read
    items = pager.all()
    assert len(items) == len(server.state.users)
    assert pager.calls == 1 + len(items) // 3 + 1  # page 0 refused, then pages 1.. up to the short one
    assert pager.first == 1 and Pager(conn, "admin_v2.workflows_all").first == 0
    with pytest.raises(ax.ConfigurationError, match="first_page"):
        Pager(conn, "admin_v1.users", first_page=2)


@pytest.mark.parametrize("paging", ["one-based", "zero-based", "one-based-lenient"])
@pytest.mark.parametrize("size", [1, 4, 7, 500])
def test_every_item_once_however_the_server_counts_pages(server, conn, paging, size):
    """The real Server's page base is undocumented: whichever it is, the pager reads each item once."""
    make_events(conn, 20)
    server.state.admin_paging = paging
    users = admin_listing(conn, "users", page_size=size)
    assert users["id"].tolist() == list(server.state.users)
    events = audit_log(conn, ["Collection", "User"], page_size=size)
    assert events["id"].tolist() == [e["id"] for e in expected(server, "Collection") + expected(server, "User")]
    pager = Pager(conn, "admin_v1.collections", page_size=size)
    assert [c["id"] for c in pager.all()] == list(server.state.collections)
    pages = math.ceil(len(server.state.collections) / size) + (len(server.state.collections) % size == 0)
    if pager.first is None:  # page 0 held the whole listing, either way
        assert pager.calls == 1 and len(server.state.collections) < size
    else:
        assert pager.first == (0 if paging == "zero-based" else 1)
        assert pager.calls <= pages + 1  # at most one page read to find out


def test_the_emulator_page_base_can_be_set_over_http(server, conn):
    import requests

    answer = requests.put(f"{server.root}/_emulator/settings",
                          json={"adminPaging": "zero-based"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["adminPaging"] == "zero-based"
    assert server.state.admin_paging == "zero-based"
    bad = requests.put(f"{server.root}/_emulator/settings",
                       json={"adminPaging": "two-based"}, timeout=5)
    assert bad.status_code == 400 and server.state.admin_paging == "zero-based"
