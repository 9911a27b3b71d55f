"""Shared fixtures: a live emulator on a loopback port, and small HTTP helpers.

Tests talk to the emulator over a real socket; nothing is mocked.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest
import requests

from axframe.client import secrets
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


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_SWEPT = ("axframe", "urllib3", "requests", "requests_oauthlib", "oauthlib")


class _Recording(Counter):
    """axframe's secret registry, remembering every value ever registered (a closed connection forgets its
    tokens, but the sweep below must still find them in what was logged while they were live)."""

    ever: set = set()

    def __setitem__(self, key, value):
        _Recording.ever.add(key)
        super().__setitem__(key, value)


secrets._secrets = _Recording(secrets._secrets)
_Recording.ever.update(secrets._secrets)


@pytest.fixture(autouse=True)
def no_secret_in_any_log_line():
    """Every test of the suite runs with axframe's loggers, and those of the libraries it sends and signs
    with, at DEBUG; afterwards no log line may hold an API key, secret or token that axframe was given
    or received during the whole session."""
    kept = _Kept()
    loggers = [logging.getLogger(name) for name in _SWEPT]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(kept)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(kept)
            logger.setLevel(level)
    known = [s for s in list(_Recording.ever) if len(s) >= 12]  # keys, secrets and tokens, not test words
    leaked = []
    for record in kept.records:
        try:
            line = record.getMessage()
        except Exception:
            line = str(record.msg)
        leaked += [f"{record.name}: {secrets.mask(s)} in {line[:200]!r}" for s in known if s in line]
    assert not leaked, "secrets in log lines: " + "; ".join(leaked[:5])


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
    """A Curator's connection to the emulator, served in this process (no socket): for client logic.

    The emulator also listens on its loopback socket (``server.url``: the ``api`` fixture, the command
    line); tests of the transport, of faults on the wire and of reliability use :func:`socket_conn`.
    """
    import axframe as ax

    connection = ax.authenticate(server.wsgi_url, *server.curator, retry=fast_retry(), wsgi_app=server.wsgi_app)
    yield connection
    connection.close()


@pytest.fixture
def socket_conn(server):
    """A Curator's connection to the emulator over its real loopback socket."""
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
