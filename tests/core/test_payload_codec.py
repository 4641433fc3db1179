"""The Temporal payload codec (core.payload_codec): what it writes is ciphertext that names its
key, every configured key decrypts, plain payloads pass through, a tampered or unknown one is
refused, failure messages are encrypted too, and bad keys are refused without being quoted."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from core.config import Settings
from core.payload_codec import (
    ENCODING,
    KEY_ID_METADATA,
    CodecKeysInvalid,
    EncryptionCodec,
    PayloadUndecryptable,
    data_converter,
    new_key,
    parse_keys,
)
from tests.conftest import REPO

CLEAR = b'{"order_id":"ord_codec_probe","amount":73191,"metadata":{"cart":"c-918273"}}'


def plain(data: bytes = CLEAR) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def codec(*entries: str) -> EncryptionCodec:
    return EncryptionCodec(parse_keys(entries))


async def test_a_payload_is_encrypted_under_the_first_key_and_decrypts_back() -> None:
    first, second = new_key(), new_key()
    both = codec(first, second)
    [sealed] = await both.encode([plain()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == first.split(":")[0].encode()
    assert b"ord_codec_probe" not in sealed.data and b"73191" not in sealed.data
    assert b"json/plain" not in sealed.data  # the inner metadata is sealed too
    assert await both.decode([sealed]) == [plain()]


async def test_two_encryptions_of_one_payload_differ() -> None:
    key = codec(new_key())
    [one], [two] = await key.encode([plain()]), await key.encode([plain()])
    assert one.data != two.data


async def test_after_a_rotation_payloads_of_the_old_key_still_decrypt() -> None:
    old, new = new_key(), new_key()
    [before] = await codec(old).encode([plain()])
    rotated = codec(new, old)
    [after] = await rotated.encode([plain()])
    assert after.metadata[KEY_ID_METADATA] == new.split(":")[0].encode()
    assert await rotated.decode([before, after]) == [plain(), plain()]


async def test_a_plain_payload_written_before_encryption_passes_through() -> None:
    legacy = [plain(), Payload(metadata={"encoding": b"binary/null"})]
    assert await codec(new_key()).decode(legacy) == legacy


async def test_a_payload_of_a_dropped_key_is_refused_naming_only_the_key_id() -> None:
    dropped, kept = new_key(), new_key()
    [sealed] = await codec(dropped).encode([plain()])
    with pytest.raises(PayloadUndecryptable) as refused:
        await codec(kept).decode([sealed])
    dropped_id, _, dropped_material = dropped.partition(":")
    assert dropped_id in str(refused.value) and dropped_material not in str(refused.value)


async def test_a_tampered_or_relabelled_payload_is_refused() -> None:
    first, second = new_key(), new_key()
    both = codec(first, second)
    [sealed] = await both.encode([plain()])
    flipped = Payload()
    flipped.CopyFrom(sealed)
    flipped.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    relabelled = Payload()
    relabelled.CopyFrom(sealed)
    relabelled.metadata[KEY_ID_METADATA] = second.split(":")[0].encode()
    for bad in (flipped, relabelled):
        with pytest.raises(PayloadUndecryptable):
            await both.decode([bad])


async def test_failure_messages_are_encrypted_and_read_back() -> None:
    converter = data_converter([new_key()])
    error = ApplicationError("capture of 73191 refused for ord_codec_probe", type="REFUSED")
    failure = Failure()
    await converter.encode_failure(error, failure)
    assert "73191" not in failure.message and "ord_codec_probe" not in failure.message
    assert failure.encoded_attributes.metadata["encoding"] == ENCODING
    assert "73191" in str(await converter.decode_failure(failure))


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ((), "PAYLOOPS_TEMPORAL_CODEC_KEYS is not set"),
        (("no-colon",), "each entry is ID:KEY"),
        (("bad id:" + "A" * 43,), "each entry is ID:KEY"),
        (("k1:not*base64",), "key k1 is not base64url"),
        (("k1:" + "A" * 22,), "key k1 must be 32 bytes"),
        (("k1:" + "A" * 43, "k1:" + "B" * 43), "two keys have the same id"),
    ],
)
def test_malformed_keys_are_refused_without_quoting_them(
    entries: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(CodecKeysInvalid) as refused:
        parse_keys(entries)
    assert problem in str(refused.value)
    for entry in entries:
        assert entry.partition(":")[2] not in str(refused.value) or not entry.partition(":")[2]


def test_the_keys_are_read_as_a_comma_list() -> None:
    first, second = new_key(), new_key()
    settings = Settings.from_env(
        {
            "PAYLOOPS_DATABASE_URL": "postgresql+asyncpg://x",
            "PAYLOOPS_TEMPORAL_CODEC_KEYS": f" {first}, {second} ",
        }
    )
    assert settings.temporal_codec_keys == (first, second)


@pytest.mark.parametrize("service", ["edge", "worker"])
def test_the_edge_and_the_worker_refuse_to_start_without_codec_keys(service: str) -> None:
    """Checked before either connects to anything: the database and Temporal named here do
    not exist, and the one line says what to set."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAYLOOPS_")},
        "PAYLOOPS_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
        "PAYLOOPS_TEMPORAL_ADDRESS": "127.0.0.1:1",
        "PAYLOOPS_PAGE_TOKEN_SECRET": "p" * 43,
    }
    started = subprocess.run(
        [sys.executable, "-m", "cli.main", "serve", service],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert (
        started.stderr.strip()
        .splitlines()[-1]
        .startswith(f"payloops serve {service}: PAYLOOPS_TEMPORAL_CODEC_KEYS is not set")
    )
