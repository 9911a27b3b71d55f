"""The emulator's layers, checked from its imports: the model knows nothing of HTTP, and the emulator
imports only axframe's shared layer, never the client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

EMULATOR = Path(__file__).resolve().parents[2] / "axframe" / "emulator"
STATE = EMULATOR / "state"
SHARED = {"catalogue", "schemas", "errors", "packages"}
HTTP_SIDE = {"app", "http", "binding", "routes", "error_map", "control", "server", "wsgi", "faults", "oauth1",
             "seed", "__main__", "answers", "swagger"}


def imports(path: Path) -> list[tuple[int, str]]:
    """(level, dotted name) of every import in *path*: level 0 for absolute, 1 for ``.x``, 2 for ``..x``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [f"{base}.{a.name}" if base else a.name for a in node.names]
            found += [(node.level, name) for name in names]
    return found


@pytest.mark.parametrize("path", sorted(STATE.glob("*.py")), ids=lambda p: p.name)
def test_the_state_imports_nothing_of_the_http_side(path):
    for level, name in imports(path):
        assert level in (0, 1, 3), (path.name, level, name)  # itself, or axframe's shared layer (three dots)
        if level == 0:
            assert not name.startswith("axframe"), (path.name, name)
        if level == 3:
            assert name.split(".")[0] in SHARED, (path.name, name)


@pytest.mark.parametrize("path", sorted(STATE.glob("*.py")), ids=lambda p: p.name)
def test_no_state_method_calls_a_schema_check(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    called = {node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
              for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert not called & {"validate", "check", "problems_of"}, path.name


@pytest.mark.parametrize("path", sorted(EMULATOR.glob("*.py")), ids=lambda p: p.name)
def test_the_emulator_imports_only_the_shared_layer_of_axframe(path):
    for level, name in imports(path):
        if level == 2:  # axframe.<name>
            assert name.split(".")[0] in SHARED, (path.name, name)
        if level == 0:
            assert not name.startswith("axframe") or name.startswith("axframe.emulator"), (path.name, name)


def test_the_http_side_is_what_the_state_may_not_import():
    modules = {p.stem for p in EMULATOR.glob("*.py")} - {"__init__"}
    assert modules == HTTP_SIDE


@pytest.mark.parametrize("path", sorted(STATE.glob("*.py")), ids=lambda p: p.name)
def test_state_modules_are_small_rooms(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path.name
