"""A Server that cannot be reached is named with its host and port, and what to check."""

from __future__ import annotations

import socket

import pytest
import requests

import axframe as ax
from axframe.client.reach import why_unreachable


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_port_with_nothing_listening_is_named():
    port = _closed_port()
    with pytest.raises(ax.ServerUnreachable) as raised:
        # a key and secret no text of another test holds: a registered secret is masked wherever it appears
        ax.authenticate(f"http://127.0.0.1:{port}/webapi", "k3y0nlyf0rthistest00000000000001",
                        "s3cr3t0nlyf0rthistest0000000000000001")
    text = str(raised.value)
    assert f"nothing is listening on 127.0.0.1:{port} (connection refused)" in text
    assert "is the Server running" in text and "s3cr3t0nlyf0rthistest" not in text


def test_a_name_that_does_not_resolve_and_an_unknown_cause():
    # built by hand: no name is looked up here
    wrapped = requests.ConnectionError("failed")
    wrapped.__cause__ = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert why_unreachable(wrapped, "https://gallery.corp.test/webapi/oauth2/token") == \
        "the host name gallery.corp.test does not resolve (DNS): is the address right?"
    assert why_unreachable(requests.ConnectionError("odd"), "https://x.test/") == "ConnectionError"
    refused = requests.ConnectionError(OSError("pool"))
    refused.args[0].__context__ = ConnectionRefusedError(111, "Connection refused")
    assert why_unreachable(refused, "https://gallery.corp.test/webapi").startswith(
        "nothing is listening on gallery.corp.test:443")
