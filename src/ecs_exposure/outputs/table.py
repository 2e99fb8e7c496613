"""The terminal report: a rich table of findings, then what could not be decided or read.

The table fits ``width`` (the CLI passes ``COLUMNS`` or the terminal's real width). Text is wrapped
here, not by rich, so that an ARN or a path is broken only after one of its separators (``:`` ``/``)
and never in the middle of a name. ``compact`` prints one line per finding. Every value read from
an input goes through :func:`printable`: a control character in a name cannot drive the terminal.
"""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..model import ExposureFinding, ScanResult, Severity, Status, UseState
from ._common import contextual, contributing, impact_kind, printable, status, suppressed_traits

STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFORMATIONAL: "dim",
}
MIN_WIDTH = 60
_BREAK_AFTER = re.compile(r"[:/,]")
_HYPHEN = re.compile(r"[-.]")


def _triage(result: ScanResult) -> str:
    """ " 2 suppressed; 1 new since the baseline; 1 suppression unused." (what is set only)."""
    parts = []
    suppressed = sum(1 for f in result.findings if status(f) == Status.SUPPRESSED)
    if suppressed:
        parts.append(f"{suppressed} suppressed")
    if result.baseline is not None or any(f.new is not None for f in result.findings):
        parts.append(f"{sum(1 for f in result.findings if f.new)} new since the baseline")
    for state in (UseState.UNUSED, UseState.EXPIRED, UseState.INVALID):
        n = sum(1 for u in result.suppressions if u.state == state)
        if n:
            parts.append(f"{n} suppression{'s' if n != 1 else ''} {state}")
    return (" " + "; ".join(parts).capitalize() + ".") if parts else ""


def _pieces(word: str, separators: re.Pattern[str]) -> list[str]:
    out, start = [], 0
    for m in separators.finditer(word):
        out.append(word[start : m.end()])
        start = m.end()
    out.append(word[start:])
    return [p for p in out if p]


def _split_long(word: str, width: int) -> list[str]:
    """A word longer than the width, cut after its separators (``arn:aws:ecs:…/service/…``); a
    segment that alone is wider than the column is cut after its hyphens, and only a name with no
    hyphen that is wider than the column is cut inside."""
    pieces: list[str] = []
    for piece in _pieces(word, _BREAK_AFTER):
        if len(piece) <= width:
            pieces.append(piece)
            continue
        for sub in _pieces(piece, _HYPHEN):
            pieces.extend(sub[i : i + width] for i in range(0, len(sub), width))
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if len(line) + len(piece) > width:
            lines.append(line)
            line = piece
        else:
            line += piece
    if line:
        lines.append(line)
    return [ln for ln in lines if ln]


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, broken at spaces, else after ``:`` ``/`` ``,``."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            if not word:
                continue
            if len(word) > width:
                parts = _split_long(word, width)
                if line and len(line) + 1 + len(parts[0]) <= width:
                    parts[0] = line + " " + parts[0]
                elif line:
                    out.append(line)
                out.extend(parts[:-1])
                line = parts[-1]
            elif not line:
                line = word
            elif len(line) + 1 + len(word) <= width:
                line += " " + word
            else:
                out.append(line)
                line = word
        out.append(line)
    return out


def _cell(parts: list[tuple[str, str]], width: int) -> Text:
    """Styled paragraphs [(text, style)], each wrapped to ``width``."""
    text = Text()
    for i, (paragraph, style) in enumerate(parts):
        if i:
            text.append("\n")
        text.append("\n".join(wrap(paragraph, width)), style=style)
    return text


def _trait_lines(f: ExposureFinding, width: int) -> Text:
    suppressed = suppressed_traits(f)
    text = Text()
    for h in contributing(f):
        first = printable(h.evidence[0].summary) if h.evidence else ""
        more = f" (+{len(h.evidence) - 1} more)" if len(h.evidence) > 1 else ""
        muted = f" [suppressed: {printable(suppressed[h.trait_id])}]" if h.trait_id in suppressed else ""
        lines = wrap(f"{h.trait_id}{muted}: {first}{more}", width)
        if text:
            text.append("\n")
        head = len(h.trait_id)
        text.append(lines[0][:head], style="dim bold" if muted else "bold")
        text.append("\n".join([lines[0][head:], *lines[1:]]), style="dim" if muted else "")
    context = [h.trait_id for h in contextual(f)]
    if context:
        if text:
            text.append("\n")
        text.append("\n".join(wrap("context: " + ", ".join(context), width)), style="dim")
    return text


def _status_label(f: ExposureFinding) -> str:
    st = status(f)
    label = "" if st == Status.NEW else st.upper()
    if f.new is True:
        label = (label + " new").strip()
    elif f.new is False:
        label = (label + " known").strip()
    return label


def _widths(total: int, longest_segment: int = 0) -> tuple[int, int, int, int]:
    """Severity, resource, rating and finding column widths (content, without borders). Below 100
    columns the rating goes under the severity (rating width 0). The resource column is at least as
    wide as the longest piece of an ARN between separators, so no name is cut."""
    total = max(total, MIN_WIDTH)
    severity = 11
    if total < 100:
        borders = 3 * 3 + 1
        resource = max(12, min(30, (total - borders - severity) // 3), min(longest_segment, 24))
        return severity, resource, 0, total - borders - severity - resource
    borders, rating = 3 * 4 + 1, 11
    resource = max(16, min(44, (total - borders - severity - rating) // 3), min(longest_segment, 40))
    return severity, resource, rating, total - borders - severity - rating - resource


def _full(result: ScanResult, console: Console, width: int) -> None:
    segments = (
        len(piece)
        for f in result.findings
        for text in (printable(f.resource.uid), printable(f.resource.name))
        for piece in _pieces(text, _BREAK_AFTER)
    )
    w_sev, w_res, w_rate, w_find = _widths(width, max(segments, default=0))
    table = Table(show_lines=True, expand=False)
    table.add_column("Severity", width=w_sev, no_wrap=True)
    table.add_column("Resource", width=w_res, no_wrap=True)
    if w_rate:
        table.add_column("Rating", width=w_rate, no_wrap=True)
    table.add_column("Finding", width=w_find, no_wrap=True)
    for f in result.findings:
        severity = Text(f.severity.name, style=STYLE[f.severity])
        label = _status_label(f)
        if label:
            severity.append("\n" + "\n".join(wrap(label, w_sev)), style="dim")
        rating = _cell([(f"{f.likelihood.label} ×", ""), (f.impact.label, "")], w_rate or w_sev)
        if not w_rate:
            severity.append("\n")
            severity.append(rating)
        resource = _cell([(printable(f.resource.name), "bold"), (printable(f.resource.uid), "dim")], w_res)
        body = _cell([(printable(f.title), "bold")], w_find)
        if f.suppression is not None:
            body.append(
                "\n" + "\n".join(wrap(f"suppressed: {printable(f.suppression.reason)}", w_find)), "dim"
            )
        traits = _trait_lines(f, w_find)
        if traits:
            body.append("\n")
            body.append(traits)
        table.add_row(severity, resource, *([rating] if w_rate else []), body)
    console.print(table)


def _compact(result: ScanResult, console: Console, width: int) -> None:
    """One line per finding: severity, status, resource, impact kind, contributing traits; cut to
    the width with an ellipsis (the full text is in the other formats)."""
    name_width = min(32, max((len(printable(f.resource.name)) for f in result.findings), default=8))
    for f in result.findings:
        line = Text()
        line.append(f"{f.severity.name:<9}", style=STYLE[f.severity])
        label = _status_label(f)
        line.append(f"{label:<11}" if label else "", style="dim")
        line.append(f"{printable(f.resource.name):<{name_width}}  ", style="bold")
        line.append(f"{impact_kind(f).removeprefix('Potential '):<22} ")
        line.append(", ".join(h.trait_id for h in contributing(f)) or "context only", style="dim")
        line.truncate(width, overflow="ellipsis")
        console.print(line, no_wrap=True, overflow="ellipsis", crop=True)


def render(
    result: ScanResult, color: bool = False, width: int = 140, compact: bool = False, **_: object
) -> str:
    out = io.StringIO()
    width = max(int(width), MIN_WIDTH)
    console = Console(file=out, force_terminal=color, no_color=not color, width=width, highlight=False)
    if result.findings:
        (_compact if compact else _full)(result, console, width)
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in sorted(Severity, reverse=True)}
    parts = [f"{n} {s.name.lower()}" for s, n in counts.items() if n]
    summary = (
        f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}"
        f"{' (' + ', '.join(parts) + ')' if parts else ''} on {result.resources_scanned} resource"
        f"{'s' if result.resources_scanned != 1 else ''} scanned.{_triage(result)}"
    )
    console.print("\n".join(wrap(summary, width)))
    if result.unknown_traits:
        undecided = ", ".join(f"{t} ({n})" for t, n in result.unknown_traits)
        console.print(
            Text(
                "\n".join(wrap(f"Not decided from these inputs (resources): {undecided}", width)), style="dim"
            )
        )
    if result.issues:
        console.print(
            Text(
                f"Scan incomplete: {len(result.issues)} problem{'s' if len(result.issues) != 1 else ''} "
                "reading the inputs (listed on stderr).",
                style="bold yellow",
            )
        )
    return out.getvalue()
