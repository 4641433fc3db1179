"""Who may call what, in one place.

Which RPCs change something is read from the API's own descriptors: an RPC whose REST binding
is GET only reads; any other (POST, PATCH, DELETE, or no REST binding at all) may change
state. A new RPC is classified by its binding, with nothing to keep in step by hand.

On top of that, by role: a viewer only reads; a developer does everything but manage users;
an owner does everything. API keys do not manage users at all (users are the dashboard's)."""

from __future__ import annotations

import functools

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pool

from core.roles import Role

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
    if found is None:
        return False
    rule: http_pb2.HttpRule = found.GetOptions().Extensions[annotations_pb2.http]
    verb: str | None = rule.WhichOneof("pattern")
    return verb == "get"


def manages_users(method: str) -> bool:
    """A UserService RPC: the dashboard's, never an API key's."""
    return method.lstrip("/").rpartition("/")[0] == USER_SERVICE


def role_allows(role: Role, method: str) -> bool:
    if role is Role.OWNER:
        return True
    if role is Role.DEVELOPER:
        return is_read_only(method) or not manages_users(method)
    return is_read_only(method)
