"""``fix --patch`` on CloudFormation: a unified diff that ``git apply`` takes, after which a rescan
shows the fixed traits gone; comments and formatting kept; no credential in an added line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from iac_helpers import template, to_json

SECRET = "Xk9mQ2vLp7zz"
FIXED = {
    "privileged-container",
    "host-pid-namespace",
    "host-ipc-namespace",
    "host-filesystem-mount",
    "dangerous-capabilities",
    "plaintext-credentials",
    "public-ip",
    "open-security-group",
    "internet-reachable",
}


def git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def exposed() -> str:
    return template(
        td="PidMode: host\nIpcMode: host\n"
        "Volumes:\n  - Name: sock\n    Host:\n      SourcePath: /var/run/docker.sock",
        container=(
            "# the agent's settings\n"
            "Privileged: true  # needed?\n"
            "LinuxParameters:\n  Capabilities:\n    Add: [SYS_ADMIN, NET_BIND_SERVICE]\n"
            "MountPoints:\n  - {SourceVolume: sock, ContainerPath: /var/run/docker.sock}\n"
            "Environment:\n  - {Name: LOG_LEVEL, Value: info}\n"
            f"  - {{Name: DB_PASSWORD, Value: {SECRET}}}\n"
            "  - {Name: API_TOKEN, Value: !Ref ApiToken}"
        ),
        params=f"ApiToken:\n  Type: String\n  Default: {SECRET}Tok",
        public="ENABLED",
        ingress="CidrIp: 0.0.0.0/0",
    )


@pytest.mark.parametrize("form", ["yaml", "json"])
def test_patch_applies_and_rescans_clean(cli, tmp_path: Path, form: str) -> None:
    repo = tmp_path / "repo"
    (repo / "infra").mkdir(parents=True)
    text = exposed() if form == "yaml" else to_json(exposed())
    name = f"infra/app.{form}"
    (repo / name).write_text(text)
    assert git(repo, "init", "-q").returncode == 0
    git(repo, "add", ".")
    assert git(repo, "commit", "-qm", "infra").returncode == 0

    before = json.loads(cli("scan", "infra", "-f", "json", cwd=repo).out)
    [finding] = before["findings"]
    assert {t["id"] for t in finding["traits"]} >= FIXED

    r = cli("fix", "infra", "--patch", "fix.patch", "--allow-cidr", "10.20.0.0/16", cwd=repo)
    assert r.code == 0, r.err
    patch = (repo / "fix.patch").read_text()
    assert (repo / "fix.patch").stat().st_mode & 0o077 == 0  # the patch removes credential lines
    added = [line for line in patch.splitlines() if line.startswith("+")]
    assert not any(SECRET in line for line in added)  # a credential is never written, only removed
    assert SECRET not in r.out + r.err

    applied = git(repo, "apply", "fix.patch")
    assert applied.returncode == 0, applied.stderr
    after = json.loads(cli("scan", "infra", "-f", "json", cwd=repo).out)
    assert after["complete"] is True, after["issues"]
    remaining = {t["id"] for f in after["findings"] for t in f["traits"]}
    assert not FIXED & remaining, remaining
    new = (repo / name).read_text()
    assert SECRET not in new
    if form == "yaml":
        assert "# the agent's settings" in new  # comments kept
        assert "AWS::SecretsManager::Secret" in new and "NoEcho: true" in new
        assert "ExecRole" in new.split("SecretsAccess:")[1]  # the execution role is granted the secrets
    doc = json.loads(new) if form == "json" else None
    if doc is not None:
        params = doc["Parameters"]
        assert params["AllowedIngressCidr"]["Default"] == "10.20.0.0/16"
        assert "Default" not in params["ApiToken"] and params["ApiToken"]["NoEcho"] is True


def test_a_task_without_execution_role_gets_one(cli, tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    text = template(container=f"Environment:\n  - {{Name: DB_PASSWORD, Value: {SECRET}}}").replace(
        "      ExecutionRoleArn: !GetAtt ExecRole.Arn\n", ""
    )
    (repo / "t.yaml").write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "x")
    assert cli("fix", "t.yaml", "--patch", "p.diff", cwd=repo).code == 0
    assert git(repo, "apply", "p.diff").returncode == 0
    new = (repo / "t.yaml").read_text()
    assert "ExecutionRoleArn: !GetAtt TaskDefExecutionRole.Arn" in new
    assert "AmazonECSTaskExecutionRolePolicy" in new.split("TaskDefExecutionRole:")[1]
    after = json.loads(cli("scan", "t.yaml", "-f", "json", cwd=repo).out)
    assert "plaintext-credentials" not in {t["id"] for f in after["findings"] for t in f["traits"]}


def test_values_reached_through_fn_if_are_left_to_a_human(cli, tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "t.yaml").write_text(template(public="!If [IsProd, DISABLED, ENABLED]"))
    r = cli("fix", "t.yaml", "--patch", "p.diff", cwd=repo)
    assert r.code == 0
    assert "by hand" in r.out and "public-ip" in r.out
    assert (repo / "p.diff").read_text() == ""


def test_host_network_mode_becomes_awsvpc(cli, tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "t.json").write_text(to_json(template(network_mode="NetworkMode: host")))
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "x")
    r = cli("fix", "t.json", "--patch", "p.diff", cwd=repo)
    assert "NetworkMode: awsvpc" in r.out
    assert git(repo, "apply", "p.diff").returncode == 0
    assert (
        json.loads((repo / "t.json").read_text())["Resources"]["TaskDef"]["Properties"]["NetworkMode"]
        == "awsvpc"
    )
    after = json.loads(cli("scan", "t.json", "-f", "json", cwd=repo).out)
    assert "host-network-mode" not in {t["id"] for f in after["findings"] for t in f["traits"]}
