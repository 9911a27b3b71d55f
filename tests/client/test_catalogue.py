"""The catalogue against the Swagger and the emulator's routes; ax.actions()."""

from __future__ import annotations

import json

import pytest

import axframe as ax
from axframe import catalogue, schemas
from axframe.emulator.app import ROUTES

from ..conftest import SWAGGER

SPEC = json.loads(SWAGGER.read_text(encoding="utf-8")) if SWAGGER.exists() else None
needs_swagger = pytest.mark.skipif(SPEC is None, reason="needs ../shared/alteryx-api/swagger-v3.json")


def swagger_ops():
    for path, methods in SPEC["paths"].items():
        for method, op in methods.items():
            yield method.upper(), path, op


def _strip(schema):
    """A Swagger schema with only the keys the derivation keeps, refs as bare names."""
    keep = ("type", "format", "enum", "items", "$ref", "properties", "required", "additionalProperties",
            "minLength", "maxLength", "minimum", "maximum")
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key in keep:
        if key in schema:
            value = schema[key]
            if key == "$ref":
                value = value.rsplit("/", 1)[-1]
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                value = _strip(value)
            elif key == "properties":
                value = {k: _strip(v) for k, v in value.items()}
            out[key] = value
    return out


@needs_swagger
def test_every_swagger_operation_is_in_the_catalogue_with_its_parameters_and_body():
    ops = list(swagger_ops())
    assert len(ops) == 97
    for method, path, op in ops:
        ep = catalogue.find(op["operationId"])
        assert (ep.method, ep.path) == (method, path)
        assert catalogue.find(f"{method} {path}") is ep
        declared_path = sorted(p["name"] for p in op.get("parameters", []) if p["in"] == "path")
        assert sorted(p.name for p in ep.path_params) == declared_path
        declared_query = sorted(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
        assert sorted(p.name for p in ep.query_params) == declared_query
        body = next((p for p in op.get("parameters", []) if p["in"] == "body"), None)
        if body is None:
            assert ep.body_schema is None
        else:
            assert ep.body_name == body["name"]
            assert ep.body_schema == _strip(body["schema"])
            if "$ref" in body["schema"]:
                name = body["schema"]["$ref"].rsplit("/", 1)[-1]
                declared = _strip(SPEC["definitions"][name])
                ours = schemas.V3["definitions"][name]
                assert ours == declared, name
        form = [p["name"] for p in op.get("parameters", []) if p["in"] == "formData"]
        assert [p.name for p in ep.form] == form


@needs_swagger
def test_curator_flags_follow_the_swagger():
    for method, path, op in swagger_ops():
        text = (op.get("description") or "") + (op.get("summary") or "")
        ep = catalogue.find(op["operationId"])
        if "Only Curators can use" in text:
            assert ep.curator_only, ep.name
    assert catalogue.find("jobs.list").curator_only  # "Curators can view the jobs in the queue"


def test_every_endpoint_has_a_route_and_a_macro():
    routes = {(r.method, r.template) for r in ROUTES}
    for ep in catalogue.ENDPOINTS:
        assert (ep.method, ep.path) in routes
        assert ep.macro in catalogue.MACROS
        if ep.method == "GET":
            assert ep.macro == "get"
        if ep.method == "DELETE":
            assert ep.macro == "delete"
        if ep.method in ("PUT", "PATCH"):
            assert ep.macro == "post"


def test_names_are_unique_and_all_three_spellings_work():
    names = [ep.name for ep in catalogue.ENDPOINTS]
    assert len(names) == len(set(names))
    ep = catalogue.find("collections.add_user")
    assert catalogue.find("Collections_AddUserToCollection") is ep
    assert catalogue.find("POST /v3/collections/{collectionId}/users") is ep
    assert catalogue.find("post  /webapi/v3/collections/{collectionId}/users/") is ep


def test_unknown_action_suggests_names():
    with pytest.raises(ax.UnknownActionError, match="collections.add_user"):
        ax.get(None, "collections.add_usr")


def test_wrong_macro_names_the_right_function():
    with pytest.raises(ax.WrongMacroError, match=r"ax.post\(conn, 'collections.add_user'"):
        ax.create(None, "collections.add_user")


def test_actions_frame():
    frame = ax.actions()
    assert len(frame) == len(catalogue.ENDPOINTS)
    assert list(frame.columns) == ["function", "name", "operationId", "method", "path", "path_params",
                                   "query_params", "body", "curator_only", "family", "description"]
    row = frame.set_index("name").loc["collections.add_user"]
    assert row["function"] == "ax.post" and row["path_params"] == "collectionId"
    assert row["body"].startswith("addUsersContract: AddUserContract")
    assert bool(row["curator_only"]) is True
    assert set(ax.actions(macro="delete")["method"]) == {"DELETE"}
    assert all("schedule" in (n + p + d).lower() for n, p, d in
               ax.actions("schedule")[["name", "path", "description"]].itertuples(index=False))


def test_public_api_is_pinned():
    assert sorted(ax.__all__) == sorted([
        "__version__", "authenticate", "get", "create", "post", "delete", "actions", "add_record_id",
        "Connection", "Result", "Summary", "RetryPolicy", "ErrorType", "AxframeError", "ConfigurationError",
        "AuthenticationError", "ServerUnreachable", "FrameError", "UnknownActionError", "WrongMacroError",
    ] + PINNED_EXTRA)
    for name in ax.__all__:
        assert hasattr(ax, name)


PINNED_EXTRA: list[str] = ["run_jobs", "job_outputs", "package_frame", "download_packages", "JobsResult",
                           "JobSummary", "migratable", "migrate", "deploy", "audit_log", "admin_listing",
                           "ListingError", "read_frame", "write_frame", "write_sheets", "write_results", "sheet_names",
                           "InputFileError", "OutputFileError", "JournalError", "RunOptions", "export", "plan",
                           "apply", "diff", "Plan", "read_workbook"]


def test_public_functions_have_docstrings():
    for name in ("authenticate", "get", "create", "post", "delete", "actions", "add_record_id"):
        doc = getattr(ax, name).__doc__
        assert doc and "Parameters" in doc or name == "add_record_id", name
