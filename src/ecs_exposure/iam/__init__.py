"""IAM: the catalogue of actions, effective permissions of a role, and what they let an attacker do."""

from .catalogue import ActionCatalogue, catalogue
from .evaluate import Permissions, Statement, evaluate

__all__ = ["ActionCatalogue", "Permissions", "Statement", "catalogue", "evaluate"]
