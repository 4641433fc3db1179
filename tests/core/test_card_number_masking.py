"""Whatever quotes a caller's input on the way out (an error answer, a log line) has every card
number masked, even where a check upstream should already have refused it."""

from __future__ import annotations

import json
import logging
import sys

from google.rpc import error_details_pb2

from core import errors
from core.card_numbers import MASK
from core.logs import JsonFormatter

PAN = "4242424242424242"


def test_an_error_answer_never_carries_a_card_number() -> None:
    error = errors.PayLoopsError(
        errors.ORDER_NOT_FOUND,
        f"no order {PAN!r}",
        metadata={"order": PAN, f"key {PAN}": "v"},
        field_violations=[
            errors.FieldViolation(f"metadata.{PAN}", "CARD_NUMBER_NOT_ALLOWED", f"{PAN} is bad")
        ],
    )
    status = error.to_status()
    info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    status.details[0].Unpack(info)
    status.details[1].Unpack(bad_request)
    assert status.message == f"no order '{MASK}'"
    assert dict(info.metadata) == {"order": MASK, f"key {MASK}": "v"}
    (violation,) = bad_request.field_violations
    assert (violation.field, violation.description) == (f"metadata.{MASK}", f"{MASK} is bad")
    assert PAN not in str(status.SerializeToString())


def test_a_log_line_never_carries_a_card_number() -> None:
    try:
        raise ValueError(f"refused {PAN}")
    except ValueError:
        record = logging.LogRecord(
            "payloops.edge", logging.ERROR, __file__, 1, "got %s", (PAN,), sys.exc_info()
        )
    record.fields = {"event_id": f"evt_{PAN}", "duration_ms": 1.5}
    line = JsonFormatter("edge").format(record)
    assert PAN not in line
    entry = json.loads(line)
    assert entry["msg"] == f"got {MASK}"
    assert f"ValueError: refused {MASK}" in entry["exc"]
    assert (entry["event_id"], entry["duration_ms"]) == (f"evt_{MASK}", 1.5)
