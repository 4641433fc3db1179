"""Every payload of a Temporal workflow history, wherever the history's messages hold one
(inputs, results, signals, updates, markers, failures' encoded attributes, headers, memos):
what the Temporal server stores, and so what must not be readable without the codec keys."""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.converter import PayloadCodec


def payloads_in(message: Message) -> Iterator[Payload]:
    """The payloads of `message` and of every message inside it, as references (changing one
    changes `message`)."""
    for payload in messages_named(message, Payload.DESCRIPTOR.full_name):
        assert isinstance(payload, Payload)
        yield payload


def messages_named(message: Message, full_name: str) -> Iterator[Message]:
    """Every message of type `full_name` in `message`, itself included."""
    if message.DESCRIPTOR.full_name == full_name:
        yield message
        return
    for field, value in message.ListFields():
        kind = field.message_type
        if field.type != FieldDescriptor.TYPE_MESSAGE or kind is None:
            continue
        if kind.GetOptions().map_entry:
            if kind.fields_by_name["value"].type != FieldDescriptor.TYPE_MESSAGE:
                continue
            entries = list(value.values())
        else:
            entries = list(value) if field.is_repeated else [value]
        for entry in entries:
            yield from messages_named(entry, full_name)


def header_payloads(history: WorkflowHistory) -> list[Payload]:
    """The payloads of every header in `history` (a workflow's start, its activities', its
    child workflows', its signals'): what interceptors send alongside the inputs."""
    return [
        payload
        for event in history.events
        for header in messages_named(event, "temporal.api.common.v1.Header")
        for payload in payloads_in(header)
    ]


def history_payloads(history: WorkflowHistory) -> list[Payload]:
    return [payload for event in history.events for payload in payloads_in(event)]


async def decode_in_place(history: WorkflowHistory, codec: PayloadCodec) -> None:
    """Replaces each payload of `history` with what the codec decodes it to: a history that
    replays, and reads, without the keys."""
    for payload in history_payloads(history):
        [decoded] = await codec.decode([payload])
        payload.CopyFrom(decoded)
