"""ProcessorService: the operator registers gateway adapters (by name and gRPC target) and
lists them. Registration asks the adapter for its capabilities first; a processor is routable
at once, since routing reads the registrations for every payment."""

from __future__ import annotations

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit, errors
from core.audit import AuditAction
from core.processors import registry
from core.processors.channels import ProcessorChannels, capabilities_from_json
from edge.auth import admin_actor, authenticate_admin
from edge.context import ServicerContext
from payloops.v1 import processors_pb2, processors_pb2_grpc


class ProcessorService(processors_pb2_grpc.ProcessorServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: ProcessorChannels,
        admin_api_keys: tuple[str, ...],
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._admin_api_keys = admin_api_keys

    async def CreateProcessor(
        self, request: processors_pb2.CreateProcessorRequest, context: ServicerContext
    ) -> processors_pb2.Processor:
        authenticate_admin(context, self._admin_api_keys)
        wanted = request.processor
        deadline_ms = wanted.deadline.ToMilliseconds() if wanted.HasField("deadline") else None
        found = [
            ("processor.name", "PROCESSOR_NAME_INVALID", registry.name_problem(wanted.name)),
            (
                "processor.target",
                "PROCESSOR_TARGET_INVALID",
                registry.target_problem(wanted.target),
            ),
        ]
        if deadline_ms is not None:
            found.append(
                (
                    "processor.deadline",
                    "PROCESSOR_DEADLINE_OUT_OF_RANGE",
                    registry.deadline_problem(deadline_ms),
                )
            )
        if violations := [
            errors.FieldViolation(field, reason, problem)
            for field, reason, problem in found
            if problem
        ]:
            raise errors.invalid(violations)
        try:
            capabilities = await registry.adapter_capabilities(
                self._channels, wanted.target, wanted.tls, wanted.tls_ca_pem
            )
        except grpc.aio.AioRpcError as error:
            raise errors.PayLoopsError(
                errors.PROCESSOR_UNREACHABLE,
                f"{wanted.target} does not answer GetCapabilities ({error.code().name}); "
                "is the adapter running there?",
                metadata={"target": wanted.target},
            ) from error
        async with self._sessions.begin() as session:
            registered = await registry.register_in(
                session,
                wanted.name,
                wanted.target,
                deadline_ms,
                capabilities=capabilities,
                tls=wanted.tls,
                tls_ca_pem=wanted.tls_ca_pem,
            )
            # The operator's own change: in no merchant's log.
            audit.record(
                session,
                admin_actor(context),
                AuditAction.PROCESSOR_REGISTERED,
                merchant_id=None,
                livemode=None,
                target_type="processor",
                target_id=registered.name,
                details={
                    "target": registered.target,
                    "tls": registered.tls,
                    "deadline_ms": registered.deadline_ms,
                },
            )
        return processor_message(registered)

    async def ListProcessors(
        self,
        request: processors_pb2.ListProcessorsRequest,
        context: ServicerContext,
    ) -> processors_pb2.ListProcessorsResponse:
        authenticate_admin(context, self._admin_api_keys)
        return processors_pb2.ListProcessorsResponse(
            processors=[processor_message(r) for r in await registry.registrations(self._sessions)]
        )


def processor_message(registration: registry.Registration) -> processors_pb2.Processor:
    message = processors_pb2.Processor(
        name=registration.name,
        target=registration.target,
        tls=registration.tls,
        enabled=registration.enabled,
        capabilities=capabilities_from_json(registration.capabilities),
    )
    message.deadline.FromMilliseconds(registration.deadline_ms)
    return message
