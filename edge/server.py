"""The edge process: the public API over gRPC (Envoy transcodes REST to it)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import signal
import sys
from collections.abc import Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from core.config import Settings
from core.db.session import create_engine, session_factory
from core.logs import configure_logging
from core.payload_codec import CodecKeysInvalid
from core.payload_codec import parse_keys as parse_codec_keys
from core.processors import registry
from core.processors.channels import ProcessorChannels
from core.secrets import SecretBox
from core.signing_keys import SigningKeyInvalid, parse_keys
from core.telemetry import Telemetry, configure_telemetry
from core.temporal import connect as connect_temporal
from core.webhooks.deliveries import RetrySchedule
from core.webhooks.urls import Destinations
from edge import analytics_rollup, auth, key_usage
from edge.access_tokens import AccessTokens
from edge.delivery_starter import DeliveryStarter
from edge.idempotency import Idempotency
from edge.interceptors import EdgeInterceptor
from edge.lifecycle import Lifecycle
from edge.page_tokens import PageTokens, secret_problem
from edge.payments import Payments
from edge.services.analytics import AnalyticsService
from edge.services.api_keys import ApiKeyService
from edge.services.audit_log import AuditLogService
from edge.services.customers import CustomerService
from edge.services.events import EventService
from edge.services.health import HealthService, WorkerPresence
from edge.services.merchants import MerchantService
from edge.services.orders import OrderService
from edge.services.processor_accounts import ProcessorAccountService
from edge.services.processor_webhooks import ProcessorWebhookService
from edge.services.processors import ProcessorService
from edge.services.refunds import RefundService
from edge.services.routing_config import RoutingService
from edge.services.sessions import SessionService
from edge.services.users import UserService
from edge.services.webhook_endpoints import WebhookEndpointService
from edge.sign_in_throttle import SignInThrottle, ThrottleLimits
from payloops.v1 import (
    analytics_pb2,
    analytics_pb2_grpc,
    api_keys_pb2,
    api_keys_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    customers_pb2,
    customers_pb2_grpc,
    merchants_pb2,
    merchants_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    processors_pb2,
    processors_pb2_grpc,
    refunds_pb2,
    refunds_pb2_grpc,
    routing_pb2,
    routing_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
    users_pb2,
    users_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)
from payloops.v1 import health_pb2 as api_health_pb2
from payloops.v1 import health_pb2_grpc as api_health_pb2_grpc
from vault import client as vault_client

# Envoy refuses requests whose URL and headers pass 16 KiB (its headers_size_limit filter)
# itself; what it lets through reaches here as metadata, the REST path counted twice (as
# x-envoy-original-path). grpcio's default (8 KiB, then a random share of requests up to
# 16 KiB) would refuse some of those with a retry-inviting RESOURCE_EXHAUSTED that names the
# limit; with the soft and hard limits equal and far above Envoy's, none is refused.
MAX_METADATA_BYTES = 64 * 1024

SERVER_OPTIONS = [
    # grpcio shares ports (SO_REUSEPORT) by default: a second server on the same port would
    # silently take half the calls. A port in use must fail the start instead.
    ("grpc.so_reuseport", 0),
    ("grpc.max_metadata_size", MAX_METADATA_BYTES),
    ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
]

log = logging.getLogger("payloops.edge")


async def serve(
    settings: Settings,
    port: int,
    on_ready: Callable[[int], None] | None = None,
    telemetry: Telemetry | None = None,
) -> None:
    """Runs until cancelled or SIGTERM/SIGINT. Port 0 picks a free port."""
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    temporal = await connect_temporal(
        settings, interceptors=telemetry.temporal_interceptors() if telemetry else ()
    )
    channels = ProcessorChannels()
    server = grpc.aio.server(interceptors=[EdgeInterceptor()], options=SERVER_OPTIONS)
    idempotency = Idempotency(sessions, wait_seconds=settings.pay_wait_seconds + 5)
    lifecycle = Lifecycle(temporal, settings.task_queue, settings.pay_wait_seconds)
    orders_pb2_grpc.add_OrderServiceServicer_to_server(
        OrderService(
            sessions,
            Payments(temporal, settings.task_queue, settings.pay_wait_seconds),
            lifecycle,
            idempotency,
            PageTokens(settings.page_token_secret),
        ),
        server,
    )
    # The vault, for what a saved card shows (never its number); None when this edge has no
    # credential of the vault's: saving a card then answers VAULT_UNAVAILABLE.
    vault = vault_client.VaultClient.from_env() if vault_client.is_configured() else None
    customers_pb2_grpc.add_CustomerServiceServicer_to_server(
        CustomerService(sessions, idempotency, PageTokens(settings.page_token_secret), vault),
        server,
    )
    refunds_pb2_grpc.add_RefundServiceServicer_to_server(
        RefundService(sessions, lifecycle, idempotency), server
    )
    routing_pb2_grpc.add_RoutingServiceServicer_to_server(
        RoutingService(sessions, idempotency, PageTokens(settings.page_token_secret)), server
    )
    api_keys_pb2_grpc.add_ApiKeyServiceServicer_to_server(
        ApiKeyService(sessions, idempotency, PageTokens(settings.page_token_secret)), server
    )
    audit_pb2_grpc.add_AuditLogServiceServicer_to_server(
        AuditLogService(sessions, PageTokens(settings.page_token_secret)), server
    )
    analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(AnalyticsService(sessions), server)
    merchants_pb2_grpc.add_MerchantServiceServicer_to_server(
        MerchantService(sessions, settings.admin_api_keys, settings.default_processor), server
    )
    access_tokens = AccessTokens(parse_keys(settings.jwt_signing_keys))
    auth.use_access_tokens(access_tokens)
    users_pb2_grpc.add_UserServiceServicer_to_server(
        UserService(sessions, PageTokens(settings.page_token_secret), settings.admin_api_keys),
        server,
    )
    sessions_pb2_grpc.add_SessionServiceServicer_to_server(
        SessionService(
            sessions, access_tokens, SignInThrottle(ThrottleLimits.from_settings(settings))
        ),
        server,
    )
    box = SecretBox(settings.secrets_keys)
    processors_pb2_grpc.add_ProcessorServiceServicer_to_server(
        ProcessorService(sessions, channels, settings.admin_api_keys), server
    )
    processors_pb2_grpc.add_ProcessorAccountServiceServicer_to_server(
        ProcessorAccountService(sessions, box), server
    )
    processors_pb2_grpc.add_ProcessorWebhookServiceServicer_to_server(
        ProcessorWebhookService(sessions, box, channels, temporal), server
    )
    deliveries = DeliveryStarter(
        temporal, settings.task_queue, RetrySchedule.from_settings(settings)
    )
    webhooks_pb2_grpc.add_WebhookEndpointServiceServicer_to_server(
        WebhookEndpointService(
            sessions,
            box,
            idempotency,
            Destinations.from_settings(settings, functools.partial(registry.targets, sessions)),
            PageTokens(settings.page_token_secret),
            deliveries,
        ),
        server,
    )
    webhooks_pb2_grpc.add_EventServiceServicer_to_server(
        EventService(sessions, PageTokens(settings.page_token_secret), deliveries),
        server,
    )
    api_health_pb2_grpc.add_HealthServiceServicer_to_server(
        HealthService(
            sessions,
            temporal,
            WorkerPresence(temporal, settings.task_queue, settings.worker_silence_seconds),
        ),
        server,
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [
            orders_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name,
            customers_pb2.DESCRIPTOR.services_by_name["CustomerService"].full_name,
            routing_pb2.DESCRIPTOR.services_by_name["RoutingService"].full_name,
            refunds_pb2.DESCRIPTOR.services_by_name["RefundService"].full_name,
            api_keys_pb2.DESCRIPTOR.services_by_name["ApiKeyService"].full_name,
            audit_pb2.DESCRIPTOR.services_by_name["AuditLogService"].full_name,
            analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name,
            merchants_pb2.DESCRIPTOR.services_by_name["MerchantService"].full_name,
            users_pb2.DESCRIPTOR.services_by_name["UserService"].full_name,
            sessions_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name,
            *(
                processors_pb2.DESCRIPTOR.services_by_name[name].full_name
                for name in (
                    "ProcessorService",
                    "ProcessorAccountService",
                    "ProcessorWebhookService",
                )
            ),
            *(
                webhooks_pb2.DESCRIPTOR.services_by_name[name].full_name
                for name in ("WebhookEndpointService", "EventService")
            ),
            api_health_pb2.DESCRIPTOR.services_by_name["HealthService"].full_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    bound = server.add_insecure_port(f"{settings.edge_host}:{port}")
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    log.info("edge listening on %s:%d", settings.edge_host, bound)
    if on_ready is not None:
        on_ready(bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    recording_key_usage = asyncio.create_task(key_usage.flush_forever(sessions))
    refreshing_analytics = asyncio.create_task(analytics_rollup.refresh_forever(sessions))
    try:
        await stop.wait()
    finally:
        await health_servicer.enter_graceful_shutdown()
        await server.stop(grace=5)
        recording_key_usage.cancel()
        refreshing_analytics.cancel()
        await key_usage.flush(sessions)
        await channels.close()
        if vault is not None:
            await vault.close()
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="payloops serve edge")
    parser.add_argument("--port", type=int, help="gRPC port (default PAYLOOPS_EDGE_PORT)")
    args = parser.parse_args(argv)
    configure_logging("edge")
    settings = Settings.from_env()
    if problem := secret_problem(settings.page_token_secret):
        raise SystemExit(f"payloops serve edge: {problem}")
    try:
        parse_keys(settings.jwt_signing_keys)
    except SigningKeyInvalid as error:
        raise SystemExit(f"payloops serve edge: PAYLOOPS_JWT_SIGNING_KEYS: {error}") from None
    try:
        parse_codec_keys(settings.temporal_codec_keys)
    except CodecKeysInvalid as error:
        raise SystemExit(f"payloops serve edge: {error}") from None
    telemetry = configure_telemetry("edge", settings)
    port = settings.edge_port if args.port is None else args.port
    asyncio.run(serve(settings, port, telemetry=telemetry))
    telemetry.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # the Temporal bridge's threads can crash interpreter teardown (sdk-python#300)


if __name__ == "__main__":
    main()
