"""Line and column of a value in a template, and where a value came from.

Positions are found lazily: a scan never asks for a line unless an output (SARIF) or a patch needs
one, so the file is parsed for positions only then, once, and only the files asked about.

- :class:`YamlText`: PyYAML's composed node tree (libyaml), whose marks are exact; short-form
  intrinsic tags (``!Ref x``) are walked as the ``Ref`` / ``Fn::…`` path part they stand for.
- :class:`JsonText`: a small span parser over the JSON text, giving the offset of every member's key
  and every item (also usable on a JSON document embedded in another file, with a base position).
- :class:`IacPositions`: the :class:`~ecs_exposure.model.PositionMap` (and ``OriginMap``) registered
  per file. Resolution can move a value (an ``Fn::If`` branch merged into a list, a parameter
  default): the resolver records *aliases* from the path the inventory uses to the path in the text,
  and *origins* (conditions, where a literal is really written); both are looked up by longest prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...model import Origin
from ...model.location import Part

Parts = tuple[Part, ...]


# --------------------------------------------------------------------------- text spans


@dataclass(slots=True)
class Span:
    """Where one value is written: ``key`` is the start offset of its member key (objects) or of the
    item itself (lists); ``start``/``end`` delimit the value. Offsets index the text."""

    key: int
    start: int
    end: int
    node: Any = None  # the parser's own node (a yaml Node), when there is one


class TextIndex:
    """Offsets of the values of one document, by path. Subclasses implement :meth:`span`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts: list[int] | None = None

    def span(self, parts: Parts) -> tuple[Span | None, int]:
        """The span of the value at ``parts`` (None when absent) and how many parts were matched;
        when absent, the span of the deepest enclosing value found is returned with that count."""
        raise NotImplementedError

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset."""
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        import bisect

        i = bisect.bisect_right(self._line_starts, offset) - 1
        return i + 1, offset - self._line_starts[i] + 1

    def position(self, parts: Parts) -> tuple[int, int] | None:
        found, _ = self.span(parts)
        if found is None:
            return None
        return self.line_col(found.key)


_INTRINSIC_TAGS = {"!Ref": "Ref", "!Condition": "Condition"}


def tag_function(tag: str) -> str | None:
    """``!Sub`` → ``Fn::Sub``; ``!Ref`` → ``Ref``; a standard tag → None."""
    if not tag.startswith("!") or tag.startswith("!!"):
        return None
    return _INTRINSIC_TAGS.get(tag) or "Fn::" + tag[1:]


class YamlText(TextIndex):
    """Spans from PyYAML's composed nodes (libyaml parser, exact marks)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        self.root = yaml.compose(text, Loader=loader)

    def span(self, parts: Parts) -> tuple[Span | None, int]:
        import yaml

        node = self.root
        if node is None:
            return None, 0
        here = Span(node.start_mark.index, node.start_mark.index, node.end_mark.index, node)
        for n, p in enumerate(parts):
            fn = tag_function(node.tag)
            if fn is not None and p == fn:
                continue  # !Sub x is {"Fn::Sub": x}: the part names the tag, the node is its argument
            if isinstance(node, yaml.MappingNode):
                key = str(p)
                pair = next((kv for kv in node.value if kv[0].value == key), None) or next(
                    (kv for kv in node.value if str(kv[0].value).lower() == key.lower()), None
                )
                if pair is None:
                    return here, n
                k, v = pair
                here = Span(k.start_mark.index, v.start_mark.index, v.end_mark.index, v)
                node = v
            elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and 0 <= p < len(node.value):
                node = node.value[p]
                here = Span(node.start_mark.index, node.start_mark.index, node.end_mark.index, node)
            else:
                return here, n
        return here, len(parts)


_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"[^,\]}\s]+")


class JsonText(TextIndex):
    """Spans of a JSON document (or of the JSON in ``text[base:]``), parsed on demand per lookup:
    only the path asked for is descended, skipping the rest with a quick bracket scan."""

    def __init__(self, text: str, base: int = 0) -> None:
        super().__init__(text)
        self.base = base

    def _ws(self, i: int) -> int:
        return _WS.match(self.text, i).end()  # type: ignore[union-attr]

    def _skip(self, i: int) -> int:
        """Offset just past the value starting at ``i``."""
        t = self.text
        c = t[i] if i < len(t) else ""
        if c == '"':
            m = _STRING.match(t, i)
            return m.end() if m else len(t)
        if c in "{[":
            depth = 0
            while i < len(t):
                c = t[i]
                if c == '"':
                    m = _STRING.match(t, i)
                    i = m.end() if m else len(t)
                    continue
                if c in "{[":
                    depth += 1
                elif c in "}]":
                    depth -= 1
                    if depth == 0:
                        return i + 1
                i += 1
            return i
        m = _SCALAR.match(t, i)
        return m.end() if m else i + 1

    def span(self, parts: Parts) -> tuple[Span | None, int]:
        t = self.text
        i = self._ws(self.base)
        if i >= len(t):
            return None, 0
        here = Span(i, i, self._skip(i))
        for n, p in enumerate(parts):
            i = here.start
            c = t[i] if i < len(t) else ""
            found = loose = None
            if c == "{" and isinstance(p, str):
                i = self._ws(i + 1)
                while i < len(t) and t[i] == '"':
                    m = _STRING.match(t, i)
                    if m is None:
                        break
                    key_at = i
                    import json

                    try:
                        key = json.loads(m.group(0))
                    except ValueError:
                        key = m.group(0)[1:-1]
                    i = self._ws(m.end())
                    i = self._ws(i + 1) if i < len(t) and t[i] == ":" else i
                    end = self._skip(i)
                    if key == p:
                        found = Span(key_at, i, end)
                        break
                    if loose is None and isinstance(key, str) and key.lower() == p.lower():
                        loose = Span(key_at, i, end)  # Terraform's decoder ignores case
                    i = self._ws(end)
                    i = self._ws(i + 1) if i < len(t) and t[i] == "," else i
            elif c == "[" and isinstance(p, int):
                i = self._ws(i + 1)
                k = 0
                while i < len(t) and t[i] != "]":
                    end = self._skip(i)
                    if k == p:
                        found = Span(i, i, end)
                        break
                    k += 1
                    i = self._ws(end)
                    i = self._ws(i + 1) if i < len(t) and t[i] == "," else i
            found = found or loose
            if found is None:
                return here, n
            here = found
        return here, len(parts)


# --------------------------------------------------------------------------- the per-file map


@dataclass
class IacPositions:
    """The PositionMap (and OriginMap) of one infrastructure-code file."""

    path: Path | None  # read lazily for positions; None when ``text`` is given
    kind: str  # "yaml" or "json"
    text: str | None = None
    aliases: dict[Parts, Parts] = field(default_factory=dict)  # inventory path prefix → text path prefix
    origins: dict[Parts, Origin] = field(default_factory=dict)  # path prefix → origin
    _index: TextIndex | None = None
    _failed: bool = False

    # -- paths

    def real(self, parts: Parts) -> Parts:
        """The path in the text of the value the inventory knows at ``parts``."""
        if self.aliases:
            for n in range(len(parts), 0, -1):
                target = self.aliases.get(parts[:n])
                if target is not None:
                    return target + parts[n:]
        return parts

    def origin(self, parts: Parts) -> Origin | None:
        if not self.origins:
            return None
        for n in range(len(parts), 0, -1):
            found = self.origins.get(parts[:n])
            if found is not None:
                return found
        return None

    # -- text

    def index(self) -> TextIndex | None:
        if self._index is None and not self._failed:
            try:
                text = self.text if self.text is not None else self.path.read_text("utf-8-sig")  # type: ignore[union-attr]
                self._index = YamlText(text) if self.kind == "yaml" else JsonText(text)
            except Exception:  # positions are a convenience: a file changed or unreadable since has none
                self._failed = True
        return self._index

    def position(self, parts: Parts) -> tuple[int, int] | None:
        index = self.index()
        return index.position(self.real(parts)) if index is not None else None

    def span(self, parts: Parts) -> tuple[Span | None, bool]:
        """The span of the value at ``parts`` in the text, and whether it was found exactly."""
        index = self.index()
        if index is None:
            return None, False
        real = self.real(parts)
        found, matched = index.span(real)
        return found, matched == len(real)
