"""Bad input never gets a 500: each gets the 4xx a Server would send."""

from __future__ import annotations

import socket

import pytest
import requests

from axframe.emulator import Emulator, check_loopback


@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff\xfe\x00", b'{"name": }'])
def test_malformed_json_is_400(api, body):
    r = api.post("/v3/collections", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["modelState"]


@pytest.mark.parametrize("depth", [50_000, 2_000])
def test_deeply_nested_json_is_400(api, depth):
    for body in (b"[" * depth, b"[" * depth + b"]" * depth, b'{"name": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"):
        r = api.post("/v3/collections", data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, r.text[:200]
        assert r.json()["modelState"]["contract"]  # the body parameter's name (POST /v3/collections: contract)
    assert api.get("/v3/collections").status_code == 200  # and the emulator keeps serving


def test_deeply_nested_control_json_is_400(server):
    r = requests.post(server.root + "/_emulator/clock", data=b"[" * 50_000, timeout=10)
    assert r.status_code == 400


@pytest.mark.parametrize("body", [[], "x", 5, None, {"name": 5}, {"name": None}, {"name": ["a"]}])
def test_wrong_types_are_400(api, body):
    r = api.post("/v3/collections", json=body)
    assert r.status_code == 400


def test_empty_body_is_400(api):
    assert api.post("/v3/users", data=b"", headers={"Content-Type": "application/json"}).status_code == 400


def test_wrong_enum_is_400(api):
    r = api.post("/v3/usergroups", json={"name": "Z", "role": "Admin"})
    assert r.status_code == 400
    assert "contract.role" in r.json()["modelState"]


def test_xml_is_415(api):
    r = api.post("/v3/collections", data=b"<c><name>x</name></c>", headers={"Content-Type": "application/xml"})
    assert r.status_code == 415


def test_form_encoded_json_endpoint_is_accepted(api):
    r = api.post("/v3/collections", data={"name": "Form Made"})
    assert r.status_code == 200


@pytest.mark.parametrize("segment", ["a%2Fb", "..", "%2E%2E", "a%3Fb", "a%23b", "%00", "x" * 300])
def test_odd_ids_are_one_segment_and_404(api, segment):
    r = api.get(f"/v3/users/{segment}")
    assert r.status_code in (404, 400), r.text
    assert r.status_code != 500


def test_encoded_slash_does_not_reach_another_route(api, ids):
    # users/{id}/assets must not be reachable by smuggling a slash into {id}
    r = api.get(f"/v3/users/{ids['user:ana']}%2Fassets")
    assert r.status_code == 404


def test_bad_query_values_are_400(api, ids):
    assert api.delete(f"/v3/workflows/{ids['workflow:sales']}", params={"force": "maybe"}).status_code == 400
    assert api.get("/v3/users", params={"view": "Everything"}).status_code == 400
    assert api.get("/v3/users", params={"createdAfter": "yesterday"}).status_code == 400
    assert api.get("/v3/jobs", params={"limit": "ten"}).status_code == 400
    assert api.get("/v3/subscriptions", params={"userCountGreaterThanEquals": "x"}).status_code == 400


@pytest.mark.parametrize("path, name, value", [
    ("/v3/jobs", "limit", "99999999999999999999"),
    ("/v3/jobs", "offset", "2147483648"),
    ("/v3/jobs", "limit", "9" * 5000),
    ("/v3/workflows/{workflow}/jobs", "limit", "-2147483649"),
    ("/v3/subscriptions", "userCountGreaterThanEquals", "2147483648"),
    ("/v3/subscriptions", "workflowCountLessThanEquals", "-99999999999999999999"),
    ("/v3/subscriptions", "userCountLessThanEquals", "1_000"),
])
def test_out_of_range_integer_query_values_are_400(api, ids, path, name, value):
    r = api.get(path.format(workflow=ids["workflow:sales"]), params={name: value})
    assert r.status_code == 400, r.text[:200]
    assert r.json()["modelState"] == {name: [f"The value '{value}' is not valid for {name}."]}


@pytest.mark.parametrize("path, name, value", [
    ("/v3/jobs", "limit", "2147483647"),
    ("/v3/jobs", "offset", "0"),
    ("/v3/subscriptions", "userCountGreaterThanEquals", "-2147483648"),
    ("/v3/subscriptions", "userCountLessThanEquals", "2147483647"),
])
def test_int32_limits_are_accepted(api, path, name, value):
    assert api.get(path, params={name: value}).status_code == 200


def test_unknown_route_is_404_and_wrong_method_405(api):
    assert api.get("/v3/nothing").status_code == 404
    r = api.patch("/v3/collections")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    assert requests.get(api.server.root + "/elsewhere", timeout=5).status_code == 404


def test_oversized_body_is_413():
    with Emulator(max_body=1024) as server:
        from ..conftest import Api

        api = Api(server)
        r = api.post("/v3/collections", json={"name": "x" * 5000})
        assert r.status_code == 413


def test_oversized_json_within_limit_but_too_long_field(api):
    r = api.post("/v3/usergroups", json={"name": "x" * 300, "role": "Viewer"})
    assert r.status_code == 400
    assert r.json()["modelState"]["contract.name"] == ["Must be at most 255 characters long (got 300)."]


def test_chunked_body_is_read(api):
    def chunks():
        yield b'{"name": '
        yield b'"Chunked"}'

    r = api.post("/v3/collections", data=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 200


def raw(server, data: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)


@pytest.mark.parametrize("request_bytes,status", [
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET /webapi/v3/users HTTP/2.0\r\n\r\n", b"505"),
    (b"POST /webapi/v3/users HTTP/1.1\r\nContent-Length: abc\r\n\r\n", b"400"),
    (b"GET /webapi/v3/users HTTP/1.1\r\nBadHeader\r\n\r\n", b"400"),
    (b"GET /webapi/v3/users HTTP/1.1\r\n" + b"X-A: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
])
def test_malformed_http_gets_4xx(server, request_bytes, status):
    answer = raw(server, request_bytes)
    assert answer.split(b" ")[1] == status


def test_emulator_refuses_non_loopback_bind():
    for host in ("0.0.0.0", "10.0.0.1", "example.com", "::"):
        with pytest.raises(ValueError, match="loopback"):
            Emulator(host=host)
    assert check_loopback("127.0.0.1") == "127.0.0.1"
    assert check_loopback("localhost") == "127.0.0.1"


def _dcm_contract(**changes) -> dict:
    contract = {"name": "Postgres", "schemaName": "odbc-postgres", "parameters": {"db": {"value": "x"}},
                "dataSource": {"object": {"name": "pg", "schemaName": "postgres", "parameters": {}}},
                "credentials": {"main": {"object": {"name": "pg-user", "schemaName": "userpwd", "parameters": {},
                                                    "secrets": {"password": {"value": {"text": "s3cr3t"},
                                                                             "parameters": {}}}}}}}
    contract.update(changes)
    return contract


_NULL_CREDENTIALS = [
    ({"password": None}, "upsertConnectionContract.credentials.password"),
    ({"main": {"object": None}}, "upsertConnectionContract.credentials.main.object"),
    ({"main": {"object": {"name": "u", "schemaName": "userpwd", "parameters": {}, "secrets": {"password": None}}}},
     "upsertConnectionContract.credentials.main.object.secrets.password"),
]


def test_validator_refuses_null_map_values():
    from axframe import schemas

    errors = schemas.validate(_dcm_contract(credentials={"password": None}), {"$ref": "DCMEUpsertConnectionContract"})
    assert errors == ["credentials.password: must not be null"]


@pytest.mark.parametrize("admin", [False, True])
@pytest.mark.parametrize("credentials, key", _NULL_CREDENTIALS)
def test_dcm_upsert_with_null_credential_is_400(api, ids, admin, credentials, key):
    path = "/v3/dcm/admin/connections" if admin else "/v3/dcm/connections"
    extra = {"ownerId": ids["user:admin"]} if admin else {}
    r = api.post(path, json=_dcm_contract(credentials=credentials, **extra))
    assert r.status_code == 400, r.text
    assert r.json()["modelState"][key], r.text
    created = api.post(path, json=_dcm_contract(**extra))  # an update of an existing connection too
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    r = api.post(path, json=_dcm_contract(id=cid, name="Renamed", credentials=credentials, **extra))
    assert r.status_code == 400, r.text
    assert r.json()["modelState"][key]
    after = api.get(f"{path}/{cid}")
    assert after.status_code == 200 and after.json()["name"] == "Postgres"


def test_form_encoded_booleans_are_coerced(api, ids):
    sid = ids["subscription:ops"]
    r = api.put(f"/v3/subscriptions/{sid}", data="name=Ops+Form&credentialId=&canShareSchedules=true",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Ops Form" and r.json()["canShareSchedules"] is True
    r = api.put(f"/v3/subscriptions/{sid}", data={"name": "Ops", "credentialId": "", "canShareSchedules": "False"})
    assert r.status_code == 200, r.text
    assert r.json()["canShareSchedules"] is False


def test_form_encoded_create_subscription(api):
    r = api.post("/v3/subscriptions", data={"name": "Form Studio", "canShareSchedule": "true"})
    assert r.status_code == 201, r.text
    assert r.json()["canShareSchedules"] is True


def test_form_fields_take_the_schema_types():
    from axframe.emulator.http import coerce_form

    schema = {"type": "object", "properties": {
        "flag": {"type": "boolean"}, "count": {"type": "integer", "format": "int32"},
        "ratio": {"type": "number"}, "text": {"type": "string"}}}
    form = {"flag": "TRUE", "count": "42", "ratio": "-1.5e2", "text": "7", "other": "x"}
    assert coerce_form(form, schema, "contract") == {"flag": True, "count": 42, "ratio": -150.0,
                                                     "text": "7", "other": "x"}
    assert coerce_form({"flag": "yes", "count": "4.5", "ratio": "nan"}, schema, "contract") == \
        {"flag": "yes", "count": "4.5", "ratio": "nan"}  # left as text, for validation to report
    assert coerce_form({"flag": "", "count": " ", "text": ""}, schema, "contract") == {"text": ""}


def test_form_encoded_bad_boolean_is_a_400(api, ids):
    r = api.put(f"/v3/subscriptions/{ids['subscription:ops']}",
                data={"name": "Ops", "credentialId": "", "canShareSchedules": "maybe"})
    assert r.status_code == 400
    assert "subscription.canShareSchedules" in r.json()["modelState"]


def test_form_encoded_missing_boolean_is_required(api, ids):
    r = api.put(f"/v3/subscriptions/{ids['subscription:ops']}",
                data={"name": "Ops", "credentialId": "", "canShareSchedules": ""})
    assert r.status_code == 400
    assert "subscription.canShareSchedules" in r.json()["modelState"]


def test_form_encoded_object_field_is_refused_clearly(api, ids):
    r = api.post("/v3/schedules", data={"workflowId": ids["workflow:sales"], "iteration": "Daily"})
    assert r.status_code == 400
    problems = r.json()["modelState"]["contract.iteration"]
    assert any("form" in p and "application/json" in p for p in problems)


_NOT_OBJECTS = [[None, None], "x", 5, True, None, []]


@pytest.mark.parametrize("admin", [False, True])
@pytest.mark.parametrize("value", _NOT_OBJECTS, ids=["nulls", "text", "number", "boolean", "null", "list"])
@pytest.mark.parametrize("where", ["parameters", "dataSource", "credential", "secret"])
def test_dcm_parameters_must_be_objects(api, ids, admin, value, where):
    """The Swagger declares each DCM parameter an object; anything else is 400 and nothing is stored."""
    contract = _dcm_contract(**({"ownerId": ids["user:admin"]} if admin else {}))
    bad = {"x": value}
    key = {"parameters": "upsertConnectionContract.parameters.x",
           "dataSource": "upsertConnectionContract.dataSource.object.parameters.x",
           "credential": "upsertConnectionContract.credentials.main.object.parameters.x",
           "secret": "upsertConnectionContract.credentials.main.object.secrets.password.parameters.x"}[where]
    if where == "parameters":
        contract["parameters"] = bad
    elif where == "dataSource":
        contract["dataSource"]["object"]["parameters"] = bad
    elif where == "credential":
        contract["credentials"]["main"]["object"]["parameters"] = bad
    else:
        contract["credentials"]["main"]["object"]["secrets"]["password"]["parameters"] = bad
    before = len(api.server.state.dcm_connections)
    r = api.post("/v3/dcm/admin/connections" if admin else "/v3/dcm/connections", json=contract)
    assert r.status_code == 400, r.text
    assert r.json()["modelState"][key], r.text
    assert len(api.server.state.dcm_connections) == before


def test_dcm_parameter_objects_round_trip(api):
    contract = _dcm_contract(parameters={"db": {"value": "x", "options": [1, None]}, "empty": {}})
    r = api.post("/v3/dcm/connections", json=contract)
    assert r.status_code == 201, r.text
    assert r.json()["parameters"] == {"db": {"value": "x", "options": [1, None]}, "empty": {}}


def test_a_seed_with_a_dcm_parameter_that_is_not_an_object_is_refused():
    from axframe.emulator.seed import SeedError

    seed = {"users": [{"ref": "u", "firstName": "U", "lastName": "V", "email": "u@example.com"}],
            "dcmConnections": [{"ref": "c", "name": "C", "owner": "u", "parameters": {"host": "db.example"}}]}
    with pytest.raises(SeedError, match="parameters.host"):
        Emulator(seed)
