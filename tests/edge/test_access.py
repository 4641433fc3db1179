"""Which RPCs a read-only key may call, as the API's descriptors say: GET bindings, and those
declared `(payloops.v1.read_only) = true` (simulations that take a body)."""

from __future__ import annotations

import importlib
import pkgutil

import payloops.v1
from core.roles import Role
from edge.access import is_read_only, manages_users, role_allows
from tests.e2e.api_surface import operations

# The edge imports every service module at start; so does this test.
for _module in pkgutil.iter_modules(payloops.v1.__path__):
    importlib.import_module(f"payloops.v1.{_module.name}")


def test_exactly_the_get_bound_and_declared_rpcs_are_reads() -> None:
    reads = {op.grpc_path for op in operations() if op.reads_only}
    writes = {op.grpc_path for op in operations()} - reads
    assert reads and writes
    assert {path for path in reads | writes if is_read_only(path)} == reads
    assert "/payloops.v1.ApiKeyService/ListApiKeys" in reads
    assert "/payloops.v1.ApiKeyService/RevokeApiKey" in writes


def test_simulating_and_replaying_routing_are_reads_and_changing_it_is_not() -> None:
    routing = "/payloops.v1.RoutingService/"
    for method in ("SimulateRouting", "WhatIfRouting", "GetRoutingConfig"):
        assert is_read_only(routing + method), method
    for method in ("UpdateRoutingConfig", "RollbackRoutingConfig"):
        assert not is_read_only(routing + method), method
        assert not role_allows(Role.VIEWER, routing + method)
    assert role_allows(Role.VIEWER, routing + "SimulateRouting")


def test_an_unknown_or_missing_method_is_not_a_read() -> None:
    assert not is_read_only("")
    assert not is_read_only("/payloops.v1.OrderService/NoSuchMethod")
    assert not is_read_only("/no.such.Service/GetThing")


def test_each_role_may_call_what_its_description_says() -> None:
    paths = {op.grpc_path for op in operations()}
    reads = {path for path in paths if is_read_only(path)}
    user_writes = {path for path in paths - reads if manages_users(path)}
    assert user_writes == {
        "/payloops.v1.UserService/CreateUser",
        "/payloops.v1.UserService/SetUserRole",
        "/payloops.v1.UserService/RemoveUser",
    }
    assert {path for path in paths if role_allows(Role.OWNER, path)} == paths
    assert {path for path in paths if role_allows(Role.DEVELOPER, path)} == paths - user_writes
    assert {path for path in paths if role_allows(Role.VIEWER, path)} == reads
    assert manages_users("/payloops.v1.UserService/ListUsers")
    assert not manages_users("/payloops.v1.UserServiceX/ListUsers")
