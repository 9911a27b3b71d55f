"""Why a Server could not be reached, in a sentence: nothing listening, a name that does not resolve, no answer.

``requests`` wraps the socket's error several layers deep (``ConnectionError`` around urllib3's
``MaxRetryError`` around ``NewConnectionError`` around ``ConnectionRefusedError``); a person wants the host,
the port and what to check.
"""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit

__all__ = ["why_unreachable"]


def why_unreachable(exc: BaseException, url: str) -> str:
    """What went wrong reaching *url*, naming its host and port; ``type(exc).__name__`` when nothing better is known."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = f"{host}:{port}"
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return (f"nothing is listening on {where} (connection refused): is the Server running, and are the "
                    "host and port of the address right?")
        if isinstance(cause, socket.gaierror):
            return f"the host name {host} does not resolve (DNS): is the address right?"
        if isinstance(cause, (TimeoutError, socket.timeout)) or "ConnectTimeout" in type(cause).__name__:
            return (f"no connection to {where} within the connect timeout: is the address right, and does a "
                    "firewall let it through?")
    return type(exc).__name__


def _causes(exc: BaseException, limit: int = 12) -> list[BaseException]:
    """*exc* and what it wraps: ``__cause__``/``__context__``, urllib3's ``reason`` and the exception's args."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < limit:
        current = todo.pop(0)
        if any(current is s for s in seen):
            continue
        seen.append(current)
        for nxt in (current.__cause__, current.__context__, getattr(current, "reason", None),
                    *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return seen
