"""What an input language of infrastructure code provides to the file source.

A language is one module of this package, registered in :data:`ecs_exposure.sources.iac.LANGUAGES`.
The file source offers it every file whose name it claims (``suffixes``), and every parsed JSON or
YAML document (``claims`` / ``load``), in registration order. It returns an
:class:`~ecs_exposure.model.Inventory` built with the shared helpers of :mod:`.mapping`, with a
position map registered for the file (:class:`.positions.IacPositions`), or ``None`` when the
document is not its kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...model import Inventory

# (text, shown path, the file's path) → inventory; for the files a language claims by name
TextLoader = Callable[[str, str, Path], Inventory]
# (parsed document, shown path, file path or None, "json" / "yaml", the text when not on disk) → inventory
DocumentLoader = Callable[[object, str, "Path | None", str, "str | None"], Inventory]


@dataclass(frozen=True)
class Language:
    name: str
    suffixes: tuple[str, ...] = ()  # file names it reads itself (``.tf``); the others come parsed
    load_text: TextLoader | None = None
    claims: Callable[[object], bool] | None = None  # a parsed JSON / YAML document of its kind
    load: DocumentLoader | None = None
