"""What every adapter's ParseWebhook shares: header lookup without regard to case, and the
contract's two refusals. A bad or missing signature is UNAUTHENTICATED SIGNATURE_INVALID
(PayLoops answers the gateway 400 and changes nothing); a correctly signed body that is not an
event is INVALID_ARGUMENT WEBHOOK_MALFORMED. Verifying the signature is the gateway's scheme,
so it stays in the adapter's webhooks.py."""

from __future__ import annotations

from collections.abc import Mapping

from processors.kit.errors import ProcessorError, invalid, unauthenticated


def lower_case(headers: Mapping[str, str]) -> dict[str, str]:
    """HTTP header names are case-insensitive; PayLoops sends them lower case, a test may not."""
    return {name.lower(): value for name, value in headers.items()}


def signature_invalid(message: str = "webhook signature missing or invalid") -> ProcessorError:
    return unauthenticated("SIGNATURE_INVALID", message)


def malformed(message: str) -> ProcessorError:
    return invalid("WEBHOOK_MALFORMED", message)
