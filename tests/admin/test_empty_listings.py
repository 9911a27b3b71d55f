"""An empty Admin listing, audit log or migratable list is a frame with no rows but with its columns (the same as
a full one's), which ``Alteryx.write`` takes; a frame without columns it refuses."""

from __future__ import annotations

import pytest

import axframe as ax
from axframe.emulator import Emulator
from axframe.admin import admin_listing, audit_log, migratable
from axframe.admin.listings import LISTINGS, listing_frame

from ..conftest import fast_retry


@pytest.fixture(scope="module")
def full():
    with Emulator() as emulator:
        connection = ax.authenticate(emulator.url, *emulator.curator, retry=fast_retry())
        yield connection
        connection.close()


@pytest.fixture(scope="module")
def empty():
    """An empty Server; its Curator's own user and studio are hidden from the user and studio listings."""
    with Emulator("empty") as emulator:
        emulator.state.services.admin.users = lambda *args, **kwargs: []
        emulator.state.services.admin.subscriptions = lambda *args, **kwargs: []
        connection = ax.authenticate(emulator.url, *emulator.curator, retry=fast_retry())
        yield connection
        connection.close()


@pytest.mark.parametrize("flatten", [True, False], ids=["flat", "nested"])
@pytest.mark.parametrize("name", list(LISTINGS))
def test_an_empty_listing_keeps_its_columns(full, empty, name, flatten):
    nothing = admin_listing(empty, name, flatten=flatten)
    assert nothing.shape[0] == 0 and nothing.shape[1] >= 1
    assert all(str(t) == "object" for t in nothing.dtypes)
    something = admin_listing(full, name, flatten=flatten)
    assert len(something) > 0
    assert list(nothing.columns) == list(something.columns)


def test_an_empty_listing_axframe_does_not_know_has_an_id_column():
    assert list(listing_frame([]).columns) == ["id"]


def test_an_empty_audit_log_keeps_its_columns(full, empty):
    nothing = audit_log(empty, "Collection")
    assert nothing.shape[0] == 0
    assert list(nothing.columns) == ["id", "entity", "entityId", "userId", "timestamp", "event", "oldValues",
                                     "newValues"]
    assert str(nothing["timestamp"].dtype).startswith("datetime64")
    something = audit_log(full, "Collection")
    assert len(something) > 0 and list(something.columns[:8]) == list(nothing.columns)
    assert audit_log(full, "Collection", end="2000-01-01").shape == (0, something.shape[1])


@pytest.mark.parametrize("details", [True, False])
def test_an_empty_migratable_list_keeps_its_columns(full, empty, details):
    nothing = migratable(empty, details=details)
    something = migratable(full, details=details)
    assert nothing.shape[0] == 0 and len(something) > 0
    assert list(nothing.columns) == list(something.columns) and nothing.shape[1] >= 4
