"""Ledger records as Processor messages."""

from __future__ import annotations

from payloops.processor.v1 import processor_pb2
from processors.sandbox.declines import DECLINES
from processors.sandbox.ledger import Outcome, PaymentRecord, RefundRecord
from processors.sandbox.payment_methods import TEST_CARDS

_OUTCOMES = {
    Outcome.SUCCEEDED: processor_pb2.OUTCOME_SUCCEEDED,
    Outcome.AUTHORIZED: processor_pb2.OUTCOME_AUTHORIZED,
    Outcome.REQUIRES_ACTION: processor_pb2.OUTCOME_REQUIRES_ACTION,
    Outcome.DECLINED: processor_pb2.OUTCOME_DECLINED,
    Outcome.CANCELED: processor_pb2.OUTCOME_CANCELED,
}


def payment_message(p: PaymentRecord, *, challenge_url: str) -> processor_pb2.Payment:
    """`challenge_url` is where a payment waiting for 3-D Secure sends the customer."""
    card = TEST_CARDS[p.token]
    message = processor_pb2.Payment(
        attempt_key=p.attempt_key,
        processor_reference=p.reference,
        outcome=_OUTCOMES[p.outcome],
        amount=p.amount,
        currency=p.currency,
        amount_captured=p.amount_captured,
        amount_refunded=p.amount_refunded,
        network_transaction_id=p.network_transaction_id,
        card=processor_pb2.Card(
            network=card.network, funding=card.funding, country=card.country, last4=card.last4
        ),
    )
    if p.outcome is Outcome.DECLINED:
        message.decline.CopyFrom(DECLINES[p.decline_code].decline(gateway_code=p.decline_code))
    if p.outcome is Outcome.REQUIRES_ACTION:
        message.next_action.redirect_url = challenge_url
    return message


def refund_message(r: RefundRecord) -> processor_pb2.Refund:
    return processor_pb2.Refund(
        refund_key=r.refund_key,
        processor_reference=r.reference,
        payment_reference=r.payment_reference,
        amount=r.amount,
        currency=r.currency,
        status=processor_pb2.Refund.STATUS_SUCCEEDED,
    )
