"""Regenerate the trait tables in README.md and docs/traits.md from the detectors' registry.

    python scripts/update_docs.py

tests/test_spec_coverage.py fails when they are out of date.
"""

from __future__ import annotations

from pathlib import Path

from ecs_exposure.docs import traits_markdown

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- traits:start -->\n", "<!-- traits:end -->"


def replace_between(path: Path) -> None:
    text = path.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(head + START + traits_markdown() + END + tail)


if __name__ == "__main__":
    replace_between(ROOT / "README.md")
    replace_between(ROOT / "docs" / "traits.md")
