"""Files and directories given on the command line → inventory.

Each file is read on its own: one that cannot be read or parsed becomes a :class:`ScanIssue`
(naming the file and, for JSON, the line and column) and the others are still scanned. Kinds are
recognised by content, not by name: a snapshot (``"format": "ecs-exposure/snapshot@1"``), a task
definition in ``register-task-definition`` or ``describe-task-definition`` shape, or a JSON list of
those. In a directory, ``*.json`` and ``*.json.gz`` files are read recursively and other JSON is
skipped with a note; a file named explicitly must be one of those kinds.

Reading is safe on hostile trees (see :mod:`.jsonio`): a FIFO, socket or device is never opened
(skipped with a note in a directory, an error when named), a file over the size limit is reported
without being read, and a file that exhausts memory is an error for that file only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from ..model import Inventory, Loc, ScanIssue, TaskDefinitionFile
from .jsonio import NotAFile, SourceError, display_path, read_json
from .jsonpos import JsonPositions
from .reader import JSON, Reader
from .snapshot import is_snapshot, load_snapshot
from .taskdef import is_task_definition, parse_tags, parse_task_definition, unwrap

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".terraform", "__pycache__", ".venv"}


def iter_files(paths: Iterable[Path], issues: list[ScanIssue] | None = None) -> Iterator[tuple[Path, bool]]:
    """Yield (file, named explicitly), each file once. Directories are walked in sorted order,
    without following links to directories; one that cannot be listed is recorded in ``issues``."""
    found: dict[str, tuple[Path, bool]] = {}
    for path, explicit in _walk(paths, issues):
        key = os.path.abspath(path)
        seen = found.get(key)
        found[key] = (seen[0] if seen else path, explicit or (seen is not None and seen[1]))
    yield from found.values()


def _walk(paths: Iterable[Path], issues: list[ScanIssue] | None) -> Iterator[tuple[Path, bool]]:

    def unreadable(e: OSError) -> None:
        if issues is not None:
            where = display_path(Path(e.filename)) if e.filename else "?"
            issues.append(
                ScanIssue(where, "", f"cannot read directory: {e.strerror or e.__class__.__name__}")
            )

    for p in paths:
        if p.is_dir():
            for root, dirs, files in os.walk(p, onerror=unreadable):
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
        if wrap and raw.get("tags"):  # describe-task-definition --include TAGS: beside taskDefinition
            td = replace(td, tags=td.tags + parse_tags(raw["tags"]))
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
            inv.notes.append(f"{shown}: skipped, JSON that is neither a task definition nor a snapshot")
        return inv
    for parts in strays:
        r.problem(Loc(shown, parts), "not a task definition (no containerDefinitions)")
    inv.issues.extend(r.issues)
    return inv


def load_paths(paths: Iterable[Path], max_file_size: int | None = None) -> Inventory:
    """Every file of ``paths`` (directories walked); ``max_file_size`` bytes per file at most
    (default: the limit in force, see :func:`.jsonio.file_size_limit`)."""
    inv = Inventory()
    for path, explicit in iter_files(paths, inv.issues):
        shown = display_path(path)
        try:
            doc = read_json(path, shown, max_file_size)
            inv.merge(load_document(doc, shown, explicit))
        except NotAFile as e:
            if explicit:
                inv.issues.append(ScanIssue(e.path, "", e.message))
            else:
                inv.notes.append(f"{shown}: skipped, {e.message}")
        except SourceError as e:
            inv.issues.append(ScanIssue(e.path, "", e.message))
        except MemoryError:
            inv.issues.append(ScanIssue(shown, "", "not enough memory to scan it: not scanned"))
        else:
            if not path.name.endswith(".gz"):
                inv.positions[shown] = JsonPositions(path)  # read again only if an output asks for a line
    return inv
