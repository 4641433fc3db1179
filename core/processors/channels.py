"""gRPC channels to processor adapters, one per address and TLS setting, shared by every call
of a process (the worker's activities, the edge's webhook and registration calls)."""

from __future__ import annotations

import asyncio
import hashlib

import grpc
from google.protobuf import json_format

from core.processors.call_metadata import CorrelationMetadata
from payloops.processor.v1 import processor_pb2, processor_pb2_grpc
from payloops.v1 import processors_pb2

# A processor registered with a bad address must fail its registration quickly.
CAPABILITIES_TIMEOUT_S = 5.0
# A channel in one of these states has given up connecting for now: waiting longer is waiting
# for gRPC's reconnect backoff, and a call would fail at once anyway.
_GAVE_UP = frozenset(
    {grpc.ChannelConnectivity.TRANSIENT_FAILURE, grpc.ChannelConnectivity.SHUTDOWN}
)

# A channel that lost its adapter waits gRPC's reconnect backoff (up to 120 s by default) before
# it tries again, and calls meanwhile count as not sent: an adapter that is back must be
# usable again within about the breaker's cool-down, not minutes later.
_CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
)

_INTERCEPTORS = (CorrelationMetadata(),)


class NotConnected(Exception):
    """No connection to the adapter could be established: no call was started on it."""

    def __init__(self, state: grpc.ChannelConnectivity) -> None:
        super().__init__(f"no connection to the processor (channel {state.name})")
        self.state = state


class ProcessorChannels:
    def __init__(self) -> None:
        self._channels: dict[tuple[str, bool, str], grpc.aio.Channel] = {}

    def stub(
        self, target: str, tls: bool = False, tls_ca_pem: str = ""
    ) -> processor_pb2_grpc.ProcessorAsyncStub:
        return processor_pb2_grpc.ProcessorStub(self._channel(target, tls, tls_ca_pem))

    async def connected_stub(
        self, target: str, timeout_s: float, tls: bool = False, tls_ca_pem: str = ""
    ) -> processor_pb2_grpc.ProcessorAsyncStub:
        """A stub whose channel has a connection to the adapter, within `timeout_s`; raises
        NotConnected, having sent nothing, when there is none.

        Why the connection is checked before the call rather than read from a failed call: a
        call that was never started was provably never sent, whatever gRPC's error text says
        (the text of "failed to connect" errors is not part of gRPC's API, and an UNAVAILABLE
        call may have gone out before its connection broke). Once a call is started on a
        connected channel, every failure of it may have reached the gateway."""
        channel = self._channel(target, tls, tls_ca_pem)
        await _connect(channel, timeout_s)
        return processor_pb2_grpc.ProcessorStub(channel)

    def _channel(self, target: str, tls: bool, tls_ca_pem: str) -> grpc.aio.Channel:
        key = (target, tls, hashlib.sha256(tls_ca_pem.encode()).hexdigest() if tls_ca_pem else "")
        channel = self._channels.get(key)
        if channel is None:
            if tls:
                credentials = grpc.ssl_channel_credentials(
                    root_certificates=tls_ca_pem.encode() if tls_ca_pem else None
                )
                channel = grpc.aio.secure_channel(
                    target, credentials, _CHANNEL_OPTIONS, interceptors=_INTERCEPTORS
                )
            else:
                channel = grpc.aio.insecure_channel(
                    target, _CHANNEL_OPTIONS, interceptors=_INTERCEPTORS
                )
            self._channels[key] = channel
        return channel

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()


async def _connect(channel: grpc.aio.Channel, timeout_s: float) -> None:
    """Returns once `channel` is READY; raises NotConnected when it gives up connecting (a
    refused connection, a failed TLS handshake) or `timeout_s` passes first."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + timeout_s
    state = channel.get_state(try_to_connect=True)
    while state is not grpc.ChannelConnectivity.READY:
        left = give_up_at - loop.time()
        if state in _GAVE_UP or left <= 0:
            raise NotConnected(state)
        try:
            async with asyncio.timeout(left):
                await channel.wait_for_state_change(state)
        except TimeoutError:
            raise NotConnected(state) from None
        state = channel.get_state(try_to_connect=True)


async def fetch_capabilities(
    channels: ProcessorChannels, target: str, tls: bool = False, tls_ca_pem: str = ""
) -> processors_pb2.ProcessorCapabilities:
    """What the adapter at `target` says it supports (raises grpc.aio.AioRpcError if it does
    not answer GetCapabilities)."""
    answer = await channels.stub(target, tls, tls_ca_pem).GetCapabilities(
        processor_pb2.GetCapabilitiesRequest(), timeout=CAPABILITIES_TIMEOUT_S
    )
    return processors_pb2.ProcessorCapabilities(
        currencies=answer.currencies,
        card_networks=answer.card_networks,
        manual_capture=answer.manual_capture,
        partial_capture=answer.partial_capture,
        partial_refund=answer.partial_refund,
        three_d_secure=answer.three_d_secure,
        credential_fields=answer.credential_fields,
        test_only=answer.test_only,
        accepts_raw_cards=answer.accepts_raw_cards,
        token_prefixes=answer.token_prefixes,
    )


def capabilities_to_json(capabilities: processors_pb2.ProcessorCapabilities) -> dict[str, object]:
    return json_format.MessageToDict(
        capabilities, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def capabilities_from_json(stored: dict[str, object]) -> processors_pb2.ProcessorCapabilities:
    return json_format.ParseDict(
        stored, processors_pb2.ProcessorCapabilities(), ignore_unknown_fields=True
    )
