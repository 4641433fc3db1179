"""PayLoops Python SDK: `PayLoops("sk_test_…").orders.create(amount=4999, currency="USD")`;
`webhooks.verify(body, signature_header, secret)` on the receiving end of webhooks.

sdk/README.md shows the whole example; `__all__` is the public surface.
"""

from payloops.sdk import webhooks
from payloops.sdk._client import PayLoops
from payloops.sdk._errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConflictError,
    FieldViolation,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    PayLoopsError,
    RateLimitError,
    SignatureVerificationError,
)
from payloops.sdk._types import (
    Attempt,
    NextAction,
    Order,
    OrderPage,
    RoutingCandidate,
    RoutingDecision,
)
from payloops.sdk._version import VERSION as __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "Attempt",
    "AuthenticationError",
    "ConflictError",
    "FieldViolation",
    "IdempotencyError",
    "InvalidRequestError",
    "NextAction",
    "NotFoundError",
    "Order",
    "OrderPage",
    "PayLoops",
    "PayLoopsError",
    "RateLimitError",
    "RoutingCandidate",
    "RoutingDecision",
    "SignatureVerificationError",
    "__version__",
    "webhooks",
]
