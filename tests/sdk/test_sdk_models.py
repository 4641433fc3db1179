"""The SDK's models: generated from gen/openapi.json and up to date, typed as the protos say
(checked field by field against the descriptors), and read and written by one wire codec."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from cli.sdk_codegen.__main__ import REPO, outputs
from cli.sdk_codegen.unasync import to_async
from payloops.sdk import models
from payloops.sdk._grpc import _load_protos
from payloops.sdk._wire import WIRE, decode, encode

_WELL_KNOWN = {
    "google.protobuf.Timestamp": "timestamp",
    "google.protobuf.Duration": "duration",
    "google.protobuf.Struct": "json",
}


GENERATED = outputs()


@pytest.mark.parametrize("path", sorted(GENERATED), ids=lambda path: path.name)
def test_generated_modules_are_up_to_date(path: Path) -> None:
    """What `make check-gen` checks: the committed modules are what the generator writes now."""
    assert path.read_text() == GENERATED[path], f"{path.relative_to(REPO)}: run `make gen`"


def _wire_kind(field: FieldDescriptor) -> str:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return "map:" + _single_kind(field.message_type.fields_by_name["value"])
    kind = _single_kind(field)
    return f"list:{kind}" if field.is_repeated else kind


def _single_kind(field: FieldDescriptor) -> str:
    if field.enum_type is not None:
        return "enum"
    if field.message_type is not None:
        name = field.message_type.full_name
        return _WELL_KNOWN.get(name) or "message:" + name.removeprefix("payloops.v1.")
    if field.type == FieldDescriptor.TYPE_BOOL:
        return "bool"
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return "float"
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        return "string"
    return "int"


def _descriptor(schema: str) -> Descriptor:
    _load_protos()
    return descriptor_pool.Default().FindMessageTypeByName(f"payloops.v1.{schema}")


@pytest.mark.parametrize("schema", sorted(models.MODELS))
def test_every_model_field_has_the_kind_its_proto_field_has(schema: str) -> None:
    """int64 as int, enums lower-case, Timestamp as datetime, Duration as timedelta, Struct as
    a dict: what the protos say, for every field of every model."""
    message = _descriptor(schema)
    fields = {f.name: f.metadata[WIRE] for f in dataclasses.fields(models.MODELS[schema])}

    assert fields == {f.name: _wire_kind(f) for f in message.fields}


def test_decoding_the_wire_format() -> None:
    attempt = decode(
        models.Attempt,
        {
            "processor": "sandbox",
            "outcome": "DECLINED",
            "latency": "1.5s",
            "create_time": "2025-03-04T05:06:07.123456789Z",
            "a_field_of_a_newer_server": {"x": 1},
        },
    )
    config = decode(
        models.RoutingConfig,
        {
            "version": "12",
            "mode": "MODE_UNSPECIFIED",
            "rules": [{"name": "r", "conditions": {"amount_min": "100", "metadata": {"k": "v"}}}],
            "payment_budget": "60s",
        },
    )

    assert attempt == models.Attempt(
        processor="sandbox",
        outcome="declined",
        latency=timedelta(seconds=1.5),
        create_time=datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC),
    )
    assert (config.version, config.mode, config.payment_budget) == (12, "", timedelta(seconds=60))
    (rule,) = config.rules
    assert rule.conditions == models.RoutingConditions(amount_min=100, metadata={"k": "v"})
    assert rule.failover is None and rule.split is None


def test_encoding_sends_only_what_a_request_may_carry() -> None:
    config = models.RoutingConfig(
        version=3,  # output only: the server sets it
        mode="priority",
        rules=[models.RoutingRule(name="r", split=models.VolumeSplit())],
        resolution_budget=timedelta(milliseconds=1500),
        update_time=datetime(2025, 1, 1, tzinfo=UTC),
    )

    assert encode(config) == {
        "mode": "PRIORITY",
        "rules": [{"name": "r", "split": {"targets": []}}],
        "max_attempts": 0,
        "resolution_budget": "1.500000s",
    }
    assert encode({"after": datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))}) == {
        "after": "2025-01-01T12:00:00+02:00"
    }
    assert encode([timedelta(seconds=-0.5), timedelta(0)]) == ["-0.500000s", "0s"]
    with pytest.raises(ValueError, match="time zone"):
        encode(datetime(2025, 1, 1))  # noqa: DTZ001 - the naive datetime under test


def test_models_are_frozen_and_documented() -> None:
    order = models.Order(id="ord_1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.id = "ord_2"  # type: ignore[misc]
    assert models.Order.__doc__ and "order" in models.Order.__doc__.lower()


def test_the_async_resources_await_every_call_and_rename_only_their_own_names() -> None:
    source = '''"""Sync."""

from collections.abc import Iterator

from payloops.sdk import models
from payloops.sdk._resource import Resource


class Things(Resource):
    def get(self, thing_id: str) -> models.Things:
        return self._call(ops.GET_THING, path={"thing": thing_id})

    def list(
        self, *, page_size: int | None = None
    ) -> Page[models.Thing]:
        return self._page(ops.LIST_THINGS, lambda answer: answer.things)

    def list_all(self, **filters: Any) -> Iterator[models.Thing]:
        return self._every(self.list, **filters)
'''

    generated = to_async(source, "things.py")

    assert "class AsyncThings(AsyncResource):" in generated
    assert "    async def get(self, thing_id: str) -> models.Things:" in generated
    assert "        return await self._call(ops.GET_THING" in generated
    assert "    async def list(\n" in generated and ") -> AsyncPage[models.Thing]:" in generated
    assert "        return await self._page(" in generated
    assert "    def list_all(self, **filters: Any) -> AsyncIterator[models.Thing]:" in generated
    assert "from collections.abc import AsyncIterator" in generated
