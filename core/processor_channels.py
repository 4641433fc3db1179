"""gRPC channels to processor adapters, one per address and TLS setting, shared by every call
of a process (the worker's activities, the edge's webhook and registration calls)."""

from __future__ import annotations

import hashlib

import grpc
from google.protobuf import json_format

from payloops.processor.v1 import processor_pb2, processor_pb2_grpc
from payloops.v1 import processors_pb2

# A processor registered with a bad address must fail its registration quickly.
CAPABILITIES_TIMEOUT_S = 5.0


class ProcessorChannels:
    def __init__(self) -> None:
        self._channels: dict[tuple[str, bool, str], grpc.aio.Channel] = {}

    def stub(
        self, target: str, tls: bool = False, tls_ca_pem: str = ""
    ) -> processor_pb2_grpc.ProcessorAsyncStub:
        key = (target, tls, hashlib.sha256(tls_ca_pem.encode()).hexdigest() if tls_ca_pem else "")
        channel = self._channels.get(key)
        if channel is None:
            if tls:
                credentials = grpc.ssl_channel_credentials(
                    root_certificates=tls_ca_pem.encode() if tls_ca_pem else None
                )
                channel = grpc.aio.secure_channel(target, credentials)
            else:
                channel = grpc.aio.insecure_channel(target)
            self._channels[key] = channel
        return processor_pb2_grpc.ProcessorStub(channel)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()


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
    )


def capabilities_to_json(capabilities: processors_pb2.ProcessorCapabilities) -> dict[str, object]:
    return json_format.MessageToDict(
        capabilities, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def capabilities_from_json(stored: dict[str, object]) -> processors_pb2.ProcessorCapabilities:
    return json_format.ParseDict(
        stored, processors_pb2.ProcessorCapabilities(), ignore_unknown_fields=True
    )
