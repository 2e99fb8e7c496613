"""The configuration file reaches the commands beyond scan: the fingerprint key file (spec §4: keyed
"from configuration or an environment variable") and suppressions honoured by `fix`."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

from builders import container, taskdef

VALUE = "Sup3r-Secret-Orders-9"
KEY = "ab" * 32


def _run(cwd: Path, *args: str, env_key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ECS_EXPOSURE_FINGERPRINT_KEY"}
    env["XDG_DATA_HOME"] = str(cwd / "data")  # never the real home
    if env_key is not None:
        env["ECS_EXPOSURE_FINGERPRINT_KEY"] = env_key
    exe = Path(sys.executable).parent / "ecs-exposure"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def _fingerprints(report: str) -> set[str]:
    doc = json.loads(report)
    return {
        ev["fingerprint"]
        for f in doc["findings"]
        for t in f["traits"]
        for ev in t["evidence"]
        if "fingerprint" in ev
    }


def _estate(tmp_path: Path) -> None:
    td = taskdef(container(environment=[{"name": "DB_PASSWORD", "value": VALUE}]), revision=None)
    (tmp_path / "td.json").write_text(json.dumps(td))


def test_fingerprint_key_file_in_the_config_keys_the_fingerprints(tmp_path: Path) -> None:
    _estate(tmp_path)
    (tmp_path / "team.key").write_text(KEY + "\n")
    (tmp_path / ".ecs-exposure.yaml").write_text("fingerprint_key_file: team.key\n")
    r = _run(tmp_path, "scan", "td.json", "-f", "json")
    assert r.returncode == 0, r.stderr
    want = hmac.new(bytes.fromhex(KEY), VALUE.encode(), hashlib.sha256).hexdigest()[:12]
    assert _fingerprints(r.stdout) == {want}
    assert KEY not in r.stdout + r.stderr and VALUE not in r.stdout + r.stderr
    # the environment of one run wins over the shared file
    other = "cd" * 32
    r = _run(tmp_path, "scan", "td.json", "-f", "json", env_key=other)
    assert _fingerprints(r.stdout) == {
        hmac.new(bytes.fromhex(other), VALUE.encode(), hashlib.sha256).hexdigest()[:12]
    }


def test_a_bad_fingerprint_key_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    _estate(tmp_path)
    (tmp_path / ".ecs-exposure.yaml").write_text("fingerprint_key_file: missing.key\n")
    r = _run(tmp_path, "scan", "td.json")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "missing.key" in r.stderr
    (tmp_path / "short.key").write_text("abcd\n")
    (tmp_path / ".ecs-exposure.yaml").write_text("fingerprint_key_file: short.key\n")
    r = _run(tmp_path, "fix", "td.json")
    assert r.returncode == 2 and "too short" in r.stderr and "abcd" not in r.stderr


def test_fix_does_not_plan_an_accepted_risk_unless_named(tmp_path: Path) -> None:
    td = taskdef(container(privileged=True), revision=None)
    (tmp_path / "td.json").write_text(json.dumps(td))
    (tmp_path / ".ecs-exposure.yaml").write_text(
        "suppressions:\n  - paths: td.json\n    reason: a lab task, accepted until it is retired\n"
    )
    r = _run(tmp_path, "fix", "td.json", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["plans"] == []
    assert "1 suppressed finding not planned" in r.stderr
    finding = json.loads(_run(tmp_path, "scan", "td.json", "-f", "json").stdout)["findings"][0]
    assert finding["status"] == "Suppressed"
    r = _run(tmp_path, "fix", "td.json", "-f", "json", "--finding", finding["id"])
    plans = json.loads(r.stdout)["plans"]
    assert [p["finding_id"] for p in plans] == [finding["id"]]
    assert any(c["trait"] == "privileged-container" for c in plans[0]["changes"])
    r = _run(tmp_path, "fix", "td.json", "-f", "json", "--no-config")
    assert len(json.loads(r.stdout)["plans"]) == 1
