"""Where a value came from: a file and the path of the value inside its JSON document."""

from __future__ import annotations

from dataclasses import dataclass

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
