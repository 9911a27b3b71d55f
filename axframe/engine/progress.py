"""One progress display for every run: a bar, plain lines, or nothing.

A ``tqdm`` bar at a terminal or in a notebook; plain lines in Designer's
Python tool (whose output window shows no bar); nothing otherwise (CI logs,
scheduled tasks), unless asked for.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from .shape import Summary, rows_text

__all__ = ["Progress", "interactive"]


def _tqdm() -> Any:
    """tqdm's notebook bar when Jupyter widgets are there, its text bar otherwise (no widget warning)."""
    if "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


def _in_designer() -> bool:
    return "ayx" in sys.modules


def interactive() -> bool:
    """Whether a person is watching: a terminal or a notebook, and not Designer's Python tool."""
    if _in_designer():
        return False
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A tqdm bar at a terminal or in a notebook; plain lines in Designer's Python tool; else nothing.

    *total* is the number of rows to send; *rows*, when larger, the number in
    the frame (the others were refused before sending or taken from a journal).
    """

    def __init__(self, total: int, label: str, show: bool | None, rows: int | None = None):
        self.plain = _in_designer() and show is not False
        self.bar = None
        if show is None:
            show = interactive()
        if show and not self.plain and total:
            self.bar = _tqdm()(total=total, desc=label, unit="row", leave=True)
        self.label = label
        if self.plain:
            held = (rows or total) - total
            extra = f" ({rows_text(held)} not to send: refused before sending or already done)" if held > 0 else ""
            print(f"axframe: {label}: sending {total} of {rows_text(rows or total)}{extra}", flush=True)

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self, summary: Summary) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.plain:
            print(f"axframe: {summary}", flush=True)
