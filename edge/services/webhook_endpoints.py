"""WebhookEndpointService: where a merchant receives events. URLs are checked before they are
stored (core/webhooks/urls.py: https to public addresses, never the platform's own listeners or
metadata services; http only to what the operator allows for test mode); the signing secret
is sealed at rest and shown once, in the answer of create (and its idempotent replays) or
rotate_secret. A test key sees only test endpoints, a live key only live ones; another
merchant's endpoint, or a deleted one, is NOT_FOUND."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from google.protobuf import empty_pb2
from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors, ids
from core.audit import AuditAction
from core.contracts import events
from core.contracts.vocabulary import EndpointStatus
from core.db import models
from core.secrets import SecretBox, SecretsNotConfigured
from core.webhooks import signing as webhook_signing
from core.webhooks import test_events
from core.webhooks import urls as webhook_urls
from core.webhooks.deliveries import ALL_EVENTS
from core.webhooks.views import delivery_messages, endpoint_message
from edge.auth import Caller, authenticate
from edge.context import ServicerContext, request_header
from edge.delivery_starter import DeliveryStarter
from edge.idempotency import Claim, Idempotency
from edge.page_tokens import Cursor, PageTokens, page_size, page_size_violations
from payloops.v1 import webhooks_pb2, webhooks_pb2_grpc

DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=7)
MAX_ENABLED_EVENTS = 50
UPDATABLE = ("url", "enabled_events", "status")
_STATUSES = {
    webhooks_pb2.WebhookEndpoint.ENABLED: EndpointStatus.ENABLED,
    webhooks_pb2.WebhookEndpoint.DISABLED: EndpointStatus.DISABLED,
}


class WebhookEndpointService(webhooks_pb2_grpc.WebhookEndpointServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        idempotency: Idempotency,
        destinations: webhook_urls.Destinations,
        page_tokens: PageTokens,
        deliveries: DeliveryStarter,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._idempotency = idempotency
        self._destinations = destinations
        self._page_tokens = page_tokens
        self._deliveries = deliveries

    async def CreateWebhookEndpoint(
        self, request: webhooks_pb2.CreateWebhookEndpointRequest, context: ServicerContext
    ) -> webhooks_pb2.WebhookEndpoint:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
        wanted = request.webhook_endpoint
        # Checked outside any transaction: the URL is resolved, which may take seconds.
        violations = await self._url_violations(wanted.url, caller.livemode)
        violations += _event_violations(wanted.enabled_events)
        if violations:
            raise errors.invalid(violations)
        key = request_header(context.invocation_metadata(), "idempotency-key")
        secret = webhook_signing.new_secret()
        with _sealing():
            sealed = self._box.seal({"current": secret})
        # Claim, endpoint and stored answer in one transaction: a duplicate waits on the claim
        # and replays; a failure leaves nothing, not even the claim.
        async with self._sessions.begin() as session:
            claim = None
            if key is not None:
                claimed = await self._idempotency.claim(
                    session,
                    caller,
                    key,
                    "CreateWebhookEndpoint",
                    request,
                    webhooks_pb2.WebhookEndpoint,
                )
                if not isinstance(claimed, Claim):
                    return await self._with_secret(session, caller, claimed)
                claim = claimed
            created = (
                await session.execute(
                    insert(models.WebhookEndpoint)
                    .values(
                        id=ids.new_id("we"),
                        merchant_id=caller.merchant_id,
                        livemode=caller.livemode,
                        url=wanted.url,
                        enabled_events=_distinct(wanted.enabled_events),
                        status=EndpointStatus.ENABLED,
                        secrets=sealed,
                    )
                    .returning(models.WebhookEndpoint)
                )
            ).scalar_one()
            if claim is not None:
                # Stored without the secret: the idempotency table holds no secret in clear.
                await self._idempotency.store(session, claim, endpoint_message(created))
            _record(
                session, caller, AuditAction.WEBHOOK_ENDPOINT_CREATED, created, _described(created)
            )
        return endpoint_message(created, secret=secret)

    async def _url_violations(self, url: str, livemode: bool) -> list[errors.FieldViolation]:
        field = "webhook_endpoint.url"
        if not url:
            return [errors.FieldViolation(field, "URL_REQUIRED", "is required")]
        problem = await self._destinations.check(url, livemode)
        if problem is None:
            return []
        return [errors.FieldViolation(field, problem.reason, problem.description)]

    async def _with_secret(
        self, session: AsyncSession, caller: Caller, replayed: webhooks_pb2.WebhookEndpoint
    ) -> webhooks_pb2.WebhookEndpoint:
        """A replayed creation, with the endpoint's signing secret (its current one, if it was
        rotated since) unsealed again, as the first answer showed it."""
        endpoint = await session.get(models.WebhookEndpoint, replayed.id)
        if (
            endpoint is not None
            and endpoint.merchant_id == caller.merchant_id
            and endpoint.livemode == caller.livemode
            and endpoint.status != EndpointStatus.DELETED
        ):
            with _sealing():
                replayed.secret = self._box.open(endpoint.secrets)["current"]
        return replayed

    async def ListWebhookEndpoints(
        self, request: webhooks_pb2.ListWebhookEndpointsRequest, context: ServicerContext
    ) -> webhooks_pb2.ListWebhookEndpointsResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            rows = await session.execute(
                select(models.WebhookEndpoint)
                .where(
                    models.WebhookEndpoint.merchant_id == caller.merchant_id,
                    models.WebhookEndpoint.livemode == caller.livemode,
                    models.WebhookEndpoint.status != EndpointStatus.DELETED,
                )
                .order_by(
                    models.WebhookEndpoint.created_at.desc(), models.WebhookEndpoint.id.desc()
                )
            )
            return webhooks_pb2.ListWebhookEndpointsResponse(
                webhook_endpoints=[endpoint_message(row) for row in rows.scalars()]
            )

    async def UpdateWebhookEndpoint(
        self, request: webhooks_pb2.UpdateWebhookEndpointRequest, context: ServicerContext
    ) -> webhooks_pb2.WebhookEndpoint:
        wanted = request.webhook_endpoint
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            await find(session, caller, wanted.id)
        paths = list(request.update_mask.paths) or [
            path
            for path, given in (
                ("url", bool(wanted.url)),
                ("enabled_events", bool(wanted.enabled_events)),
                ("status", wanted.status != 0),
            )
            if given
        ]
        violations = [
            errors.FieldViolation(
                "update_mask",
                "UPDATE_MASK_INVALID",
                f"{path!r} cannot be changed; only {UPDATABLE}",
            )
            for path in paths
            if path not in UPDATABLE
        ]
        if "url" in paths:
            violations += await self._url_violations(wanted.url, caller.livemode)
        if "enabled_events" in paths:
            violations += _event_violations(wanted.enabled_events)
        if "status" in paths and wanted.status not in _STATUSES:
            violations.append(
                errors.FieldViolation(
                    "webhook_endpoint.status", "STATUS_INVALID", "must be ENABLED or DISABLED"
                )
            )
        if violations:
            raise errors.invalid(violations)
        async with self._sessions.begin() as session:
            endpoint = await find(session, caller, wanted.id, for_update=True)
            if "url" in paths:
                endpoint.url = wanted.url
            if "enabled_events" in paths:
                endpoint.enabled_events = _distinct(wanted.enabled_events)
            if "status" in paths and _STATUSES[wanted.status] != endpoint.status:
                endpoint.status = _STATUSES[wanted.status]
                # Re-enabled: the reason it was disabled no longer holds. Disabled by the
                # merchant: no reason of PayLoops'.
                endpoint.disabled_reason = ""
            if paths:
                endpoint.updated_at = func.now()
            await session.flush()
            await session.refresh(endpoint)
            if paths:
                details = {"changed": sorted(set(paths)), **_described(endpoint)}
                _record(session, caller, AuditAction.WEBHOOK_ENDPOINT_UPDATED, endpoint, details)
            return endpoint_message(endpoint)

    async def DeleteWebhookEndpoint(
        self, request: webhooks_pb2.DeleteWebhookEndpointRequest, context: ServicerContext
    ) -> empty_pb2.Empty:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            endpoint = await find(session, caller, request.webhook_endpoint, for_update=True)
            # Kept (its deliveries' history refers to it), hidden, and sent nothing more: each
            # delivery still retrying stops at its next attempt.
            await session.execute(
                update(models.WebhookEndpoint)
                .where(models.WebhookEndpoint.id == endpoint.id)
                .values(status=EndpointStatus.DELETED, updated_at=func.now())
            )
            _record(session, caller, AuditAction.WEBHOOK_ENDPOINT_DELETED, endpoint, {})
        return empty_pb2.Empty()

    async def RotateWebhookEndpointSecret(
        self, request: webhooks_pb2.RotateWebhookEndpointSecretRequest, context: ServicerContext
    ) -> webhooks_pb2.WebhookEndpoint:
        grace = (
            request.grace_period.ToTimedelta()
            if request.HasField("grace_period")
            else DEFAULT_GRACE
        )
        if not timedelta(0) <= grace <= MAX_GRACE:
            raise errors.invalid(
                [
                    errors.FieldViolation(
                        "grace_period", "GRACE_PERIOD_OUT_OF_RANGE", "must be between 0 and 7 days"
                    )
                ]
            )
        secret = webhook_signing.new_secret()
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            endpoint = await find(session, caller, request.webhook_endpoint, for_update=True)
            with _sealing():
                old = self._box.open(endpoint.secrets)["current"]
                keep_old = grace > timedelta(0)
                endpoint.secrets = self._box.seal(
                    {"current": secret, "previous": old} if keep_old else {"current": secret}
                )
            # The database's clock, like every other time the deliveries compare against.
            endpoint.previous_secret_expires_at = (
                func.now() + func.make_interval(0, 0, 0, 0, 0, 0, grace.total_seconds())
                if keep_old
                else None
            )
            endpoint.updated_at = func.now()
            await session.flush()
            await session.refresh(endpoint)
            details = {"grace_period_seconds": int(grace.total_seconds())}
            _record(session, caller, AuditAction.WEBHOOK_ENDPOINT_SECRET_ROTATED, endpoint, details)
            return endpoint_message(endpoint, secret=secret)

    async def ListWebhookEndpointDeliveries(
        self, request: webhooks_pb2.ListWebhookEndpointDeliveriesRequest, context: ServicerContext
    ) -> webhooks_pb2.ListWebhookEndpointDeliveriesResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            if violations := page_size_violations(request.page_size):
                raise errors.invalid(violations)
            size = page_size(request.page_size)
            endpoint = await find(session, caller, request.webhook_endpoint)
            # The endpoint is the caller's (find): its id alone scopes the token.
            scope = f"endpoint_deliveries|{endpoint.id}"
            after = (
                self._page_tokens.decode(request.page_token, scope) if request.page_token else None
            )
            rows = await _deliveries_to(session, endpoint, after, size + 1)
            page = rows[:size]
            response = webhooks_pb2.ListWebhookEndpointDeliveriesResponse(
                deliveries=await delivery_messages(session, page)
            )
        if len(rows) > size:
            response.next_page_token = self._page_tokens.encode(
                Cursor(page[-1].created_at, page[-1].id), scope
            )
        return response

    async def SendTestEvent(
        self, request: webhooks_pb2.SendTestEventRequest, context: ServicerContext
    ) -> webhooks_pb2.EventDelivery:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            endpoint = await find(session, caller, request.webhook_endpoint)
            if endpoint.status != EndpointStatus.ENABLED:
                raise errors.PayLoopsError(
                    errors.WEBHOOK_ENDPOINT_DISABLED,
                    f"webhook endpoint {endpoint.id!r} is disabled; enable it first",
                    metadata={"webhook_endpoint": endpoint.id},
                )
            delivery = await test_events.record(session, endpoint)
        await self._deliveries.start([delivery])
        async with self._sessions() as session:
            (message,) = await delivery_messages(session, [delivery])
        return message


async def _deliveries_to(
    session: AsyncSession,
    endpoint: models.WebhookEndpoint,
    after: Cursor | None,
    limit: int,
) -> list[models.EventDelivery]:
    """Newest first, by (created_at, id), like every page."""
    delivery = models.EventDelivery
    query = select(delivery).where(delivery.endpoint_id == endpoint.id)
    if after is not None:
        query = query.where(
            tuple_(delivery.created_at, delivery.id) < tuple_(after.created_at, after.order_id)
        )
    query = query.order_by(delivery.created_at.desc(), delivery.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def find(
    session: AsyncSession, caller: Caller, endpoint_id: str, for_update: bool = False
) -> models.WebhookEndpoint:
    """The caller's endpoint in the caller's mode; anything else looks like a missing one."""
    query = select(models.WebhookEndpoint).where(
        models.WebhookEndpoint.id == endpoint_id,
        models.WebhookEndpoint.merchant_id == caller.merchant_id,
        models.WebhookEndpoint.livemode == caller.livemode,
        models.WebhookEndpoint.status != EndpointStatus.DELETED,
    )
    if for_update:
        query = query.with_for_update()
    endpoint = (await session.execute(query)).scalar_one_or_none()
    if endpoint is None:
        raise errors.PayLoopsError(
            errors.WEBHOOK_ENDPOINT_NOT_FOUND,
            f"no webhook endpoint {endpoint_id!r}",
            metadata={"webhook_endpoint": endpoint_id},
        )
    return endpoint


def _record(
    session: AsyncSession,
    caller: Caller,
    action: AuditAction,
    endpoint: models.WebhookEndpoint,
    details: Mapping[str, object],
) -> None:
    caller.record_change(session, action, "webhook_endpoint", endpoint.id, details)


def _described(endpoint: models.WebhookEndpoint) -> dict[str, object]:
    """What the log says of an endpoint: never its signing secret, and of its URL only the
    origin (scheme, host, port): a path or query may carry the receiver's own token."""
    return {
        "url_origin": _origin(endpoint.url),
        "enabled_events": list(endpoint.enabled_events),
        "status": str(endpoint.status),
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _event_violations(enabled_events: Sequence[str]) -> list[errors.FieldViolation]:
    field = "webhook_endpoint.enabled_events"
    if not enabled_events:
        return [
            errors.FieldViolation(
                field, "ENABLED_EVENTS_REQUIRED", f'name at least one event type, or "{ALL_EVENTS}"'
            )
        ]
    if len(enabled_events) > MAX_ENABLED_EVENTS:
        return [
            errors.FieldViolation(field, "ENABLED_EVENTS_TOO_MANY", f"at most {MAX_ENABLED_EVENTS}")
        ]
    return [
        errors.FieldViolation(
            f"{field}[{index}]",
            "EVENT_TYPE_UNKNOWN",
            f'{name!r} is not an event type; one of {", ".join(events.TYPES)} or "{ALL_EVENTS}"',
        )
        for index, name in enumerate(enabled_events)
        if name != ALL_EVENTS and name not in events.TYPES
    ]


def _distinct(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


@contextlib.contextmanager
def _sealing() -> Iterator[None]:
    """A deployment without encryption keys refuses to store signing secrets, clearly."""
    try:
        yield
    except SecretsNotConfigured as error:
        raise errors.PayLoopsError(
            errors.SECRETS_NOT_CONFIGURED,
            "webhook signing secrets cannot be stored: the platform has no encryption key "
            "(PAYLOOPS_SECRETS_KEYS)",
        ) from error
