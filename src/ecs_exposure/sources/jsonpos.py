"""Line and column of the values of a JSON file, computed only when an output asks for one.

A scan never needs a line: :class:`Loc` keeps a file and a JSON path. SARIF (and anything else that
points a person at a line) asks :meth:`JsonPositions.position`; the first question reads the file
again and indexes it once with a small scanner (strings are decoded by the standard library's C
``scanstring``, so escaped keys match their decoded names). A file that changed or cannot be read
since the scan answers ``None``: an output then falls back to the file alone, never to a wrong line.
"""

from __future__ import annotations

import bisect
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path

from ..model.location import Part

_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")

# A node is (offset of the value, children): a dict for an object, a list for an array, None for a
# scalar. Children of an object map each key to its node; an array keeps its items in order.
Node = tuple[int, "dict[str, Node] | list[Node] | None"]


class _Malformed(Exception):
    pass


def index_json(text: str) -> Node:
    """The position tree of a JSON text (raises ``_Malformed`` when it is not JSON)."""
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    root_holder: list[Node] = []
    # stack of (container, pending key) for the values being filled in
    stack: list[tuple[dict[str, Node] | list[Node], str | None]] = []

    def attach(node: Node) -> None:
        if not stack:
            root_holder.append(node)
            return
        container, key = stack[-1]
        if isinstance(container, dict):
            container[key] = node  # type: ignore[index]
        else:
            container.append(node)

    n = len(text)
    while True:
        if pos >= n:
            raise _Malformed
        ch = text[pos]
        start = pos
        if ch == "{" or ch == "[":
            children: dict[str, Node] | list[Node] = {} if ch == "{" else []
            attach((start, children))
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            closer = "}" if ch == "{" else "]"
            if pos < n and text[pos] == closer:
                pos += 1
            else:
                if ch == "{":
                    if pos >= n or text[pos] != '"':
                        raise _Malformed
                    key, pos = scanstring(text, pos + 1)
                    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                    if pos >= n or text[pos] != ":":
                        raise _Malformed
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                    stack.append((children, key))
                else:
                    stack.append((children, None))
                continue
        elif ch == '"':
            _, pos = scanstring(text, pos + 1)
            attach((start, None))
        else:
            m = _SCALAR.match(text, pos)
            if m is None:
                raise _Malformed
            pos = m.end()
            attach((start, None))
        # after a value: close containers, or go on to the next member / item
        while True:
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if not stack:
                return root_holder[0]
            container, _ = stack[-1]
            closer = "}" if isinstance(container, dict) else "]"
            if pos < n and text[pos] == ",":
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                if isinstance(container, dict):
                    if pos >= n or text[pos] != '"':
                        raise _Malformed
                    key, pos = scanstring(text, pos + 1)
                    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                    if pos >= n or text[pos] != ":":
                        raise _Malformed
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                    stack[-1] = (container, key)
                break
            if pos < n and text[pos] == closer:
                pos += 1
                stack.pop()
                continue
            raise _Malformed


class JsonPositions:
    """:class:`~ecs_exposure.model.PositionMap` of one JSON file, indexed on the first question."""

    __slots__ = ("_lines", "_path", "_root", "_tried")

    def __init__(self, path: Path) -> None:
        self._path = path
        self._tried = False
        self._root: Node | None = None
        self._lines: list[int] = []

    def _load(self) -> None:
        self._tried = True
        try:
            text = self._path.read_bytes().decode("utf-8-sig")
            self._root = index_json(text)
        except (OSError, UnicodeDecodeError, ValueError, _Malformed, RecursionError):
            self._root = None
            return
        self._lines = [m.end() for m in re.finditer("\n", text)]

    def position(self, parts: tuple[Part, ...]) -> tuple[int, int] | None:
        if not self._tried:
            self._load()
        node = self._root
        if node is None:
            return None
        for part in parts:
            children = node[1]
            if isinstance(children, dict) and isinstance(part, str) and part in children:
                node = children[part]
                continue
            if isinstance(children, list) and isinstance(part, int) and 0 <= part < len(children):
                node = children[part]
                continue
            break  # the nearest enclosing value that is known
        offset = node[0]
        line = bisect.bisect_right(self._lines, offset)
        column = offset - (self._lines[line - 1] if line else 0)
        return line + 1, column + 1
