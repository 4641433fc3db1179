"""Which RPCs a read-only key may call, as the API's descriptors say: GET bindings only."""

from __future__ import annotations

import importlib
import pkgutil

import payloops.v1
from edge.access import is_read_only
from tests.e2e.api_surface import operations

# The edge imports every service module at start; so does this test.
for _module in pkgutil.iter_modules(payloops.v1.__path__):
    importlib.import_module(f"payloops.v1.{_module.name}")


def test_exactly_the_get_bound_rpcs_are_reads() -> None:
    reads = {op.grpc_path for op in operations() if any(b.verb == "GET" for b in op.bindings)}
    writes = {op.grpc_path for op in operations()} - reads
    assert reads and writes
    assert {path for path in reads | writes if is_read_only(path)} == reads
    assert "/payloops.v1.ApiKeyService/ListApiKeys" in reads
    assert "/payloops.v1.ApiKeyService/RevokeApiKey" in writes


def test_an_unknown_or_missing_method_is_not_a_read() -> None:
    assert not is_read_only("")
    assert not is_read_only("/payloops.v1.OrderService/NoSuchMethod")
    assert not is_read_only("/no.such.Service/GetThing")
