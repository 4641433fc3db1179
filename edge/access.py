"""Which RPCs change something, read from the API's own descriptors: an RPC whose REST
binding is GET only reads; any other (POST, PATCH, DELETE, or no REST binding at all) may
change state. A new RPC is classified by its binding, with nothing to keep in step by hand."""

from __future__ import annotations

import functools

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pool


@functools.cache
def is_read_only(method: str) -> bool:
    """`method` is the gRPC path, "/payloops.v1.OrderService/GetOrder"."""
    service_name, _, method_name = method.lstrip("/").rpartition("/")
    try:
        service = descriptor_pool.Default().FindServiceByName(service_name)
    except KeyError:
        return False
    found = service.methods_by_name.get(method_name)
    if found is None:
        return False
    rule: http_pb2.HttpRule = found.GetOptions().Extensions[annotations_pb2.http]
    verb: str | None = rule.WhichOneof("pattern")
    return verb == "get"
