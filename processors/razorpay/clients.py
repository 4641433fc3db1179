"""Merchant credentials and the `razorpay.Client` built for them.

A client (and its `RazorpaySession`) is kept per worker thread and per credentials:
`requests.Session` is not guaranteed thread-safe, and the thread pool is bounded, so there
are at most pool size times `_PER_THREAD` clients.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import razorpay

from payloops.processor.v1 import processor_pb2
from processors.razorpay.errors import AdapterError
from processors.razorpay.transport import RazorpaySession

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
            raise AdapterError.unauthenticated(
                "CREDENTIALS_MISSING", "credentials.values needs key_id and key_secret"
            )
        # Razorpay's key ids say their mode; a test key must never reach live credentials and
        # the reverse (proto: Credentials.livemode).
        live_key = key_id.startswith("rzp_live_")
        test_key = key_id.startswith("rzp_test_")
        if (message.livemode and test_key) or (not message.livemode and live_key):
            raise AdapterError.failed_precondition(
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
        cache: OrderedDict[tuple[str, str], razorpay.Client] | None = getattr(
            self._local, "clients", None
        )
        if cache is None:
            cache = OrderedDict()
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
            cache[key] = client
            if len(cache) > _PER_THREAD:
                _, evicted = cache.popitem(last=False)
                evicted.session.close()
        else:
            cache.move_to_end(key)
        return client
