"""Inputs: files and directories (task definitions, snapshots) → inventory."""

from .files import SourceError, load_paths, read_json

__all__ = ["SourceError", "load_paths", "read_json"]
