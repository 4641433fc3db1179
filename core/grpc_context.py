"""The context every grpc.aio servicer here takes. grpc's stubs make it generic in the request
and response types, which no servicer method needs: one alias keeps signatures short."""

from typing import Any, TypeAlias

import grpc

ServicerContext: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
