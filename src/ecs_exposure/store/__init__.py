"""The findings history: every recorded scan and the findings it saw, in SQLite or PostgreSQL.

``Store.open(url)`` creates the database when needed and brings its schema to the version of this
ecs-exposure with the Alembic migrations shipped in ``migrations/`` (a database written by a newer
version is refused, never altered). The default store is a SQLite file in the user's data directory
(``platformdirs``); any SQLAlchemy URL works for a team (``postgresql://host/db``, driven by
psycopg 3). A finding keeps its stable id across scans, so two scans can be compared
(:mod:`.diff`). Nothing stored holds a credential value: findings are stored as the JSON report
writes them (names and fingerprints), and URLs are shown with their password hidden.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .db import Store, head_revision, migrate, parse_url

DEFAULT = "default"  # --store with no URL: the SQLite file in the user's data directory


class StoreError(Exception):
    """The store cannot be used: one line, with the URL's password hidden."""


def default_path() -> Path:
    import platformdirs

    return platformdirs.user_data_path("ecs-exposure", appauthor=False) / "history.sqlite"


def target_key(target: str) -> str:
    return hashlib.sha256(target.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ScanInfo:
    id: int
    started_at: datetime  # UTC
    tool_version: str
    target: str
    target_key: str
    complete: bool
    resources_scanned: int
    finding_count: int


@dataclass(frozen=True, slots=True)
class StoredFinding:
    finding_id: str
    status: str
    severity: str
    title: str
    resource_type: str
    resource_uid: str
    resource_name: str
    account: str | None
    region: str | None
    traits: tuple[str, ...]
    suppression_source: str | None = None


_LAZY = ("Store", "head_revision", "migrate", "parse_url")


def __getattr__(name: str) -> Any:
    """The database side (SQLAlchemy, Alembic) loads on first use: a scan without --store and the
    other commands do not pay for it."""
    if name in _LAZY:
        from . import db

        return getattr(db, name)
    raise AttributeError(name)


__all__ = [
    "DEFAULT",
    "ScanInfo",
    "Store",
    "StoreError",
    "StoredFinding",
    "default_path",
    "head_revision",
    "migrate",
    "parse_url",
    "target_key",
]
