"""Typed reads from parsed JSON that record a problem instead of raising.

A source reads a whole document with one :class:`Reader`; every wrong type becomes a
:class:`ScanIssue` naming the file and the JSON path, the bad element is skipped, and the rest
of the document is still read. A parser also asks the reader which problems fell inside one
resource (:meth:`Reader.mark`, :meth:`Reader.problems_since`): the resource keeps them as
:class:`FieldProblem` so that the traits reading those fields are *unknown*, not absent.
Scalars where a string is expected are accepted as their JSON text
(``8080`` for ``"8080"``): AWS tooling writes both, and refusing them would hide the rest of the
file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..model import FieldProblem, Loc, ScanIssue
from ..model.location import Part

JSON = Any

_TEMPLATE = re.compile(r"<[^<>]+>|\$\{[^}]*\}|\{\{[^}]*\}\}|^%[A-Za-z0-9_]+%$|^\$+[A-Za-z_][A-Za-z0-9_]*\$*$")


def scalar_text(value: JSON) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def type_name(value: JSON) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Reader:
    def __init__(self) -> None:
        self.issues: list[ScanIssue] = []
        self._where: list[tuple[Loc, str]] = []  # the issues' locations, for problems_since

    def problem(self, loc: Loc, message: str) -> None:
        self.issues.append(ScanIssue(loc.file, loc.path if loc.parts else "", message))
        self._where.append((loc, message))

    def mark(self) -> int:
        """A point to ask :meth:`problems_since` from (before reading a resource)."""
        return len(self._where)

    def problems_since(
        self, mark: int, base: Loc, fields: Callable[[tuple[Part, ...]], tuple[str, ...]]
    ) -> tuple[FieldProblem, ...]:
        """The problems recorded since ``mark`` inside ``base``, each with the model fields its JSON
        path (relative to ``base``) would have fed; problems that feed no field are left out (they
        stay scan issues). Free when nothing went wrong: the common case at scale."""
        if len(self._where) == mark:
            return ()
        n = len(base.parts)
        out = []
        for loc, message in self._where[mark:]:
            if loc.parts[:n] != base.parts:
                continue
            names = fields(loc.parts[n:])
            if names:
                out.append(FieldProblem(names, loc, message))
        return tuple(out)

    def expected(self, loc: Loc, what: str, value: JSON) -> None:
        self.problem(loc, f"expected {what}, found {type_name(value)}")

    # -- typed getters: a missing key or null is "not set" and not a problem

    def obj(self, parent: Mapping[str, JSON], key: str, loc: Loc) -> dict[str, JSON] | None:
        value = parent.get(key)
        if value is None or isinstance(value, dict):
            return value
        self.expected(loc.child(key), "an object", value)
        return None

    def lst(self, parent: Mapping[str, JSON], key: str, loc: Loc) -> list[JSON]:
        value = parent.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.expected(loc.child(key), "a list", value)
        return []

    def opt_list(self, parent: Mapping[str, JSON], key: str, loc: Loc) -> list[JSON] | None:
        """A list whose absence means *not collected* (snapshot collections)."""
        if key not in parent:
            return None
        value = parent[key]
        if isinstance(value, list):
            return value
        self.expected(loc.child(key), "a list", value)
        return None

    def text(self, parent: Mapping[str, JSON], key: str, loc: Loc) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        out = scalar_text(value)
        if out is None:
            self.expected(loc.child(key), "a string", value)
        return out

    def texts(self, parent: Mapping[str, JSON], key: str, loc: Loc) -> tuple[str, ...]:
        out = []
        items = self.lst(parent, key, loc)
        for i, item in enumerate(items):
            t = scalar_text(item)
            if t is None:
                if item is not None:
                    self.expected(loc.child(key, i), "a string", item)
                continue
            out.append(t)
        return tuple(out)

    def word(self, parent: Mapping[str, JSON], key: str, loc: Loc) -> str | None:
        """A keyword (``pidMode``, ``assignPublicIp`` …): only a string will do. A number or a
        boolean is not taken as its JSON text, as :meth:`text` does: ``pidMode: 5`` is malformed."""
        value = parent.get(key)
        if value is None or type(value) is str:
            return value
        self.expected(loc.child(key), "a string", value)
        return None

    def flag(self, parent: Mapping[str, JSON], key: str, loc: Loc, default: bool = False) -> bool:
        value = parent.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.expected(loc.child(key), "a boolean", value)
        return default

    def integer(self, parent: Mapping[str, JSON], key: str, loc: Loc) -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                if _TEMPLATE.search(value):
                    return None  # "<container-port>", "${PORT}": a template, not a wrong type
        self.expected(loc.child(key), "an integer", value)
        return None

    def objects(self, items: list[JSON], loc: Loc) -> list[tuple[int, dict[str, JSON]]]:
        """The object items of a list with their index; any other item is a problem."""
        out = []
        for i, item in enumerate(items):
            if isinstance(item, dict):
                out.append((i, item))
            elif item is not None:
                self.expected(loc.child(i), "an object", item)
        return out
