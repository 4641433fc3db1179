"""Who may call what, in one place.

Which RPCs change something is read from the API's own descriptors: an RPC whose REST binding
is GET only reads, and so does one declared `option (payloops.v1.read_only) = true` (a
simulation that takes a body but changes nothing); any other (POST, PATCH, DELETE, or no REST
binding at all) may change state. A new RPC is classified where it is declared, with nothing to
keep in step by hand. The OpenAPI document says the same of each operation (cli/openapi.py).

On top of that, by role: a viewer only reads; a developer does everything but manage users;
an owner does everything. API keys do not manage users at all (users are the dashboard's)."""

from __future__ import annotations

import functools

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import MethodDescriptor

from core.roles import Role
from payloops.v1 import options_pb2

USER_SERVICE = "payloops.v1.UserService"


@functools.cache
def is_read_only(method: str) -> bool:
    """`method` is the gRPC path, "/payloops.v1.OrderService/GetOrder"."""
    service_name, _, method_name = method.lstrip("/").rpartition("/")
    try:
        service = descriptor_pool.Default().FindServiceByName(service_name)
    except KeyError:
        return False
    found = service.methods_by_name.get(method_name)
    return found is not None and reads_only(found)


def reads_only(method: MethodDescriptor) -> bool:
    """Whether the RPC changes nothing: bound to GET, or declared read-only."""
    options = method.GetOptions()
    rule: http_pb2.HttpRule = options.Extensions[annotations_pb2.http]
    return rule.WhichOneof("pattern") == "get" or options.Extensions[options_pb2.read_only]


def manages_users(method: str) -> bool:
    """A UserService RPC: the dashboard's, never an API key's."""
    return method.lstrip("/").rpartition("/")[0] == USER_SERVICE


def role_allows(role: Role, method: str) -> bool:
    if role is Role.OWNER:
        return True
    if role is Role.DEVELOPER:
        return is_read_only(method) or not manages_users(method)
    return is_read_only(method)
