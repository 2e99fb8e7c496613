"""Files and directories given on the command line → inventory.

Each file is read on its own: one that cannot be read or parsed becomes a :class:`ScanIssue`
(naming the file and, for JSON, the line and column) and the others are still scanned. Kinds are
recognised by content, not by name: a snapshot (``"format": "ecs-exposure/snapshot@1"``), a task
definition in ``register-task-definition`` or ``describe-task-definition`` shape, or a JSON list of
those; and infrastructure code (:mod:`.iac`): CloudFormation templates (JSON or YAML), bare
container-definition lists, YAML task definitions, ``*.json.tpl`` templates, Terraform.

In a directory every file is either read or listed as skipped with its reason (a note), and a
directory in which nothing could be read is not a clean scan: it is a scan issue.

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
from . import iac
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
                    yield Path(root) / f, False
        else:
            yield p, True


def is_json_name(name: str) -> bool:
    return name.endswith((".json", ".json.gz"))


def load_document(doc: JSON, shown: str, explicit: bool, path: Path | None = None) -> Inventory:
    if is_snapshot(doc):
        return load_snapshot(doc, shown)
    if not is_task_definition(unwrap(doc)[0]) and not (
        isinstance(doc, list) and any(is_task_definition(unwrap(d)[0]) for d in doc)
    ):
        found = iac.load_document(doc, shown, path, "json")
        if found is not None:
            return found
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
            inv.notes.append(
                f"{shown}: skipped, JSON that is neither a task definition, a snapshot nor a template"
            )
        return inv
    for parts in strays:
        r.problem(Loc(shown, parts), "not a task definition (no containerDefinitions)")
    inv.issues.extend(r.issues)
    return inv


def load_file(path: Path, shown: str, explicit: bool, max_file_size: int | None = None) -> Inventory:
    """One file, dispatched on its kind; a file no source reads is a note (a skip and its reason).
    Not a regular file (a FIFO, a device …): a note in a directory, an issue when named."""
    inv = Inventory()
    name = path.name.lower()
    try:
        if not is_json_name(name) and iac.claims_name(name):
            return iac.load_file(path, shown, explicit, max_file_size)
        if not explicit and not is_json_name(name):
            suffix = path.suffix or "no extension"
            inv.notes.append(f"{shown}: skipped, not a kind of file ecs-exposure reads ({suffix})")
            return inv
        try:
            doc = read_json(path, shown, max_file_size)
        except NotAFile:
            raise
        except SourceError as e:
            # a template with ${…} placeholders (Terraform templatefile), or a lenient CloudFormation file
            template = (
                iac.json_fallback(path, shown, max_file_size)
                if name.endswith(".json") and e.message.startswith("invalid JSON")
                else None
            )
            if template is not None:
                return template
            inv.issues.append(ScanIssue(e.path, "", e.message))
            return inv
        found = load_document(doc, shown, explicit, path)
        if not name.endswith(".gz") and shown not in found.positions:
            found.positions[shown] = JsonPositions(path)  # read again only if an output asks for a line
        return found
    except NotAFile as e:
        if explicit:
            inv.issues.append(ScanIssue(e.path, "", e.message))
        else:
            inv.notes.append(f"{shown}: skipped, {e.message}")
    except MemoryError:
        inv.issues.append(ScanIssue(shown, "", "not enough memory to scan it: not scanned"))
    return inv


def _read(inv: Inventory) -> bool:
    """Whether a file's inventory shows it was read as one of the input kinds: not skipped, and not
    unreadable as a whole (a problem inside a file that was read does not count)."""
    return not any(i.path == "" for i in inv.issues) and not any(": skipped" in n for n in inv.notes)


def load_paths(
    paths: Iterable[Path], max_file_size: int | None = None, skip_other_files: bool = False
) -> Inventory:
    """Every input under ``paths`` (directories walked), ``max_file_size`` bytes per file at most
    (default: the limit in force, see :func:`.jsonio.file_size_limit`). With ``skip_other_files`` a
    file named explicitly that is none of the kinds read is skipped with a note, as in a directory (a
    pre-commit hook passes every changed file)."""
    inv = Inventory()
    done: set[str] = set()  # a file reached through two arguments is read once
    for top in paths:
        read = seen = troubled = 0
        for path, explicit in iter_files([top], inv.issues):
            key = os.path.abspath(path)
            if key in done:
                continue
            done.add(key)
            shown = display_path(path)
            one = load_file(path, shown, explicit and not skip_other_files, max_file_size)
            seen += 1
            read += _read(one)
            troubled += bool(one.issues)
            inv.merge(one)
        if top.is_dir() and read == 0 and not troubled:
            inv.issues.append(
                ScanIssue(
                    display_path(top),
                    "",
                    f"nothing read: none of its {seen} files is a task definition, snapshot, "
                    "CloudFormation template or container-definition list"
                    if seen
                    else "nothing read: the directory has no files",
                )
            )
    return inv
