"""Suppressions with expiry, baseline gating and the findings history across two scans of a changed
estate, through the command line, on SQLite and on a real PostgreSQL server (issue #10)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from conftest import Run
from ecs_exposure.cli import main
from estates import SECRETS, arn, estate

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "src/ecs_exposure/schemas/findings-1.schema.json").read_text()
)


@pytest.fixture
def ecs(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The command in this process (no interpreter start): for the checks around the end-to-end
    runs, which go through the installed console script."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Run:
        code = main(list(args))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def by_name(report: dict) -> dict[str, dict]:
    return {f["resource"]["name"]: f for f in report["findings"]}


def test_two_scans_of_a_changed_estate(cli, ecs, tmp_path: Path, store_url: str) -> None:
    # scan 1: recorded, and kept as the baseline
    write(tmp_path / "v1.json", estate(1))
    r = cli("scan", "v1.json", "--store", store_url, "-f", "json", "-o", "baseline.json")
    assert r.code == 0, r.err
    assert "recorded as scan 1" in r.err
    first = json.loads((tmp_path / "baseline.json").read_text())
    jsonschema.validate(first, SCHEMA)
    assert {f["status"] for f in first["findings"]} == {"New"}  # nothing recorded before
    assert ecs("scan", "v1.json", "--no-config", "--fail-on", "critical").code == 1

    # the estate changes: fixed is fixed, raised is raised, added is added; accepted is accepted in
    # the config file found in the working directory, which also names the store; an expired
    # acceptance of stable is reported and no longer applies
    write(tmp_path / "v2.json", estate(2))
    stable_id = by_name(first)["stable"]["id"]
    until = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()
    (tmp_path / ".ecs-exposure.yaml").write_text(
        f"""\
store: {store_url}
suppressions:
  - resources: "arn:aws:ecs:*:*:service/main/accepted"
    reason: keys of the sandbox account, rotated weekly
    expires: {until}
  - findings: {stable_id}
    reason: accepted until the migration
    expires: 2000-01-31
"""
    )
    r = cli("scan", "v2.json", "--baseline", "baseline.json", "-f", "json", "-o", "report.json")
    assert r.code == 0, r.err
    assert "recorded as scan 2" in r.err
    assert (
        ".ecs-exposure.yaml:6: suppressions[1]: suppression expired on 2000-01-31, no longer applied; "
        "it would match 1 finding"
    ) in r.err
    second = json.loads((tmp_path / "report.json").read_text())
    jsonschema.validate(second, SCHEMA)
    f = by_name(second)
    assert {n: (x["status"], x["severity"], x["new"]) for n, x in f.items()} == {
        "stable": ("In Progress", "CRITICAL", False),  # the expired acceptance no longer applies
        "accepted": ("Suppressed", "HIGH", False),  # kept, with the rating that was accepted
        "raised": ("In Progress", "HIGH", True),  # seen before, but more severe: new for --fail-on
        "added": ("New", "MEDIUM", True),
    }
    assert f["raised"]["baseline_severity"] == "MEDIUM"
    assert f["accepted"]["suppression"] == {
        "reason": "keys of the sandbox account, rotated weekly",
        "source": ".ecs-exposure.yaml:3: suppressions[0]",
        "expires": until,
    }
    assert second["summary"]["suppressed"] == 1 and second["summary"]["new"] == 2
    assert second["summary"]["by_status"] == {"New": 1, "In Progress": 2, "Suppressed": 1}
    assert second["baseline"] == "baseline.json"
    uses = {u["source"]: (u["state"], u["matched"]) for u in second["suppressions"]}
    assert uses == {
        ".ecs-exposure.yaml:3: suppressions[0]": ("applied", [f["accepted"]["id"]]),
        ".ecs-exposure.yaml:6: suppressions[1]": ("expired", [stable_id]),
    }

    # --fail-on with the baseline counts only the new and the raised findings
    base = ("scan", "v2.json", "--no-store", "--baseline", "baseline.json")
    assert ecs(*base, "--fail-on", "critical").code == 0  # stable is CRITICAL but not new
    assert cli(*base, "--fail-on", "high").code == 1  # raised: MEDIUM → HIGH
    assert ecs("scan", "v2.json", "--no-store", "--fail-on", "critical").code == 1  # no baseline: stable
    # the suppressed finding (HIGH) never counts: without it nothing else is HIGH and new
    fixed_raise = estate(2)
    fixed_raise["accounts"][0]["regions"][0]["ecs"]["taskDefinitions"][2]["containerDefinitions"][0][
        "privileged"
    ] = False
    write(tmp_path / "v2b.json", fixed_raise)
    assert ecs("scan", "v2b.json", "--no-store", "--baseline", "baseline.json", "--fail-on", "high").code == 0

    # the history: two scans, and what changed between them
    r = cli("history", "-f", "json")
    assert r.code == 0, r.err
    scans = json.loads(r.out)["scans"]
    assert [(s["id"], s["findings"], s["new"], s["resolved"]) for s in scans] == [
        (2, 4, 1, 1),
        (1, 4, None, None),
    ]
    assert scans[0]["by_status"] == {"New": 1, "In Progress": 2, "Suppressed": 1}
    r = cli("diff", "-f", "json")  # default: the latest scan and the previous one of the same inputs
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert (d["from"]["id"], d["to"]["id"]) == (1, 2)
    changes = {c["resource"]["name"]: (c["status"], c["severity_change"]) for c in d["findings"]}
    assert changes == {
        "added": ("New", None),
        "fixed": ("Resolved", None),
        "accepted": ("Suppressed", None),
        "raised": ("In Progress", "raised"),
        "stable": ("In Progress", None),
    }
    assert d["summary"] == {
        "new": 1,
        "resolved": 1,
        "suppressed": 1,
        "still_open": 2,
        "raised": 1,
        "lowered": 0,
    }
    ids = {c["resource"]["name"]: c["id"] for c in d["findings"]}
    assert ids["stable"] == stable_id  # a finding keeps its id across scans
    assert next(c for c in d["findings"] if c["id"] == ids["raised"])["previous_severity"] == "MEDIUM"
    assert ecs("diff", "1", "2", "-f", "json").out == r.out

    table = cli("diff").out
    for section in ("New (1)", "Resolved (1)", "Suppressed (1)", "Severity changed (1)", "Still open (1)"):
        assert section in table
    assert "MEDIUM → HIGH" in table and arn("fixed") in table
    assert "1 new, 1 resolved, 1 suppressed, 2 still open (1 raised, 0 lowered)." in table
    assert "Findings history" in ecs("history").out
    assert all(secret not in table for secret in SECRETS)


def test_history_and_diff_usage(ecs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    r = ecs("history")
    assert r.code == 0 and "no findings history at" in r.err  # nothing recorded: not created either
    assert not (tmp_path / "data").exists()
    assert ecs("diff").code == 2
    write(tmp_path / "v1.json", estate(1))
    assert ecs("scan", "v1.json", "--store").code == 0  # --store alone: the default SQLite file
    db = tmp_path / "data" / "ecs-exposure" / "history.sqlite"
    assert db.is_file() and db.stat().st_mode & 0o077 == 0  # private to the user
    r = ecs("diff")
    assert r.code == 2 and "scan 1 has no earlier scan of the same inputs" in r.err
    assert "no scan 7" in ecs("diff", "7", "1").err
    assert ecs("history", "--limit", "0").code == 2
    r = ecs("scan", "v1.json", "--store", "v1.json")
    assert r.code == 2 and "is not a database URL" in r.err
    r = ecs("scan", "v1.json", "--store", "postgresql://u:hunter2@127.0.0.1:1/none")
    assert r.code == 2 and "hunter2" not in r.err and "***" in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_baseline_must_be_a_findings_report(ecs, tmp_path: Path) -> None:
    write(tmp_path / "v1.json", estate(1))
    for name, content in (
        ("snapshot.json", json.dumps(estate(1))),
        ("list.json", "[]"),
        ("broken.json", "{"),
        ("other.json", json.dumps({"schema": "ecs-exposure/findings@2", "findings": []})),
        ("noid.json", json.dumps({"schema": "ecs-exposure/findings@1", "findings": [{"severity": "LOW"}]})),
    ):
        (tmp_path / name).write_text(content)
        r = ecs("scan", "v1.json", "--baseline", name)
        assert r.code == 2, name
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"ecs-exposure: error: {name}: "), r.err
        assert "Traceback" not in r.err
    r = ecs("scan", "v1.json", "--baseline", "missing.json")
    assert r.code == 2 and "missing.json: cannot read" in r.err


def test_baseline_of_the_same_estate_gates_nothing(ecs, tmp_path: Path) -> None:
    write(tmp_path / "v1.json", estate(1))
    assert ecs("scan", "v1.json", "-f", "json", "-o", "base.json").code == 0
    r = ecs("scan", "v1.json", "--baseline", "base.json", "--fail-on", "low")
    assert r.code == 0, r.out
    assert "0 new since the baseline" in r.out


def test_the_same_inputs_are_compared(ecs, tmp_path: Path) -> None:
    """Snapshots count by account and region, whatever the file is called; files by the argument."""
    write(tmp_path / "estate-2026-11-30.json", estate(1))
    write(tmp_path / "estate-2026-12-01.json", estate(1))
    (tmp_path / "infra").mkdir()
    write(
        tmp_path / "infra" / "td.json",
        {"family": "f", "containerDefinitions": [{"name": "a", "privileged": True}]},
    )

    def statuses(*args: str) -> set[str]:
        r = ecs("scan", *args, "--store", "h.sqlite", "-f", "json")
        assert r.code == 0, r.err
        return {f["status"] for f in json.loads(r.out)["findings"]}

    assert statuses("estate-2026-11-30.json") == {"New"}
    assert statuses("estate-2026-12-01.json") == {"In Progress"}  # the next night's snapshot
    assert statuses("estate-2026-12-01.json", "--trait", "privileged-container") == {"New"}  # not a full scan
    assert statuses("infra") == {"New"}
    assert statuses("infra/") == {"In Progress"}
    assert statuses("estate-2026-12-01.json", "infra") == {"New"}  # both: a scope of its own
    targets = [
        s["target"] for s in json.loads(ecs("history", "--store", "h.sqlite", "-f", "json").out)["scans"]
    ]
    assert targets[0] == "aws 111122223333 eu-west-1; files infra"
    assert targets[-1] == "aws 111122223333 eu-west-1"
