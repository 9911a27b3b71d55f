"""Derive an older Server's V3 surface from the generated client in the ``mcp-server-alteryx`` 0.2.22 wheel.

That wheel carries ``server_client``, a swagger-codegen Python client made from an older V3 Swagger of the
Server.  This script reads its generated operation modules (``server_client/api/*.py``) and models
(``server_client/models/*.py``) with :mod:`ast` -- never importing or running them -- and keeps names and
types only: each operation's method and path, each model's JSON field names, their codegen types and which
ones the model requires.  No docstring, description or other prose is read or written.

It sets that surface beside ours (``../shared/alteryx-api/swagger-v3.json``) and writes
``axframe/emulator/versions.json``: the older operation set (as our operationIds), the older fields of
every definition, and what the older surface lacks.  The file is checked in, so nothing downloads at test
time; ``tests/emulator/test_versions.py`` checks it against the facts of the issue.

Usage::

    pip download mcp-server-alteryx==0.2.22 --no-deps -d /tmp/mcp
    python tools/derive_versions.py /tmp/mcp/mcp_server_alteryx-0.2.22-py3-none-any.whl

``--check`` compares with the checked-in file instead of writing it (exit status 1 when they differ).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SWAGGER = ROOT.parent / "shared" / "alteryx-api" / "swagger-v3.json"
OUTPUT = ROOT / "axframe" / "emulator" / "versions.json"
PACKAGE = "server_client"
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
REQUIRED_TEXT = "must not be `None`"  # the codegen's check in a required field's setter (a fixed template)


# --------------------------------------------------------------------------
# Reading the generated client (ast only)
# --------------------------------------------------------------------------


def _modules(wheel: Path, folder: str) -> dict[str, ast.Module]:
    """The parsed modules under ``server_client/<folder>/`` of the wheel, by file name."""
    out: dict[str, ast.Module] = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            parts = name.split("/")
            if len(parts) >= 3 and parts[-3] == PACKAGE and parts[-2] == folder and parts[-1].endswith(".py") \
                    and parts[-1] != "__init__.py":
                out[parts[-1]] = ast.parse(archive.read(name).decode("utf-8"), filename=name)
    if not out:
        raise SystemExit(f"{wheel}: no {PACKAGE}/{folder}/ modules found")
    return out


def operations_of(modules: dict[str, ast.Module]) -> list[tuple[str, str]]:
    """``(METHOD, path)`` of every ``call_api(path, method, ...)`` in the operation modules."""
    found: set[tuple[str, str]] = set()
    for tree in modules.values():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "call_api" and len(node.args) >= 2):
                continue
            path, method = node.args[0], node.args[1]
            if isinstance(path, ast.Constant) and isinstance(method, ast.Constant) \
                    and isinstance(path.value, str) and str(method.value).upper() in METHODS:
                found.add((str(method.value).upper(), path.value))
    return sorted(found, key=lambda op: (op[1], op[0]))


def _dict_literal(node: ast.AST) -> dict[str, str]:
    if not isinstance(node, ast.Dict):
        return {}
    return {k.value: v.value for k, v in zip(node.keys, node.values)
            if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)}


def _requires(setter: ast.FunctionDef) -> bool:
    """Whether a property setter refuses ``None`` (the codegen's mark of a required field)."""
    for node in ast.walk(setter):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for const in ast.walk(node.exc):
                if isinstance(const, ast.Constant) and isinstance(const.value, str) and REQUIRED_TEXT in const.value:
                    return True
    return False


def models_of(modules: dict[str, ast.Module]) -> dict[str, dict[str, Any]]:
    """Class name -> ``{"fields": {json name: codegen type}, "required": [json names]}``."""
    out: dict[str, dict[str, Any]] = {}
    for tree in modules.values():
        for cls in tree.body:
            if not isinstance(cls, ast.ClassDef):
                continue
            types: dict[str, str] = {}
            names: dict[str, str] = {}
            setters: dict[str, ast.FunctionDef] = {}
            for item in cls.body:
                if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                    if item.targets[0].id == "swagger_types":
                        types = _dict_literal(item.value)
                    elif item.targets[0].id == "attribute_map":
                        names = _dict_literal(item.value)
                elif isinstance(item, ast.FunctionDef) and any(
                        isinstance(d, ast.Attribute) and d.attr == "setter" for d in item.decorator_list):
                    setters[item.name] = item
            if not names:
                continue
            out[cls.name] = {
                "fields": {names[attr]: types.get(attr, "") for attr in names},
                "required": sorted(names[attr] for attr in names if attr in setters and _requires(setters[attr])),
            }
    return out


# --------------------------------------------------------------------------
# Setting it beside our Swagger
# --------------------------------------------------------------------------


def _norm_path(path: str) -> str:
    """A path with its parameter names erased (the older client names some DCM parameters differently)."""
    return re.sub(r"{[^}]*}", "{}", path).rstrip("/").lower()


def _norm_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _codegen_type(prop: dict) -> str:
    """The type swagger-codegen (Python) writes for one of our Swagger's properties."""
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    kind = prop.get("type")
    if kind == "array":
        return f"list[{_codegen_type(prop.get('items', {}))}]"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"dict(str, {_codegen_type(prop['additionalProperties']) or 'object'})"
    if kind == "string":
        return "datetime" if prop.get("format") == "date-time" else "str"
    return {"integer": "int", "boolean": "bool", "number": "float", "object": "object"}.get(kind or "", "object")


def _same_type(ours: str, theirs: str) -> bool:
    return _norm_name(ours) == _norm_name(theirs)


def derive(wheel: Path, swagger: dict) -> dict[str, Any]:
    """The older surface as data (see the module docstring)."""
    ours: dict[tuple[str, str], str] = {}
    for path, item in swagger["paths"].items():
        for method, op in item.items():
            if method.upper() in METHODS:
                ours[(method.upper(), _norm_path(path))] = op["operationId"]
    older_ops = operations_of(_modules(wheel, "api"))
    v3_ops = [op for op in older_ops if op[1].lower().startswith("/v3/")]
    matched = sorted({ours[(m, _norm_path(p))] for m, p in v3_ops if (m, _norm_path(p)) in ours})
    unmatched = [f"{m} {p}" for m, p in v3_ops if (m, _norm_path(p)) not in ours]
    by_id = {op_id: key for key, op_id in ours.items()}
    path_of = {op["operationId"]: (method.upper(), path) for path, item in swagger["paths"].items()
               for method, op in item.items() if method.upper() in METHODS}
    lacking_ops = sorted(set(by_id) - set(matched), key=lambda i: (path_of[i][1], path_of[i][0]))

    models = models_of(_modules(wheel, "models"))
    by_norm = {_norm_name(name): name for name in swagger["definitions"]}
    definitions: dict[str, dict[str, Any]] = {}
    lacking_fields: dict[str, list[str]] = {}
    extra_fields: dict[str, list[str]] = {}
    type_differences: dict[str, dict[str, list[str]]] = {}
    unmatched_models = []
    for cls, model in sorted(models.items()):
        name = by_norm.get(_norm_name(cls))
        if name is None:
            unmatched_models.append(cls)
            continue
        props = swagger["definitions"][name].get("properties", {})
        fields = model["fields"]
        definitions[name] = {"fields": sorted(fields), "required": model["required"]}
        lacks = sorted(set(props) - set(fields))
        if lacks:
            lacking_fields[name] = lacks
        extra = sorted(set(fields) - set(props))
        if extra:
            extra_fields[name] = extra
        for field, theirs in fields.items():
            if field in props and not _same_type(_codegen_type(props[field]), theirs):
                type_differences.setdefault(name, {})[field] = [_codegen_type(props[field]), theirs]
    lacking_definitions = sorted(set(swagger["definitions"]) - set(definitions))
    return {
        "source": {"package": "mcp-server-alteryx", "version": "0.2.22", "module": PACKAGE,
                   "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
                   "read": "operation modules and models, names and types only (ast)"},
        "older": {
            "operations": matched,
            "v1_operations": [f"{m} {p}" for m, p in older_ops if not p.lower().startswith("/v3/")],
            "definitions": definitions,
        },
        "lacks": {
            "operations": [{"operationId": i, "method": path_of[i][0], "path": path_of[i][1]} for i in lacking_ops],
            "definitions": lacking_definitions,
            "fields": lacking_fields,
        },
        "differences": {"unmatched_operations": unmatched, "unmatched_models": unmatched_models,
                        "extra_fields": extra_fields, "types": type_differences},
    }


def render(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="mcp_server_alteryx-0.2.22-py3-none-any.whl")
    parser.add_argument("--swagger", type=Path, default=SWAGGER, help=f"our V3 Swagger (default {SWAGGER})")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where to write (default {OUTPUT})")
    parser.add_argument("--check", action="store_true", help="compare with --output instead of writing it")
    args = parser.parse_args(argv)
    text = render(derive(args.wheel, json.loads(args.swagger.read_text(encoding="utf-8"))))
    if args.check:
        same = args.output.exists() and args.output.read_text(encoding="utf-8") == text
        print(f"{args.output}: {'up to date' if same else 'differs from the derivation'}")
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    data = json.loads(text)
    print(f"wrote {args.output}: {len(data['older']['operations'])} older V3 operations, "
          f"{len(data['lacks']['operations'])} of ours lacking, "
          f"{sum(map(len, data['lacks']['fields'].values()))} fields lacking")
    return 0


if __name__ == "__main__":
    sys.exit(main())
