"""Derive axframe's schema data from the Server's V3 Swagger.

Reads ``../shared/alteryx-api/swagger-v3.json`` (or the path given) and writes
``axframe/schemas/v3.json``: for every operation its method, path, parameters,
body, form fields, response schemas and whether it is curator-only; for every
definition its properties, types, formats, enums, length limits and required
fields.  The Swagger's prose (descriptions, summaries, titles, examples) is
deliberately left out: only facts that a machine can check are carried over.

Run from the repository root::

    python tools/derive_schemas.py [path/to/swagger-v3.json]

A test re-runs the derivation and checks the committed file is up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "alteryx-api" / "swagger-v3.json"
TARGET = ROOT / "axframe" / "schemas" / "v3.json"

# Keys of a schema object that carry facts.  Everything else (description,
# title, example, x-*) is dropped.
SCHEMA_KEYS = (
    "type", "format", "enum", "items", "$ref", "properties", "required",
    "additionalProperties", "minLength", "maxLength", "minimum", "maximum",
)
PARAM_KEYS = ("name", "in", "required", "type", "format", "enum", "items")
CURATOR_MARK = "Only Curators can use"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def clean_schema(schema: dict) -> dict:
    """Return *schema* with only factual keys, ``$ref`` shortened to a name."""
    out: dict = {}
    for key in SCHEMA_KEYS:
        if key not in schema:
            continue
        value = schema[key]
        if key == "$ref":
            out[key] = _ref_name(value)
        elif key == "items" or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = clean_schema(value)
        elif key == "properties":
            out[key] = {name: clean_schema(prop) for name, prop in value.items()}
        else:
            out[key] = value
    return out


def derive(swagger: dict) -> dict:
    operations = {}
    for path, methods in swagger["paths"].items():
        for method, op in methods.items():
            params, body, form = [], None, []
            for p in op.get("parameters", []):
                if p["in"] == "body":
                    body = {"name": p["name"], "required": bool(p.get("required")),
                            "schema": clean_schema(p["schema"])}
                elif p["in"] == "formData":
                    form.append({k: p[k] for k in PARAM_KEYS if k in p and k != "in"})
                else:
                    params.append({k: (clean_schema(p[k]) if k == "items" else p[k])
                                   for k in PARAM_KEYS if k in p})
            consumes = op.get("consumes") or []
            produces = op.get("produces") or []
            text = " ".join(filter(None, [op.get("description"), op.get("summary")]))
            operations[op["operationId"]] = {
                "method": method.upper(),
                "path": path,
                "tag": (op.get("tags") or [""])[0],
                "params": params,
                "body": body,
                "form": form,
                "multipart": any("form-data" in c for c in consumes),
                "binary": produces == ["application/octet-stream"],
                "responses": {
                    code: (clean_schema(r["schema"]) if r.get("schema") else None)
                    for code, r in sorted(op["responses"].items())
                },
                "curatorOnly": CURATOR_MARK in text,
            }
    definitions = {name: clean_schema(d) for name, d in swagger["definitions"].items()}
    return {
        "source": "swagger-v3.json (Alteryx Server API V3), derived by tools/derive_schemas.py",
        "basePath": swagger.get("basePath", "/webapi/"),
        "operations": dict(sorted(operations.items())),
        "definitions": dict(sorted(definitions.items())),
    }


def render(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if not source.is_file():
        print(f"no Swagger at {source}: give its path (python tools/derive_schemas.py PATH), or put the "
              "shared folder beside this repository (../shared/alteryx-api/swagger-v3.json)", file=sys.stderr)
        return 2
    swagger = json.loads(source.read_text(encoding="utf-8"))
    TARGET.write_text(render(derive(swagger)), encoding="utf-8")
    data = json.loads(TARGET.read_text(encoding="utf-8"))
    print(f"wrote {TARGET.relative_to(ROOT)}: {len(data['operations'])} operations, "
          f"{len(data['definitions'])} definitions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
