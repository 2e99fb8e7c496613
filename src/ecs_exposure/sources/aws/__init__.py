"""Live AWS: the collector that writes an ``ecs-exposure/snapshot@1`` from the AWS APIs."""

from .collector import AccountCollector, CallStats, CollectConfig, collect

__all__ = ["AccountCollector", "CallStats", "CollectConfig", "collect"]
