"""Golden files of every format on the example estate (``ecs-exposure scan --example``), as a user
runs it, each golden validated against its official schema.

Outputs are deterministic: times come from ``SOURCE_DATE_EPOCH`` here, paths are relative to the
checkout. When a change is meant to change the output (a new trait, keyed fingerprints, IAM
evidence …), regenerate and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from ecs_exposure.outputs import FILENAMES, FORMATS
from validate import asff_problems, junit_problems, ocsf_problems, sarif_problems

GOLDEN = ROOT / "tests" / "golden"
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _run(*args: str, out: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("ecs-exposure", path=os.path.dirname(sys.executable)) or "ecs-exposure"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    env["SOURCE_DATE_EPOCH"] = EPOCH
    return subprocess.run([exe, *args], cwd=ROOT, env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def example_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden")
    p = _run("scan", "--example", "--format", ",".join(FORMATS), "--output-dir", str(out), out=out)
    assert p.returncode == 0, p.stderr
    for name in FORMATS:
        assert f"wrote {out / FILENAMES[name]} ({name}," in p.stderr.decode()
    return out


def _compare(produced: bytes, golden: Path) -> None:
    if UPDATE:
        golden.write_bytes(produced)
        return
    assert golden.exists(), f"{golden.name} missing: run UPDATE_GOLDEN=1 pytest tests/test_golden.py"
    expected = golden.read_bytes()
    if produced != expected:
        a, b = expected.decode().splitlines(), produced.decode().splitlines()
        first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        pytest.fail(
            f"{golden.name} differs from the golden file at line {first + 1}:\n"
            f"  golden:   {a[first] if first < len(a) else '(end)'}\n"
            f"  produced: {b[first] if first < len(b) else '(end)'}\n"
            "If the change is intended, regenerate: UPDATE_GOLDEN=1 pytest tests/test_golden.py"
        )


@pytest.mark.parametrize("name", FORMATS)
def test_golden_example(example_outputs: Path, name: str) -> None:
    _compare((example_outputs / FILENAMES[name]).read_bytes(), GOLDEN / FILENAMES[name])


def test_golden_file_input_sarif(tmp_path: Path) -> None:
    """A task definition file in a repository: results point at the lines of the offending fields."""
    p = _run("scan", "tests/data/taskdef-lines.json", "--format", "sarif", out=tmp_path)
    assert p.returncode == 0, p.stderr
    _compare(p.stdout, GOLDEN / "taskdef-lines.sarif")
    doc = json.loads(p.stdout)
    assert sarif_problems(doc) == []
    regions = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in doc["runs"][0]["results"]
    }
    lines = (ROOT / "tests/data/taskdef-lines.json").read_text().splitlines()
    assert '"privileged"' in lines[regions["privileged-container"] - 1]
    assert '"pidMode"' in lines[regions["host-pid-namespace"] - 1]
    assert "PAYMENT_API_TOKEN" in lines[regions["plaintext-credentials"] - 1]


def test_goldens_are_valid() -> None:
    """The committed golden files themselves satisfy each format's official schema."""
    for obj in json.loads((GOLDEN / "findings.ocsf.json").read_text()):
        assert ocsf_problems(obj) == []
    for f in json.loads((GOLDEN / "findings.asff.json").read_text()):
        assert asff_problems(f) == []
    assert sarif_problems(json.loads((GOLDEN / "findings.sarif").read_text())) == []
    assert sarif_problems(json.loads((GOLDEN / "taskdef-lines.sarif").read_text())) == []
    assert junit_problems((GOLDEN / "findings.junit.xml").read_bytes()) == []
    import jsonschema

    schema = json.loads((ROOT / "src/ecs_exposure/schemas/findings-1.schema.json").read_text())
    jsonschema.validate(json.loads((GOLDEN / "findings.json").read_text()), schema)
    md = (GOLDEN / "findings.md").read_text()
    assert len(md) <= 65_536 and md.startswith("<!-- ecs-exposure -->")
    html = (GOLDEN / "findings.html").read_text()
    assert (
        "http://" not in html.split("<body>")[0]
        and "<script src" not in html
        and '<link rel="stylesheet"' not in html
    )
