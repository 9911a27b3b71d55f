"""Schemathesis over the Server's Swagger against the emulator: no 5xx, no schema violation, nothing undocumented
but the 400s and 415s docs/emulator.md explains.  ``python tools/fuzz_emulator.py`` runs the same with more examples."""

from __future__ import annotations

import importlib.util

import pytest

from ..conftest import ROOT, SWAGGER

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not SWAGGER.exists(), reason="../shared/alteryx-api/swagger-v3.json is missing")]


def _fuzzer():
    spec = importlib.util.spec_from_file_location("fuzz_emulator", ROOT / "tools" / "fuzz_emulator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schemathesis_finds_nothing_but_documented_statuses(tmp_path, monkeypatch):
    pytest.importorskip("schemathesis", reason="schemathesis is in the test extra: pip install -e '.[test]'")
    # The Swagger's tidy answers are what is checked here: realistic answers carry nulls the Swagger's types do
    # not allow, as real Servers do (tests/emulator/test_evidence.py pins those).
    import functools

    import axframe.emulator

    monkeypatch.setattr(axframe.emulator, "Emulator", functools.partial(axframe.emulator.Emulator, realistic=False))
    figures = _fuzzer().run(max_examples=1, seed=1, swagger=SWAGGER, report_dir=tmp_path, quiet=True)
    assert figures["operations"] == 97 and figures["requests"] >= 1000, figures
    found = {k: figures[k] for k in ("5xx", "schema_violations", "content_type", "undocumented_other")}
    assert found == {"5xx": 0, "schema_violations": 0, "content_type": 0, "undocumented_other": 0}, \
        [f for f in figures["failures"] if f["status"] not in (400, 415)]


def test_the_documented_deviations_are_exactly_what_the_raw_swagger_flags():
    fuzz = _fuzzer()
    import json

    raw = json.loads(SWAGGER.read_text(encoding="utf-8"))
    patched = fuzz.with_deviations(raw)
    changed = {op["operationId"] for path, methods in patched["paths"].items() for method, op in methods.items()
               if op != raw["paths"][path][method]}
    assert changed == set(fuzz.LIST_OF_DECLARED) | set(fuzz.REDUCED_BY_DEFAULT)
