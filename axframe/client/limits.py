"""Reading answers within bounds: how many bytes, and by when.

A misbehaving Server (or whatever stands in front of it) can answer without
end, or a byte at a time.  :func:`read_bounded` reads a ``stream=True``
response whole, but never more than a limit of bytes (counted after
decompression) and never past a deadline; past either it closes the answer
and raises :class:`~axframe.errors.AnswerRefused`.
"""

from __future__ import annotations

import time

import requests

from ..errors import AnswerRefused

__all__ = ["read_bounded", "BLOCK"]

BLOCK = 1 << 16


def read_bounded(response: requests.Response, limit: int, deadline: float | None = None,
                 limit_name: str = "max_answer_bytes") -> None:
    """Read the whole body of a ``stream=True`` *response* into it, within *limit* bytes and
    *deadline* seconds (both checked between blocks of 64 KiB, so a trickle is caught at the end of
    the block it is filling); else close the response and raise :class:`AnswerRefused`."""
    try:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise AnswerRefused(response.status_code, f"the Server's answer is {int(declared):,} bytes, more than "
                                                      f"{limit_name} ({limit:,})")
        begun, size, chunks = time.monotonic(), 0, []
        for chunk in response.iter_content(BLOCK):
            size += len(chunk)
            if size > limit:
                raise AnswerRefused(response.status_code, f"the Server's answer grew past {limit_name} ({limit:,})")
            if deadline is not None and time.monotonic() - begun > deadline:
                raise AnswerRefused(response.status_code, f"the Server's answer took longer than answer_deadline "
                                                          f"({deadline:g} s)")
            chunks.append(chunk)
    except BaseException:
        response.close()
        raise
    response._content = b"".join(chunks)
