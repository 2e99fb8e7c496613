"""Hostile and odd inputs on disk (issue #9 §2): FIFOs, devices, huge and sparse files, gzip bombs,
dangling links, duplicates. None may hang the scan or take the other inputs' report down; each is
one line naming the file (or a note, for what a directory walk skips)."""

from __future__ import annotations

import copy
import gzip
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from builders import ECS, container, service, snapshot, taskdef
from ecs_exposure.engine import scan
from ecs_exposure.sources import load_paths
from ecs_exposure.sources.jsonio import DEFAULT_MAX_FILE_SIZE, SourceError, read_json

PRIVILEGED = taskdef(container(privileged=True), revision=None)


def write(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess with a timeout: a scan that hangs on a FIFO fails the test, never CI."""
    exe = Path(sys.executable).parent / "ecs-exposure"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def findings(out: str) -> list[dict]:
    return json.loads(out)["findings"]


# --------------------------------------------------------------------------- non-regular files


def test_fifo_in_a_directory_is_skipped_with_a_note(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.json")  # nobody ever writes to it: opening it for reading would block
    write(tmp_path / "good.json", PRIVILEGED)
    r = run("scan", ".", "-f", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr  # a skipped file is not a problem
    assert len(findings(r.stdout)) == 1
    assert (
        "ecs-exposure: note: skipped x.json: not a regular file: a named pipe (FIFO)" in r.stderr.splitlines()
    )
    assert json.loads(r.stdout)["skipped"] == ["x.json"]


def test_fifo_named_explicitly_is_an_error_line(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.json")
    write(tmp_path / "good.json", PRIVILEGED)
    r = run("scan", "x.json", "good.json", "-f", "json", cwd=tmp_path)
    assert r.returncode == 3
    assert r.stderr.splitlines() == ["ecs-exposure: x.json: not a regular file: a named pipe (FIFO)"]
    assert len(findings(r.stdout)) == 1  # the rest is reported


def test_dev_zero_never_takes_the_report_down(tmp_path: Path) -> None:
    write(tmp_path / "good.json", PRIVILEGED)
    r = run("scan", "/dev/zero", "good.json", "-f", "json", cwd=tmp_path)
    assert r.returncode == 3
    assert r.stderr.splitlines() == ["ecs-exposure: /dev/zero: not a regular file: a character device"]
    assert len(findings(r.stdout)) == 1 and json.loads(r.stdout)["complete"] is False


def test_socket_in_a_directory_is_skipped(tmp_path: Path) -> None:
    import socket

    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(tmp_path / "s.json"))
        inv = load_paths([tmp_path])
    finally:
        s.close()
    # the socket is skipped, never opened; a directory in which nothing was read is not a clean scan
    assert [i.message for i in inv.issues] == [
        "nothing read: none of its 1 files is a task definition, snapshot, CloudFormation template or "
        "container-definition list"
    ]
    assert inv.notes == ["s.json: skipped, not a regular file: a socket"] or any(
        n.endswith("s.json: skipped, not a regular file: a socket") for n in inv.notes
    )


# --------------------------------------------------------------------------- size limits


def test_sparse_2gb_file_is_reported_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    subprocess.run(["truncate", "-s", "2G", str(big)], check=True)  # sparse: no disk used
    write(tmp_path / "good.json", PRIVILEGED)
    r = run("scan", "big.json", "good.json", "-f", "json", cwd=tmp_path)
    assert r.returncode == 3
    assert r.stderr.splitlines() == [
        "ecs-exposure: big.json: 2 GiB, over the limit of 256 MiB per file: not read "
        "(--max-file-size raises it)"
    ]
    assert len(findings(r.stdout)) == 1


def test_sparse_file_in_a_directory_is_an_issue_not_a_crash(tmp_path: Path) -> None:
    subprocess.run(["truncate", "-s", "2G", str(tmp_path / "big.json")], check=True)
    write(tmp_path / "good.json", PRIVILEGED)
    inv = load_paths([tmp_path])
    [issue] = inv.issues
    assert issue.source.endswith("big.json") and "over the limit" in issue.message
    assert len(inv.task_definition_files) == 1


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1K", 1024),
        ("2k", 2048),
        ("1.5KiB", 1536),
        ("4096", 4096),
        ("512M", 512 << 20),
        ("2G", 2 << 30),
        ("1gb", 1 << 30),
        ("0", None),
        ("lots", None),
        ("-1K", None),
        ("", None),
    ],
)
def test_max_file_size_values(text: str, size: int | None) -> None:
    import argparse

    from ecs_exposure.cli.common import file_size

    if size is None:
        with pytest.raises(argparse.ArgumentTypeError, match="expected a size such as 512M or 2G"):
            file_size(text)
    else:
        assert file_size(text) == size


@pytest.mark.parametrize(("flag", "code"), [("1K", 3), ("2K", 0), ("lots", 2)])
def test_max_file_size_flag(tmp_path: Path, flag: str, code: int) -> None:
    doc = taskdef(
        container(environment=[{"name": f"V{i}", "value": "x" * 8} for i in range(30)]), revision=None
    )
    p = write(tmp_path / "td.json", doc)
    assert 1024 < p.stat().st_size < 1536
    r = run("scan", "td.json", f"--max-file-size={flag}", cwd=tmp_path)
    assert r.returncode == code, r.stderr
    if code == 3:
        assert "over the limit of 1 KiB per file" in r.stderr
    if code == 2:
        assert "expected a size such as 512M or 2G" in r.stderr


def test_fix_has_the_size_flag_too(tmp_path: Path) -> None:
    write(tmp_path / "td.json", PRIVILEGED)
    r = run("fix", "td.json", "--max-file-size", "100", cwd=tmp_path)
    assert r.returncode == 3 and "over the limit of 100 bytes per file" in r.stderr


def test_default_limit_is_documented() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert DEFAULT_MAX_FILE_SIZE == 256 * 1024 * 1024
    assert "--max-file-size" in readme and "256 MiB" in readme


def _bomb(path: Path, size: int) -> Path:
    with gzip.open(path, "wb", compresslevel=9) as f:
        chunk = b" " * (1 << 20)
        for _ in range(size >> 20):
            f.write(chunk)
    return path


def test_gzip_bomb_is_reported_with_bounded_memory(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.json.gz", 64 << 20)  # 64 MiB of blanks in about 64 kB
    assert bomb.stat().st_size < 1 << 20
    limit = 4 << 20
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="decompresses to more than the limit of 4 MiB"):
            read_json(bomb, "bomb.json.gz", limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # bounded by the limit (a buffer, one decompressed step, zlib's window), not by the bomb's size
    assert peak < 4 * limit < 64 << 20, f"peak {peak} bytes: decompression is not bounded"


def test_gzip_bomb_in_the_cli(tmp_path: Path) -> None:
    _bomb(tmp_path / "bomb.json.gz", 8 << 20)
    write(tmp_path / "good.json", PRIVILEGED)
    r = run("scan", ".", "--max-file-size", "4M", "-f", "json", cwd=tmp_path)
    assert r.returncode == 3
    assert r.stderr.splitlines()[0].startswith(
        "ecs-exposure: bomb.json.gz: decompresses to more than the limit"
    )
    assert len(findings(r.stdout)) == 1


def test_gzip_under_the_limit_still_reads(tmp_path: Path) -> None:
    p = tmp_path / "s.json.gz"
    p.write_bytes(gzip.compress(json.dumps(snapshot()).encode()))
    assert read_json(p, "s.json.gz")["format"] == "ecs-exposure/snapshot@1"


# --------------------------------------------------------------------------- links and paths


def test_dangling_symlink_in_a_directory_names_the_link(tmp_path: Path) -> None:
    (tmp_path / "link.json").symlink_to(tmp_path / "gone" / "target.json")
    inv = load_paths([tmp_path])
    [issue] = inv.issues
    assert issue.source.endswith("link.json")
    assert issue.message == f"broken symbolic link (to {tmp_path / 'gone' / 'target.json'})"


def test_symlink_to_a_file_is_named_by_the_link(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("{")
    (tmp_path / "alias.json").symlink_to("real.json")
    r = run("scan", "alias.json", cwd=tmp_path)
    assert r.stderr.startswith("ecs-exposure: alias.json: invalid JSON")


@pytest.mark.parametrize("command", ["scan", "fix"])
def test_nonexistent_path_is_a_usage_error(tmp_path: Path, command: str) -> None:
    write(tmp_path / "good.json", PRIVILEGED)
    r = run(command, "good.json", "nope.json", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.splitlines() == ["ecs-exposure: error: nope.json: no such file or directory"]
    assert r.stdout == ""


def test_dangling_link_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "link.json").symlink_to("missing.json")
    r = run("scan", "link.json", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.splitlines() == ["ecs-exposure: error: link.json: broken symbolic link (to missing.json)"]


def test_nonexistent_vulns_file_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "good.json", PRIVILEGED)
    r = run("scan", "good.json", "--vulns", "trivy.json", cwd=tmp_path)
    assert r.returncode == 2 and "trivy.json: no such file or directory" in r.stderr


def test_a_file_named_and_inside_a_named_directory_is_read_once(tmp_path: Path) -> None:
    write(tmp_path / "td.json", PRIVILEGED)
    inv = load_paths([tmp_path, tmp_path / "td.json"])
    assert len(inv.task_definition_files) == 1


# --------------------------------------------------------------------------- one resource, one id


def test_same_task_definition_arn_in_two_identical_files_is_one_resource(tmp_path: Path) -> None:
    td = taskdef(container(privileged=True), revision=3)
    write(tmp_path / "a.json", td)
    write(tmp_path / "b.json", {"taskDefinition": td})
    result = scan(load_paths([tmp_path / "a.json", tmp_path / "b.json"]))
    [f] = result.findings
    assert f.resource.uid == f"{ECS}:task-definition/app:3"
    assert any("b.json: skipped, resource also in" in n and "a.json" in n for n in result.notes)
    assert result.complete


def test_same_task_definition_arn_with_different_content_gets_distinct_ids(tmp_path: Path) -> None:
    write(tmp_path / "a.json", taskdef(container(privileged=True), revision=3))
    write(tmp_path / "b.json", taskdef(container(), revision=3, pidMode="host"))
    result = scan(load_paths([tmp_path / "a.json", tmp_path / "b.json"]))
    ids = [f.id for f in result.findings]
    uids = {f.resource.uid for f in result.findings}
    assert len(ids) == 2 and len(set(ids)) == 2
    assert f"{ECS}:task-definition/app:3" in uids
    assert any(u.endswith("b.json") for u in uids)  # the second copy is known by its file


def test_two_snapshots_with_the_same_service(tmp_path: Path) -> None:
    doc = snapshot(task_definitions=[taskdef(container(privileged=True))])
    write(tmp_path / "s1.json", doc)
    write(tmp_path / "s2.json", copy.deepcopy(doc))
    result = scan(load_paths([tmp_path / "s1.json", tmp_path / "s2.json"]))
    assert [f.resource.name for f in result.findings] == ["svc"]
    assert result.complete and any("s2.json: skipped, resource also in" in n for n in result.notes)


def test_two_snapshots_disagreeing_on_a_service_make_the_scan_incomplete(tmp_path: Path) -> None:
    write(tmp_path / "s1.json", snapshot(task_definitions=[taskdef(container(privileged=True))]))
    write(tmp_path / "s2.json", snapshot(services=[service(enableExecuteCommand=True)]))
    result = scan(load_paths([tmp_path / "s1.json", tmp_path / "s2.json"]))
    assert len(result.findings) == 1 and len({f.id for f in result.findings}) == 1
    [issue] = [i for i in result.issues if "also in" in i.message]
    assert issue.source.endswith("s2.json") and "scanned from" in issue.message
    assert not result.complete


def test_snapshot_without_accounts_is_an_error(tmp_path: Path) -> None:
    inv = load_paths([write(tmp_path / "s.json", {"format": "ecs-exposure/snapshot@1", "errors": []})])
    [issue] = inv.issues
    assert issue.path == "accounts" and "no accounts" in issue.message


def test_snapshot_with_empty_accounts_is_fine(tmp_path: Path) -> None:
    inv = load_paths([write(tmp_path / "s.json", {"format": "ecs-exposure/snapshot@1", "accounts": []})])
    assert not inv.issues


# --------------------------------------------------------------------------- exit code precedence


def test_findings_over_the_gate_win_over_an_incomplete_scan(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{")
    write(tmp_path / "good.json", PRIVILEGED)
    r = run("scan", "broken.json", "good.json", "--fail-on", "low", "-f", "json", cwd=tmp_path)
    assert r.returncode == 1
    assert json.loads(r.stdout)["complete"] is False
    lines = r.stderr.splitlines()
    assert lines[0].startswith("ecs-exposure: broken.json: invalid JSON")
    assert lines[-1].startswith("ecs-exposure: scan incomplete (1 input problem above): exit 1")
    # below the gate, the incompleteness is the exit code
    r = run("scan", "broken.json", "good.json", "--fail-on", "critical", cwd=tmp_path)
    assert r.returncode == 3 and "scan incomplete (" not in r.stderr


def test_exit_code_precedence_is_documented(tmp_path: Path) -> None:
    r = run("scan", "--help", cwd=tmp_path)
    assert "1 wins over 3" in r.stdout
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "1 wins over 3" in readme
