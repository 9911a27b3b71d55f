"""Fuzz the emulator with schemathesis over the Server's own V3 Swagger, and count what it finds.

Run from the repository root (schemathesis installed: ``pip install schemathesis``)::

    python tools/fuzz_emulator.py [--max-examples 25] [--seed 1] [--raw] [--report-dir DIR]

It starts an emulator on a free loopback port (the default seed), takes a
Curator's token, and runs ``schemathesis run`` against it with the checks
``not_a_server_error``, ``status_code_conformance``,
``content_type_conformance`` and ``response_schema_conformance``, every
phase, a bounded number of examples per operation and a fixed seed.  The
token reaches schemathesis through an environment variable and a config
file, never a command line; schemathesis filters it out of its output.

The document tested is the Swagger with the emulator's four documented
deviations applied (``docs/emulator.md``, "list operations declared as one
object" and ``GET /v3/users``): three operations answer a list of their
declared schema, and ``GET /v3/users`` answers ``ReducedUserView`` items
unless ``view=Full``.  ``--raw`` tests the Swagger as it is; its schema
findings are then exactly those four operations.

The figures printed: requests the emulator answered, test cases, operations,
answers by status, and failures by check, operation and status.  Undocumented
400 and 415 answers are allowed (``docs/emulator.md`` says why); the exit
status is 0 when nothing else was found: no 5xx, no schema violation, no
wrong Content-Type, no other undocumented status.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_SWAGGER = ROOT.parent / "shared" / "alteryx-api" / "swagger-v3.json"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# The emulator's documented deviations from the Swagger's annotations (docs/emulator.md).
LIST_OF_DECLARED = ("DCMEAdmin_GetAllConnectionsAdmin", "DCMEAdmin_GetAllDCMEConnectionHandlingRules",
                    "Jobs_GetJobMessages")
REDUCED_BY_DEFAULT = {"Users_GetUsers": ("UserView", "ReducedUserView")}
# Undocumented statuses the emulator answers on purpose (docs/emulator.md): a query value or body the
# Server refuses on an operation that declares no 400; a media type it does not read.
ALLOWED_STATUSES = {400, 415}


def with_deviations(swagger: dict) -> dict:
    """The Swagger with the emulator's documented deviations written into it."""
    out = copy.deepcopy(swagger)
    for methods in out["paths"].values():
        for op in methods.values():
            answer = op["responses"].get("200", {})
            if op["operationId"] in LIST_OF_DECLARED and "schema" in answer:
                answer["schema"] = {"type": "array", "items": answer["schema"]}
            if op["operationId"] in REDUCED_BY_DEFAULT:
                full, reduced = REDUCED_BY_DEFAULT[op["operationId"]]
                item = {"anyOf": [{"$ref": f"#/definitions/{full}"}, {"$ref": f"#/definitions/{reduced}"}]}
                answer["schema"] = {"type": "array", "items": item}
    return out


def summarise(ndjson: Path) -> dict[str, Any]:
    """Test cases, answers by status and failures by (check, operation, status) from a schemathesis NDJSON report."""
    statuses: Counter[int] = Counter()
    failures: Counter[tuple[str, str, int]] = Counter()
    operations: set[str] = set()
    for line in ndjson.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            interaction = recorder.get("interactions", {}).get(case_id) or {}
            status = (interaction.get("response") or {}).get("status_code", 0)
            statuses[status] += 1
            for check in checks:
                if check["status"] == "failure":
                    operation = check["failure_info"]["failure"].get("operation") or recorder["label"]
                    failures[(check["name"], operation, status)] += 1
                    operations.add(operation)
            if recorder["label"] != "Stateful tests":
                operations.add(recorder["label"])
    return {"cases": sum(statuses.values()), "statuses": dict(sorted(statuses.items())),
            "failures": failures, "operations": len(operations)}


def verdict(summary: dict[str, Any]) -> dict[str, int]:
    """The counts that decide the run: 5xx, schema violations, Content-Type findings, other statuses."""
    failures = summary["failures"]

    def count(check: str, allowed: bool | None = None) -> int:
        return sum(n for (name, _, status), n in failures.items() if name == check
                   and (allowed is None or (status in ALLOWED_STATUSES) == allowed))

    server_errors = sum(n for status, n in summary["statuses"].items() if status >= 500)
    return {"5xx": max(server_errors, count("not_a_server_error")),
            "schema_violations": count("response_schema_conformance"),
            "content_type": count("content_type_conformance"),
            "undocumented_400_415": count("status_code_conformance", True),
            "undocumented_other": count("status_code_conformance", False)}


def run(max_examples: int = 25, seed: int = 1, raw: bool = False, swagger: Path = DEFAULT_SWAGGER,
        report_dir: Path | None = None, quiet: bool = False) -> dict[str, Any]:
    """Fuzz one fresh emulator; answer the figures (see the module docstring)."""
    import requests

    from axframe.emulator import Emulator

    document = json.loads(swagger.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as scratch, Emulator(token_lifetime=10**7) as emulator:
        folder = Path(report_dir or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        tested = Path(scratch) / "swagger.json"
        tested.write_text(json.dumps(document if raw else with_deviations(document)), encoding="utf-8")
        config = Path(scratch) / "schemathesis.toml"
        config.write_text('headers = { Authorization = "Bearer ${AXFRAME_FUZZ_TOKEN}" }\n', encoding="utf-8")
        key, secret = emulator.curator
        token = requests.post(f"{emulator.url}/oauth2/token", timeout=30, data={
            "grant_type": "client_credentials", "client_id": key, "client_secret": secret}).json()["access_token"]
        before = emulator.stats()["requests"]
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", str(tested),
                   "--url", emulator.url, "--checks", CHECKS, "--max-examples", str(max_examples), "--seed",
                   str(seed), "--report", "ndjson", "--report-ndjson-path", str(folder / "fuzz.ndjson"),
                   "--no-color", "--workers", "1"]
        done = subprocess.run(command, env=dict(os.environ, AXFRAME_FUZZ_TOKEN=token), capture_output=True,
                              text=True, cwd=scratch)
        if not quiet:
            print(done.stdout[-4000:], file=sys.stderr)
        requests_answered = emulator.stats()["requests"] - before
        summary = summarise(folder / "fuzz.ndjson")
    figures = {"requests": requests_answered, "cases": summary["cases"], "operations": summary["operations"],
               "statuses": summary["statuses"], **verdict(summary),
               "failures": [{"check": c, "operation": o, "status": s, "count": n}
                            for (c, o, s), n in sorted(summary["failures"].items())],
               "command": " ".join(["python", "tools/fuzz_emulator.py", "--max-examples", str(max_examples),
                                    "--seed", str(seed)] + (["--raw"] if raw else []))}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=25, help="examples per operation and phase (25)")
    parser.add_argument("--seed", type=int, default=1, help="schemathesis' random seed (1)")
    parser.add_argument("--raw", action="store_true", help="test the Swagger without the documented deviations")
    parser.add_argument("--swagger", type=Path, default=DEFAULT_SWAGGER, help="the Swagger to test against")
    parser.add_argument("--report-dir", type=Path, default=None, help="keep schemathesis' NDJSON report here")
    args = parser.parse_args(argv)
    figures = run(args.max_examples, args.seed, args.raw, args.swagger, args.report_dir)
    print(json.dumps({k: v for k, v in figures.items() if k != "failures"}, indent=1))
    for failure in figures["failures"]:
        print(f"  {failure['count']:4d}  {failure['check']:28s} {failure['status']}  {failure['operation']}")
    bad = figures["5xx"] + figures["schema_violations"] + figures["content_type"] + figures["undocumented_other"]
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
