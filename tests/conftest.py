"""Shared fixtures: a live emulator on a loopback port, and small HTTP helpers.

Tests talk to the emulator over a real socket; nothing is mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from axframe.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
SWAGGER = ROOT.parent / "shared" / "alteryx-api" / "swagger-v3.json"


class Api:
    """A bare requests session against the emulator, for testing the emulator itself."""

    def __init__(self, server: Emulator, keys: tuple[str, str] | None = None):
        self.server = server
        self.session = requests.Session()
        self.keys = keys or server.curator
        self.token = self.fetch_token()
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def fetch_token(self) -> str:
        r = requests.post(f"{self.server.url}/oauth2/token",
                          data={"grant_type": "client_credentials", "client_id": self.keys[0],
                                "client_secret": self.keys[1]}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def __getattr__(self, method: str):
        if method not in ("get", "post", "put", "patch", "delete"):
            raise AttributeError(method)

        def call(path: str, **kw):
            kw.setdefault("timeout", 30)
            return self.session.request(method.upper(), self.server.url + path, **kw)

        return call


@pytest.fixture
def server():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def api(server):
    return Api(server)


@pytest.fixture
def artisan_api(server):
    return Api(server, server.artisan)


@pytest.fixture
def ids(server):
    """Ids of the default seed's records, by ref (``ids['workflow:sales']``)."""
    return dict(server.refs)




def fast_retry():
    """A retry policy with tiny delays, so that retry tests do not wait."""
    import axframe as ax

    return ax.RetryPolicy(max_attempts=6, base_delay=0.005, max_delay=0.02, max_retry_after=0.05)


@pytest.fixture
def conn(server):
    import axframe as ax

    connection = ax.authenticate(server.url, *server.curator, retry=fast_retry())
    yield connection
    connection.close()


@pytest.fixture
def artisan_conn(server):
    import axframe as ax

    connection = ax.authenticate(server.url, *server.artisan, retry=fast_retry())
    yield connection
    connection.close()
