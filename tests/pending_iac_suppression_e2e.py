"""End to end: an inline suppression in a template is applied by the scan and reported.

NOT COLLECTED YET (the file name does not start with ``test_``): inline suppressions are produced by
``sources/iac/suppress.py`` into ``Inventory.suppressions`` and tested in
``tests/test_iac_sources.py``; applying them is the config/suppressions work (branch ``state``). After
that branch is merged, rename this file to ``test_iac_suppression_e2e.py`` and adjust the two
attribute names below if the applied suppression is recorded differently.
"""

from __future__ import annotations

from pathlib import Path

from ecs_exposure.engine import ScanOptions, scan
from ecs_exposure.model import Status
from ecs_exposure.sources import load_paths
from iac_helpers import template, write


def test_inline_suppression_is_applied_and_reported(tmp_path: Path) -> None:
    yaml_text = template(container="Privileged: true", public="ENABLED").replace(
        "  TaskDef:\n",
        "  # ecs-exposure:ignore privileged-container the agent needs the host's devices\n  TaskDef:\n",
    )
    result = scan(load_paths([write(tmp_path, yaml_text, "yaml")]), ScanOptions(include_informational=True))
    [f] = result.findings
    suppressed = dict(f.suppressed_traits)
    assert "privileged-container" in suppressed
    assert suppressed["privileged-container"].reason == "the agent needs the host's devices"
    line = 1 + next(n for n, t in enumerate(yaml_text.splitlines()) if "ecs-exposure:ignore" in t)
    assert suppressed["privileged-container"].source.endswith(f":{line}")
    # the rest of the finding is still rated: public-ip alone
    assert f.status != Status.SUPPRESSED
    assert "privileged-container" not in f.impact_traits
