"""ecs-exposure: find and fix exposure in Amazon ECS services."""

__version__ = "0.1.0"
