"""Terminal safety (issue #9 §2): control characters, ANSI escapes and bidi overrides in names,
values shown and file names are escaped in the table and on stderr, by one helper; a newline in a
file name cannot break the one-line error rule."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from builders import container, taskdef
from ecs_exposure.engine import ScanOptions, scan
from ecs_exposure.outputs import FORMATS
from ecs_exposure.safetext import _UNSAFE, escape
from ecs_exposure.sources import load_paths

HOSTILE = [
    "\x1b[31m",
    "\x1b]8;;http://x\x07",
    "\r",
    "\n",
    "\x00",
    "\t",
    "\x7f",
    "\x9b",
    "\u202e",
    "\u2066",
    "\u200b",
]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("web", "web"),
        ("café 日本 ✓", "café 日本 ✓"),  # printable Unicode is left alone
        ("a\x1b[31mred", "a\\x1b[31mred"),
        ("line\r\nnext", "line\\r\\nnext"),
        ("nul\x00", "nul\\x00"),
        ("tab\there", "tab\\there"),
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("\u202egnp.exe", "\\u202egnp.exe"),  # right-to-left override
        ("iso\u2066late\u2069", "iso\\u2066late\\u2069"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("sep\u2028par\u2029", "sep\\u2028par\\u2029"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("bytes\udcff\udc80", "bytes\\xff\\x80"),  # undecodable file-name bytes (surrogateescape)
    ],
)
def test_escape(text: str, shown: str) -> None:
    assert escape(text) == shown


def test_every_control_and_format_character_is_escaped() -> None:
    missed = [
        f"U+{cp:04X}"
        for cp in range(0x110000)
        if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zl", "Zp", "Cs") and not _UNSAFE.match(chr(cp))
    ]
    assert not missed, f"add to safetext._UNSAFE: {missed}"


def hostile_doc() -> dict:
    return taskdef(
        container(
            name="web\x1b[31mEVIL\r\n\x00\u202etxt.exe",
            privileged=True,
            environment=[{"name": "DB_\u202ePASSWORD\x1b[2J", "value": "Tr0ub4dor&3"}],
        ),
        revision=None,
        family="fam\x1b]0;title\x07",
    )


def _raw_controls(text: str) -> list[str]:
    """Control and format characters in ``text``, but the line breaks between output lines."""
    return sorted(
        {c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs")}
    )


def test_table_escapes_names_and_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the file is then shown by its short name
    p = Path("td\x1b[32m\u202e.json")
    p.write_text(json.dumps(hostile_doc()))
    result = scan(load_paths([p]), ScanOptions(include_informational=True))
    out = FORMATS["table"](result, color=False, width=400)
    assert not _raw_controls(out), [hex(ord(c)) for c in _raw_controls(out)]
    assert "web\\x1b[31mEVIL\\r\\n\\x00\\u202etxt.exe" in out  # container name, in the evidence
    assert "DB_\\u202ePASSWORD\\x1b[2J" in out  # variable name
    assert "td\\x1b[32m\\u202e.json" in out  # file name, the resource's id
    # the only line breaks are the table's own: no row is split by a name
    assert all("EVIL" not in line or "web\\x1b" in line for line in out.splitlines())


def test_table_with_colour_still_escapes_input_text(tmp_path: Path) -> None:
    p = tmp_path / "td.json"
    p.write_text(json.dumps(hostile_doc()))
    out = FORMATS["table"](scan(load_paths([p])), color=True, width=400)
    assert "\x1b[31mEVIL" not in out and "\u202e" not in out and "\x00" not in out
    assert "web\\x1b[31mEVIL" in out


@pytest.mark.parametrize(
    "name", ["bad\nname.json", "bad\r\x1b[2Kforged.json", "bad\u202enosj.json", "bell\x07.json"]
)
def test_stderr_lines_escape_file_names(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("{")
    (tmp_path / "bad2.json").write_text(json.dumps(taskdef(container(privileged="yes"), revision=None)))
    exe = Path(sys.executable).parent / "ecs-exposure"
    r = subprocess.run([str(exe), "scan", "."], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert r.returncode == 3
    lines = r.stderr.splitlines()
    assert len(lines) == 2, lines  # one line per problem, whatever the file is called
    assert all(line.startswith("ecs-exposure: ") for line in lines)
    assert not _raw_controls(r.stderr) and "\r" not in r.stderr
    assert escape(name) in r.stderr


def test_stderr_escapes_names_inside_json_paths(tmp_path: Path) -> None:
    doc = taskdef(container(dockerLabels={"k\x1b[31m\n": {"nested": 1}}), revision=None)
    (tmp_path / "td.json").write_text(json.dumps(doc))
    exe = Path(sys.executable).parent / "ecs-exposure"
    r = subprocess.run(
        [str(exe), "scan", "td.json"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    [line] = r.stderr.splitlines()
    assert line == (
        "ecs-exposure: td.json: containerDefinitions[0].dockerLabels.k\\x1b[31m\\n: "
        "expected a string, found an object"
    )


def test_usage_error_line_escapes_the_path(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "ecs-exposure"
    r = subprocess.run(
        [str(exe), "scan", "no\nsuch\x1b[31m.json"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "ecs-exposure: error: no\\nsuch\\x1b[31m.json: no such file or directory"
    ]
