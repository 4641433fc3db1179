"""ProcessorAccountService: a merchant's own credentials at a processor. Secrets go in, never
out: they are sealed before the database sees them, and responses name the fields only."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors
from core.audit import AuditAction
from core.contracts.vocabulary import BreakerState
from core.db import models
from core.processors import accounts as processor_accounts
from core.processors.channels import capabilities_from_json
from core.secrets import SecretBox, SecretsNotConfigured
from edge.auth import Caller, authenticate
from edge.context import ServicerContext
from orchestrator.routing_engine import breaker
from payloops.v1 import processors_pb2, processors_pb2_grpc

_ENABLED_PROCESSORS = select(models.Processor).where(models.Processor.enabled)
_Source = processors_pb2.AvailableProcessor.AccountSource
_State = processors_pb2.ProcessorHealth.State
_STATES = {
    BreakerState.CLOSED: _State.CLOSED,
    BreakerState.OPEN: _State.OPEN,
    BreakerState.HALF_OPEN: _State.HALF_OPEN,
}


class ProcessorAccountService(processors_pb2_grpc.ProcessorAccountServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> None:
        self._sessions = sessions
        self._box = box

    async def CreateProcessorAccount(
        self, request: processors_pb2.CreateProcessorAccountRequest, context: ServicerContext
    ) -> processors_pb2.ProcessorAccount:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            wanted = request.processor_account
            with _sealing():
                created = await processor_accounts.create(
                    session,
                    self._box,
                    caller.merchant_id,
                    wanted.processor,
                    caller.livemode,
                    dict(wanted.credentials),
                )
            _record(session, caller, AuditAction.PROCESSOR_ACCOUNT_CREATED, created)
        return account_message(created)

    async def ListProcessorAccounts(
        self, request: processors_pb2.ListProcessorAccountsRequest, context: ServicerContext
    ) -> processors_pb2.ListProcessorAccountsResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            accounts = await processor_accounts.listed(session, caller.merchant_id, caller.livemode)
        return processors_pb2.ListProcessorAccountsResponse(
            processor_accounts=[account_message(a) for a in accounts]
        )

    async def ListAvailableProcessors(
        self, request: processors_pb2.ListAvailableProcessorsRequest, context: ServicerContext
    ) -> processors_pb2.ListAvailableProcessorsResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            registered = [
                processor
                for processor in (await session.execute(_ENABLED_PROCESSORS)).scalars()
                # A live payment never goes to a test-only processor (routing skips it).
                if not (caller.livemode and processor.capabilities.get("test_only"))
            ]
            used = await processor_accounts.usable(
                session, caller.merchant_id, caller.livemode, registered
            )
            own = {
                account.processor: account.id
                for account in await processor_accounts.listed(
                    session, caller.merchant_id, caller.livemode
                )
                if account.enabled
            }
            # The platform's breakers, not the merchant's: a gateway down is down for all.
            health = await breaker.health(session, [processor.name for processor in registered])
        return processors_pb2.ListAvailableProcessorsResponse(
            processors=[
                _available(processor, used, own, health[processor.name])
                for processor in sorted(registered, key=lambda p: p.name)
            ],
            livemode=caller.livemode,
        )

    async def RotateProcessorAccountCredentials(
        self,
        request: processors_pb2.RotateProcessorAccountCredentialsRequest,
        context: ServicerContext,
    ) -> processors_pb2.ProcessorAccount:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            with _sealing():
                rotated = await processor_accounts.rotate(
                    session,
                    self._box,
                    caller.merchant_id,
                    caller.livemode,
                    request.processor_account,
                    dict(request.credentials),
                )
            _record(session, caller, AuditAction.PROCESSOR_ACCOUNT_CREDENTIALS_ROTATED, rotated)
        return account_message(rotated)

    async def DisableProcessorAccount(
        self, request: processors_pb2.DisableProcessorAccountRequest, context: ServicerContext
    ) -> processors_pb2.ProcessorAccount:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            disabled, changed = await processor_accounts.disable(
                session, caller.merchant_id, caller.livemode, request.processor_account
            )
            if changed:
                _record(session, caller, AuditAction.PROCESSOR_ACCOUNT_DISABLED, disabled)
        return account_message(disabled)


def _record(
    session: AsyncSession,
    caller: Caller,
    action: AuditAction,
    account: processor_accounts.Account,
) -> None:
    """The credentials' field names only, never their values."""
    caller.record_change(
        session,
        action,
        "processor_account",
        account.id,
        {"processor": account.processor, "credential_fields": list(account.credential_fields)},
    )


@contextlib.contextmanager
def _sealing() -> Iterator[None]:
    """A deployment without encryption keys refuses to store credentials, clearly."""
    try:
        yield
    except SecretsNotConfigured as error:
        raise errors.PayLoopsError(
            errors.SECRETS_NOT_CONFIGURED,
            "processor credentials cannot be stored: the platform has no encryption key "
            "(PAYLOOPS_SECRETS_KEYS)",
        ) from error


def account_message(account: processor_accounts.Account) -> processors_pb2.ProcessorAccount:
    message = processors_pb2.ProcessorAccount(
        id=account.id,
        processor=account.processor,
        credential_fields=list(account.credential_fields),
        livemode=account.livemode,
        enabled=account.enabled,
        webhook_path=f"/v1/processor_webhooks/{account.processor}/accounts/{account.id}",
    )
    message.create_time.FromDatetime(account.created_at)
    message.rotate_time.FromDatetime(account.rotated_at)
    return message


def _available(
    processor: models.Processor,
    used: dict[str, str | None],
    own: dict[str, str],
    health: breaker.Health,
) -> processors_pb2.AvailableProcessor:
    """The processor as the merchant sees it: never where it runs (the operator's)."""
    own_account = own.get(processor.name, "")
    if processor.name not in used:
        source = _Source.NONE
    elif used[processor.name] is None:
        source = _Source.NOT_NEEDED
    elif used[processor.name] == own_account:
        source = _Source.OWN
    else:
        source = _Source.PLATFORM
    return processors_pb2.AvailableProcessor(
        name=processor.name,
        capabilities=capabilities_from_json(processor.capabilities),
        account_source=source,
        processor_account=own_account if source == _Source.OWN else "",
        health=_health_message(health),
    )


def _health_message(health: breaker.Health) -> processors_pb2.ProcessorHealth:
    message = processors_pb2.ProcessorHealth(
        state=_STATES[health.state],
        consecutive_failures=health.consecutive_failures,
        probe_ready=health.probe_ready,
    )
    for field, time in (
        (message.open_time, health.opened_at),
        (message.retry_time, health.retry_at),
        (message.update_time, health.updated_at),
    ):
        if time is not None:
            field.FromDatetime(time)
    return message
