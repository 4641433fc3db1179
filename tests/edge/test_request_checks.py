"""The checks every request gets before its handler (edge/request_checks.py), over every request
message of the public API: every string at any depth is checked, bytes are not, a violation
names the field and never quotes the value, and undecodable bytes are REQUEST_MALFORMED."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.protobuf import descriptor, duration_pb2, message_factory, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from core.errors import PayLoopsError
from edge import request_checks
from payloops.v1 import (
    health_pb2,
    orders_pb2,
    processors_pb2,
    refunds_pb2,
    routing_pb2,
    tokens_pb2,
    webhooks_pb2,
)

PAN = "4242424242424242"
NUL = "a\x00b"
# Deep enough for every request message of the API; google.protobuf.Struct would recurse.
MAX_DEPTH = 6


def request_types() -> list[descriptor.Descriptor]:
    files = (health_pb2, orders_pb2, processors_pb2, refunds_pb2, routing_pb2, webhooks_pb2)
    return [
        method.input_type
        for module in files
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    ]


def filled(kind: descriptor.Descriptor, text: str, enum_number: int) -> tuple[Message, set[str]]:
    """A message of `kind` with `text` in every string field and map entry and `enum_number`
    in every enum, at every depth; and the paths of the strings (a map with text keys is
    reported as the map: its keys are not repeated)."""
    message = message_factory.GetMessageClass(kind)()
    paths = set(_fill(message, "", text, enum_number, 0))
    return message, paths


def _fill(message: Message, path: str, text: str, number: int, depth: int) -> Iterator[str]:
    if depth > MAX_DEPTH:
        return
    set_oneofs: set[str] = set()
    for field in message.DESCRIPTOR.fields:
        if field.containing_oneof is not None:
            if field.containing_oneof.name in set_oneofs:
                continue  # setting a second member would clear the first
            set_oneofs.add(field.containing_oneof.name)
        name = f"{path}.{field.name}" if path else field.name
        value = getattr(message, field.name)
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            key_type = entry.fields_by_name["key"].type
            value_field = entry.fields_by_name["value"]
            key: object = text if key_type == FieldDescriptor.TYPE_STRING else 1
            if value_field.type == FieldDescriptor.TYPE_STRING:
                value[key] = text
            else:
                yield from _fill(value[key], name, text, number, depth + 1)
                continue
            yield name
        elif field.type == FieldDescriptor.TYPE_STRING:
            if field.is_repeated:
                value.append(text)
                yield f"{name}[0]"
            else:
                setattr(message, field.name, text)
                yield name
        elif field.enum_type is not None:
            if field.is_repeated:
                value.append(number)
            else:
                setattr(message, field.name, number)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            child = value.add() if field.is_repeated else value
            child_path = f"{name}[0]" if field.is_repeated else name
            yield from _fill(child, child_path, text, number, depth + 1)
            if not field.is_repeated and not child.ListFields():
                child.SetInParent()
        elif field.type == FieldDescriptor.TYPE_BYTES and not field.is_repeated:
            setattr(message, field.name, text.encode())  # data: never reported


def test_the_sweep_reaches_strings_in_nested_repeated_and_map_fields() -> None:
    _, paths = filled(routing_pb2.UpdateRoutingConfigRequest.DESCRIPTOR, NUL, 1)
    assert {
        "routing_config.rules[0].name",
        "routing_config.rules[0].conditions.metadata",
        "routing_config.rules[0].conditions.currencies[0]",
        "routing_config.rules[0].failover.processors[0]",
    } <= paths


@pytest.mark.parametrize("kind", request_types(), ids=lambda kind: kind.name)
def test_a_nul_anywhere_in_any_request_is_refused_at_its_path(
    kind: descriptor.Descriptor,
) -> None:
    request, paths = filled(kind, NUL, 0)
    found = request_checks.violations(request)
    assert {v.field for v in found} == paths
    assert {v.reason for v in found} <= {"NUL_CHARACTER_NOT_ALLOWED"}


@pytest.mark.parametrize("kind", request_types(), ids=lambda kind: kind.name)
def test_a_card_number_anywhere_in_any_request_is_refused_and_never_quoted(
    kind: descriptor.Descriptor,
) -> None:
    request, paths = filled(kind, PAN, 0)
    found = request_checks.violations(request)
    assert {v.field for v in found} == paths
    assert {v.reason for v in found} <= {"CARD_NUMBER_NOT_ALLOWED"}
    assert not [v for v in found if "4242" in v.field + v.description]


@pytest.mark.parametrize("kind", request_types(), ids=lambda kind: kind.name)
def test_an_enum_number_the_enum_does_not_define_is_refused_at_its_path(
    kind: descriptor.Descriptor,
) -> None:
    request, _ = filled(kind, "ok", 12345)
    expected = {path for path in _enum_paths(kind, "", 0) if _reaches(request, path)}
    found = request_checks.violations(request)
    assert {v.field for v in found} == expected
    assert {v.reason for v in found} <= {"ENUM_VALUE_UNKNOWN"}


def _enum_paths(kind: descriptor.Descriptor, path: str, depth: int) -> Iterator[str]:
    if depth > MAX_DEPTH:
        return
    for field in kind.fields:
        name = f"{path}.{field.name}" if path else field.name
        if field.enum_type is not None:
            yield f"{name}[0]" if field.is_repeated else name
        elif field.message_type is not None and not field.message_type.GetOptions().map_entry:
            child = f"{name}[0]" if field.is_repeated else name
            yield from _enum_paths(field.message_type, child, depth + 1)


def _reaches(message: Message, path: str) -> bool:
    """Whether the filled message has this path set (only one member of a oneof is)."""
    current: object = message
    for part in path.split("."):
        name, _, index = part.partition("[")
        if not isinstance(current, Message) or not any(
            f.name == name for f, _ in current.ListFields()
        ):
            return False
        current = getattr(current, name)
        if index:
            current = current[0]  # type: ignore[index]
    return True


def test_defined_enum_numbers_and_ordinary_text_pass() -> None:
    for kind in request_types():
        request, _ = filled(kind, "ordinary text 12345", 1)
        assert request_checks.violations(request) == [], kind.name


def test_bytes_are_data_and_are_not_read() -> None:
    webhook = processors_pb2.ReceiveProcessorWebhookRequest(processor="sandbox")
    webhook.body.data = f'{{"card": "{PAN}", "nul": "\x00"}}'.encode()
    assert request_checks.violations(webhook) == []


def test_a_map_key_is_named_only_when_it_is_itself_acceptable() -> None:
    order = orders_pb2.Order(
        metadata={"note": PAN, PAN: "v", "k" * 65: NUL, "nul\x00key": "v"},
    )
    found = {
        (v.field, v.reason, v.description.split(" ")[0])
        for v in request_checks.violations(orders_pb2.CreateOrderRequest(order=order))
    }
    assert found == {
        ("order.metadata.note", "CARD_NUMBER_NOT_ALLOWED", "looks"),
        ("order.metadata", "CARD_NUMBER_NOT_ALLOWED", "a"),  # a key …
        ("order.metadata", "NUL_CHARACTER_NOT_ALLOWED", "a"),  # a value, a key …
    }


def test_a_bin_is_not_a_card_number_but_a_whole_one_sent_as_bin_is() -> None:
    def pay(bin_: str) -> orders_pb2.PayOrderRequest:
        return orders_pb2.PayOrderRequest(
            order="ord_1",
            payment_method=orders_pb2.PaymentMethod(
                type="card", token="pm_card_visa", card=orders_pb2.CardHints(bin=bin_)
            ),
        )

    assert request_checks.violations(pay("42424242")) == []
    assert [(v.field, v.reason) for v in request_checks.violations(pay(PAN))] == [
        ("payment_method.card.bin", "CARD_NUMBER_NOT_ALLOWED")
    ]


@pytest.mark.parametrize(
    ("seconds", "nanos", "ok"),
    [
        (-62_135_596_800, 0, True),  # 0001-01-01T00:00:00Z
        (253_402_300_799, 999_999_999, True),  # 9999-12-31T23:59:59.999999999Z
        (-62_135_596_801, 0, False),
        (253_402_300_800, 0, False),
        (0, -1, False),
        (0, 1_000_000_000, False),
        (2**62, 0, False),
    ],
)
def test_timestamps_outside_their_documented_range_are_refused(
    seconds: int, nanos: int, ok: bool
) -> None:
    request = orders_pb2.ListOrdersRequest(
        created_after=timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    )
    found = [(v.field, v.reason) for v in request_checks.violations(request)]
    assert found == ([] if ok else [("created_after", "TIMESTAMP_OUT_OF_RANGE")])


@pytest.mark.parametrize(
    ("seconds", "nanos", "ok"),
    [
        (315_576_000_000, 999_999_999, True),
        (-315_576_000_000, -999_999_999, True),
        (315_576_000_001, 0, False),
        (-(2**62), 0, False),
        (1, -1, False),  # seconds and nanos of different signs
        (0, 1_000_000_000, False),
    ],
)
def test_durations_outside_their_documented_range_are_refused(
    seconds: int, nanos: int, ok: bool
) -> None:
    request = webhooks_pb2.RotateWebhookEndpointSecretRequest(
        webhook_endpoint="we_1", grace_period=duration_pb2.Duration(seconds=seconds, nanos=nanos)
    )
    found = [(v.field, v.reason) for v in request_checks.violations(request)]
    assert found == ([] if ok else [("grace_period", "DURATION_OUT_OF_RANGE")])


@pytest.mark.parametrize(
    "raw",
    [
        b"\x0a\x03\xffbc",  # GetOrderRequest.order = b"\xffbc": not UTF-8
        b"\x0a\xff\xff",  # a length beyond the end
        b"\xff\xff\xff\xff",  # not protobuf at all
    ],
)
def test_bytes_that_are_not_the_request_message_are_request_malformed(raw: bytes) -> None:
    with pytest.raises(PayLoopsError) as refused:
        request_checks.decode(orders_pb2.GetOrderRequest.FromString, raw)
    status = refused.value.to_status()
    assert refused.value.kind.reason == "REQUEST_MALFORMED"
    assert status.code == 3  # INVALID_ARGUMENT
    for leak in ("DecodeError", "class", "parsing", "Wire format"):
        assert leak not in status.message


def test_only_the_vault_takes_a_card_number_and_it_still_refuses_nul() -> None:
    """The vault's tokenization runs the same checks with card numbers allowed, and nothing
    else is lifted."""
    card = tokens_pb2.CreateTokenRequest(card=tokens_pb2.NewCard(number=PAN, holder_name=NUL))
    assert [(v.field, v.reason) for v in request_checks.violations(card)] == [
        ("card.number", "CARD_NUMBER_NOT_ALLOWED"),
        ("card.holder_name", "NUL_CHARACTER_NOT_ALLOWED"),
    ]
    assert [
        (v.field, v.reason) for v in request_checks.violations(card, card_numbers_allowed=True)
    ] == [("card.holder_name", "NUL_CHARACTER_NOT_ALLOWED")]
