"""A merchant's routing configuration: the typed model, the default every merchant starts with,
its validation and its versioned storage. The engine that applies it is
orchestrator/routing_engine."""

from core.routing_config.model import Conditions, RoutingConfig, Rule, WeightedTarget

__all__ = ["Conditions", "RoutingConfig", "Rule", "WeightedTarget"]
