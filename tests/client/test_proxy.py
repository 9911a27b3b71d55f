"""Proxies from the environment: used, bypassed by NO_PROXY, named (never with their password) when they fail."""

from __future__ import annotations

import socket

import pandas as pd
import pytest

import axframe as ax


@pytest.fixture
def conn(socket_conn):
    """Over a real loopback socket: this module is about the transport and faults on the wire."""
    return socket_conn



def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dead_proxy(monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    port = closed_port()
    monkeypatch.setenv("HTTP_PROXY", f"http://proxyuser:proxy-pa55word@127.0.0.1:{port}")
    monkeypatch.setenv("http_proxy", f"http://proxyuser:proxy-pa55word@127.0.0.1:{port}")
    return port


def test_a_dead_proxy_from_the_environment_is_named_without_its_password(server, dead_proxy):
    before = server.stats()["requests"]
    with pytest.raises(ax.ServerUnreachable) as caught:
        ax.authenticate(server.url, *server.curator)
    text = str(caught.value)
    assert f"through the proxy http://127.0.0.1:{dead_proxy}" in text and "NO_PROXY" in text
    assert "pa55word" not in text and "proxyuser" not in text and "pa55word" not in repr(caught.value)
    assert server.stats()["requests"] == before  # nothing reached the Server


def test_no_proxy_sends_the_server_direct(server, dead_proxy, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    conn = ax.authenticate(server.url, *server.curator)
    ok, failed = ax.get(conn, "workflows.list", ax.add_record_id(pd.DataFrame({"x": [1]})))
    assert failed.empty and len(ok) == 1


def test_a_proxy_the_session_does_not_name_is_called_a_proxy_never_none(monkeypatch):
    import requests

    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)  # a proxy only the environment names is named from it

    from axframe.errors import proxy_note

    failed = requests.exceptions.ProxyError("the proxy refused")
    for proxies in ({}, {"https": "http://proxyuser:proxy-pa55word@127.0.0.1:99999"}, {"https": "http://"}):
        note = proxy_note(failed, proxies, "https://127.0.0.1:8443/webapi/")
        assert note.startswith(" through a proxy (from the environment"), note
        assert "None" not in note and "pa55word" not in note and "proxyuser" not in note
    named = proxy_note(failed, {"all": "proxy.internal:3128"}, "https://127.0.0.1:8443/webapi/")
    assert named.startswith(" through the proxy http://proxy.internal:3128 ("), named
    assert proxy_note(requests.ConnectionError("refused"), {"https": "http://p:1"}, "https://h/") == ""
