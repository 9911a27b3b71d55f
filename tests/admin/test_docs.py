"""The code of docs/migration.md runs as it is, block after block, against its own two emulators."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "migration.md"


def test_the_migration_guide_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "migration_guide"}
    try:
        for number, block in enumerate(blocks, start=1):
            exec(compile(block, f"{DOC.name} block {number}", "exec"), namespace)
    finally:
        for name in ("source", "target"):
            server = namespace.get(name)
            if server is not None:
                server.stop()
    printed = capsys.readouterr().out
    assert "NotMigratable" in printed and "new version" in printed
