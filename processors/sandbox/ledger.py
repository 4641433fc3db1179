"""The sandbox's charge ledger: every payment and refund it made, and the rules that move them.

All state transitions happen here, under one lock, because two threads change payments: the
gRPC event loop (Authorize, Capture, Void, Refund) and the 3-D Secure page's HTTP threads.
With a `path`, every change is written to SQLite (stdlib `sqlite3`) before it becomes visible
in memory, so a restarted sandbox remembers what it charged and idempotent retries made after
a restart still find their first result. The writes are tiny and synchronous; a sandbox does
not need them off the event loop.

Records are returned as copies: callers read them outside the lock.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from processors.kit.errors import ProcessorError, failed_precondition, invalid, not_found
from processors.sandbox.declines import THREE_DS_FAILED
from processors.sandbox.payment_methods import TEST_CARDS, Behaviour, TestCard


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    AUTHORIZED = "authorized"
    REQUIRES_ACTION = "requires_action"
    DECLINED = "declined"
    CANCELED = "canceled"


def _not_found(what: str, reason: str) -> ProcessorError:
    return not_found(reason, f"no such {what}")


def _state_conflict(message: str) -> ProcessorError:
    return failed_precondition("PAYMENT_STATE_CONFLICT", message)


def _key_reused(key: str) -> ProcessorError:
    return invalid(
        "IDEMPOTENCY_KEY_REUSED", f"key {key!r} was already used with different parameters"
    )


@dataclass
class PaymentRecord:
    reference: str
    attempt_key: str
    order_id: str
    merchant_id: str
    amount: int
    currency: str
    manual_capture: bool
    token: str
    return_url: str
    outcome: Outcome
    decline_code: str = ""
    amount_captured: int = 0
    amount_refunded: int = 0
    # "customer" or "merchant" (off-session, with a saved card).
    initiator: str = "customer"
    # Given to an approved customer-present payment, as a card network would.
    network_transaction_id: str = ""
    # A merchant-initiated payment's reference to the customer-present one that set it up.
    previous_network_transaction_id: str = ""

    @property
    def ledger_state(self) -> str:
        """The ListCharges vocabulary: a fully refunded charge is `refunded`, a partly
        refunded one stays `captured`."""
        match self.outcome:
            case Outcome.SUCCEEDED:
                fully = 0 < self.amount_captured <= self.amount_refunded
                return "refunded" if fully else "captured"
            case Outcome.CANCELED:
                return "voided"
            case _:
                return self.outcome.value

    @property
    def challenge_pending(self) -> bool:
        return self.outcome is Outcome.REQUIRES_ACTION


@dataclass
class RefundRecord:
    reference: str
    refund_key: str
    payment_reference: str
    # What the caller asked for (0 = the remainder): the idempotency fingerprint.
    requested_amount: int
    amount: int
    currency: str
    status: str = "succeeded"


@dataclass(frozen=True)
class KeyUse:
    """Binds a capture or void key to what it was first used for."""

    kind: str  # "capture" or "void"
    key: str
    payment_reference: str
    amount: int


@dataclass(frozen=True)
class AuthorizeInput:
    attempt_key: str
    order_id: str
    merchant_id: str
    amount: int
    currency: str
    manual_capture: bool
    return_url: str
    initiator: str = "customer"
    previous_network_transaction_id: str = ""


def _new_reference(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, reference TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, reference TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS key_uses (
    kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, key));
"""


class Ledger:
    def __init__(self, path: str | None = None) -> None:
        self._lock = threading.RLock()
        # Insertion-ordered: ListCharges is oldest first.
        self._payments: dict[str, PaymentRecord] = {}
        self._by_attempt_key: dict[str, str] = {}
        self._refunds: dict[str, RefundRecord] = {}
        self._by_refund_key: dict[str, str] = {}
        self._key_uses: dict[tuple[str, str], KeyUse] = {}
        self._db: sqlite3.Connection | None = None
        if path:
            # check_same_thread=False: the lock, not the thread, serializes access.
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.executescript(_SCHEMA)
            self._load(self._db)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- payments --------------------------------------------------------------------------

    def authorize(self, request: AuthorizeInput, card: TestCard) -> PaymentRecord:
        with self._lock:
            existing = self._by_attempt_key.get(request.attempt_key)
            if existing is not None:
                payment = self._payments[existing]
                same = (
                    payment.amount,
                    payment.currency,
                    payment.token,
                    payment.manual_capture,
                ) == (request.amount, request.currency, card.token, request.manual_capture)
                if not same:
                    raise _key_reused(request.attempt_key)
                # The first call's payment, as it stands now: no money moves twice.
                return dataclasses.replace(payment)
            payment = PaymentRecord(
                reference=_new_reference("ch"),
                attempt_key=request.attempt_key,
                order_id=request.order_id,
                merchant_id=request.merchant_id,
                amount=request.amount,
                currency=request.currency,
                manual_capture=request.manual_capture,
                token=card.token,
                return_url=request.return_url,
                outcome=Outcome.SUCCEEDED,
                initiator=request.initiator,
                previous_network_transaction_id=request.previous_network_transaction_id,
            )
            match card.behaviour:
                case Behaviour.SUCCEED:
                    _approve(payment)
                case Behaviour.DECLINE:
                    payment.outcome = Outcome.DECLINED
                    payment.decline_code = card.decline_code
                case Behaviour.CHALLENGE | Behaviour.CHALLENGE_THEN_DECLINE:
                    payment.outcome = Outcome.REQUIRES_ACTION
            self._commit(payments=[payment])
            return dataclasses.replace(payment)

    def complete_challenge(self, reference: str, succeed: bool) -> PaymentRecord:
        """The customer's answer on the 3DS page. The token decides whether success is
        possible at all: pm_card_3ds_fail declines whatever the customer does."""
        with self._lock:
            payment = self._get_payment(reference)
            if not payment.challenge_pending:
                raise _state_conflict(f"payment is {payment.outcome}, no challenge is pending")
            updated = dataclasses.replace(payment)
            if succeed and TEST_CARDS[payment.token].behaviour is Behaviour.CHALLENGE:
                _approve(updated)
            else:
                updated.outcome = Outcome.DECLINED
                updated.decline_code = THREE_DS_FAILED
            self._commit(payments=[updated])
            return dataclasses.replace(updated)

    def capture(self, key: str, reference: str, amount: int) -> PaymentRecord:
        with self._lock:
            payment = self._get_payment(reference)
            if self._replayed(KeyUse("capture", key, reference, amount)):
                return dataclasses.replace(payment)
            if payment.outcome is not Outcome.AUTHORIZED:
                raise _state_conflict(f"cannot capture a payment that is {payment.outcome}")
            to_capture = amount or payment.amount
            if to_capture > payment.amount:
                raise failed_precondition(
                    "CAPTURE_EXCEEDS_AUTHORIZED",
                    f"cannot capture {to_capture}, authorized {payment.amount}",
                )
            updated = dataclasses.replace(
                payment, outcome=Outcome.SUCCEEDED, amount_captured=to_capture
            )
            self._commit(payments=[updated], key_uses=[KeyUse("capture", key, reference, amount)])
            return dataclasses.replace(updated)

    def void(self, key: str, reference: str) -> PaymentRecord:
        with self._lock:
            payment = self._get_payment(reference)
            use = KeyUse("void", key, reference, 0)
            if self._replayed(use):
                return dataclasses.replace(payment)
            if payment.outcome is Outcome.CANCELED:
                self._commit(key_uses=[use])  # a no-op, but the key is now bound
                return dataclasses.replace(payment)
            if payment.outcome not in (Outcome.AUTHORIZED, Outcome.REQUIRES_ACTION):
                raise _state_conflict(f"cannot void a payment that is {payment.outcome}")
            updated = dataclasses.replace(payment, outcome=Outcome.CANCELED)
            self._commit(payments=[updated], key_uses=[use])
            return dataclasses.replace(updated)

    def payment_by_reference(self, reference: str) -> PaymentRecord:
        with self._lock:
            return dataclasses.replace(self._get_payment(reference))

    def payment_by_attempt_key(self, attempt_key: str) -> PaymentRecord:
        with self._lock:
            reference = self._by_attempt_key.get(attempt_key)
            if reference is None:
                raise _not_found("payment", "PAYMENT_NOT_FOUND")
            return dataclasses.replace(self._payments[reference])

    def charges(self) -> list[PaymentRecord]:
        with self._lock:
            return [dataclasses.replace(p) for p in self._payments.values()]

    # -- refunds ---------------------------------------------------------------------------

    def refund(self, key: str, reference: str, amount: int) -> RefundRecord:
        with self._lock:
            existing = self._by_refund_key.get(key)
            if existing is not None:
                refund = self._refunds[existing]
                if (refund.payment_reference, refund.requested_amount) != (reference, amount):
                    raise _key_reused(key)
                return dataclasses.replace(refund)
            payment = self._get_payment(reference)
            if payment.outcome is not Outcome.SUCCEEDED:
                raise _state_conflict(f"cannot refund a payment that is {payment.outcome}")
            remaining = payment.amount_captured - payment.amount_refunded
            to_refund = amount or remaining
            if to_refund <= 0 or to_refund > remaining:
                raise failed_precondition(
                    "REFUND_EXCEEDS_CAPTURED",
                    f"cannot refund {to_refund}, {remaining} remains refundable",
                )
            refund = RefundRecord(
                reference=_new_reference("re"),
                refund_key=key,
                payment_reference=reference,
                requested_amount=amount,
                amount=to_refund,
                currency=payment.currency,
            )
            updated = dataclasses.replace(
                payment, amount_refunded=payment.amount_refunded + to_refund
            )
            self._commit(payments=[updated], refunds=[refund])
            return dataclasses.replace(refund)

    def refund_by_reference(self, reference: str) -> RefundRecord:
        with self._lock:
            refund = self._refunds.get(reference)
            if refund is None:
                raise _not_found("refund", "REFUND_NOT_FOUND")
            return dataclasses.replace(refund)

    def refund_by_key(self, refund_key: str) -> RefundRecord:
        with self._lock:
            reference = self._by_refund_key.get(refund_key)
            if reference is None:
                raise _not_found("refund", "REFUND_NOT_FOUND")
            return dataclasses.replace(self._refunds[reference])

    # -- internals (caller holds the lock) -------------------------------------------------

    def _get_payment(self, reference: str) -> PaymentRecord:
        payment = self._payments.get(reference)
        if payment is None:
            raise _not_found("payment", "PAYMENT_NOT_FOUND")
        return payment

    def _replayed(self, use: KeyUse) -> bool:
        """True when this key already did exactly this; raises when it did something else."""
        previous = self._key_uses.get((use.kind, use.key))
        if previous is None:
            return False
        if previous != use:
            raise _key_reused(use.key)
        return True

    def _commit(
        self,
        payments: Iterable[PaymentRecord] = (),
        refunds: Iterable[RefundRecord] = (),
        key_uses: Iterable[KeyUse] = (),
    ) -> None:
        """Persist first, then publish: a failed write leaves memory as it was."""
        payments, refunds, key_uses = list(payments), list(refunds), list(key_uses)
        if self._db is not None:
            with self._db:  # one transaction: a refund and its payment change together
                for p in payments:
                    self._db.execute(
                        "INSERT INTO payments (reference, body) VALUES (?, ?) "
                        "ON CONFLICT (reference) DO UPDATE SET body = excluded.body",
                        (p.reference, json.dumps(dataclasses.asdict(p))),
                    )
                for r in refunds:
                    self._db.execute(
                        "INSERT INTO refunds (reference, body) VALUES (?, ?)",
                        (r.reference, json.dumps(dataclasses.asdict(r))),
                    )
                for u in key_uses:
                    self._db.execute(
                        "INSERT INTO key_uses (kind, key, body) VALUES (?, ?, ?)",
                        (u.kind, u.key, json.dumps(dataclasses.asdict(u))),
                    )
        for p in payments:
            self._payments[p.reference] = p
            self._by_attempt_key[p.attempt_key] = p.reference
        for r in refunds:
            self._refunds[r.reference] = r
            self._by_refund_key[r.refund_key] = r.reference
        for u in key_uses:
            self._key_uses[(u.kind, u.key)] = u

    def _load(self, db: sqlite3.Connection) -> None:
        for (body,) in db.execute("SELECT body FROM payments ORDER BY seq"):
            fields = json.loads(body)
            p = PaymentRecord(**{**fields, "outcome": Outcome(fields["outcome"])})
            self._payments[p.reference] = p
            self._by_attempt_key[p.attempt_key] = p.reference
        for (body,) in db.execute("SELECT body FROM refunds ORDER BY seq"):
            r = RefundRecord(**json.loads(body))
            self._refunds[r.reference] = r
            self._by_refund_key[r.refund_key] = r.reference
        for (body,) in db.execute("SELECT body FROM key_uses"):
            u = KeyUse(**json.loads(body))
            self._key_uses[(u.kind, u.key)] = u


def _approve(payment: PaymentRecord) -> None:
    """Success: funds held for manual capture, taken at once otherwise. A customer-present
    payment gets a network transaction id, for the merchant-initiated ones that follow."""
    if payment.initiator == "customer":
        payment.network_transaction_id = _new_reference("ntx")
    if payment.manual_capture:
        payment.outcome = Outcome.AUTHORIZED
    else:
        payment.outcome = Outcome.SUCCEEDED
        payment.amount_captured = payment.amount
