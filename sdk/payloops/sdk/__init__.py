"""PayLoops Python SDK: `PayLoops("sk_test_…").orders.create(amount=4999, currency="USD")`, or
`await AsyncPayLoops("sk_test_…").orders.create(…)`; `webhooks.verify(body, signature_header,
secret)` on the receiving end of webhooks.

sdk/README.md shows the whole surface; `__all__` is the public API, and `models` holds every
type the API returns.
"""

from payloops.sdk import models, webhooks
from payloops.sdk._client import AsyncPayLoops, PayLoops
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
    PermissionDeniedError,
    RateLimitError,
    SignatureVerificationError,
)
from payloops.sdk._pages import AsyncPage, Page
from payloops.sdk._version import VERSION as __version__
from payloops.sdk.models import (
    Attempt,
    NextAction,
    Order,
    Refund,
    RoutingCandidate,
    RoutingDecision,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncPage",
    "AsyncPayLoops",
    "Attempt",
    "AuthenticationError",
    "ConflictError",
    "FieldViolation",
    "IdempotencyError",
    "InvalidRequestError",
    "NextAction",
    "NotFoundError",
    "Order",
    "Page",
    "PayLoops",
    "PayLoopsError",
    "PermissionDeniedError",
    "RateLimitError",
    "Refund",
    "RoutingCandidate",
    "RoutingDecision",
    "SignatureVerificationError",
    "__version__",
    "models",
    "webhooks",
]
