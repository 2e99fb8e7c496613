"""Where a value came from: a file and the path of the value inside its JSON document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

Part = str | int


@dataclass(frozen=True, slots=True)
class Loc:
    file: str
    parts: tuple[Part, ...] = ()

    def child(self, *parts: Part) -> Loc:
        return Loc(self.file, self.parts + parts)

    @property
    def pointer(self) -> str:
        """RFC 6901 JSON pointer, e.g. ``/containerDefinitions/0/environment/3``."""
        out = []
        for p in self.parts:
            s = str(p)
            if "~" in s or "/" in s:
                s = s.replace("~", "~0").replace("/", "~1")
            out.append(s)
        return "/" + "/".join(out) if out else ""

    @property
    def path(self) -> str:
        """Dotted path for messages, e.g. ``accounts[0].regions[1].ecs.services[3]``."""
        out = ""
        for p in self.parts:
            if isinstance(p, int):
                out += f"[{p}]"
            else:
                out += ("." if out else "") + p
        return out or "(document)"

    def __str__(self) -> str:
        return f"{self.file}: {self.path}" if self.parts else self.file


class PositionMap(Protocol):
    """Where the values of one input file are written: a source that knows line numbers (a YAML or
    HCL parser, a JSON position scanner) registers one per file in ``Inventory.positions``, and the
    outputs that need a line (SARIF, patches) ask it. ``Loc`` stays two fields: most scans never
    ask for a line, and a large estate has millions of locations."""

    def position(self, parts: tuple[Part, ...]) -> tuple[int, int] | None:
        """1-based (line, column) of the value at ``parts``, or of its nearest enclosing value that
        is known; None when nothing of the path is known."""
        ...


@dataclass(frozen=True, slots=True)
class Origin:
    """How a value of infrastructure code came to be, when that matters to the reader: the
    conditions it depends on (a CloudFormation ``Fn::If``, a resource ``Condition``, a Terraform
    ``count`` expression) and, when the literal is written elsewhere (a parameter's or variable's
    default), where."""

    conditions: tuple[str, ...] = ()  # "condition IsProd" words, shown with the evidence
    defined_at: tuple[Part, ...] | None = None  # path of the literal in the same file
    via: str | None = None  # "parameter DbPassword (default)"


@runtime_checkable
class OriginMap(Protocol):
    """Optional second capability of a :class:`PositionMap`: where a value came from. The engine asks
    it for every piece of evidence of a file that has one, and says so in the evidence."""

    def origin(self, parts: tuple[Part, ...]) -> Origin | None: ...
