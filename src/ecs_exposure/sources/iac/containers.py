"""Task definitions outside CloudFormation: bare container-definition lists (the
``--container-definitions file://…`` / Terraform ``container_definitions`` shape), task definitions
written in YAML, and JSON templates (``*.json.tpl``) whose ``${…}`` placeholders are read as values
set at deploy (unknown), not as syntax errors.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from ...model import Inventory, Loc, ScanIssue, TaskDefinition, TaskDefinitionFile, Unresolved
from ..reader import Reader
from ..taskdef import is_task_definition, unwrap
from . import mapping as m
from .locs import ListLoc, ObjectLoc, TemplateLoc
from .positions import IacPositions
from .values import Unknown

_CONTAINER_KEYS = ("image", "essential", "portMappings", "environment", "memory", "cpu", "command")


def is_container_object(doc: object) -> bool:
    """One container definition alone (a template a module wraps in a list)."""
    return (
        isinstance(doc, dict)
        and "name" in doc
        and "image" in doc
        and not any(k in doc for k in ("containerDefinitions", "taskDefinition", "Resources", "format"))
        and any(k in doc for k in _CONTAINER_KEYS[1:])
    )


def is_container_list(doc: object) -> bool:
    """A JSON/YAML list of container definitions (objects with a name or image and ECS container
    fields, none of them a whole task definition), or one container definition alone."""
    if is_container_object(doc):
        return True
    if not isinstance(doc, list) or not doc:
        return False
    if not all(isinstance(c, dict) for c in doc):
        return False
    if any("containerDefinitions" in c or "taskDefinition" in c for c in doc):
        return False
    return all(("name" in c or "image" in c) and any(k in c for k in _CONTAINER_KEYS) for c in doc)


def _family(shown: str) -> str:
    name = shown.rsplit("/", 1)[-1]
    for suffix in (".json.tpl", ".json.tmpl", ".tpl", ".tmpl", ".json", ".yaml", ".yml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


BARE = "a bare container-definition list: the task definition around it sets this"
TASK_FIELDS = ("networkMode", "pidMode", "ipcMode", "taskRoleArn", "executionRoleArn")


def task_level_open(td: TaskDefinition, loc: Loc) -> tuple[Unresolved, ...]:
    """A container list alone leaves every task-level setting open: unknown, not absent."""
    out = [Unresolved(f, BARE, loc) for f in TASK_FIELDS]
    if any(c.mount_points for c in td.containers):
        out.append(Unresolved("volumes", BARE, loc))
    return tuple(out)


def load_container_list(
    doc: list, shown: str, path: Path | None, kind: str, text: str | None = None
) -> Inventory:
    inv = Inventory()
    r = Reader()
    loc = ListLoc(shown, ()) if isinstance(doc, list) else ObjectLoc(shown, ())
    # Terraform's provider reads container definitions with Go's case-insensitive JSON decoding:
    # "Name"/"Value" work there, so they are read here
    from .cloudformation import api_keys

    doc = api_keys([doc] if isinstance(doc, dict) else doc)
    td = m.build_task_definition({"containerDefinitions": doc}, loc, shown, _family(shown), r)
    if td is not None:
        td = dataclasses.replace(td, unresolved=td.unresolved + task_level_open(td, loc))
        inv.task_definition_files.append(TaskDefinitionFile(td, shown))
    inv.issues.extend(r.issues)
    inv.positions[shown] = IacPositions(path, kind, text if path is None else None)
    return inv


def load_task_definition(
    doc: Any, shown: str, path: Path | None, kind: str, text: str | None = None
) -> Inventory:
    """A task definition (register or describe shape) written in YAML or as a JSON template."""
    inv = Inventory()
    r = Reader()
    inner, wrap = unwrap(doc)
    loc = TemplateLoc(shown, wrap)
    td = m.build_task_definition(inner, loc, shown, _family(shown), r)
    if td is not None:
        inv.task_definition_files.append(TaskDefinitionFile(td, td.arn if td.arn != shown else shown))
    inv.issues.extend(r.issues)
    inv.positions[shown] = IacPositions(path, kind, text if path is None else None)
    return inv


def is_task_definition_doc(doc: object) -> bool:
    inner, _ = unwrap(doc)
    return is_task_definition(inner)


# --------------------------------------------------------------------------- JSON templates

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_WHOLE = re.compile(r"^\$\{[^{}]*\}$")
_MARK = "\x01"


class TemplateError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _closing(text: str, i: int) -> int:
    """Offset past the ``}`` closing the ``{`` at ``i`` (strings inside skipped)."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            mt = _STRING.match(text, i)
            i = mt.end() if mt else len(text)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise TemplateError("a template placeholder is not closed")


def _next_significant(text: str, i: int) -> str:
    while i < len(text) and text[i].isspace():
        i += 1
    return text[i] if i < len(text) else ""


def substitute(text: str) -> tuple[str, list[str]]:
    """Replace each ``${…}`` outside a JSON string by a marker value or member, and drop ``%{…}``
    directives (both branches of a template conditional are kept). Line numbers are preserved."""
    out: list[str] = []
    found: list[str] = []
    stack: list[str] = []
    prev = ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            mt = _STRING.match(text, i)
            if mt is None:
                raise TemplateError("a string is not closed")
            out.append(mt.group(0))
            prev, i = '"', mt.end()
            continue
        if c in "$%" and text.startswith("{", i + 1):
            j = _closing(text, i + 1)
            if c == "%":
                i = j
                continue
            found.append(text[i:j])
            token = json.dumps(f"{_MARK}{len(found) - 1}")
            nxt = _next_significant(text, j)
            if stack and stack[-1] == "{" and prev != ":":
                piece = ("" if prev in "{," else ",") + token + ":null" + ("," if nxt == '"' else "")
            else:
                piece = ("," if stack and stack[-1] == "[" and prev not in "[," else "") + token
                if stack and stack[-1] == "[" and nxt not in ",]":
                    piece += ","
            out.append(piece)
            prev = piece[-1]
            i = j
            continue
        if c in "{[":
            stack.append(c)
        elif c in "}]" and stack:
            stack.pop()
        if not c.isspace():
            prev = c
        out.append(c)
        i += 1
    return "".join(out), found


def _unknowns(value: Any, found: list[str]) -> Any:
    if isinstance(value, str):
        if value.startswith(_MARK) and value[1:].isdigit():
            expr = found[int(value[1:])]
            return Unknown(f"template placeholder {expr}", expr)
        if _WHOLE.match(value):
            return Unknown(f"template placeholder {value}", value)
        return value
    if isinstance(value, dict):
        out: dict = {}
        for k, v in value.items():
            if isinstance(k, str) and k.startswith(_MARK) and k[1:].isdigit():
                expr = found[int(k[1:])]
                out[m.MEMBERS] = Unknown(f"template placeholder {expr} stands for members", expr)
                continue
            out[k] = _unknowns(v, found)
        return out
    if isinstance(value, list):
        return [_unknowns(v, found) for v in value]
    return value


def parse_json_template(text: str) -> tuple[Any, str]:
    """A JSON template → (values with :class:`Unknown` for its placeholders, the JSON text they were
    read from: same lines, for positions). Raises TemplateError."""
    replaced, found = substitute(text)
    try:
        doc = json.loads(replaced)
    except json.JSONDecodeError as e:
        raise TemplateError(
            f"not JSON once its placeholders are set aside, at line {e.lineno} column {e.colno}: {e.msg}"
        ) from None
    return _unknowns(doc, found), replaced


def load_json_template(text: str, shown: str, path: Path | None) -> Inventory:
    try:
        doc, replaced = parse_json_template(text)
    except TemplateError as e:
        inv = Inventory()
        inv.issues.append(ScanIssue(shown, "", e.message))
        return inv
    if is_container_list(doc):
        return load_container_list(doc, shown, None, "json", replaced)
    if is_task_definition_doc(doc):
        return load_task_definition(doc, shown, None, "json", replaced)
    inv = Inventory()
    inv.notes.append(f"{shown}: skipped, a template that is neither a task definition nor a container list")
    return inv
