"""The terminal report: a rich table of findings, then what could not be decided or read."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..correlate import contributes
from ..model import ScanResult, Severity

STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFORMATIONAL: "dim",
}


def render(result: ScanResult, color: bool = False, width: int = 140, **_: object) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=color, no_color=not color, width=width, highlight=False)
    if result.findings:
        table = Table(show_lines=True, expand=False)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Resource", max_width=40, overflow="fold")
        table.add_column("Likelihood × Impact", no_wrap=True)
        table.add_column("Finding")
        for f in result.findings:
            traits = Text()
            context = []
            for h in f.hits:
                if not contributes(h.trait_id, h):
                    context.append(h.trait_id)
                    continue
                traits.append(("\n" if traits else "") + h.trait_id, style="bold")
                first = h.evidence[0].summary if h.evidence else ""
                more = f" (+{len(h.evidence) - 1} more)" if len(h.evidence) > 1 else ""
                traits.append(f": {first}{more}")
            if context:
                traits.append(("\n" if traits else "") + "context: " + ", ".join(context), style="dim")
            body = Text(f.title + "\n", style="bold")
            body.append(traits)
            resource = Text(f.resource.name + "\n", style="bold")
            resource.append(f.resource.uid, style="dim")
            table.add_row(
                Text(f.severity.name, style=STYLE[f.severity]),
                resource,
                f"{f.likelihood.label} × {f.impact.label}",
                body,
            )
        console.print(table)
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in sorted(Severity, reverse=True)}
    parts = [f"{n} {s.name.lower()}" for s, n in counts.items() if n]
    console.print(
        f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}"
        f"{' (' + ', '.join(parts) + ')' if parts else ''} on {result.resources_scanned} resource"
        f"{'s' if result.resources_scanned != 1 else ''} scanned."
    )
    if result.unknown_traits:
        undecided = ", ".join(f"{t} ({n})" for t, n in result.unknown_traits)
        console.print(Text(f"Not decided from these inputs (resources): {undecided}", style="dim"))
    if result.issues:
        console.print(
            Text(
                f"Scan incomplete: {len(result.issues)} problem{'s' if len(result.issues) != 1 else ''} "
                "reading the inputs (listed on stderr).",
                style="bold yellow",
            )
        )
    return out.getvalue()
