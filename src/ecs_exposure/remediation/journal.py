"""The write-ahead journal of ``fix --apply``.

Each mutating call is written down *before* it is made (status ``intent``, with what the resource
held before and how to find what the call may have created) and confirmed after (``done``, with what
AWS returned) or marked ``failed`` with the error and whether the call may still have taken effect.
The file is replaced atomically (temporary file, fsync, rename) at every change, so a crash at any
point leaves a journal that names every change made or possibly made. Rollback reads it newest
first. A journal holds names, ARNs and policy documents, never a credential value.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "ecs-exposure/journal@2"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class JournalError(Exception):
    pass


class Journal:
    def __init__(self, path: Path, journal_id: str | None = None) -> None:
        self.path = path
        self.id = journal_id or "j-" + uuid.uuid4().hex[:16]
        self.entries: list[dict[str, Any]] = []
        self.started_at = _now()

    # ------------------------------------------------------------------ writing

    def intent(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Record a call about to be made; returns the entry to confirm or fail."""
        entry = {"seq": len(self.entries) + 1, "status": "intent", "at": _now(), **entry}
        self.entries.append(entry)
        self.save()
        return entry

    def done(self, entry: dict[str, Any], result: dict[str, Any] | None = None) -> None:
        entry["status"] = "done"
        if result:
            entry["result"] = result
        self.save()

    def failed(self, entry: dict[str, Any], code: str, message: str, made: str) -> None:
        """``made``: "no" (AWS refused the request) or "unknown" (it may have taken effect)."""
        entry["status"] = "failed"
        entry["error"] = {"code": code, "message": message[:300], "made": made}
        self.save()

    def save(self) -> None:
        doc = {
            "format": FORMAT,
            "id": self.id,
            "started_at": self.started_at,
            "written_at": _now(),
            "entries": self.entries,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".journal-")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f, indent=2, default=str)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    # ------------------------------------------------------------------ reading

    @classmethod
    def load(cls, path: Path) -> Journal:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise JournalError(f"{path}: cannot read the journal ({e.__class__.__name__})") from None
        if (
            not isinstance(doc, dict)
            or doc.get("format") != FORMAT
            or not isinstance(doc.get("entries"), list)
        ):
            raise JournalError(f"{path}: not an ecs-exposure journal ({FORMAT})")
        j = cls(path, str(doc.get("id") or ""))
        j.entries = doc["entries"]
        j.started_at = str(doc.get("started_at") or "")
        return j
