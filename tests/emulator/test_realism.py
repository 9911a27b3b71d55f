"""Realistic answers: each quirk of state/realism.py is one switch, visible when on and absent when off."""

from __future__ import annotations

import json
import re

import pytest
import requests

from axframe.emulator import Emulator
from axframe.emulator.answers import trim_fraction
from axframe.emulator.state.realism import QUIRKS, Realism

from ..conftest import Api


@pytest.fixture
def real():
    with Emulator(quirks={name: True for name in QUIRKS}) as emulator:  # every quirk, those off by default too
        yield emulator


@pytest.fixture
def tidy():
    with Emulator(realistic=False) as emulator:
        yield emulator


def test_the_table_names_every_quirk_once_and_realistic_turns_on_the_defaults():
    assert Realism.of(True).on == {q.name for q in QUIRKS.values() if q.default}
    assert Realism.of(False).on == frozenset()
    assert Realism.of(True, {"bom": False}).on == Realism.of(True).on - {"bom"}
    with pytest.raises(ValueError):
        Realism.of(True, {"no_such_quirk": True})
    for quirk in QUIRKS.values():
        assert quirk.evidence and quirk.what


def test_trim_fraction_is_json_net():
    assert trim_fraction("2014-03-10T14:18:35.000Z") == "2014-03-10T14:18:35Z"
    assert trim_fraction("2014-03-10T14:18:25.603Z") == "2014-03-10T14:18:25.603Z"
    assert trim_fraction("2014-03-10T14:18:25.600Z") == "2014-03-10T14:18:25.6Z"


def test_set_quirks_turns_one_on_and_off_and_survives_reset(real):
    assert real.realism("bom")
    real.set_quirks(bom=False)
    assert not real.realism("bom")
    real.reset()
    assert not real.realism("bom") and real.realism("nulls")


def test_realistic_answers_are_the_default():
    emulator = Emulator()
    assert emulator.realism.on == Realism.of(True).on and emulator.realism("nulls")
    # every quirk is on: the client survives each (docs/emulator.md names the test of each)
    assert all(emulator.realism(name) for name in QUIRKS) and emulator.realism("list_without_source_app_id")


def _workflow(server: Emulator) -> str:
    return next(iter(server.state.workflows))


def test_nulls(real, tidy):
    for server, expect_null in ((real, True), (tidy, False)):
        api = Api(server)
        view = api.get(f"/v3/workflows/{_workflow(server)}").json()
        version = view["versions"][0]
        if expect_null:
            assert version["comments"] is None or version["comments"] != ""
            assert "hasPrivateDataExemption" in version
            assert all(k in view for k in ("sourceAppId", "packageWorkflowType", "executionMode"))
        else:
            assert None not in view.values() and None not in version.values()


def test_date_times_drop_a_zero_fraction(real, tidy):
    stamp = "2024-01-02T03:04:05.000Z"
    for server in (real, tidy):
        with server.state.lock:
            wf = server.state.workflows[_workflow(server)]
            wf["dateCreated"] = stamp
        view = Api(server).get(f"/v3/workflows/{wf['id']}").json()
        assert view["dateCreated"] == ("2024-01-02T03:04:05Z" if server is real else stamp)
    times = re.findall(r'"(\d{4}-\d\d-\d\dT[^"]*)"', Api(real).get("/v3/workflows").text)
    assert times and not any(t.endswith("0Z") and "." in t for t in times)


def test_workflow_list_items_lack_source_app_id_and_show_version_zero(real, tidy):
    items = Api(real).get("/v3/workflows").json()
    assert items and all("sourceAppId" not in i for i in items)
    assert all(i["publishedVersionNumber"] == 0 for i in items)
    detail = Api(real).get(f"/v3/workflows/{items[0]['id']}").json()
    assert "sourceAppId" in detail
    tidy_items = Api(tidy).get("/v3/workflows").json()
    assert all("sourceAppId" in i and i["publishedVersionNumber"] >= 1 for i in tidy_items)
    real.set_quirks(list_without_source_app_id=False)
    assert all("sourceAppId" in i for i in Api(real).get("/v3/workflows").json())


def test_v1_package_type_is_an_integer(real, tidy):
    for server, kind in ((real, int), (tidy, str)):
        listing = Api(server).get("/v1/workflows/subscription/").json()
        assert listing and all(isinstance(w["packageType"], kind) for w in listing)
    assert {w["packageType"] for w in Api(real).get("/v1/workflows/subscription/").json()} <= {0, 1, 2}


def test_tokens_are_long_opaque_tickets(real, tidy):
    token = Api(real).token
    assert len(token) > 600 and token.startswith("AQAAANCMnd8B") and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert re.fullmatch(r"[0-9a-f]{64}", Api(tidy).token)
    assert Api(real).get("/v3/workflows").status_code == 200  # the long token authenticates


def test_admin_v1_collection_permissions_and_schedule_iteration(real, tidy):
    real_collections = Api(real).get("/admin/v1/collections/", params={"page": 1, "pageSize": 50}).json()
    member = next(u for c in real_collections for u in c["users"])
    assert set(member["permissions"]) == {"collection", "applications", "users"}
    assert set(member["permissions"]["applications"]) == {"canAdd", "canRemove", "canUpdate"}
    assert set(member["permissions"]["users"]) == {"canAdd", "canRemove"}
    assert set(member["permissions"]["collection"]) == {"isAdmin"}
    assert all(c["optOutUsers"] == [] for c in real_collections)
    tidy_member = next(u for c in Api(tidy).get("/admin/v1/collections/", params={"page": 1, "pageSize": 50}).json()
                       for u in c["users"])
    assert set(tidy_member["permissions"]) == {"collection"}
    schedule = Api(real).get("/admin/v1/schedules/", params={"page": 1, "pageSize": 50}).json()[0]
    assert set(schedule["iteration"]) == {"__type", "day", "days", "hours", "minutes", "startTime", "endTime",
                                          "weekday"}
    assert isinstance(schedule["iteration"]["days"], list)
    tidy_schedule = Api(tidy).get("/admin/v1/schedules/", params={"page": 1, "pageSize": 50}).json()[0]
    assert set(tidy_schedule["iteration"]) <= {"startTime", "endTime"}


def test_admin_v2_author_subscription_and_subscription_fields(real, tidy):
    author = Api(real).get("/admin/v2/workflows/all/", params={"page": 0, "pageSize": 5}).json()[0]["revisions"][0][
        "author"]
    assert set(author["subscription"]) == {"Id", "Name"}
    tidy_author = Api(tidy).get("/admin/v2/workflows/all/", params={"page": 0, "pageSize": 5}).json()[0][
        "revisions"][0]["author"]
    assert set(tidy_author["subscription"]) == {"id", "name"}
    subs = Api(real).get("/admin/v2/subscriptions/", params={"page": 1, "pageSize": 50}).json()
    assert subs and all("defaultWorkerTag" in s and "defaultWorkflowCredentialId" not in s for s in subs)
    assert set(subs[0]) == {"active", "defaultWorkerTag", "expirationDate", "id", "name"}


def test_legacy_answers_start_with_a_bom(real, tidy):
    from requests_oauthlib import OAuth1

    for server, bom in ((real, True), (tidy, False)):
        key, secret = server.curator
        r = requests.get(f"{server.root}/gallery/api/admin/v1/users/", params={"page": 1, "pageSize": 5},
                         auth=OAuth1(key, secret, signature_type="query"), timeout=10)
        assert r.status_code == 200
        assert r.content.startswith(b"\xef\xbb\xbf") is bom
        assert json.loads(r.content.decode("utf-8-sig"))
    # the /webapi/ answers have none
    assert not Api(real).get("/v1/workflows/subscription/").content.startswith(b"\xef\xbb\xbf")


def test_the_control_api_reads_and_changes_quirks(real):
    url = f"{real.root}/_emulator/quirks"
    assert requests.get(url, timeout=10).json() == {name: True for name in QUIRKS}
    changed = requests.patch(url, json={"bom": False, "nulls": False}, timeout=10)
    assert changed.status_code == 200 and changed.json()["bom"] is False and changed.json()["nulls"] is False
    assert not real.realism("bom") and real.realism("date_fractions")
    assert requests.patch(url, json={"no_such": True}, timeout=10).status_code == 400
    assert requests.patch(url, json={"bom": "yes"}, timeout=10).status_code == 400
