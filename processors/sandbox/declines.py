"""The sandbox's declines: the codes its test tokens decline with, hard or soft."""

from __future__ import annotations

from processors.kit.declines import DeclineRule

THREE_DS_FAILED = "three_d_secure_failed"

DECLINES: dict[str, DeclineRule] = {
    rule.code: rule
    for rule in (
        DeclineRule("generic_decline", soft=False, message="The card was declined."),
        DeclineRule("insufficient_funds", soft=False, message="The card has insufficient funds."),
        DeclineRule("try_again_later", soft=True, message="The issuer is temporarily unavailable."),
        DeclineRule(
            "processing_error", soft=True, message="An error occurred processing the card."
        ),
        DeclineRule(THREE_DS_FAILED, soft=False, message="3-D Secure authentication failed."),
    )
}
