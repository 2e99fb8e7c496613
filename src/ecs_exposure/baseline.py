"""Finding status across scans: a baseline report, the findings history, and what ``--fail-on`` counts.

A *baseline* is an earlier JSON report (``scan -f json -o baseline.json``). A finding whose id is
in it is not new, unless its severity rose since (a raised finding counts as new). With a baseline,
``--fail-on`` counts only new findings; suppressed findings never count.

Statuses (OCSF names): ``Suppressed`` when a rule suppresses the whole finding; else ``In
Progress`` when it was seen before (in the baseline, or in the previous recorded scan of the same
inputs); else ``New``. ``Resolved`` is for findings of an earlier scan that are gone, which only
the history (``ecs-exposure diff``) can tell.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path

import orjson

from .model import ExposureFinding, ScanResult, Severity, Status

REPORT_SCHEMA = "ecs-exposure/findings@"
SUPPORTED_MAJOR = 1
_ID = re.compile(r"[0-9a-f]{32}")


class BaselineError(Exception):
    """A baseline file that cannot be used: one line naming the file and the problem."""


def load_baseline(path: Path) -> dict[str, Severity]:
    """Finding id → severity of an ecs-exposure JSON report."""
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        doc = orjson.loads(data)
    except OSError as e:
        raise BaselineError(f"{path}: cannot read: {e.strerror or e}") from None
    except (orjson.JSONDecodeError, EOFError, gzip.BadGzipFile) as e:
        raise BaselineError(f"{path}: not a findings report: invalid JSON ({e})") from None
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if not isinstance(schema, str) or not schema.startswith(REPORT_SCHEMA):
        raise BaselineError(
            f'{path}: not an ecs-exposure findings report (expected "schema": '
            f"\"{REPORT_SCHEMA}{SUPPORTED_MAJOR}\"; write one with 'scan -f json -o FILE')"
        )
    major = schema[len(REPORT_SCHEMA) :]
    if major != str(SUPPORTED_MAJOR):
        raise BaselineError(f"{path}: findings report version {major!r} is not supported (expected 1)")
    findings = doc.get("findings")
    if not isinstance(findings, list):
        raise BaselineError(f'{path}: findings report has no "findings" list')
    out: dict[str, Severity] = {}
    for i, f in enumerate(findings):
        fid = f.get("id") if isinstance(f, dict) else None
        sev = f.get("severity") if isinstance(f, dict) else None
        if not isinstance(fid, str) or not _ID.fullmatch(fid):
            raise BaselineError(f'{path}: findings[{i}]: expected an "id" of 32 hex digits')
        try:
            out[fid] = Severity.parse(sev if isinstance(sev, str) else "")
        except ValueError:
            raise BaselineError(f"{path}: findings[{i}]: unknown severity {sev!r}") from None
    return out


def mark(
    result: ScanResult,
    baseline: Mapping[str, Severity] | None = None,
    seen: Collection[str] = (),
    baseline_name: str | None = None,
) -> ScanResult:
    """Each finding's ``new``/``baseline_severity`` (with a baseline) and status.

    ``seen``: ids of the previous recorded scan of the same inputs (the history); ``baseline_name``:
    the baseline file, for the report."""
    if baseline is None and not seen:
        return result  # every finding is New (the default) or Suppressed already
    findings = []
    for f in result.findings:
        before = baseline.get(f.id) if baseline is not None else None
        new = None if baseline is None else (before is None or f.severity > before)
        if f.status == Status.SUPPRESSED:
            status = Status.SUPPRESSED
        elif before is not None or f.id in seen:
            status = Status.IN_PROGRESS
        else:
            status = Status.NEW
        findings.append(replace(f, new=new, baseline_severity=before, status=status))
    return replace(
        result,
        findings=tuple(findings),
        baseline=baseline_name if baseline is not None else result.baseline,
    )


def counts_against(f: ExposureFinding, threshold: Severity) -> bool:
    """Whether ``--fail-on threshold`` counts this finding: at or above it, not suppressed, and new
    when a baseline was given (``new`` is None without one). The exit code, JUnit, the Markdown
    comment and the HTML report all use this one rule."""
    return f.severity >= threshold and f.status != Status.SUPPRESSED and f.new is not False


def failing(result: ScanResult, threshold: Severity) -> list[ExposureFinding]:
    """The findings ``--fail-on threshold`` counts (:func:`counts_against`)."""
    return [f for f in result.findings if counts_against(f, threshold)]
