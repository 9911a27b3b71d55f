"""The ``designer`` fixture: the stand-in ``ayx`` on ``sys.path`` for one test, gone afterwards."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

STANDIN = Path(__file__).resolve().parent / "standin"


def _forget_ayx() -> None:
    for name in [m for m in sys.modules if m == "ayx" or m.startswith("ayx.")]:
        del sys.modules[name]


@pytest.fixture
def designer(monkeypatch):
    """The stand-in ``ayx`` package, imported as Designer's Python tool has it (``"ayx" in sys.modules``)."""
    _forget_ayx()
    monkeypatch.syspath_prepend(str(STANDIN))
    ayx = importlib.import_module("ayx")
    assert Path(ayx.__file__).resolve().parent.parent == STANDIN, "another ayx module shadows the stand-in"
    ayx.Alteryx.reset()
    try:
        yield ayx
    finally:
        ayx.Alteryx.reset()
        _forget_ayx()
