"""Output formats: each module turns a :class:`ScanResult` into text (``str``, or UTF-8 ``bytes``
for the large machine formats) and does no I/O."""

from __future__ import annotations

from collections.abc import Callable

from ..model import ScanResult
from . import json_report, table

Renderer = Callable[..., str | bytes]

FORMATS: dict[str, Renderer] = {
    "table": table.render,
    "json": json_report.render,
}

__all__ = ["FORMATS", "Renderer", "ScanResult"]
