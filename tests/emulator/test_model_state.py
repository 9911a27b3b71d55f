"""One modelState style on every operation's 400: the Server's keys, sentences for messages.

For every operation that takes input, a request the operation must refuse is
made from its declaration (a body of the wrong type, a body missing its
required fields, a form without its fields, a query value of the wrong
type), and the 400 is checked: each key is the body parameter's name and a
path (``contract``, ``contract.name``) or a query or form parameter's own
name, and each message is a sentence.
"""

from __future__ import annotations

import re

import pytest

from axframe import catalogue, schemas
from axframe.emulator import Emulator
from axframe.packages import build_package

from ..conftest import Api

ENDPOINTS = {ep.operation_id or ep.name: ep for ep in catalogue.ENDPOINTS}
SENTENCE = re.compile(r"^[^a-z].*\.$", re.S)
PACKAGE = build_package("Model State App", kind="app")


@pytest.fixture(scope="module")
def api():
    with Emulator() as server:
        yield Api(server)


def url(endpoint: catalogue.Endpoint) -> str:
    path = endpoint.path
    for param in endpoint.path_params:
        path = path.replace("{" + param.name + "}", "0123456789abcdef01234567")
    return path


def send(api, endpoint, **kw):
    return getattr(api, endpoint.method.lower())(url(endpoint), **kw)


def problems(endpoint, response) -> dict[str, list[str]]:
    """The modelState of a 400 (or, where the Swagger declares a string, the key: sentence pairs it joins)."""
    assert response.status_code == 400, (endpoint.name, response.status_code, response.text[:300])
    body = response.json()
    if isinstance(body, str):  # the transfer operations declare their 400 a string
        pairs = re.findall(r"(\S+): (.+?\.)(?= \S+: |$)", body)
        assert pairs, body
        return {key: [text] for key, text in pairs}
    assert set(body) == {"message", "modelState"}, body
    return body["modelState"]


def assert_style(endpoint, state: dict[str, list[str]]) -> None:
    own = {p.name for p in endpoint.params} | {p.name for p in endpoint.form}
    for key, texts in state.items():
        head = re.split(r"[.\[]", key, maxsplit=1)[0]
        if endpoint.body_name:
            assert head == endpoint.body_name or head in own, (endpoint.name, key)
        else:
            assert head in own or key == "body", (endpoint.name, key)
        assert texts and all(SENTENCE.match(t) for t in texts), (endpoint.name, key, texts)


def required_properties(endpoint) -> list[str]:
    return list(schemas.resolve(endpoint.body_schema).get("required", []))


BODY_OPERATIONS = sorted(k for k, ep in ENDPOINTS.items() if ep.body_schema is not None and not ep.multipart)
REQUIRED_BODY = sorted(k for k in BODY_OPERATIONS if required_properties(ENDPOINTS[k]))
FORM_OPERATIONS = sorted(k for k, ep in ENDPOINTS.items() if ep.multipart)
TYPED_QUERY = sorted(k for k, ep in ENDPOINTS.items()
                     if any(p.type in ("boolean", "integer") or p.enum for p in ep.query_params))
REQUIRED_QUERY = sorted(k for k, ep in ENDPOINTS.items() if any(p.required for p in ep.query_params))


def _wrong_type(endpoint):
    return {"object": [], "array": {"x": 1}, "string": {"x": 1}}[endpoint.body_kind()]


@pytest.mark.parametrize("key", BODY_OPERATIONS)
def test_a_body_of_the_wrong_type(api, key):
    endpoint = ENDPOINTS[key]
    state = problems(endpoint, send(api, endpoint, json=_wrong_type(endpoint)))
    assert list(state) == [endpoint.body_name]
    assert_style(endpoint, state)


@pytest.mark.parametrize("key", REQUIRED_BODY)
def test_a_body_without_its_required_fields(api, key):
    endpoint = ENDPOINTS[key]
    state = problems(endpoint, send(api, endpoint, json={}))
    for name in required_properties(endpoint):
        assert state[f"{endpoint.body_name}.{name}"] == [f"The {name} field is required."], (key, state)
    assert_style(endpoint, state)


@pytest.mark.parametrize("key", sorted(set(BODY_OPERATIONS) & {
    k for k, ep in ENDPOINTS.items() if ep.body_required}))
def test_no_body_where_one_is_required(api, key):
    endpoint = ENDPOINTS[key]
    state = problems(endpoint, send(api, endpoint, data=b"", headers={"Content-Type": "application/json"}))
    assert state == {endpoint.body_name: [f"The {endpoint.body_name} field is required."]}


@pytest.mark.parametrize("key", sorted(k for k in FORM_OPERATIONS
                                      if any(p.required and p.type != "file" for p in ENDPOINTS[k].form)))
def test_a_form_without_its_fields(api, key):
    endpoint = ENDPOINTS[key]
    state = problems(endpoint, send(api, endpoint, data={"unrelated": "x"}, files={"other": ("x.txt", b"x")}))
    expected = {p.name for p in endpoint.form if p.required and p.type != "file"}
    assert expected <= set(state), (key, state)
    for name in expected:
        assert state[name] == [f"The {name} field is required."]
    assert_style(endpoint, state)


@pytest.mark.parametrize("key", sorted(k for k in FORM_OPERATIONS if ENDPOINTS[k].file_field.required))
def test_a_form_without_its_file(api, key):
    endpoint = ENDPOINTS[key]
    fields = {p.name: "true" if p.type == "boolean" else "Standard" if p.name == "executionMode"
              else "Default" if p.name == "workflowCredentialType" else "x" for p in endpoint.form if p.type != "file"}
    r = api.session.request(endpoint.method, api.server.url + url(endpoint), data=fields,
                            files={"": ("", b"")}, timeout=30)  # multipart, with no file part named at all
    state = problems(endpoint, r)
    assert state["file"] == ["The file field is required."], (key, state)
    assert_style(endpoint, state)


@pytest.mark.parametrize("key", TYPED_QUERY)
def test_a_query_value_of_the_wrong_type(api, key):
    endpoint = ENDPOINTS[key]
    param = next(p for p in endpoint.query_params if p.type in ("boolean", "integer") or p.enum)
    query = {p.name: "1" if p.type == "integer" else "x" for p in endpoint.query_params if p.required}
    query[param.name] = "bogus"
    state = problems(endpoint, send(api, endpoint, params=query, json=None))
    assert state == {param.name: [f"The value 'bogus' is not valid for {param.name}."]}, (key, state)


@pytest.mark.parametrize("key", REQUIRED_QUERY)
def test_a_missing_required_query_parameter(api, key):
    endpoint = ENDPOINTS[key]
    missing = next(p for p in endpoint.query_params if p.required)
    query = {p.name: "1" if p.type == "integer" else "Csv" if p.name == "format" else "User"
             for p in endpoint.query_params if p.required and p is not missing}
    if endpoint.name == "admin_v2.schedule_forecast":
        query = {p.name: "2030-01-01T00:00:00Z" for p in endpoint.query_params if p is not missing and p.required}
    state = problems(endpoint, send(api, endpoint, params=query))
    assert state == {missing.name: [f"The {missing.name} field is required."]}, (key, state)


def test_every_operation_with_input_is_covered():
    covered = set(BODY_OPERATIONS) | set(FORM_OPERATIONS) | set(TYPED_QUERY) | set(REQUIRED_QUERY)
    without_input = {k for k, ep in ENDPOINTS.items()
                     if ep.body_schema is None and not ep.multipart and not ep.query_params}
    text_query_only = {k for k, ep in ENDPOINTS.items() if k not in covered | without_input}
    # what remains takes only free text in its query: nothing a request could get wrong by type
    for key in text_query_only:
        assert all(p.type == "string" and not p.enum and not p.required for p in ENDPOINTS[key].query_params), key
    assert covered | without_input | text_query_only == set(ENDPOINTS)
    assert len(covered) >= 60


@pytest.mark.parametrize("key", sorted(k for k, ep in ENDPOINTS.items() if ep.operation_id))
def test_every_declared_400_schema_is_the_model_state_shape(key):
    """Where the Swagger gives the 400 a schema, it is InvalidRequestResponseBody or a string (transfers)."""
    declared = schemas.operation(key)["responses"].get("400")
    if declared:
        resolved = schemas.resolve(declared)
        assert resolved.get("type") == "string" or set(resolved.get("properties", {})) == {"message", "modelState"}
