"""docs/reliability.md names only tests that exist, and names every test of this suite."""

from __future__ import annotations

import re

from ..conftest import ROOT

DOC = ROOT / "docs" / "reliability.md"


def _defined(path) -> set[str]:
    return set(re.findall(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), flags=re.M))


def test_every_test_the_guide_names_exists():
    text = DOC.read_text(encoding="utf-8")
    references = re.findall(r"(tests/[\w/]+\.py)::(test_\w+)", text)
    assert len(references) >= 40
    for path, name in references:
        assert name in _defined(ROOT / path), f"{path}::{name} is named in {DOC.name} but does not exist"
    everywhere = set().union(*(_defined(p) for p in (ROOT / "tests").rglob("test_*.py")))
    bare = set(re.findall(r"`(test_\w+)`", text))
    assert bare <= everywhere, bare - everywhere


def test_every_reliability_test_is_in_the_guide():
    text = DOC.read_text(encoding="utf-8")
    for path in sorted((ROOT / "tests" / "reliability").glob("test_*.py")):
        if path.name == "test_docs.py":
            continue
        for name in _defined(path):
            assert name in text, f"{path.name}::{name} is not in {DOC.name}"
