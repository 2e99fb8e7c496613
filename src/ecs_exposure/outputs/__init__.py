"""Output formats: each module turns a :class:`ScanResult` into text (``str``, or UTF-8 ``bytes``
for the large machine formats) and does no I/O.

Options every renderer accepts (and ignores when it has no use for them): ``color`` and ``width``
and ``compact`` (table), ``fail_on`` (what fails a build: JUnit, Markdown, HTML), ``now`` (the time
stamped on OCSF / ASFF, else ``SOURCE_DATE_EPOCH``), ``account_id`` / ``region`` (ASFF for files).
"""

from __future__ import annotations

from collections.abc import Callable

from ..model import ScanResult
from . import asff, html, json_report, junit, markdown, ocsf, sarif, table

Renderer = Callable[..., str | bytes]

FORMATS: dict[str, Renderer] = {
    "table": table.render,
    "json": json_report.render,
    "ocsf": ocsf.render,
    "asff": asff.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
    "junit": junit.render,
    "html": html.render,
}

# file names in --output-dir
FILENAMES: dict[str, str] = {
    "table": "findings.txt",
    "json": "findings.json",
    "ocsf": "findings.ocsf.json",
    "asff": "findings.asff.json",
    "sarif": "findings.sarif",
    "markdown": "findings.md",
    "junit": "findings.junit.xml",
    "html": "findings.html",
}

__all__ = ["FILENAMES", "FORMATS", "Renderer", "ScanResult"]
