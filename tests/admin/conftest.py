"""Two live emulators, a source and a target, each on its own loopback port.

The target uses another random seed, so that its ids (credentials above all)
differ from the source's, as they do between two real Servers.  It has the
source's people, collections, credentials and connections but none of its
workflows (nor the schedules of them): a Server that has not received them
yet.  Tests that need a same-named workflow on the target publish it there.
"""

from __future__ import annotations

import pytest

import axframe as ax
from axframe.emulator import Emulator
from axframe.emulator.seed import default_seed

from ..conftest import fast_retry


@pytest.fixture
def source():
    with Emulator() as emulator:
        yield emulator


def without_workflows() -> dict:
    """The default seed without its workflows and their schedules."""
    seed = default_seed()
    seed["workflows"], seed["schedules"] = [], []
    for collection in seed.get("collections", []):
        collection["workflows"], collection["schedules"] = [], []
    return seed


@pytest.fixture
def target():
    with Emulator(without_workflows(), random_seed=7) as emulator:
        yield emulator


@pytest.fixture
def src(source):
    connection = ax.authenticate(source.url, *source.curator, retry=fast_retry())
    yield connection
    connection.close()


@pytest.fixture
def tgt(target):
    connection = ax.authenticate(target.url, *target.curator, retry=fast_retry())
    yield connection
    connection.close()


def routes(server, key: str) -> int:
    """How many requests the emulator answered on one route."""
    return server.stats()["routes"].get(key, 0)
