"""What every request to the edge must be before any handler sees it, whatever its method.

The interceptor decodes each request here (so bytes that are not the method's message, or
text that is not UTF-8, are refused like any other bad input) and walks every field of it at
any depth: nested messages, repeated fields, map keys and values. Bytes fields (a gateway
webhook's raw body) are data, not text, and are not read. Refused anywhere:

- the NUL character: PostgreSQL text cannot hold it, so it would fail the request's query;
- an enum number the enum does not define (proto3 keeps unknown numbers; handlers map names);
- a card number: PayLoops never takes one, in any field, key, filter or path parameter;
- a Timestamp or Duration outside the range its type documents (Python cannot convert one).

A violation names the field by its path from the request message (`order.metadata.note`,
`routing_config.rules[0].name`) and never quotes the value; a map key is named only when it is
itself acceptable and short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from core import errors
from core.card_numbers import looks_like_card_number
from core.errors import FieldViolation

# The ranges google/protobuf/timestamp.proto and duration.proto define.
MIN_TIMESTAMP_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_TIMESTAMP_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
MAX_DURATION_SECONDS = 315_576_000_000  # about 10 000 years
MAX_NANOS = 999_999_999
# A map key longer than this is not repeated in a field path, even when it is acceptable.
MAX_NAMED_KEY = 64
_CARD_NUMBER = "looks like a card number; send a payment method token, never the number"
_NUL = "contains the NUL character (U+0000), which text here cannot hold"


def decode(parse: Callable[[bytes], Any], raw: bytes) -> Any:
    """The request message, or REQUEST_MALFORMED. Nothing of the bytes or of the parser's
    error is repeated: the parser names its own classes and the offending data."""
    try:
        return parse(raw)
    except Exception as error:  # any failure to parse is the request's, whatever it raised
        raise errors.PayLoopsError(
            errors.REQUEST_MALFORMED,
            "the request could not be decoded: it is not valid protobuf, or holds text that "
            "is not UTF-8 (in the body, the path or the query)",
        ) from error


def violations(message: Message, *, card_numbers_allowed: bool = False) -> list[FieldViolation]:
    """`card_numbers_allowed`: only for the card vault's tokenization, the one place that
    takes card numbers."""
    return list(_message(message, "", card_numbers_allowed))


def _message(message: Message, path: str, cards: bool) -> Iterator[FieldViolation]:
    range_check = _RANGE_CHECKS.get(message.DESCRIPTOR.full_name)
    if range_check is not None:
        yield from range_check(message, path)
    for field, value in message.ListFields():
        field_path = f"{path}.{field.name}" if path else field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            yield from _map(field, value, field_path, cards)
        elif field.is_repeated:
            for index, item in enumerate(value):
                yield from _value(field, item, f"{field_path}[{index}]", cards)
        else:
            yield from _value(field, value, field_path, cards)


def _value(
    field: FieldDescriptor, value: Any, path: str, cards: bool, prefix: str = ""
) -> Iterator[FieldViolation]:
    """`prefix` says which part of a map entry is wrong when the path names the whole map."""
    if field.type == FieldDescriptor.TYPE_STRING:
        if "\x00" in value:
            yield FieldViolation(path, "NUL_CHARACTER_NOT_ALLOWED", prefix + _NUL)
        if not cards and looks_like_card_number(value):
            yield FieldViolation(path, "CARD_NUMBER_NOT_ALLOWED", prefix + _CARD_NUMBER)
    elif field.enum_type is not None:
        enum = field.enum_type
        if value not in enum.values_by_number:
            yield FieldViolation(
                path,
                "ENUM_VALUE_UNKNOWN",
                f"{prefix}is not a {enum.name}; one of {', '.join(v.name for v in enum.values)}",
            )
    elif field.type == FieldDescriptor.TYPE_MESSAGE:
        yield from _message(value, path, cards)


def _map(
    field: FieldDescriptor, entries: Mapping[Any, Any], path: str, cards: bool
) -> Iterator[FieldViolation]:
    entry = field.message_type
    assert entry is not None  # a map field's entries are messages
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    for key, value in entries.items():
        key_problems = list(_value(key_field, key, path, cards, prefix="a key "))
        yield from key_problems
        named = not key_problems and len(str(key)) <= MAX_NAMED_KEY and str(key).isprintable()
        yield from _value(
            value_field,
            value,
            f"{path}.{key}" if named else path,
            cards,
            "" if named else "a value ",
        )


def _timestamp(message: Any, path: str) -> Iterator[FieldViolation]:
    if not (
        MIN_TIMESTAMP_SECONDS <= message.seconds <= MAX_TIMESTAMP_SECONDS
        and 0 <= message.nanos <= MAX_NANOS
    ):
        yield FieldViolation(
            path,
            "TIMESTAMP_OUT_OF_RANGE",
            "must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z",
        )


def _duration(message: Any, path: str) -> Iterator[FieldViolation]:
    seconds, nanos = message.seconds, message.nanos
    if not (
        -MAX_DURATION_SECONDS <= seconds <= MAX_DURATION_SECONDS
        and -MAX_NANOS <= nanos <= MAX_NANOS
        and not (seconds > 0 > nanos or seconds < 0 < nanos)
    ):
        yield FieldViolation(
            path,
            "DURATION_OUT_OF_RANGE",
            "must be within 10 000 years either way, its seconds and nanos of one sign",
        )


_RANGE_CHECKS: dict[str, Callable[[Any, str], Iterator[FieldViolation]]] = {
    "google.protobuf.Timestamp": _timestamp,
    "google.protobuf.Duration": _duration,
}
