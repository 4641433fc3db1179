from __future__ import annotations

from google.rpc import error_details_pb2

from core import errors, money


def test_minor_units_come_from_iso_4217() -> None:
    assert [money.minor_unit_exponent(c) for c in ("USD", "JPY", "KWD", "INR")] == [2, 0, 3, 2]
    assert money.minor_unit_exponent("XAU") is None  # gold has no minor unit
    assert not money.is_currency("usd") and not money.is_currency("ZZZ")
    assert money.max_amount("USD") == 99_999_999_999
    assert money.max_amount("JPY") == 999_999_999


def test_errors_carry_error_info_and_field_violations() -> None:
    status = errors.invalid(
        [errors.FieldViolation("amount", "AMOUNT_NOT_POSITIVE", "> 0")]
    ).to_status()
    assert status.code == 3
    info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(bad_request)
    assert (info.reason, info.domain) == ("INVALID_REQUEST", "payloops.dev")
    assert bad_request.field_violations[0].reason == "AMOUNT_NOT_POSITIVE"
