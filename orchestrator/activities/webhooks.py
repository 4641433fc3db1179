"""The activities of merchant webhooks: dispatching an event to the merchant's endpoints, one
signed POST per attempt, and the bookkeeping of deliveries (attempt rows, next attempt times,
giving up, disabling an endpoint that has failed for days).

An attempt sends the event as GET /v1/events/{id} returns it, signed with every valid secret
of the endpoint; it reads the endpoint first, so a disabled or deleted endpoint gets nothing
more. Each POST has its own short-lived HTTP client: no connection pool is shared between
endpoints, so a receiver that hangs holds one activity slot for at most the timeout and
nothing else. The endpoint's host is resolved and checked again at every attempt, in both
modes, and the connection goes to an address that passed the check (core/webhooks/urls.py: DNS
rebinding). What went wrong is recorded as a class, never as the error's text
(core/webhooks/delivery_errors.py).
"""

# No `from __future__ import annotations` here: Temporal's converter resolves these classes'
# annotations on every payload it decodes, and string annotations are compiled each time
# (three times slower on the payment's hot path).

import asyncio
import functools
import json
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import SplitResult, urlsplit

import httpx
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core import metrics
from core.config import Settings
from core.contracts import events
from core.contracts.views import as_json
from core.contracts.vocabulary import DeliveryAttemptOutcome, DeliveryStatus, EndpointStatus
from core.db import models
from core.processors import registry
from core.secrets import SecretBox
from core.webhooks import deliveries as webhook_deliveries
from core.webhooks import delivery_errors
from core.webhooks import signing as webhook_signing
from core.webhooks import urls as webhook_urls
from core.webhooks.destinations import IPAddress
from core.webhooks.views import endpoint_message, event_json

log = logging.getLogger("payloops.webhooks")

USER_AGENT = "PayLoops-Webhooks/1.0"
# Heartbeats while a POST is in flight let the server notice a dead worker within the
# workflow's heartbeat timeout instead of the whole start-to-close timeout.
HEARTBEAT_EVERY_SECONDS = 1.0
_ERROR_LIMIT = 300

T = TypeVar("T")


@dataclass(frozen=True)
class AttemptCall:
    delivery_id: str
    attempt_number: int
    timeout_seconds: float
    # When the next attempt follows if this one fails (written as the delivery's
    # next_attempt_at); 0: this is the last one.
    retry_in_seconds: float


@dataclass(frozen=True)
class AttemptResult:
    # ENDPOINT_GONE: the delivery is over, marked failed.
    outcome: DeliveryAttemptOutcome
    http_status: int = 0
    error: str = ""


@dataclass(frozen=True)
class LostAttempt:
    """An attempt whose activity never reported back (its worker died, or it overran)."""

    delivery_id: str
    attempt_number: int
    error: str
    retry_in_seconds: float


@dataclass(frozen=True)
class GiveUp:
    delivery_id: str
    # When this run's first attempt failed (ISO 8601, the workflow's clock): if the endpoint
    # has had no 2xx since, it is disabled.
    failing_since: str


class WebhookActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        settings: Settings,
        destinations: webhook_urls.Destinations | None = None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._schedule = webhook_deliveries.RetrySchedule.from_settings(settings)
        self._destinations = destinations or webhook_urls.Destinations.from_settings(
            settings, functools.partial(registry.targets, sessions)
        )
        # Loading CA certificates costs milliseconds: once per worker, not per POST.
        self._tls = httpx.create_ssl_context()

    @activity.defn(name="dispatch_event")
    async def dispatch_event(self, event_id: str) -> int:
        """Creates the event's delivery to each enabled endpoint of its merchant and mode that
        takes its type, and starts each delivery's workflow; returns how many deliveries are
        under way. Idempotent: deliveries are keyed by (event, endpoint), and a delivery's
        workflow never runs twice on its own (core/webhooks/deliveries.py)."""
        async with self._sessions.begin() as session:
            event = await session.get(models.Event, event_id)
            if event is None:
                log.warning("dispatch_event: no event %s", event_id)
                return 0
            endpoints = await webhook_deliveries.listening_endpoints(session, event)
            deliveries = await webhook_deliveries.ensure_deliveries(session, event, endpoints)
        pending = [d for d in deliveries if d.status == DeliveryStatus.PENDING]
        return await webhook_deliveries.start(
            activity.client(), activity.info().task_queue, self._schedule, pending
        )

    @activity.defn(name="begin_delivery")
    async def begin_delivery(self, delivery_id: str) -> int:
        """Marks the delivery pending (a redelivery may follow a finished run); returns the
        number of this run's first attempt, after every attempt already recorded."""
        async with self._sessions.begin() as session:
            made = await session.scalar(
                select(func.coalesce(func.max(models.DeliveryAttempt.attempt_number), 0)).where(
                    models.DeliveryAttempt.delivery_id == delivery_id
                )
            )
            await session.execute(
                update(models.EventDelivery)
                .where(models.EventDelivery.id == delivery_id)
                .values(
                    status=DeliveryStatus.PENDING, next_attempt_at=func.now(), updated_at=func.now()
                )
            )
        return int(made or 0) + 1

    @activity.defn(name="attempt_delivery")
    async def attempt_delivery(self, call: AttemptCall) -> AttemptResult:
        async with self._sessions() as session:
            delivery = await session.get(models.EventDelivery, call.delivery_id)
            assert delivery is not None, f"no delivery {call.delivery_id}"
            endpoint = await session.get(models.WebhookEndpoint, delivery.endpoint_id)
            event = await session.get(models.Event, delivery.event_id)
            assert endpoint is not None and event is not None
        if endpoint.status != EndpointStatus.ENABLED:
            async with self._sessions.begin() as session:
                await _set_delivery(session, call.delivery_id, DeliveryStatus.FAILED)
            return AttemptResult(
                outcome=DeliveryAttemptOutcome.ENDPOINT_GONE, error=f"endpoint {endpoint.status}"
            )
        body = json.dumps(event_json(event), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            webhook_signing.EVENT_ID_HEADER: event.id,
            webhook_signing.ATTEMPT_HEADER: str(call.attempt_number),
            webhook_signing.SIGNATURE_HEADER: webhook_signing.signature_header(
                self._signing_secrets(endpoint), int(time.time()), body
            ),
        }
        started = time.monotonic()
        status, error = await _heartbeating(
            self._post(endpoint, body, headers, call.timeout_seconds)
        )
        latency_ms = int((time.monotonic() - started) * 1000)
        delivered = 200 <= status < 300
        # The lag an endpoint sees: from the event (the order's change) to this answer,
        # retries and their back-off included.
        metrics.webhook_delivery(delivered, (datetime.now(UTC) - event.created_at).total_seconds())
        async with self._sessions.begin() as session:
            await _write_attempt(
                session, call.delivery_id, call.attempt_number, status, latency_ms, error
            )
            if delivered:
                await _set_delivery(session, call.delivery_id, DeliveryStatus.SUCCEEDED)
            else:
                await _set_delivery(
                    session,
                    call.delivery_id,
                    DeliveryStatus.PENDING,
                    retry_in_seconds=call.retry_in_seconds,
                )
        log.info(
            "webhook delivery %s attempt %d: %s",
            call.delivery_id,
            call.attempt_number,
            status or error,
            extra={
                "fields": {
                    "delivery": call.delivery_id,
                    "endpoint": endpoint.id,
                    "event": event.id,
                    "attempt": call.attempt_number,
                    "http_status": status,
                    "latency_ms": latency_ms,
                }
            },
        )
        return AttemptResult(
            outcome=(
                DeliveryAttemptOutcome.DELIVERED if delivered else DeliveryAttemptOutcome.FAILED
            ),
            http_status=status,
            error=error,
        )

    @activity.defn(name="record_lost_attempt")
    async def record_lost_attempt(self, lost: LostAttempt) -> None:
        async with self._sessions.begin() as session:
            await _write_attempt(
                session,
                lost.delivery_id,
                lost.attempt_number,
                0,
                0,
                delivery_errors.shown(lost.error),
            )
            await _set_delivery(
                session,
                lost.delivery_id,
                DeliveryStatus.PENDING,
                retry_in_seconds=lost.retry_in_seconds,
            )

    @activity.defn(name="give_up_delivery")
    async def give_up_delivery(self, request: GiveUp) -> str:
        """Marks the delivery failed. If its endpoint has had no 2xx answer since this run's
        first attempt (3 days of failures), disables it and records a
        webhook_endpoint.disabled event, whose id is returned ("" when nothing was disabled)
        for the workflow to dispatch to the merchant's other endpoints."""
        failing_since = datetime.fromisoformat(request.failing_since)
        reason = f"failing_since:{_rfc3339(failing_since)}"
        async with self._sessions.begin() as session:
            delivery = await _set_delivery(session, request.delivery_id, DeliveryStatus.FAILED)
            endpoint = (
                await session.execute(
                    select(models.WebhookEndpoint)
                    .where(models.WebhookEndpoint.id == delivery.endpoint_id)
                    .with_for_update()
                )
            ).scalar_one()
            key = f"{endpoint.id}:{events.WEBHOOK_ENDPOINT_DISABLED}:{reason}"
            if endpoint.status == EndpointStatus.DISABLED and endpoint.disabled_reason == reason:
                return events.event_id(key)  # this step, run again after its answer was lost
            if endpoint.status != EndpointStatus.ENABLED or await _succeeded_since(
                session, endpoint.id, failing_since
            ):
                return ""
            disabled = (
                await session.execute(
                    update(models.WebhookEndpoint)
                    .where(models.WebhookEndpoint.id == endpoint.id)
                    .values(
                        status=EndpointStatus.DISABLED,
                        disabled_reason=reason,
                        updated_at=func.now(),
                    )
                    .returning(models.WebhookEndpoint)
                    .execution_options(populate_existing=True)
                )
            ).scalar_one()
            log.warning(
                "webhook endpoint %s disabled: no successful delivery since %s",
                endpoint.id,
                _rfc3339(failing_since),
            )
            return await events.record(
                session,
                merchant_id=disabled.merchant_id,
                livemode=disabled.livemode,
                type=events.WEBHOOK_ENDPOINT_DISABLED,
                obj=as_json(endpoint_message(disabled)),
                key=key,
                order_id="",
            )

    def _signing_secrets(self, endpoint: models.WebhookEndpoint) -> list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        stored = self._box.open(endpoint.secrets)
        valid = [stored["current"]]
        expires = endpoint.previous_secret_expires_at
        if stored.get("previous") and expires is not None and expires > datetime.now(UTC):
            valid.append(stored["previous"])
        return valid

    async def _post(
        self,
        endpoint: models.WebhookEndpoint,
        body: bytes,
        headers: dict[str, str],
        limit_seconds: float,
    ) -> tuple[int, str]:
        """The endpoint's HTTP status (0 when it did not answer) and the class of what went
        wrong (core/webhooks/delivery_errors.py; "" on 2xx)."""
        parts = urlsplit(endpoint.url)
        try:
            addresses = await self._destinations.approved_addresses(parts, endpoint.livemode)
        except webhook_urls.UnsafeDestination as unsafe:
            unresolvable = unsafe.problem.reason == webhook_urls.URL_UNRESOLVABLE
            return 0, _failed(
                endpoint,
                delivery_errors.DNS_ERROR
                if unresolvable
                else delivery_errors.DESTINATION_NOT_ALLOWED,
                f"{unsafe.problem.description} ({unsafe.address or 'no address'})",
            )
        try:
            async with asyncio.timeout(limit_seconds):
                status = await self._post_to_first_answering(
                    parts, addresses, body, headers, limit_seconds
                )
        except (TimeoutError, httpx.TimeoutException) as error:
            return 0, _failed(endpoint, delivery_errors.TIMEOUT, _detail(error))
        except httpx.HTTPError as error:
            return 0, _failed(endpoint, delivery_errors.classify(error), _detail(error))
        if 200 <= status < 300:
            return status, ""
        # A redirect is not followed: it would lead anywhere, past every check above.
        return status, delivery_errors.HTTP_STATUS

    async def _post_to_first_answering(
        self,
        parts: SplitResult,
        addresses: list[IPAddress],
        body: bytes,
        headers: dict[str, str],
        limit_seconds: float,
    ) -> int:
        """POSTs to the checked addresses in turn, naming the host in Host and in TLS (SNI and
        the certificate check), until one accepts the connection (`localhost` is ::1 and
        127.0.0.1; a receiver may listen on one only). Never to a second lookup's answer: it
        could differ from what was checked. A request that was sent is never sent again."""
        extensions = {"sni_hostname": parts.hostname or ""} if parts.scheme == "https" else {}
        for index, address in enumerate(addresses):
            url, host = _pinned(parts, address)
            try:
                async with (
                    httpx.AsyncClient(
                        verify=self._tls,
                        follow_redirects=False,
                        trust_env=False,
                        timeout=httpx.Timeout(limit_seconds),
                    ) as client,
                    client.stream(
                        "POST",
                        url,
                        content=body,
                        headers={**headers, "Host": host},
                        extensions=extensions,
                    ) as response,
                ):
                    # The answer's body is not read: only the status matters.
                    return response.status_code
            except httpx.ConnectError:
                if index == len(addresses) - 1:
                    raise
        raise AssertionError("approved_addresses returns at least one address")


def _failed(endpoint: models.WebhookEndpoint, error_class: str, detail: str) -> str:
    """Logs the raw detail of a failed attempt for the operator (never the URL: its path may
    carry the merchant's secret); returns the class the merchant is shown."""
    log.warning(
        "webhook endpoint %s: %s (%s)",
        endpoint.id,
        error_class,
        detail,
        extra={"fields": {"endpoint": endpoint.id, "error": error_class}},
    )
    return error_class


def _detail(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:_ERROR_LIMIT]


async def _heartbeating(work: Awaitable[T]) -> T:
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_SECONDS)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        task.cancel()


def _pinned(parts: SplitResult, address: IPAddress) -> tuple[str, str]:
    """The URL with the host replaced by `address`, and the Host header of the original."""
    literal = f"[{address}]" if address.version == 6 else str(address)
    port = f":{parts.port}" if parts.port else ""
    url = parts._replace(netloc=f"{literal}{port}").geturl()
    return url, parts.netloc


async def _write_attempt(
    session: AsyncSession, delivery_id: str, number: int, status: int, latency_ms: int, error: str
) -> None:
    values = {"http_status": status, "latency_ms": latency_ms, "error": error[:_ERROR_LIMIT]}
    await session.execute(
        insert(models.DeliveryAttempt)
        .values(delivery_id=delivery_id, attempt_number=number, **values)
        .on_conflict_do_update(
            index_elements=[
                models.DeliveryAttempt.delivery_id,
                models.DeliveryAttempt.attempt_number,
            ],
            set_=values,
        )
    )


async def _set_delivery(
    session: AsyncSession, delivery_id: str, status: DeliveryStatus, retry_in_seconds: float = 0
) -> models.EventDelivery:
    next_attempt = (
        func.now() + func.make_interval(0, 0, 0, 0, 0, 0, retry_in_seconds)
        if status == DeliveryStatus.PENDING and retry_in_seconds > 0
        else None
    )
    return (
        await session.execute(
            update(models.EventDelivery)
            .where(models.EventDelivery.id == delivery_id)
            .values(status=status, next_attempt_at=next_attempt, updated_at=func.now())
            .returning(models.EventDelivery)
        )
    ).scalar_one()


async def _succeeded_since(session: AsyncSession, endpoint_id: str, since: datetime) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    and_(
                        models.DeliveryAttempt.delivery_id == models.EventDelivery.id,
                        models.EventDelivery.endpoint_id == endpoint_id,
                        models.DeliveryAttempt.http_status.between(200, 299),
                        models.DeliveryAttempt.created_at >= since,
                    )
                )
            )
        )
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
