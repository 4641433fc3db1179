"""The vault process: `payloops serve vault [--port N] [--host H]`. gRPC on 127.0.0.1 (or
H): TokenService (which Envoy routes /v1/tokens to) and VaultService (which Envoy never routes:
the worker calls it on this port), plus grpc.health.v1. A background task wipes CVCs past their
time to live."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from core.db.session import create_engine, session_factory
from core.logs import configure_logging
from payloops.v1 import tokens_pb2_grpc
from payloops.vault.v1 import vault_pb2_grpc
from vault.config import VaultSettings
from vault.interceptor import VaultInterceptor
from vault.services import TokenService, VaultService
from vault.store import Vault, vault_of

log = logging.getLogger("payloops.vault")
SERVER_OPTIONS = [("grpc.so_reuseport", 0)]
# How often expired CVCs are looked for: a CVC outlives its TTL by at most this much.
CVC_SWEEP_SECONDS = 1.0


async def serve(
    settings: VaultSettings, port: int, on_ready: Callable[[int], None] | None = None
) -> None:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    vault = vault_of(settings, sessions)
    server = grpc.aio.server(interceptors=[VaultInterceptor()], options=SERVER_OPTIONS)
    tokens_pb2_grpc.add_TokenServiceServicer_to_server(TokenService(sessions, vault), server)
    vault_pb2_grpc.add_VaultServiceServicer_to_server(
        VaultService(vault, settings.service_tokens), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    bound = server.add_insecure_port(f"{settings.host}:{port}")
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    log.info("vault listening on %s:%d", settings.host, bound)
    if on_ready is not None:
        on_ready(bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sweeping = asyncio.create_task(_wipe_expired_cvcs_forever(vault))
    try:
        await stop.wait()
    finally:
        sweeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeping
        await health_servicer.enter_graceful_shutdown()
        await server.stop(grace=5)
        await engine.dispose()


async def _wipe_expired_cvcs_forever(vault: Vault) -> None:
    while True:
        try:
            if wiped := await vault.wipe_expired_cvcs():
                log.info("wiped %d expired CVCs", wiped)
        except Exception as error:  # the database may be restarting: try again next round
            log.warning("could not wipe expired CVCs: %s", type(error).__name__)
        await asyncio.sleep(CVC_SWEEP_SECONDS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="payloops serve vault")
    parser.add_argument("--port", type=int, help="gRPC port (default PAYLOOPS_VAULT_PORT)")
    # 127.0.0.1 unless told: a container listens on 0.0.0.0 to be reached by its neighbours.
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    args = parser.parse_args(argv)
    configure_logging("vault")
    settings = VaultSettings.from_env()
    if args.host:
        settings = dataclasses.replace(settings, host=args.host)
    asyncio.run(serve(settings, settings.port if args.port is None else args.port))
