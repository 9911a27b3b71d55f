"""The reliability suite talks to the emulator over a real loopback socket: what crosses the wire is the point."""

from __future__ import annotations

import pytest


@pytest.fixture
def conn(socket_conn):
    return socket_conn
