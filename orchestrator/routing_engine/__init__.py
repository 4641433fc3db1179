"""Routing inside the orchestrator: the facts a payment is routed on and the pure engine that
picks its rule and orders its processors. Randomness comes in as arguments, so a workflow can
draw it once, record it and replay the same plan."""

from orchestrator.routing_engine.engine import (
    Candidate,
    Plan,
    ProcessorInfo,
    failure_code,
    match,
    plan,
)
from orchestrator.routing_engine.facts import PaymentFacts, facts_for

__all__ = [
    "Candidate",
    "PaymentFacts",
    "Plan",
    "ProcessorInfo",
    "facts_for",
    "failure_code",
    "match",
    "plan",
]
