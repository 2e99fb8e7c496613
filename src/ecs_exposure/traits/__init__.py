"""The trait registry: one module per trait id, each defining ``TRAIT``.

Adding a trait means adding a module here (and its table of test cases); docs, the README's trait
list and output rule metadata are generated from this registry.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .base import Target, TraitSpec


@cache
def registry() -> dict[str, TraitSpec]:
    found: list[TraitSpec] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "TRAIT", None)
        if not isinstance(spec, TraitSpec):
            raise RuntimeError(f"trait module {info.name} defines no TRAIT")
        if spec.id.replace("-", "_") != info.name:
            raise RuntimeError(
                f"trait module {info.name} defines {spec.id}: the module must be named after its id"
            )
        found.append(spec)
    found.sort(key=lambda s: (s.category, s.contextual, s.id))
    return {s.id: s for s in found}


__all__ = ["Target", "TraitSpec", "registry"]
