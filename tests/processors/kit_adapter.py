"""The smallest adapter the gateway kit makes, for the kit's own tests: a typed config, a
servicer that raises the kit's error, and a server with `main`. It charges nothing: Authorize
checks its request and answers SUCCEEDED.

`python -m tests.processors.kit_adapter --port 0` runs it as an adapter process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc
from processors.kit.checks import positive, required
from processors.kit.config import ServerConfig, parse_config, server_arguments
from processors.kit.logs import configure_logging
from processors.kit.server import run, serve_processor

DOMAIN = "echo.payloops.dev"


@dataclass(frozen=True)
class EchoConfig(ServerConfig):
    name: str = "kit-echo"


class EchoServicer(processor_pb2_grpc.ProcessorServicer):
    """GetCapabilities and Authorize; the other RPCs answer UNIMPLEMENTED (grpc's default)."""

    def __init__(self, name: str) -> None:
        self._name = name

    async def GetCapabilities(
        self, request: pb.GetCapabilitiesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetCapabilitiesResponse:
        return pb.GetCapabilitiesResponse(name=self._name, test_only=True)

    async def Authorize(
        self, request: pb.AuthorizeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.AuthorizeResponse:
        payment = pb.Payment(
            attempt_key=required(request.attempt_key, "attempt_key"),
            amount=positive(request.amount),
            currency=request.currency,
            outcome=pb.OUTCOME_SUCCEEDED,
        )
        return pb.AuthorizeResponse(payment=payment)


async def serve(config: EchoConfig, on_ready: Callable[[int], None] | None = None) -> None:
    await serve_processor(
        config,
        EchoServicer(config.name),  # type: ignore[abstract]  # see EchoServicer
        domain=DOMAIN,
        stop_grace_s=1.0,
        on_ready=on_ready,
    )


def main(argv: list[str] | None = None) -> None:
    parser = server_arguments("kit_adapter", "the kit's smallest adapter", "kit-echo")
    config = parse_config(
        parser, argv, lambda args: EchoConfig(name=args.name, host=args.host, port=args.port)
    )
    configure_logging("kit-example")
    run(serve(config))


if __name__ == "__main__":
    main()
