"""Files and directories given on the command line → inventory.

Each file is read on its own: one that cannot be read or parsed becomes a :class:`ScanIssue`
(naming the file and, for JSON, the line and column) and the others are still scanned. Kinds are
recognised by content, not by name: a snapshot (``"format": "ecs-exposure/snapshot@1"``), a task
definition in ``register-task-definition`` or ``describe-task-definition`` shape, or a JSON list of
those. In a directory, ``*.json`` and ``*.json.gz`` files are read recursively and other JSON is
skipped with a note; a file named explicitly must be one of those kinds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..model import Inventory, Loc, ScanIssue, TaskDefinitionFile
from .jsonio import SourceError, display_path, read_json
from .jsonpos import JsonPositions
from .reader import JSON, Reader
from .snapshot import is_snapshot, load_snapshot
from .taskdef import is_task_definition, parse_task_definition, unwrap

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".terraform", "__pycache__", ".venv"}


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, bool]]:
    """Yield (file, named explicitly). Directories are walked in sorted order."""
    for p in paths:
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for f in sorted(files):
                    if f.endswith((".json", ".json.gz")):
                        yield Path(root) / f, False
        else:
            yield p, True


def load_document(doc: JSON, shown: str, explicit: bool) -> Inventory:
    if is_snapshot(doc):
        return load_snapshot(doc, shown)
    inv = Inventory()
    items: list[tuple[JSON, tuple[str | int, ...]]] = (
        [(d, (i,)) for i, d in enumerate(doc)] if isinstance(doc, list) else [(doc, ())]
    )
    r = Reader()
    found = 0
    strays: list[tuple[str | int, ...]] = []
    for raw, parts in items:
        inner, wrap = unwrap(raw)
        if not is_task_definition(inner):
            strays.append(parts)
            continue
        found += 1
        loc = Loc(shown, parts + wrap)
        td = parse_task_definition(inner, loc, r)
        if td is None:
            continue
        uid = td.arn or (f"{shown}#{loc.pointer}" if isinstance(doc, list) else shown)
        inv.task_definition_files.append(TaskDefinitionFile(td, uid))
    if found == 0:
        if explicit:
            inv.issues.append(
                ScanIssue(
                    shown, "", "not a task definition or ecs-exposure snapshot (no containerDefinitions)"
                )
            )
        else:
            inv.notes.append(f"{shown}: skipped, not a task definition or snapshot")
        return inv
    for parts in strays:
        r.problem(Loc(shown, parts), "not a task definition (no containerDefinitions)")
    inv.issues.extend(r.issues)
    return inv


def load_paths(paths: Iterable[Path]) -> Inventory:
    inv = Inventory()
    for path, explicit in iter_files(paths):
        shown = display_path(path)
        if explicit and not path.exists():
            inv.issues.append(ScanIssue(shown, "", "no such file or directory"))
            continue
        try:
            doc = read_json(path, shown)
        except SourceError as e:
            inv.issues.append(ScanIssue(e.path, "", e.message))
            continue
        inv.merge(load_document(doc, shown, explicit))
        if not path.name.endswith(".gz"):
            inv.positions[shown] = JsonPositions(path)  # read again only if an output asks for a line
    return inv
