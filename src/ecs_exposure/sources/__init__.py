"""Inputs: files and directories (task definitions, snapshots) → inventory."""

from .files import load_paths
from .jsonio import SourceError, read_json

__all__ = ["SourceError", "load_paths", "read_json"]
