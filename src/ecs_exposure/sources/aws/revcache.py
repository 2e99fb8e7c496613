"""The task-definition revision cache: what ``DescribeTaskDefinition`` answered, keyed by ARN.

A revision is immutable: ``family:revision`` names the same containers, environment and roles for
ever. Only its ``status`` moves (``ACTIVE`` → ``INACTIVE`` on deregistration → ``DELETE_IN_PROGRESS``
on deletion → gone), with ``deregisteredAt`` / ``deleteRequestedAt``. So a rescan needs to describe
only the revisions it has not seen, and the cache is safe because of three rules:

- it is never a *source* of revisions: the collector asks it only for the ARNs that the services
  reference now, or that ``ListTaskDefinitions`` lists now. A revision a service stopped running, or
  one that was deleted, is not resurrected by being in the cache;
- when a listing gives a revision's current status and it differs from the cached one, the revision
  is described again (the answer then carries the new status and its timestamps);
- an entry no scan has asked for in :data:`MAX_AGE_DAYS` is dropped.

One file per account and Region (``<cache-dir>/revisions/<account>/<region>.json.gz``), read once
and written once (atomically) by the shard that owns that account×region. The documents hold task
definitions as AWS returns them, **credentials in their environment included**: the directory is
created 0700 and the files 0600, like a snapshot they must be protected as secrets
(``--no-cache`` keeps nothing on disk).
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

MAX_AGE_DAYS = 30
FORMAT = "ecs-exposure/revision-cache@1"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def default_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("ecs-exposure", appauthor=False))


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


class RevisionCache:
    """The cached revisions of one account×Region."""

    def __init__(self, root: Path, account_id: str, region: str) -> None:
        self.path = root / "revisions" / _SAFE.sub("_", account_id) / f"{_SAFE.sub('_', region)}.json.gz"
        self.root = root
        self.entries: dict[str, dict[str, Any]] = {}  # arn → {"td": taskDefinition, "seen": epoch}
        self.listing: dict[str, int] = {}  # status → revisions listed region-wide at the last scan
        self.hits = 0
        self.misses = 0
        self.problem: str | None = None  # why the cache could not be read or written
        self._load()

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as e:
            self.problem = f"revision cache {self.path} unreadable ({e.strerror}): not used"
            return
        try:
            doc = orjson.loads(gzip.decompress(raw))
            if doc.get("format") != FORMAT:
                raise ValueError("format")
            entries = doc.get("revisions") or {}
            self.entries = {
                a: e for a, e in entries.items() if isinstance(e, dict) and isinstance(e.get("td"), dict)
            }
            self.listing = {k: int(v) for k, v in (doc.get("listing") or {}).items()}
        except (ValueError, OSError, TypeError, AttributeError):
            self.problem = f"revision cache {self.path} is damaged: ignored and rewritten"
            self.entries = {}

    def get(self, arn: str, status: str | None = None) -> dict[str, Any] | None:
        """The cached revision, or None to describe it: not cached, or its status has moved."""
        entry = self.entries.get(arn)
        if entry is None or (status is not None and entry["td"].get("status") != status):
            self.misses += 1
            return None
        entry["seen"] = int(time.time())
        self.hits += 1
        return entry["td"]

    def put(self, td: dict[str, Any]) -> None:
        arn = td.get("taskDefinitionArn")
        if isinstance(arn, str) and arn:
            self.entries[arn] = {"td": td, "seen": int(time.time())}

    def forget(self, arns: set[str]) -> None:
        """Revisions known to be gone (their family was listed and they were not in the listing)."""
        for arn in arns:
            self.entries.pop(arn, None)

    def save(self) -> None:
        cutoff = time.time() - MAX_AGE_DAYS * 86400
        keep = {a: e for a, e in self.entries.items() if e.get("seen", 0) >= cutoff}
        data = gzip.compress(
            orjson.dumps({"format": FORMAT, "revisions": keep, "listing": self.listing}, default=str),
            compresslevel=5,
            mtime=0,
        )
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            _private_dir(self.root / "revisions")
            _private_dir(self.path.parent)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json.gz")
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self.path)  # atomic: a retried shard never leaves half a file
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            self.problem = f"revision cache {self.path} not written ({e.strerror})"
