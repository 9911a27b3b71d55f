"""Every code block of the README and of docs/ runs as written, against the emulator.

The rules, so that a new block cannot slip through:

- A ``python`` block runs in one namespace with the blocks before it in the same file (a reader goes top to
  bottom), in a folder of its own holding a copy of ``sample_data/``.
- The ``bash`` blocks of a file run, in order, as one shell script in another such folder, against an
  emulator of the default seed that this test starts (every ``127.0.0.1:8080`` in them is that emulator's
  address: the README's tour shows the default port).  Each command must exit as documented: 0, or the code
  its comment gives (``# exit 1``).
- A block that cannot run here says why in a ``<!-- not run: REASON -->`` line just above it (installs,
  the whole suite, a Windows prompt...), or in a ``<!-- designer-cell: NAME -->`` line, which
  ``tests/designer/test_guide.py`` runs; ``docs/migration.md`` is run whole by ``tests/admin/test_docs.py``.
- Blocks of other kinds (``text``, ``json``) are shown, not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

BLOCK = re.compile(r"(?:<!-- (?P<marker>not run: [^>]*|designer-cell: [\w-]+) -->\n[ \t]*)?```(?P<lang>\w*)[^\n]*\n"
                   r"(?P<code>.*?)```", re.S)
RUN = {"python", "bash"}
SHOWN = {"text", "json"}
ELSEWHERE = {"docs/migration.md": "tests/admin/test_docs.py"}
DOCS = sorted({"README.md", "sample_data/README.md",
               *(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))} - set(ELSEWHERE))
EXIT = re.compile(r"#\s*exit (\d+)")


def blocks(doc: str) -> list[tuple[str, str, str | None]]:
    """(language, code, marker) of every fenced block of *doc*."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    return [(m["lang"], m["code"], m["marker"]) for m in BLOCK.finditer(text)]


def to_run(doc: str, lang: str) -> list[str]:
    return [code for kind, code, marker in blocks(doc) if kind == lang and marker is None]


@pytest.mark.parametrize("doc", DOCS + sorted(ELSEWHERE))
def test_every_block_is_run_or_says_why_not(doc):
    found = blocks(doc)
    assert found or doc == "sample_data/README.md", f"{doc} has no code blocks: is the pattern still right?"
    for lang, code, marker in found:
        where = f"{doc}: the {lang or 'plain'} block starting {code[:60]!r}"
        assert lang in RUN | SHOWN | {"bat"}, f"{where}: a kind of block this test does not know"
        if lang == "bat":
            assert marker, f"{where}: a Windows prompt's block needs a '<!-- not run: ... -->' line"
        if marker and marker.startswith("not run:"):
            assert len(marker) > len("not run: ") + 10, f"{where}: say why it is not run"


@pytest.mark.parametrize("doc", [d for d in DOCS if to_run(d, "python")])
def test_the_python_blocks_run(doc, tmp_path, monkeypatch, capsys):
    from axframe.emulator import Emulator

    _folder(tmp_path, doc)
    monkeypatch.chdir(tmp_path / ("sample_data" if doc.startswith("sample_data/") else ""))
    for name in list(os.environ):
        if name.startswith("AXFRAME_"):
            monkeypatch.delenv(name)
    namespace: dict = {"__name__": "docs"}
    try:
        for number, code in enumerate(to_run(doc, "python"), start=1):
            exec(compile(code, f"{doc} python block {number}", "exec"), namespace)
    finally:
        for value in list(namespace.values()):
            if isinstance(value, Emulator):
                value.stop()
        for value in list(namespace.values()):
            close = getattr(value, "close", None)
            if type(value).__name__ == "Connection" and callable(close):
                close()


@pytest.mark.parametrize("doc", [d for d in DOCS if to_run(d, "bash")])
def test_the_shell_blocks_run_with_their_documented_exit_codes(doc, tmp_path):
    from axframe.emulator import Emulator

    _folder(tmp_path, doc)
    with Emulator() as server:
        port = server.url.split(":")[2].split("/")[0]
        script = ["set -u"]
        for number, code in enumerate(to_run(doc, "bash"), start=1):
            for command in _commands(code.replace("127.0.0.1:8080", f"127.0.0.1:{port}")):
                expected = int(EXIT.search(command)[1]) if EXIT.search(command) else 0
                script += [command, "rc=$?",
                           f"if [ $rc -ne {expected} ]; then echo {_quote(f'{doc} block {number}: {command}')} "
                           f"\"exited $rc, documented {expected}\" >&2; exit 99; fi"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
        # as if the reader had pasted the emulator's export lines (the README shows them, and runs them too)
        env.update(AXFRAME_BASE_URL=server.url, AXFRAME_CLIENT_ID=server.curator[0],
                   AXFRAME_CLIENT_SECRET=server.curator[1])
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the axframe command
        cwd = tmp_path / ("sample_data" if doc.startswith("sample_data/") else "")
        done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]


def _folder(tmp_path: Path, doc: str) -> None:
    """A reader's folder: the sample files where the docs say they are."""
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")


def _commands(code: str) -> list[str]:
    """The commands of a shell block, one per line (a line ending in a backslash goes on), comments kept."""
    commands: list[str] = []
    pending = ""
    for line in code.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pending += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            commands.append(pending)
            pending = ""
    return commands


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
