"""``axframe actions [FILTER]``: the catalogue as a table, or one action in full."""

from __future__ import annotations

import argparse
from typing import Any

from .. import catalogue
from ..errors import UsageError
from .common import EXIT_OK, Out

__all__ = ["add_commands", "cmd_actions", "describe_action"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("actions", help="list the actions (the catalogue) as a table")
    p.add_argument("filter", nargs="?", help="text to look for in names, paths and descriptions, or one action name")
    p.add_argument("--macro", choices=catalogue.MACROS, help="only one macro's actions")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="a table to read (default), or CSV or JSON to process")
    p.set_defaults(run=cmd_actions)


def cmd_actions(args: argparse.Namespace, out: Out) -> int:
    from ..errors import UnknownActionError
    from ..macros import actions

    if args.filter:
        try:
            ep = catalogue.find(args.filter)
        except UnknownActionError:
            ep = None
        if ep is not None:
            out(describe_action(ep))
            return EXIT_OK
    frame = actions(args.filter, macro=args.macro)
    if frame.empty:
        import difflib

        names = [ep.name for ep in catalogue.endpoints()]
        near = difflib.get_close_matches(str(args.filter), names, n=4, cutoff=0.5) if args.filter else []
        raise UsageError(f"no action matches {args.filter!r}" + (f"; did you mean {', '.join(near)}?" if near else
                                                                 "; 'axframe actions' lists them all"))
    if args.format == "csv":
        out(frame.to_csv(index=False).rstrip("\n"))
    elif args.format == "json":
        out(frame.to_json(orient="records", indent=1))
    else:
        for row in frame.itertuples(index=False):
            out(f"{row.function[3:]:<7} {row.name:<42} {row.method:<6} {row.path}")
        out(f"({len(frame)} actions; 'axframe actions NAME' shows one in full)")
    return EXIT_OK


def describe_action(ep: catalogue.Endpoint) -> str:
    """One action in full: how to call it, its columns and its body."""
    from .. import schemas

    lines = [f"{ep.name}: {ep.doc}", f"  axframe {ep.macro} {ep.name} --input FILE",
             f"  {ep.method} {ep.path}" + (f"   (operationId {ep.operation_id})" if ep.operation_id else "")]
    if ep.curator_only:
        lines.append("  needs a Curator's API key")
    for p in ep.path_params:
        lines.append(f"  column {p.name}: the id in the path (required)")
    for p in ep.query_params:
        extra = f", one of {', '.join(p.enum)}" if p.enum else ""
        lines.append(f"  column {p.name}: query parameter ({p.type}{extra}){' (required)' if p.required else ''}")
    schema = ep.contract_schema()
    if ep.multipart:
        lines.append("  column file: the local path of the file to upload")
    if schema is not None:
        resolved = schemas.resolve(schema)
        kind = ep.body_kind()
        if kind in ("array", "string"):
            lines.append(f"  contract: a JSON {kind} ({ep.body_name})")
        else:
            lines += _body_lines(resolved, "")
            example = schemas.example(schema)
            import json

            lines.append(f"  minimal contract: {json.dumps(example)}")
    return "\n".join(lines)


def _body_lines(schema: dict, prefix: str, depth: int = 0) -> list[str]:
    """``body NAME: type`` lines, with the fields of nested objects under their dotted names (the
    column names that build them: ``collectionsPermissions.isAdmin``)."""
    from .. import schemas

    lines = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        prop = schemas.resolve(prop)
        kind = prop.get("type", "object")
        enum = f", one of {', '.join(map(str, prop['enum']))}" if "enum" in prop else ""
        lines.append(f"  body {prefix}{name}: {kind}{enum}{' (required)' if name in required else ''}")
        if kind == "object" and prop.get("properties") and depth < 3:
            lines += _body_lines(prop, f"{prefix}{name}.", depth + 1)
    return lines

