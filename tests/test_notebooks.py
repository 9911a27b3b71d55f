"""The notebooks of notebooks/: committed without outputs, and each runs top to bottom against the emulator.

Each notebook is executed with nbclient in a copy of the repository's layout
(``notebooks/`` beside ``sample_data/``) in a temporary folder, so the files
it writes stay out of the work tree, with every ``AXFRAME_*`` variable taken
out of the kernel's environment so that it uses the emulator whatever the
machine has set (and ``MPLBACKEND`` too: the kernel's inline backend draws
the plots into the outputs).  Executing needs the test extras ``nbclient``, ``nbformat``
and ``ipykernel`` (and ``matplotlib`` for the plots).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = ["01_quick_start.ipynb", "02_bulk_user_onboarding.ipynb", "03_run_apps_per_row.ipynb",
            "04_migration_and_audit.ipynb", "05_server_from_a_workbook.ipynb"]


def by_name(path: Path) -> str:
    return path.stem


def test_the_notebooks_are_there():
    assert set(EXPECTED) <= {p.name for p in NOTEBOOKS}


# --------------------------------------------------------------------------
# committed without outputs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=by_name)
def test_committed_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    assert code, "a notebook without code"
    for number, cell in enumerate(nb["cells"], start=1):
        where = f"{path.name} cell {number}"
        assert "attachments" not in cell, f"{where} has attachments"
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{where} has outputs: strip them before committing"
            assert cell["execution_count"] is None, f"{where} has an execution count"
        assert not {"execution", "collapsed", "scrolled"} & set(cell.get("metadata", {})), f"{where} metadata"
    assert set(nb["metadata"]) <= {"kernelspec", "language_info"}, f"{path.name} metadata: {sorted(nb['metadata'])}"
    assert "version" not in nb["metadata"].get("language_info", {}), "the Python version of whoever saved it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=by_name)
def test_notebook_says_how_to_use_a_real_server(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    text = ["".join(cell["source"]) for cell in nb["cells"]]
    top = "\n".join(text[:4])
    for variable in ("AXFRAME_BASE_URL", "AXFRAME_CLIENT_ID", "AXFRAME_CLIENT_SECRET"):
        assert variable in top, f"{path.name} should say near the top how to use {variable}"
    assert 'USE_EMULATOR = not os.environ.get("AXFRAME_BASE_URL")' in top
    everything = "\n".join(text)
    assert "import matplotlib" in everything and "except ImportError" in everything, "matplotlib must be optional"


def setup_cell(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code" and "USE_EMULATOR =" in
             "".join(c["source"])]
    assert len(cells) == 1, path.name
    return cells[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=by_name)
def test_notebook_says_in_a_sentence_which_server_it_runs_against(path, server, monkeypatch, capsys):
    for name in list(os.environ):
        if name.startswith("AXFRAME_"):
            monkeypatch.delenv(name)
    namespace: dict = {}
    exec(setup_cell(path), namespace)  # no variables: the emulator, said so
    assert "local emulator" in capsys.readouterr().out
    for value in namespace.values():
        if hasattr(value, "stop") and type(value).__name__ == "Emulator":
            value.stop()
    monkeypatch.setenv("AXFRAME_BASE_URL", server.url)  # the emulator's export lines: a Server, said so
    monkeypatch.setenv("AXFRAME_CLIENT_ID", server.curator[0])
    monkeypatch.setenv("AXFRAME_CLIENT_SECRET", server.curator[1])
    if path.name.startswith("04_"):  # two Servers: a missing target is a sentence naming what to set
        with pytest.raises(RuntimeError, match="set AXFRAME_TARGET_BASE_URL, AXFRAME_TARGET_CLIENT_ID, "
                                               "AXFRAME_TARGET_CLIENT_SECRET, AXFRAME_DEPLOY_OWNER before"):
            exec(setup_cell(path), {})
        monkeypatch.setenv("AXFRAME_TARGET_BASE_URL", server.url)
        monkeypatch.setenv("AXFRAME_TARGET_CLIENT_ID", server.curator[0])
        monkeypatch.setenv("AXFRAME_TARGET_CLIENT_SECRET", server.curator[1])
        monkeypatch.setenv("AXFRAME_DEPLOY_OWNER", "ada.admin@example.com")
    exec(setup_cell(path), {})
    said = capsys.readouterr().out
    assert "Running against the" in said and server.url in said and "emulator" not in said.split(":")[0]


# --------------------------------------------------------------------------
# finding sample_data/
# --------------------------------------------------------------------------


def samples_cell() -> str:
    nb = json.loads((NOTEBOOK_DIR / "02_bulk_user_onboarding.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code" and "def find_samples" in
             "".join(c["source"])]
    assert len(cells) == 1
    return cells[0]


def test_sample_data_is_found_from_the_notebooks_folder(monkeypatch):
    monkeypatch.chdir(NOTEBOOK_DIR)
    namespace: dict = {}
    exec(compile(samples_cell(), "samples cell", "exec"), namespace)
    assert namespace["SAMPLES"] == ROOT / "sample_data"


def test_sample_data_is_written_when_there_is_no_checkout(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(samples_cell(), "samples cell", "exec"), namespace)
    found = namespace["SAMPLES"]
    try:
        assert found != ROOT / "sample_data" and not found.is_relative_to(tmp_path)
        assert (found / "users.xlsx").is_file() and (found / "workflows" / "Regional Sales Forecast.yxzp").is_file()
    finally:
        shutil.rmtree(found, ignore_errors=True)


# --------------------------------------------------------------------------
# running them
# --------------------------------------------------------------------------


def outputs_of(nb) -> list[dict]:
    return [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]


def text_of(output: dict) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return data.get("text/plain", "") if isinstance(data.get("text/plain", ""), str) else ""


def this_python_kernel():
    """A kernel manager for this very interpreter, whatever kernels the machine has installed."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="Python 3", language="python", resource_dir="")

    return KernelManager(kernel_name="python3", kernel_spec_manager=ThisPython())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=by_name)
def test_notebook_runs_against_the_emulator(path, tmp_path):
    nbclient = pytest.importorskip("nbclient", reason="the test extras are needed: nbclient, nbformat, ipykernel")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "sample_data", repo / "sample_data")
    (repo / "notebooks").mkdir()
    nb = nbformat.read(path, as_version=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_") and k != "MPLBACKEND"}
    env["NO_COLOR"] = "1"  # plain tracebacks in the failure report
    client = nbclient.NotebookClient(nb, timeout=120, km=this_python_kernel(),
                                     resources={"metadata": {"path": str(repo / "notebooks")}})
    client.execute(env=env)  # raises CellExecutionError, with the cell and the traceback, on any error

    outputs = outputs_of(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(text_of(o) for o in outputs)
    assert "http://127.0.0.1:" in text, "the notebook did not connect to a local emulator"
    assert "Traceback" not in text
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "the plots are skipped" in text
    else:
        pictures = [o for o in outputs if "image/png" in o.get("data", {})]
        assert pictures, f"{path.name} drew no plot"
    if path.name.startswith(("02", "03")):
        assert str(repo / "sample_data") in text, "the notebook did not find the repository's sample_data/"
    if path.name.startswith("02"):
        written = sorted(p.name for p in (repo / "notebooks" / "axframe-output" / "onboarding").glob("*.xlsx"))
        assert written == ["collection_members.xlsx", "collections.xlsx", "group_members.xlsx", "user_groups.xlsx",
                           "users.xlsx", "users_again.xlsx"]
