"""The API's JSON wire format to and from the SDK's models: one decoder for every model.

On the wire (Envoy's transcoder, and the gRPC transport renders the same) int64 values are JSON
strings ("4999"), enums upper-case names ("SUCCEEDED"), timestamps RFC 3339 and durations
seconds ("0.034s"). Each generated model field names its wire kind in its metadata (WIRE); the
decoder reads that, so the models stay plain dataclasses. Fields the SDK does not know yet (a
newer server) are ignored.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")

WIRE = "payloops.wire"  # the field's wire kind, such as "int" or "list:message:Attempt"
WIRE_NAME = "payloops.wire_name"  # the JSON name, when it is a Python keyword
OUTPUT_ONLY = "payloops.output_only"  # set by the server: never sent back
_FRACTION = re.compile(r"\.(\d+)")
_MESSAGE = "message:"
_LIST = "list:"
_MAP = "map:"
_MICROSECONDS = 1_000_000


def decode(model: type[T], raw: Mapping[str, Any]) -> T:
    """`raw` (a JSON object of the wire format) as a `model` instance."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(model):  # type: ignore[arg-type]
        value = raw.get(field.metadata.get(WIRE_NAME, field.name))
        if value is not None:
            values[field.name] = _decode(field.metadata[WIRE], value)
    return model(**values)


def encode(value: object) -> Any:
    """A value given to the SDK, in the wire format: models (without the fields only the server
    sets, nor the unset ones), datetimes, timedeltas, and mappings and lists of them."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.metadata.get(WIRE_NAME, field.name): _encode_field(
                field.metadata.get(WIRE, ""), getattr(value, field.name)
            )
            for field in dataclasses.fields(value)
            if not field.metadata.get(OUTPUT_ONLY)
            and not _unset(field.metadata.get(WIRE, ""), getattr(value, field.name))
        }
    if isinstance(value, datetime):
        return timestamp_text(value)
    if isinstance(value, timedelta):
        return duration_text(value)
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return value


def timestamp_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"a timestamp needs a time zone: {value!r} is naive")
    return value.isoformat().replace("+00:00", "Z")


def duration_text(value: timedelta) -> str:
    micros = value // timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), _MICROSECONDS)
    return f"{sign}{seconds}.{fraction:06d}s" if fraction else f"{sign}{seconds}s"


def _unset(kind: str, value: object) -> bool:
    """None, or an enum left "" (its UNSPECIFIED value, which no request may name)."""
    return value is None or (kind == "enum" and value == "")


def _encode_field(kind: str, value: object) -> Any:
    if kind == "enum" and isinstance(value, str):
        return value.upper()
    return encode(value)


def _decode(kind: str, value: Any) -> Any:
    if kind.startswith(_LIST):
        return [_decode(kind[len(_LIST) :], item) for item in value]
    if kind.startswith(_MAP):
        return {str(key): _decode(kind[len(_MAP) :], item) for key, item in value.items()}
    if kind.startswith(_MESSAGE):
        from payloops.sdk.models import MODELS  # the models import this module

        return decode(MODELS[kind[len(_MESSAGE) :]], value)
    return _SCALARS[kind](value)


def _enum(value: Any) -> str:
    name = str(value).lower()
    return "" if name.endswith("_unspecified") else name


def _timestamp(value: Any) -> datetime:
    """RFC 3339 as protobuf prints it ("…T12:00:00.123456789Z"), as an aware datetime."""
    text = str(value).replace("Z", "+00:00").replace("z", "+00:00")
    # fromisoformat before Python 3.11 takes only 3 or 6 fraction digits; protobuf prints 9.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    return datetime.fromisoformat(text)


def _duration(value: Any) -> timedelta:
    """A google.protobuf.Duration in JSON, such as "0.034s"."""
    text = str(value)
    return timedelta(seconds=float(text[:-1] if text.endswith("s") else text))


_SCALARS: dict[str, Any] = {
    "string": str,
    "int": int,
    "float": float,
    "bool": bool,
    "enum": _enum,
    "timestamp": _timestamp,
    "duration": _duration,
    "json": lambda value: value,
}
