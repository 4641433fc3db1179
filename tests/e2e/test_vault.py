"""The card vault in the running mesh: tokenization through Envoy with publishable keys (and
nothing else), card checks, what is stored, fingerprints, audited detokenization with the
service credential, the CVC's short life, and no card number anywhere but the vault's
encrypted store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cli.state import StatePaths
from core.vaulted_cards import CardSource, is_vaulted
from payloops.vault.v1 import vault_pb2, vault_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.api_surface import operations
from tests.e2e.mesh_db import sql
from tests.e2e.people import field_reasons, reason, signed_in
from tests.e2e.vault_helpers import NEXT_YEAR, card, fresh_pan, publishable_key, token, tokenize
from tests.log_secrets import Secrets, log_files, scan, wait_for_access_log
from vault.client import VaultClient

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def merchant(mesh: Mesh) -> tuple[str, str, str]:
    """A merchant of this module's own: its id, secret key and publishable key."""
    merchant_id, secret = mesh.new_merchant("vault")
    return merchant_id, secret, publishable_key(mesh, secret)


def service_token(mesh: Mesh) -> str:
    return StatePaths.at(mesh.state_dir).vault_service_token.read_text().strip()


@pytest.fixture
def vault_stub(mesh: Mesh) -> Iterator[vault_pb2_grpc.VaultServiceStub]:
    with grpc.insecure_channel(mesh.env["PAYLOOPS_VAULT_TARGET"]) as channel:
        yield vault_pb2_grpc.VaultServiceStub(channel)


def detokenize(
    stub: vault_pb2_grpc.VaultServiceStub,
    credential: str | None,
    payment_method: str,
    merchant_id: str,
    livemode: bool = False,
    first_authorization: bool = False,
) -> vault_pb2.DetokenizeResponse:
    metadata = (("authorization", f"Bearer {credential}"),) if credential else ()
    request = vault_pb2.DetokenizeRequest(
        payment_method=payment_method,
        merchant=merchant_id,
        livemode=livemode,
        processor="sandbox",
        attempt_key=f"att-{payment_method}",
        first_authorization=first_authorization,
    )
    answer: vault_pb2.DetokenizeResponse = stub.Detokenize(request, metadata=metadata, timeout=10)
    return answer


def grpc_reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None, error
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return str(info.reason)


# -- tokenization ------------------------------------------------------------------------------


def test_a_publishable_key_tokenizes_a_card_through_envoy(
    mesh: Mesh, merchant: tuple[str, str, str]
) -> None:
    number = fresh_pan("4")
    made = token(
        mesh, merchant[2], card(f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}")
    )
    assert is_vaulted(made["id"]), made["id"]
    assert made["type"] == "card" and made["livemode"] is False and made["create_time"]
    shown = made["card"]
    assert (shown["brand"], shown["last4"], shown["bin"]) == ("visa", number[-4:], number[:6])
    assert (shown["exp_month"], shown["exp_year"]) == (12, NEXT_YEAR)
    assert len(shown["fingerprint"]) >= 16
    # The demo merchant's publishable key of `payloops dev` works too.
    assert token(mesh, mesh.env["PAYLOOPS_PUBLISHABLE_KEY"], card())["id"].startswith("pm_vault_")


def test_each_brand_is_recognised_and_its_cvc_length_checked(
    mesh: Mesh, merchant: tuple[str, str, str]
) -> None:
    brands = {
        "visa": ("4", 16, "123"),
        "mastercard": ("5555", 16, "123"),
        "amex": ("37", 15, "1234"),
        "discover": ("6011", 16, "123"),
        "jcb": ("3566", 16, "123"),
        "diners": ("36", 14, "123"),
        "unionpay": ("62", 16, "123"),
        "rupay": ("6521", 16, "123"),
    }
    for brand, (prefix, length, cvc) in brands.items():
        number = fresh_pan(prefix, length)
        made = token(mesh, merchant[2], card(number, cvc=cvc))
        assert made["card"]["brand"] == brand, (brand, made)
        wrong = "1234" if len(cvc) == 3 else "123"
        refused = tokenize(mesh, merchant[2], card(number, cvc=wrong))
        assert (refused.status_code, field_reasons(refused)) == (400, ["CVC_INVALID"]), brand


def test_tokenization_takes_only_a_publishable_key(
    mesh: Mesh, merchant: tuple[str, str, str]
) -> None:
    _, secret, _ = merchant
    owner = signed_in(
        mesh, mesh.env["PAYLOOPS_DEV_OWNER_EMAIL"], mesh.env["PAYLOOPS_DEV_OWNER_PASSWORD"]
    )
    for credential in (secret, owner.access_token, mesh.env["PAYLOOPS_ADMIN_API_KEY"]):
        refused = tokenize(mesh, credential, card())
        assert (refused.status_code, reason(refused)) == (403, "PUBLISHABLE_KEY_REQUIRED")
    missing = tokenize(mesh, "", card())
    assert (missing.status_code, reason(missing)) == (401, "API_KEY_MISSING")
    unknown = tokenize(mesh, "pk_test_" + "x" * 32, card())
    assert (unknown.status_code, reason(unknown)) == (401, "API_KEY_INVALID")
    doomed = publishable_key(mesh, secret)
    with mesh.client(secret) as api:
        [row] = [
            k for k in api.get("/v1/api_keys").json()["api_keys"] if k["prefix"] == doomed[:12]
        ]
        assert row["kind"] == "PUBLISHABLE"
        assert api.post(f"/v1/api_keys/{row['id']}:revoke", json={}).status_code == 200
    revoked = tokenize(mesh, doomed, card())
    assert (revoked.status_code, reason(revoked)) == (401, "API_KEY_REVOKED")


def test_publishable_keys_are_made_rolled_and_kept_to_their_mode(mesh: Mesh) -> None:
    _, test_key, live_key = mesh.new_live_merchant("vault modes")
    with mesh.client(test_key) as api:
        read_only = api.post("/v1/api_keys", json={"kind": "PUBLISHABLE", "read_only": True})
        assert (read_only.status_code, field_reasons(read_only)) == (
            400,
            ["READ_ONLY_NOT_FOR_PUBLISHABLE"],
        )
        made = api.post("/v1/api_keys", json={"kind": "PUBLISHABLE"}).json()
        rolled = api.post(f"/v1/api_keys/{made['id']}:roll", json={}).json()
        assert rolled["kind"] == "PUBLISHABLE" and rolled["secret"].startswith("pk_test_")
    assert token(mesh, rolled["secret"], card())["livemode"] is False
    with mesh.client(live_key) as api:
        live = api.post("/v1/api_keys", json={"kind": "PUBLISHABLE", "livemode": True}).json()
    assert live["secret"].startswith("pk_live_")
    assert token(mesh, live["secret"], card())["livemode"] is True


def test_a_publishable_key_is_refused_by_every_other_operation(
    mesh: Mesh, merchant: tuple[str, str, str]
) -> None:
    key = merchant[2]
    checked = 0
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        for operation in operations():
            if operation.method.containing_service.name == "TokenService":
                continue
            call: grpc.UnaryUnaryMultiCallable[Any, bytes] = channel.unary_unary(
                operation.grpc_path,
                request_serializer=lambda message: message.SerializeToString(),
                response_deserializer=lambda raw: raw,
            )
            with pytest.raises(grpc.RpcError) as refused:
                call(operation.new_request(), metadata=(("authorization", f"Bearer {key}"),))
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED, operation
            assert grpc_reason(refused.value) == "API_KEY_PUBLISHABLE", operation
            checked += 1
    assert checked > 30
    with mesh.client(key) as api:
        for answer in (api.get("/v1/orders"), api.post("/v1/orders", json={}), api.get("/health")):
            assert (answer.status_code, reason(answer)) == (403, "API_KEY_PUBLISHABLE")


HOSTILE_CARDS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "bad check digit": (card("4242424242424241"), ["CARD_NUMBER_INVALID"]),
    "letters": (card("4242abcd42424242"), ["CARD_NUMBER_INVALID"]),
    "unknown brand": (card("9" * 15 + "5"), ["CARD_BRAND_UNSUPPORTED"]),
    "huge number": (card("4" * 100_00), ["CARD_NUMBER_INVALID"]),
    "visa of 15 digits": (card(fresh_pan("4", 15)), ["CARD_NUMBER_INVALID"]),
    "expired": (card(exp_year=2020), ["CARD_EXPIRED"]),
    "month 13": (card(exp_month=13), ["EXP_MONTH_INVALID"]),
    "year 99": (card(exp_year=99), ["EXP_YEAR_INVALID"]),
    "cvc of 5": (card(cvc="12345"), ["CVC_INVALID"]),
    "cvc letters": (card(cvc="1a3"), ["CVC_INVALID"]),
    "amex cvc of 3": (card(fresh_pan("34", 15), cvc="123"), ["CVC_INVALID"]),
    "huge name": (card(holder_name="A" * 5000), ["HOLDER_NAME_TOO_LONG"]),
    "name with a pan": (card(holder_name="4242424242424242"), ["HOLDER_NAME_INVALID"]),
    "name with a newline": (card(holder_name="Ada\nLovelace"), ["HOLDER_NAME_INVALID"]),
    "name with NUL": (card(holder_name="Ada\x00"), ["NUL_CHARACTER_NOT_ALLOWED"]),
    "everything": (
        card("1234", exp_month=0, exp_year=1, cvc="", holder_name="x" * 101),
        [
            "CARD_BRAND_UNSUPPORTED",
            "EXP_MONTH_INVALID",
            "EXP_YEAR_INVALID",
            "CVC_INVALID",
            "HOLDER_NAME_TOO_LONG",
        ],
    ),
}


def test_hostile_card_input_is_refused_by_field_and_never_echoed(
    mesh: Mesh, merchant: tuple[str, str, str]
) -> None:
    for label, (given, reasons) in HOSTILE_CARDS.items():
        refused = tokenize(mesh, merchant[2], given)
        assert refused.status_code == 400, (label, refused.text[:300])
        assert sorted(field_reasons(refused)) == sorted(reasons), (label, refused.text[:300])
        number = str(given["number"])
        assert number[:100] not in refused.text or len(number) < 6, label
    empty = tokenize(mesh, merchant[2], {})
    assert sorted(field_reasons(empty)) == [
        "CARD_NUMBER_INVALID",
        "CVC_INVALID",
        "EXP_MONTH_INVALID",
        "EXP_YEAR_INVALID",
    ]
    with mesh.client(merchant[2]) as api:
        missing = api.post("/v1/tokens", json={})
    assert (missing.status_code, field_reasons(missing)) == (400, ["CARD_REQUIRED"])


# -- storage -----------------------------------------------------------------------------------


def test_the_stored_record_holds_no_card_number_or_cvc_in_clear(
    mesh: Mesh, merchant: tuple[str, str, str]
) -> None:
    number = fresh_pan("5555")
    made = token(mesh, merchant[2], card(number, cvc="987", holder_name="Grace Hopper"))
    [row] = sql(mesh, "SELECT * FROM vault.cards WHERE id = :id", id=made["id"])
    raw = b"".join(value if isinstance(value, bytes) else str(value).encode() for value in row)
    for clear in (number, "Grace Hopper", number[6:12]):
        assert clear.encode() not in raw, clear[:4]
    assert number[-4:].encode() in raw and number[:6].encode() in raw  # last4 and bin


def test_fingerprints_match_for_one_merchant_and_differ_across_merchants(
    mesh: Mesh, merchant: tuple[str, str, str]
) -> None:
    number = fresh_pan("4")
    first = token(mesh, merchant[2], card(number))["card"]["fingerprint"]
    again = token(mesh, merchant[2], card(number, cvc="456", exp_month=1))["card"]["fingerprint"]
    other_card = token(mesh, merchant[2], card(fresh_pan("4")))["card"]["fingerprint"]
    _, other_secret = mesh.new_merchant("vault fingerprints")
    elsewhere = token(mesh, publishable_key(mesh, other_secret), card(number))
    assert first == again
    assert other_card != first
    assert elsewhere["card"]["fingerprint"] != first


# -- detokenization ------------------------------------------------------------------------------


def test_detokenize_needs_the_service_credential_and_the_owner(
    mesh: Mesh, merchant: tuple[str, str, str], vault_stub: vault_pb2_grpc.VaultServiceStub
) -> None:
    merchant_id = merchant[0]
    number = fresh_pan("4")
    made = token(mesh, merchant[2], card(number))
    for credential in (None, "not-the-token", merchant[1], merchant[2]):
        with pytest.raises(grpc.RpcError) as refused:
            detokenize(vault_stub, credential, made["id"], merchant_id)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert grpc_reason(refused.value) == "SERVICE_CREDENTIAL_INVALID"
    credential = service_token(mesh)
    answer = detokenize(vault_stub, credential, made["id"], merchant_id)
    assert (answer.number, answer.exp_month, answer.holder_name) == (number, 12, "Ada Lovelace")
    other_merchant, _ = mesh.new_merchant("vault intruder")
    for payment_method, owner, livemode in (
        (made["id"], other_merchant, False),
        (made["id"], merchant_id, True),
        ("pm_vault_" + "x" * 24, merchant_id, False),
        ("pm_card_visa", merchant_id, False),
    ):
        with pytest.raises(grpc.RpcError) as missing:
            detokenize(vault_stub, credential, payment_method, owner, livemode)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        assert grpc_reason(missing.value) == "PAYMENT_METHOD_NOT_FOUND"


def test_every_detokenization_is_audited(
    mesh: Mesh, merchant: tuple[str, str, str], vault_stub: vault_pb2_grpc.VaultServiceStub
) -> None:
    made = token(mesh, merchant[2], card())
    detokenize(vault_stub, service_token(mesh), made["id"], merchant[0], first_authorization=True)
    detokenize(vault_stub, service_token(mesh), made["id"], merchant[0])
    rows = sql(
        mesh,
        "SELECT service, processor, attempt_key, merchant_id, livemode, first_authorization, "
        "cvc_released FROM vault.detokenizations WHERE payment_method = :id ORDER BY id",
        id=made["id"],
    )
    attempt = f"att-{made['id']}"
    assert rows == [
        ("worker", "sandbox", attempt, merchant[0], False, True, True),
        ("worker", "sandbox", attempt, merchant[0], False, False, False),
    ]


def test_the_internal_api_is_not_reachable_through_envoy(mesh: Mesh) -> None:
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        stub = vault_pb2_grpc.VaultServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            detokenize(stub, service_token(mesh), "pm_vault_" + "x" * 24, "mer_x")
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with mesh.client(service_token(mesh)) as api:
        answer = api.post("/payloops.vault.v1.VaultService/Detokenize", json={})
    assert answer.status_code == 404


def test_the_cvc_goes_to_the_first_authorization_only_then_is_wiped(
    mesh: Mesh, merchant: tuple[str, str, str], vault_stub: vault_pb2_grpc.VaultServiceStub
) -> None:
    made = token(mesh, merchant[2], card(cvc="321"))
    credential = service_token(mesh)
    assert detokenize(vault_stub, credential, made["id"], merchant[0]).cvc == ""
    first = detokenize(vault_stub, credential, made["id"], merchant[0], first_authorization=True)
    assert first.cvc == "321"
    [(stored,)] = sql(mesh, "SELECT cvc FROM vault.cards WHERE id = :id", id=made["id"])
    assert stored is None
    again = detokenize(vault_stub, credential, made["id"], merchant[0], first_authorization=True)
    assert again.cvc == "" and again.number


def test_an_unused_cvc_is_wiped_when_it_expires(
    mesh: Mesh, merchant: tuple[str, str, str], vault_stub: vault_pb2_grpc.VaultServiceStub
) -> None:
    made = token(mesh, merchant[2], card())
    query = "SELECT cvc IS NULL FROM vault.cards WHERE id = :id"
    assert sql(mesh, query, id=made["id"]) == [(False,)]
    deadline = time.monotonic() + 60
    while sql(mesh, query, id=made["id"]) != [(True,)]:
        assert time.monotonic() < deadline, "the CVC outlived its time to live"
        time.sleep(0.5)
    late = detokenize(
        vault_stub, service_token(mesh), made["id"], merchant[0], first_authorization=True
    )
    assert late.cvc == "" and late.number


async def test_the_vault_client_is_the_platforms_card_source(
    mesh: Mesh, merchant: tuple[str, str, str]
) -> None:
    number = fresh_pan("37", 15)
    made = token(mesh, merchant[2], card(number, cvc="7777"))
    client = VaultClient(mesh.env["PAYLOOPS_VAULT_TARGET"], service_token(mesh))
    source: CardSource = client
    try:
        found = await source.card_for(
            payment_method=made["id"],
            merchant_id=merchant[0],
            livemode=False,
            processor="stripe",
            attempt_key="att-client",
            first_authorization=True,
        )
        assert (found.number, found.cvc) == (number, "7777")
        assert number not in repr(found)
        with pytest.raises(LookupError):
            await source.card_for(
                payment_method=made["id"],
                merchant_id=merchant[0],
                livemode=True,
                processor="stripe",
                attempt_key="att-client",
                first_authorization=False,
            )
    finally:
        await client.close()


# -- nowhere else --------------------------------------------------------------------------------


def test_a_tokenized_card_number_is_in_no_log_and_no_table_of_the_platform(
    mesh: Mesh, merchant: tuple[str, str, str], vault_stub: vault_pb2_grpc.VaultServiceStub
) -> None:
    number = fresh_pan("4")
    made = token(mesh, merchant[2], card(number))
    detokenize(vault_stub, service_token(mesh), made["id"], merchant[0], first_authorization=True)
    refused = tokenize(mesh, merchant[2], card(number, exp_year=2020))
    assert refused.status_code == 400
    wait_for_access_log(mesh.api_url, mesh.state_dir)
    findings = scan(log_files(mesh.state_dir), Secrets(card_numbers=(number,)))
    assert not findings, findings[:3]
    tables = [
        name
        for (name,) in sql(
            mesh, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
    ]
    assert "orders" in tables and "api_keys" in tables
    for table in tables:
        [(holding,)] = sql(
            mesh,
            f'SELECT count(*) FROM public."{table}" AS t WHERE t::text LIKE :pan',
            pan=f"%{number}%",
        )
        assert holding == 0, table
