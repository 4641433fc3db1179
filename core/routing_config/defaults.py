"""The routing a merchant has until it saves its own (version 0)."""

from __future__ import annotations

from core.routing_config.model import ANY_PROCESSOR, Conditions, RoutingConfig, Rule


def default_config() -> RoutingConfig:
    """Rupees to Razorpay, dollars, euros and everything else to Stripe; each followed by every
    other enabled processor."""
    return RoutingConfig(
        rules=(
            Rule("inr", Conditions(currencies=("INR",)), failover=("razorpay", ANY_PROCESSOR)),
            Rule(
                "usd_eur", Conditions(currencies=("USD", "EUR")), failover=("stripe", ANY_PROCESSOR)
            ),
            Rule("default", failover=("stripe", ANY_PROCESSOR)),
        )
    )
