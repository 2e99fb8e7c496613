"""Edit infrastructure code as text, keeping comments and formatting, and write a unified diff.

An :class:`Editor` holds one file's text and its index (:mod:`.positions`), and records edits at the
exact offsets of the values it changes: delete a member or a list item, replace a value, add a
member to an object, append an item to a list. Block and flow YAML and JSON are handled alike: a
member is cut from its key to the next member's key (or, for the last one, from the end of the
previous value), so indentation, commas and neighbouring comments stay as written. New values are
rendered in the file's own language (YAML block style with short intrinsic tags, or JSON indented
like its neighbours). :func:`unified_diff` makes the patch ``git apply`` takes.

Shared by every language: the Terraform patcher drives the same editor over HCL spans.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .positions import JsonText, Parts, Span, TextIndex, YamlText


@dataclass(order=True)
class Edit:
    start: int
    end: int
    text: str = field(compare=False)


class EditConflict(Exception):
    pass


_PLAIN = re.compile(r"^[A-Za-z0-9_./@*][A-Za-z0-9_./:@*-]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}


def yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    s = str(value)
    if _PLAIN.match(s) and s.lower() not in _YAML_WORDS and not re.match(r"^[-+]?[0-9.]+$|^\d{4}-\d", s):
        return s
    return json.dumps(s)


def _intrinsic(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        ((k, v),) = value.items()
        if k == "Ref" and isinstance(v, str):
            return f"!Ref {v}"
        if k == "Fn::GetAtt" and isinstance(v, list) and len(v) == 2:
            return f"!GetAtt {v[0]}.{v[1]}"
        if k == "Fn::Sub" and isinstance(v, str):
            return f"!Sub {json.dumps(v)}"
    return None


def yaml_lines(value: Any, indent: int) -> list[str]:
    """A mapping or list rendered as block YAML lines at ``indent``."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            inline = _intrinsic(v)
            if inline is None and isinstance(v, dict | list) and v:
                out.append(f"{pad}{k}:")
                out.extend(yaml_lines(v, indent + 2))
            elif inline is not None:
                out.append(f"{pad}{k}: {inline}")
            elif isinstance(v, dict | list):
                out.append(f"{pad}{k}: {'{}' if isinstance(v, dict) else '[]'}")
            else:
                out.append(f"{pad}{k}: {yaml_scalar(v)}")
    elif isinstance(value, list):
        for v in value:
            inline = _intrinsic(v)
            if inline is None and isinstance(v, dict) and v:
                inner = yaml_lines(v, indent + 2)
                out.append(f"{pad}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            elif inline is None and isinstance(v, list):
                out.append(f"{pad}-")
                out.extend(yaml_lines(v, indent + 2))
            else:
                out.append(f"{pad}- {inline or yaml_scalar(v)}")
    return out


def yaml_inline(value: Any) -> str:
    """A value in YAML flow style (for a flow mapping or list)."""
    inline = _intrinsic(value)
    if inline is not None:
        return inline
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_inline(v) for v in value) + "]"
    return yaml_scalar(value)


class Editor:
    """Edits of one file's text."""

    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.kind = kind
        self.index: TextIndex = YamlText(text) if kind == "yaml" else JsonText(text)
        self.edits: list[Edit] = []
        self._deleted: set[Parts] = set()

    # -- reading

    def span(self, parts: Parts) -> Span | None:
        found, matched = self.index.span(parts)
        return found if found is not None and matched == len(parts) else None

    def children(self, parts: Parts) -> tuple[str, list[tuple[object, Span]]] | None:
        """("map" / "seq", [(key or index, span)]) of the object or list at ``parts``."""
        if isinstance(self.index, YamlText):
            return self._yaml_children(parts)
        return self._json_children(parts)

    def _yaml_children(self, parts: Parts):
        import yaml

        node = self.span(parts)
        node = node.node if node is not None else None
        if isinstance(node, yaml.MappingNode):
            return "map", [
                (k.value, Span(k.start_mark.index, v.start_mark.index, _yaml_end(self.text, v), v))
                for k, v in node.value
            ]
        if isinstance(node, yaml.SequenceNode):
            return "seq", [
                (
                    i,
                    Span(
                        _marker(self.text, n.start_mark.index), n.start_mark.index, _yaml_end(self.text, n), n
                    ),
                )
                for i, n in enumerate(node.value)
            ]
        return None

    def _json_children(self, parts: Parts):
        found = self.span(parts)
        if found is None:
            return None
        t = self.text
        c = t[found.start]
        if c not in "{[":
            return None
        out = []
        idx = self.index
        assert isinstance(idx, JsonText)
        i = idx._ws(found.start + 1)
        n = 0
        while i < len(t) and t[i] not in "}]":
            if c == "{":
                m = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL).match(t, i)
                if m is None:
                    return None
                key = json.loads(m.group(0))
                j = idx._ws(m.end())
                j = idx._ws(j + 1)
                end = idx._skip(j)
                out.append((key, Span(i, j, end)))
            else:
                end = idx._skip(i)
                out.append((n, Span(i, i, end)))
                n += 1
            i = idx._ws(end)
            if i < len(t) and t[i] == ",":
                i = idx._ws(i + 1)
        return ("map" if c == "{" else "seq"), out

    def flow(self, parts: Parts) -> bool:
        """Whether the object or list at ``parts`` is written inline (YAML flow style)."""
        found = self.span(parts)
        if found is None:
            return False
        return self.kind == "json" or self.text[found.start] in "{["

    # -- edits

    def _add(self, start: int, end: int, text: str) -> None:
        if not text and start < end:  # deletions that touch or overlap merge (neighbouring members)
            for e in list(self.edits):
                if not e.text and e.start < e.end and start <= e.end and e.start <= end:
                    self.edits.remove(e)
                    start, end = self._whole_lines(min(start, e.start), max(end, e.end))
        for e in self.edits:
            if (start < e.end and e.start < end) or (start == end and e.start < start < e.end):
                raise EditConflict(f"overlapping edits at offset {start}")
        self.edits.append(Edit(start, end, text))

    def _whole_lines(self, a: int, b: int) -> tuple[int, int]:
        """Widen a cut to whole lines when nothing else is left on them."""
        t = self.text
        ls = t.rfind("\n", 0, a) + 1
        if not t[ls:a].strip() and b > a and t[b - 1] == "\n":
            return ls, b
        le = t.find("\n", b)
        le = len(t) if le == -1 else le
        if not t[ls:a].strip() and (not t[b:le].strip() or t[b:le].lstrip().startswith("#")):
            return ls, min(le + 1, len(t))
        return a, b

    def delete(self, parts: Parts) -> bool:
        """Delete the member or item at ``parts`` (the parent when it is its only one)."""
        if not parts:
            return False
        parent = self.children(parts[:-1])
        if parent is None:
            return False
        _, items = parent
        keys = [k for k, _ in items]
        if parts[-1] not in keys:
            return False
        i = keys.index(parts[-1])
        self._deleted.add(parts)
        kept = [j for j, k in enumerate(keys) if (*parts[:-1], k) not in self._deleted]
        if not kept:
            return self.delete(parts[:-1])
        cur = items[i][1]
        if any(j > i for j in kept):  # cut to the next member's key: its indentation (or "- ") stays
            self._add(cur.key, items[i + 1][1].key, "")
            return True
        if self.kind == "yaml" and not self.flow(parts[:-1]):
            la, lb = self._whole_lines(cur.key, cur.end)
            self._add(la, lb, "")
            return True
        prev = items[max(j for j in kept if j < i)][1] if any(j < i for j in kept) else None
        if prev is None:
            return self.delete(parts[:-1])
        self._add(prev.end, cur.end, "")
        return True

    def replace(self, parts: Parts, value: Any) -> bool:
        found = self.span(parts)
        if found is None:
            return False
        if self.kind == "json":
            text = json.dumps(value)
        else:
            text = (
                _intrinsic(value) or yaml_scalar(value)
                if not isinstance(value, dict | list) or _intrinsic(value)
                else yaml_inline(value)
            )
        self._add(found.start, found.end, text)
        return True

    def _indent_of(self, offset: int) -> int:
        ls = self.text.rfind("\n", 0, offset) + 1
        return offset - ls

    def add_member(self, parts: Parts, key: str, value: Any, after: str | None = None) -> bool:
        """Add ``key: value`` to the object at ``parts``, after the member ``after`` (default: the last)."""
        parent = self.children(parts)
        if parent is None or parent[0] != "map" or not parent[1]:
            return False
        items = parent[1]

        def untouched(sp: Span) -> bool:
            return not any(e.start < sp.end and sp.key < e.end for e in self.edits)

        anchor = next((sp for k, sp in items if k == after and untouched(sp)), None)
        if anchor is None:
            anchor = next((sp for _, sp in reversed(items) if untouched(sp)), None)
        if anchor is None:
            return False
        if self.kind == "json":
            col = self._indent_of(anchor.key)
            body = json.dumps(value, indent=2).replace("\n", "\n" + " " * col)
            self._add(anchor.end, anchor.end, f",\n{' ' * col}{json.dumps(key)}: {body}")
            return True
        if self.flow(parts):
            self._add(anchor.end, anchor.end, f", {key}: {yaml_inline(value)}")
            return True
        col = self._indent_of(anchor.key)
        end = self._line_end(anchor.end)
        lines = yaml_lines({key: value}, col)
        self._add(end, end, "\n" + "\n".join(lines))
        return True

    def append(self, parts: Parts, value: Any) -> bool:
        """Append an item to the list at ``parts``."""
        parent = self.children(parts)
        if parent is None or parent[0] != "seq" or not parent[1]:
            return False
        last = parent[1][-1][1]
        if self.kind == "json":
            col = self._indent_of(last.start)
            body = json.dumps(value, indent=2).replace("\n", "\n" + " " * col)
            self._add(last.end, last.end, f",\n{' ' * col}{body}")
            return True
        if self.flow(parts):
            self._add(last.end, last.end, f", {yaml_inline(value)}")
            return True
        col = self._indent_of(last.key)
        end = self._line_end(last.end)
        lines = yaml_lines([value], col)
        self._add(end, end, "\n" + "\n".join(lines))
        return True

    def _line_end(self, offset: int) -> int:
        """End of the last line with content at or before ``offset``."""
        t = self.text
        i = offset
        while i > 0 and t[i - 1] in " \t\r\n":
            i -= 1
        le = t.find("\n", i)
        return len(t) if le == -1 else le

    def add_section(self, key: str, value: dict, before: str) -> bool:
        """A new top-level section (``Parameters``), before the section ``before``."""
        found = self.span((before,))
        if found is None:
            return False
        if self.kind == "json":
            return self.add_member((), key, value)
        ls = self.text.rfind("\n", 0, found.key) + 1
        self._add(ls, ls, "\n".join(yaml_lines({key: value}, 0)) + "\n")
        return True

    # -- result

    def result(self) -> str:
        t = self.text
        for e in sorted(self.edits, key=lambda e: (e.start, e.end), reverse=True):
            t = t[: e.start] + e.text + t[e.end :]
        return t


def _yaml_end(text: str, node: Any) -> int:
    """End offset of a YAML node's own text (block nodes end before the next token's indentation)."""
    end = node.end_mark.index
    while end > node.start_mark.index and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _marker(text: str, start: int) -> int:
    """Offset of the ``- `` before a block sequence item (the item itself in a flow list)."""
    ls = text.rfind("\n", 0, start) + 1
    dash = text.rfind("-", ls, start)
    return dash if dash != -1 and not text[dash + 1 : start].strip() else start


def unified_diff(path: str, before: str, after: str) -> str:
    """A patch of one file for ``git apply`` (paths as given, relative to the repository)."""
    if before == after:
        return ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=3
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
