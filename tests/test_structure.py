"""The import rules of ``../shared/DESIGN.md``, checked on the code itself (python-gitlab keeps such meta-tests).

``cli`` -> ``sync``, ``admin``, ``jobs``, ``macros`` -> ``engine`` -> ``frames`` -> ``client`` -> ``catalogue``,
``schemas``, ``errors``.  ``io`` imports only ``errors``.  The emulator imports the shared layer (``catalogue``,
``schemas``, ``merge``, ``errors``, ``packages``) and nothing of the client or the engine; ``emulator/state``
imports nothing of ``emulator/app.py``.  Every import counts, those inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "axframe"
SHARED = {"errors", "schemas", "merge", "catalogue", "packages"}

# room -> the rooms it may import (besides itself); a room is a top-level module or package of axframe
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "schemas": set(),
    "merge": {"schemas"},
    "packages": {"errors"},
    "catalogue": {"schemas", "errors", "merge"},
    "client": {"catalogue", "schemas", "errors"},
    "frames": {"client"} | SHARED,
    "names": {"frames", "client"} | SHARED,
    "engine": {"frames", "client"} | SHARED,
    "macros": {"engine", "names", "frames", "client"} | SHARED,
    "jobs": {"macros", "engine", "names", "frames", "client"} | SHARED,
    "admin": {"macros", "engine", "names", "frames", "client"} | SHARED,
    "sync": {"admin", "jobs", "macros", "engine", "names", "frames", "client", "io"} | SHARED,
    "io": {"errors"},
    "emulator": SHARED,
    "samples": {"packages", "io", "emulator"},
    "demo": {"__init__", "emulator", "io", "jobs", "samples", "macros", "engine"},
    "cli": {"sync", "admin", "jobs", "macros", "engine", "names", "frames", "client", "io", "demo", "emulator",
            "__init__"}
           | SHARED,
    "__init__": {"admin", "jobs", "macros", "engine", "names", "frames", "client", "io", "sync"} | SHARED,
    "__main__": {"cli"},
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _dotted(path: Path, root: Path = ROOT) -> list[str]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path, root: Path = ROOT) -> list[tuple[int, list[str]]]:
    """The axframe modules *path* imports, as dotted parts, with their line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _dotted(path, root)
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")) for alias in node.names if alias.name.startswith("axframe")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.startswith("axframe"):
                target = node.module.split(".")
            else:
                continue
            if not node.module:  # from . import a, b: each name is a module of the package
                found += [(node.lineno, target + [alias.name]) for alias in node.names]
            else:
                found.append((node.lineno, target))
    return found


def _room(parts: list[str]) -> str:
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_room_has_rules():
    rooms = {_room(_dotted(p)) if len(_dotted(p)) > 1 else "__init__" for p in _modules()}
    assert rooms <= set(ALLOWED), f"rooms without import rules: {sorted(rooms - set(ALLOWED))}"


def violations(path: Path, root: Path = ROOT) -> tuple[str, list[str]]:
    """The room of *path* and the imports it makes that the rules forbid."""
    dotted = _dotted(path, root)
    room = _room(dotted) if len(dotted) > 1 else "__init__"
    wrong = []
    for line, target in _imports(path, root):
        if len(target) < 2:
            target = target + ["__init__"]
        other = target[1]
        if other == room:
            continue
        if other == "__version__":  # from . import __version__
            continue
        if other not in ALLOWED.get(room, set()):
            wrong.append(f"line {line}: {'.'.join(target)}")
    return room, wrong


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_rules(path):
    room, wrong = violations(path)
    assert not wrong, f"{room} may import {sorted(ALLOWED.get(room, set()))}, but imports " + "; ".join(wrong)


def test_the_emulator_state_knows_nothing_of_the_routes():
    for path in (PACKAGE / "emulator" / "state").rglob("*.py"):
        for line, target in _imports(path):
            assert target[:3] != ["axframe", "emulator", "app"], f"{path.name}:{line} imports the route layer"
            assert target[:3] != ["axframe", "emulator", "server"], f"{path.name}:{line} imports the server"


def test_the_rules_can_fail(tmp_path):
    """The checker sees forbidden imports of every spelling (a meta-test that cannot silently pass)."""
    client = tmp_path / "axframe" / "client"
    client.mkdir(parents=True)
    (client / "bad.py").write_text("from ..engine import rows\nfrom axframe.jobs.run import run_jobs\n"
                                   "def f():\n    from .. import admin\n    import axframe.sync.plan\n"
                                   "from . import call\nfrom ..errors import ErrorType\n")
    room, wrong = violations(client / "bad.py", tmp_path)
    assert room == "client"
    assert [w.split(": ")[1] for w in wrong] == ["axframe.engine", "axframe.jobs.run", "axframe.admin",
                                                 "axframe.sync.plan"]
