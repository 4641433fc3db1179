"""Merchant credentials, the `razorpay.Client` built for them, and `call`: one SDK request with
its failure classified.

A client (and its `RazorpaySession`) is kept per worker thread and per credentials:
`requests.Session` is not documented as thread-safe, and the thread pool is bounded, so there
are at most pool size times `_PER_THREAD` clients.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError

from payloops.processor.v1 import processor_pb2
from processors.kit.bounded import BoundedMap
from processors.kit.errors import failed_precondition, unauthenticated
from processors.razorpay.errors import GatewayAnswer, Step, from_transport
from processors.razorpay.transport import (
    GatewayErrorBody,
    RazorpaySession,
    TransportFailure,
    TransportKind,
    classify,
    current_budget,
)

CREDENTIAL_FIELDS: tuple[str, ...] = ("key_id", "key_secret", "webhook_secret")
_PER_THREAD = 32
_APP = {"title": "PayLoops", "version": "1"}


@dataclass(frozen=True)
class Credentials:
    """One merchant's Razorpay account. repr() never shows the secrets."""

    key_id: str
    key_secret: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    livemode: bool = False

    @classmethod
    def for_api(cls, message: processor_pb2.Credentials) -> Credentials:
        """The credentials an API call needs (key id and secret), checked against the mode."""
        values = message.values
        key_id, key_secret = values.get("key_id", ""), values.get("key_secret", "")
        if not key_id or not key_secret:
            raise unauthenticated(
                "CREDENTIALS_MISSING", "credentials.values needs key_id and key_secret"
            )
        # Razorpay's key ids say their mode; a test key must never reach live credentials and
        # the reverse (proto: Credentials.livemode).
        live_key = key_id.startswith("rzp_live_")
        test_key = key_id.startswith("rzp_test_")
        if (message.livemode and test_key) or (not message.livemode and live_key):
            raise failed_precondition(
                "CREDENTIALS_MODE_MISMATCH",
                "the key id's mode (rzp_test_/rzp_live_) does not match credentials.livemode",
            )
        return cls(key_id, key_secret, values.get("webhook_secret", ""), message.livemode)


class ClientFactory:
    """Hands each worker thread its own client for the given credentials."""

    def __init__(self, api_base: str, timeout_s: float) -> None:
        self._api_base = api_base.rstrip("/")
        self._timeout_s = timeout_s
        self._local = threading.local()

    @property
    def api_base(self) -> str:
        return self._api_base

    def client(self, credentials: Credentials) -> razorpay.Client:
        cache: BoundedMap[tuple[str, str], razorpay.Client] | None = getattr(
            self._local, "clients", None
        )
        if cache is None:
            cache = BoundedMap(_PER_THREAD, on_evict=_close)
            self._local.clients = cache
        # Keyed by a digest, so the cache's keys are no copy of the secret.
        key = (credentials.key_id, hashlib.sha256(credentials.key_secret.encode()).hexdigest())
        client = cache.get(key)
        if client is None:
            client = razorpay.Client(
                session=RazorpaySession(self._timeout_s),
                auth=(credentials.key_id, credentials.key_secret),
                base_url=self._api_base,
            )
            client.set_app_details(dict(_APP))
            cache.put(key, client)
        return client


def _close(client: razorpay.Client) -> None:
    client.session.close()


def call(step: Step, request: Callable[[], object], *, moves_money: bool = False) -> dict[str, Any]:
    """One SDK call, answered with a JSON object; its failure as GatewayAnswer (Razorpay
    answered an error) or ProcessorError. `moves_money`: the request creates a payment, a
    capture or a refund; unless Razorpay provably did not act on it (not sent, or refused with
    a 4xx), the call's budget records that money may have moved."""
    budget = current_budget()
    if budget is not None:
        budget.last_error = None
    reached = True
    try:
        result = request()
    except TransportFailure as failure:
        reached = failure.kind is not TransportKind.NOT_SENT
        raise from_transport(failure, step) from failure
    except BadRequestError as error:
        reached = False  # refused (4xx): a payment it names failed, nothing moved
        raise GatewayAnswer("BadRequestError", _sdk_error_body(error, 400), step) from error
    except GatewayError as error:
        raise GatewayAnswer("GatewayError", _sdk_error_body(error, 502), step) from error
    except ServerError as error:
        raise GatewayAnswer("ServerError", _sdk_error_body(error, 500), step) from error
    except requests.RequestException as error:
        # The session turns these into TransportFailure; kept as a second net.
        kind = classify(error)
        reached = kind is not TransportKind.NOT_SENT
        raise from_transport(TransportFailure(kind, type(error).__name__), step) from error
    except ValueError as error:
        raise from_transport(
            TransportFailure(TransportKind.UNREADABLE, str(error)[:200]), step
        ) from error
    finally:
        if moves_money and reached and budget is not None:
            budget.money_request_sent = True
    if not isinstance(result, dict):
        raise from_transport(
            TransportFailure(TransportKind.UNREADABLE, "an answer that is not a JSON object"), step
        )
    return {str(k): v for k, v in result.items()}


def _sdk_error_body(error: Exception, default_status: int) -> GatewayErrorBody:
    budget = current_budget()
    body = budget.last_error if budget is not None else None
    return body or GatewayErrorBody(http_status=default_status, description=str(error))
