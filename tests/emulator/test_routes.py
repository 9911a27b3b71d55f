"""The route table: one row per endpoint, each bound to its state method by name when it is built."""

from __future__ import annotations

import dataclasses

import pytest

from axframe import catalogue, schemas
from axframe.emulator.binding import RouteError, bind
from axframe.emulator.routes import ROUTES, ROWS
from axframe.emulator.state.actor import Actor
from axframe.emulator.state.core import camel


def test_one_row_per_catalogue_endpoint():
    keys = [row.key for row in ROWS]
    assert len(keys) == len(set(keys))
    assert set(keys) == {ep.operation_id or ep.name for ep in catalogue.ENDPOINTS}


def _declared(endpoint: catalogue.Endpoint) -> set[str]:
    names = {p.name for p in endpoint.params} | {p.name for p in endpoint.form}
    if endpoint.body_kind() == "object" and not endpoint.multipart:
        names |= set(schemas.resolve(endpoint.body_schema).get("properties", {}))
    return names


def _used(route) -> set[str]:
    used = {source.name for source in route.binding.sources.values() if source.name}
    for source in route.binding.sources.values():
        if source.kind == "options":
            used |= {camel(f.name) for f in dataclasses.fields(source.value)}
    return used


def test_the_fields_a_state_method_ignores_are_the_documented_ones():
    ignored = {(route.key, name) for route in ROUTES for name in _declared(route.endpoint) - _used(route)}
    assert ignored == {("Workflows_CreateWorkflow", "bypassWorkflowVersionCheck"),
                       ("Workflows_AddVersionToWorkflow", "bypassWorkflowVersionCheck"),
                       ("Users_UpdateUser", "id"),
                       ("DCMEAdmin_UpsertDCMEConnectionHandlingRule", "createdBy"),
                       ("DCMEAdmin_UpsertDCMEConnectionHandlingRule", "createdOn"),
                       ("DCMEAdmin_UpsertDCMEConnectionHandlingRule", "lastChangedOn")}


class _Service:
    def needs_a_stranger(self, actor: Actor, collection_id: str, *, stranger: str) -> None:
        """Takes something no request to the endpoint carries."""

    def takes_the_collection(self, actor: Actor, collection_id: str) -> None:
        """Takes what the path carries."""


def test_a_method_the_request_cannot_fill_is_refused_when_the_table_is_built():
    endpoint = catalogue.find("collections.get")
    with pytest.raises(RouteError, match="stranger"):
        bind(endpoint, _Service.needs_a_stranger, endpoint.path, {})
    with pytest.raises(RouteError, match="takes no"):
        bind(endpoint, _Service.takes_the_collection, endpoint.path, {"admin": True})
    binding = bind(endpoint, _Service.takes_the_collection, endpoint.path, {})
    assert {name: source.kind for name, source in binding.sources.items()} == {"actor": "actor",
                                                                                "collection_id": "path"}
