"""Schedule time zones: date-time fields are read in the schedule's zone, run times are answered in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from axframe.emulator import Emulator
from axframe.emulator.seed import SeedError, apply_seed, default_seed
from axframe.emulator.state import Clock, State
from axframe.emulator.state.zones import WINDOWS_ZONES, zone_info


@pytest.fixture
def server():
    # expected times are written as the tidy answers write them (.000Z); realistic answers drop a
    # zero fraction (tests/emulator/test_realism.py), which is not what these tests are about
    with Emulator(realistic=False) as emulator:
        yield emulator


def daily(workflow_id: str, start: str = "2030-01-01T02:00:00", **extra) -> dict:
    body = {"workflowId": workflow_id, "name": "Zoned",
            "iteration": {"iterationType": "Daily", "startTime": start,
                          "dailyContract": {"runOnlyWorkWeek": False}}}
    body.update(extra)
    return body


def once(workflow_id: str, start: str, **extra) -> dict:
    body = {"workflowId": workflow_id, "iteration": {"iterationType": "Once", "startTime": start}}
    body.update(extra)
    return body


def full_contract(view: dict, **changes) -> dict:
    """A PUT body built from a schedule view."""
    body = {k: view[k] for k in ("workflowId", "ownerId", "name", "comment", "priority", "workerTag",
                                 "enabled", "credentialId")}
    body["iteration"] = {"iterationType": "Daily", "startTime": view["iteration"]["startTime"],
                         "dailyContract": {"runOnlyWorkWeek": False}}
    body.update(changes)
    return body


def create(api, body: dict) -> dict:
    r = api.post("/v3/schedules", json=body)
    assert r.status_code == 201, r.text
    return api.get(f"/v3/schedules/{r.json()}").json()


def ids_between(api, after: str, before: str) -> list[str]:
    r = api.get("/v3/schedules", params={"runsAfter": after, "runsBefore": before})
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


@pytest.mark.parametrize("zone, expected", [
    ("Eastern Standard Time", "2030-01-01T07:00:00.000Z"),
    ("Tokyo Standard Time", "2029-12-31T17:00:00.000Z"),
    ("GMT Standard Time", "2030-01-01T02:00:00.000Z"),
    ("UTC", "2030-01-01T02:00:00.000Z"),
    ("America/Los_Angeles", "2030-01-01T10:00:00.000Z"),
    ("eastern standard time", "2030-01-01T07:00:00.000Z"),
])
def test_start_time_is_read_in_the_schedule_zone(api, ids, zone, expected):
    view = create(api, daily(ids["workflow:sales"], timeZone=zone))
    assert view["runDateTime"] == expected
    assert view["timeZone"] == zone  # answered as it was given
    assert view["iteration"]["startTime"] == "2030-01-01T02:00:00"


def test_no_zone_means_utc(api, ids):
    view = create(api, daily(ids["workflow:sales"]))
    assert view["runDateTime"] == "2030-01-01T02:00:00.000Z"
    assert view["timeZone"] == "UTC"


def test_explicit_offset_wins_over_the_zone(api, ids):
    view = create(api, daily(ids["workflow:sales"], "2030-01-01T02:00:00Z", timeZone="Tokyo Standard Time"))
    assert view["runDateTime"] == "2030-01-01T02:00:00.000Z"


def test_daily_runs_keep_the_local_hour_across_daylight_saving(server, api, ids):
    sid = create(api, daily(ids["workflow:refresh"], timeZone="Eastern Standard Time"))["id"]
    r = api.get("/admin/v2/schedule/forecast", params={"afterDate": "2030-07-01T00:00:00Z",
                                                       "beforeDate": "2030-07-02T00:00:00Z"})
    assert r.status_code == 200, r.text
    mine = [f["startTime"] for f in r.json() if f["id"] == sid]
    assert mine == ["2030-07-01T06:00:00.000Z"]  # 02:00 EDT
    winter = api.get("/admin/v2/schedule/forecast", params={"afterDate": "2030-01-10T00:00:00Z",
                                                            "beforeDate": "2030-01-11T00:00:00Z"}).json()
    assert [f["startTime"] for f in winter if f["id"] == sid] == ["2030-01-10T07:00:00.000Z"]  # 02:00 EST


def test_hourly_runs_do_not_repeat_at_the_spring_gap(api, ids):
    body = {"workflowId": ids["workflow:sales"], "timeZone": "Eastern Standard Time",
            "iteration": {"iterationType": "Hourly", "startTime": "2030-03-10T00:00:00",
                          "hourlyContract": {"hours": 1, "minutes": 0}}}
    sid = create(api, body)["id"]
    r = api.get("/admin/v2/schedule/forecast", params={"afterDate": "2030-03-10T05:00:00Z",
                                                       "beforeDate": "2030-03-10T09:00:00Z"})
    times = [f["startTime"] for f in r.json() if f["id"] == sid]
    assert times == sorted(set(times))
    assert times == ["2030-03-10T05:00:00.000Z", "2030-03-10T06:00:00.000Z",
                     "2030-03-10T07:00:00.000Z", "2030-03-10T08:00:00.000Z"]


def test_runs_filters_compare_in_utc(api, ids):
    sid = create(api, once(ids["workflow:sales"], "2030-01-01T02:00:00", timeZone="Tokyo Standard Time"))["id"]
    assert sid in ids_between(api, "2029-12-31T16:00:00Z", "2029-12-31T18:00:00Z")
    assert sid not in ids_between(api, "2030-01-01T01:00:00Z", "2030-01-01T03:00:00Z")


def test_put_without_zone_resets_to_utc(api, ids):
    view = create(api, daily(ids["workflow:sales"], timeZone="Eastern Standard Time"))
    r = api.put(f"/v3/schedules/{view['id']}", json=full_contract(view))
    assert r.status_code == 200, r.text
    assert r.json()["timeZone"] == "UTC"
    assert r.json()["runDateTime"] == "2030-01-01T02:00:00.000Z"
    r = api.put(f"/v3/schedules/{view['id']}", json=full_contract(view, timeZone="Tokyo Standard Time"))
    assert r.json()["timeZone"] == "Tokyo Standard Time"
    assert r.json()["runDateTime"] == "2029-12-31T17:00:00.000Z"


def test_put_with_empty_zone_resets_to_utc(api, ids):
    view = create(api, daily(ids["workflow:sales"], timeZone="Eastern Standard Time"))
    r = api.put(f"/v3/schedules/{view['id']}", json=full_contract(view, timeZone=""))
    assert r.json()["timeZone"] == "UTC"


def test_patch_keeps_the_zone(api, ids):
    view = create(api, daily(ids["workflow:sales"], timeZone="Eastern Standard Time"))
    iteration = {"iterationType": "Daily", "startTime": "2030-01-01T03:00:00",
                 "dailyContract": {"runOnlyWorkWeek": False}}
    r = api.patch(f"/v3/schedules/{view['id']}", json={"iteration": iteration})
    assert r.status_code == 200, r.text
    assert r.json()["timeZone"] == "Eastern Standard Time"
    assert r.json()["runDateTime"] == "2030-01-01T08:00:00.000Z"
    r = api.patch(f"/v3/schedules/{view['id']}", json={"timeZone": "Tokyo Standard Time"})
    assert r.json()["runDateTime"] == "2029-12-31T18:00:00.000Z"


@pytest.mark.parametrize("zone", ["Mars Standard Time", "Eastern", "../etc/passwd", "America", "UTC+99"])
def test_unknown_zone_is_400(api, ids, zone):
    r = api.post("/v3/schedules", json=daily(ids["workflow:sales"], timeZone=zone))
    assert r.status_code == 400
    assert "contract.timeZone" in r.json()["modelState"]


def test_unknown_zone_on_put_and_patch_is_400_and_changes_nothing(api, ids):
    view = create(api, daily(ids["workflow:sales"], timeZone="Eastern Standard Time"))
    r = api.put(f"/v3/schedules/{view['id']}", json=full_contract(view, timeZone="Nowhere Time"))
    assert r.status_code == 400 and "contract.timeZone" in r.json()["modelState"]
    r = api.patch(f"/v3/schedules/{view['id']}", json={"timeZone": "Nowhere Time", "name": "Changed"})
    assert r.status_code == 400 and "contract.timeZone" in r.json()["modelState"]
    after = api.get(f"/v3/schedules/{view['id']}").json()
    assert after["timeZone"] == "Eastern Standard Time" and after["name"] == "Zoned"


def test_start_in_the_past_is_judged_in_the_zone(server, api, ids):
    # three hours ahead in UTC is six hours ago in Tokyo
    local = datetime.fromtimestamp(server.clock.now(), tz=timezone.utc) + timedelta(hours=3)
    start = local.strftime("%Y-%m-%dT%H:%M:%S")
    assert api.post("/v3/schedules", json=once(ids["workflow:sales"], start)).status_code == 201
    r = api.post("/v3/schedules", json=once(ids["workflow:sales"], start, timeZone="Tokyo Standard Time"))
    assert r.status_code == 400 and "contract.iteration.startTime" in r.json()["modelState"]


def test_legacy_admin_schedules_show_the_utc_next_run(api, ids):
    sid = create(api, daily(ids["workflow:sales"], timeZone="Tokyo Standard Time"))["id"]
    rows = api.get("/admin/v1/schedules", params={"page": 1, "pageSize": 100}).json()
    row = next(r for r in rows if r["id"] == sid)
    assert row["nextRunTime"] == "2029-12-31T17:00:00.000Z" and row["timezone"] == "Tokyo Standard Time"


def test_every_windows_name_maps_to_a_known_zone():
    assert len(WINDOWS_ZONES) >= 30
    for name in WINDOWS_ZONES:
        assert zone_info(name) is not None, name


def zoned_seed(zone: str) -> dict:
    seed = default_seed()
    seed["schedules"][0] = dict(seed["schedules"][0], timeZone=zone,
                                iteration={"iterationType": "Daily", "startTime": "2030-01-01T02:00:00",
                                           "dailyContract": {"runOnlyWorkWeek": False}})
    return seed


def test_seeded_schedule_zone_is_applied():
    state = State(seed=1, clock=Clock(start=1_800_000_000, frozen=True))
    refs = apply_seed(state, zoned_seed("Tokyo Standard Time"))
    view = state.services.schedules.view(state.schedules[refs["schedule:nightly"]])
    assert view["runDateTime"] == "2029-12-31T17:00:00.000Z" and view["timeZone"] == "Tokyo Standard Time"


def test_seeded_schedule_with_an_unknown_zone_is_refused():
    state = State(seed=1, clock=Clock(start=1_800_000_000, frozen=True))
    with pytest.raises(SeedError, match="timeZone 'Atlantis Time'"):
        apply_seed(state, zoned_seed("Atlantis Time"))
