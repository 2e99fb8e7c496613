"""The terminal table (width, ARNs never broken inside a name, compact mode, control characters)
and the CLI's report options (--format lists, -o, --output-dir, what they say they wrote)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from ecs_exposure.outputs import FILENAMES, table
from ecs_exposure.sources.jsonpos import JsonPositions, index_json
from format_fixtures import example_result, states_result

ARN = re.compile(r"arn:aws[\w:/.*-]*")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _arns() -> set[str]:
    result = example_result()
    return {f.resource.uid for f in result.findings}


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
def test_table_fits_the_width(width: int) -> None:
    text = table.render(states_result(), width=width)
    for line in text.splitlines():
        assert len(line) <= width, (width, line)


@pytest.mark.parametrize("width", [60, 80, 140])
def test_table_breaks_arns_only_after_separators(width: int) -> None:
    """Every piece of a wrapped ARN in the resource column ends at ``:`` or ``/`` (or the ARN's end)."""
    text = table.render(example_result(), width=width)
    cells = []
    for line in text.splitlines():
        parts = line.split("│")
        if len(parts) > 3:
            cells.append(parts[2].strip())
    joined = ""
    for cell in cells:
        if not cell:
            continue
        if cell.startswith("arn:") or joined:
            joined += cell
            if joined in _arns():
                joined = ""
            else:
                assert cell.endswith((":", "/")), (width, cell)
    for arn in _arns():
        assert arn in "".join(cells)


def test_wrap_prefers_separators_then_hyphens() -> None:
    assert table.wrap("arn:aws:ecs:eu-west-1:111122223333:service/shop/web", 24) == [
        "arn:aws:ecs:eu-west-1:",
        "111122223333:service/",
        "shop/web",
    ]
    assert table.wrap("credentials-outside-environment: x", 20) == ["credentials-outside-", "environment: x"]
    assert all(len(x) <= 5 for x in table.wrap("abcdefghijklmnop", 5))


def test_compact_is_one_line_per_finding() -> None:
    result = states_result()
    text = table.render(result, width=100, compact=True)
    lines = text.splitlines()
    body = lines[: len(result.findings)]
    assert len(body) == len(result.findings)
    assert all(len(line) <= 100 for line in lines)
    assert body[0].startswith("CRITICAL") and "billing" in body[0] and "known" in body[0]
    assert any("SUPPRESSED" in line and "worker" in line for line in body)
    assert "1 suppressed; 6 new since the baseline." in text.replace("\n", " ")


def test_table_shows_states() -> None:
    text = table.render(states_result(), width=160)
    assert "IN PROGRESS" in text and "SUPPRESSED" in text
    assert "suppressed: worker is an isolated batch host" in text
    assert "public-ip [suppressed: ECS Exec is needed" in text


def test_table_escapes_control_characters() -> None:
    result = example_result()
    f = result.findings[0]
    evil = replace(f, resource=replace(f.resource, name="x\x1b]0;pwned\x07\x1b[2J"), title="t\u202egnp.exe")
    for color in (False, True):
        text = ANSI.sub("", table.render(replace(result, findings=(evil,)), color=color, width=120))
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "\\x1b]0;pwned\\x07" in text and "\\u202e" in text
    compact = table.render(replace(result, findings=(evil,)), compact=True)
    assert "\x1b" not in compact


def test_cli_width_from_columns(cli, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "ecs-exposure"
    env = {**os.environ, "COLUMNS": "72"}
    p = subprocess.run([str(exe), "scan", "--example"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert p.returncode == 0
    assert max(len(line) for line in p.stdout.splitlines()) <= 72
    assert max(len(line) for line in p.stdout.splitlines()) >= 60


def test_cli_several_formats_need_output_dir(cli) -> None:
    r = cli("scan", "--example", "--format", "sarif,json")
    assert r.code == 2 and "several formats need --output-dir" in r.err
    r = cli("scan", "--example", "--format", "sarif,nope")
    assert r.code == 2 and "unknown format nope" in r.err
    r = cli("scan", "--example", "-o", "a", "--output-dir", "b")
    assert r.code == 2 and "not allowed with" in r.err


def test_cli_output_dir_writes_every_format(cli, tmp_path: Path) -> None:
    r = cli("scan", "--example", "-f", "ocsf,sarif,junit,html,markdown,asff,json", "--output-dir", "reports")
    assert r.code == 0, r.err
    for name in ("ocsf", "sarif", "junit", "html", "markdown", "asff", "json"):
        path = tmp_path / "reports" / FILENAMES[name]
        assert path.stat().st_size > 1000
        assert f"ecs-exposure: wrote reports/{FILENAMES[name]} ({name}," in r.err
    assert r.out == ""
    json.loads((tmp_path / "reports" / "findings.sarif").read_text())


def test_cli_output_file_says_what_it_wrote(cli, tmp_path: Path) -> None:
    r = cli("scan", "--example", "-f", "markdown", "-o", "comment.md", "--fail-on", "critical")
    assert r.code == 1  # the exit code still follows --fail-on
    assert "ecs-exposure: wrote comment.md (markdown," in r.err
    assert "**2** findings at or above **critical**" in (tmp_path / "comment.md").read_text()


def test_cli_asff_for_files_needs_account(cli, tmp_path: Path) -> None:
    from conftest import ROOT

    td = str(ROOT / "tests/data/taskdef-lines.json")
    r = cli("scan", td, "-f", "asff")
    assert r.code == 2 and "--asff-account" in r.err
    r = cli("scan", td, "-f", "asff", "--asff-account", "123456789012", "--asff-region", "us-east-1")
    assert r.code == 0, r.err
    assert json.loads(r.out)[0]["ProductArn"].endswith(":123456789012:product/123456789012/default")


def test_cli_timestamp(cli) -> None:
    r = cli("scan", "--example", "-f", "ocsf", "--timestamp", "2026-03-04T05:06:07Z")
    assert json.loads(r.out)[0]["time_dt"] == "2026-03-04T05:06:07.000Z"
    r = cli("scan", "--example", "-f", "ocsf", "--timestamp", "yesterday")
    assert r.code == 2 and "ISO 8601" in r.err


# --------------------------------------------------------------------------- JSON positions


def test_json_positions_follow_paths(tmp_path: Path) -> None:
    text = '{\n  "a": [1, {"b\\u002fc": "x"}],\n  "d": {"e": null}, "f": -1.5e3\n}\n'
    (tmp_path / "p.json").write_text(text)
    pos = JsonPositions(tmp_path / "p.json")
    assert pos.position(()) == (1, 1)
    assert pos.position(("a",)) == (2, 8)
    assert pos.position(("a", 1, "b/c")) == (2, 25)  # escaped keys match their decoded names
    assert pos.position(("d", "e")) == (3, 14)
    assert pos.position(("f",)) == (3, 26)
    assert pos.position(("d", "missing", 3)) == (3, 8)  # the nearest enclosing value
    assert pos.position(("a", 9)) == (2, 8)


def test_json_positions_agree_with_the_parser_on_the_corpus() -> None:
    """Every value's offset, re-parsed from there, is the value itself (on real task definitions)."""
    from conftest import SHARED, require_shared

    corpus = require_shared(SHARED / "corpus" / "taskdefs")
    decoder = json.JSONDecoder()
    checked = 0
    for f in sorted(corpus.glob("*.json")):
        text = f.read_text(encoding="utf-8-sig")
        doc = json.loads(text)
        root = index_json(text)

        stack = [(root, doc)]
        while stack:
            (offset, children), value = stack.pop()
            assert decoder.raw_decode(text, offset)[0] == value
            checked += 1
            if isinstance(children, dict):
                stack.extend((child, value[k]) for k, child in children.items())
            elif isinstance(children, list):
                stack.extend(zip(children, value, strict=True))
    assert checked > 10_000


def test_json_positions_of_a_broken_or_changed_file(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text('{"a": [1, 2')
    assert JsonPositions(tmp_path / "b.json").position(("a",)) is None
    assert JsonPositions(tmp_path / "gone.json").position(("a",)) is None


def test_positions_are_lazy(tmp_path: Path) -> None:
    """Loading registers a position map per file and reads nothing more until a line is asked."""
    from ecs_exposure.sources import load_paths

    (tmp_path / "td.json").write_text(json.dumps({"family": "x", "containerDefinitions": [{"name": "a"}]}))
    inv = load_paths([tmp_path / "td.json"])
    [positions] = inv.positions.values()
    assert isinstance(positions, JsonPositions) and positions._tried is False
    (tmp_path / "td.json").unlink()
    assert positions.position(("containerDefinitions", 0)) is None  # gone: no line rather than a wrong one
