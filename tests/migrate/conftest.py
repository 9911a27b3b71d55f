"""Two live emulators, a source and a target, each on its own loopback port.

The target uses another random seed, so that its ids (credentials above all)
differ from the source's, as they do between two real Servers.
"""

from __future__ import annotations

import pytest

import axframe as ax
from axframe.emulator import Emulator

from ..conftest import fast_retry


@pytest.fixture
def source():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def target():
    with Emulator(random_seed=7) as emulator:
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
