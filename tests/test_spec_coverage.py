"""Every trait of the spec has a detector, documentation and test cases; generated docs are current."""

from __future__ import annotations

import re

from conftest import ROOT, SHARED, require_shared
from ecs_exposure import docs
from ecs_exposure.traits import registry
from test_traits import CASES

SPEC = SHARED / "spec" / "exposure-spec.md"


def spec_trait_ids() -> set[str]:
    require_shared(SPEC)
    return set(re.findall(r"^\| `([a-z][a-z0-9-]+)` \|", SPEC.read_text(), flags=re.MULTILINE))


def test_spec_lists_the_traits() -> None:
    assert len(spec_trait_ids()) >= 25


def test_every_spec_trait_has_a_detector() -> None:
    ids = spec_trait_ids()
    missing = ids - set(registry())
    assert not missing, f"spec traits without a detector: {sorted(missing)}"
    unknown = set(registry()) - ids
    assert not unknown, f"detectors for traits the spec does not define: {sorted(unknown)}"


def test_every_trait_is_documented() -> None:
    for spec in registry().values():
        assert len(spec.description) > 40 and len(spec.remediation) > 20, spec.id
        assert spec.title and spec.phrase, spec.id
        assert spec.id in docs.traits_markdown()


def test_every_trait_has_cases() -> None:
    from test_iam import TRAIT_CASES

    with_cases = {c.trait for c in CASES} | {c[2] for c in TRAIT_CASES}
    assert set(registry()) <= with_cases


def test_docs_traits_md_is_current() -> None:
    text = (ROOT / "docs" / "traits.md").read_text()
    assert docs.traits_markdown() in text, (
        "regenerate: ecs-exposure traits --format markdown (see docs/traits.md)"
    )


def test_readme_trait_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- traits:start -->\n", "<!-- traits:end -->"
    assert start in readme and end in readme
    section = readme.split(start, 1)[1].split(end, 1)[0]
    assert section == docs.traits_markdown(), (
        "regenerate the README trait table: ecs-exposure traits -f markdown"
    )
