"""The ``ecs-exposure`` command as users run it: exit codes, formats, files, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from builders import container, service, snapshot, taskdef
from ecs_exposure.cli import example_path

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "src/ecs_exposure/schemas/findings-1.schema.json").read_text()
)


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_example_table(cli) -> None:
    r = cli("scan", "--example")
    assert r.code == 0, r.err
    assert "CRITICAL" in r.out and "web" in r.out
    assert "findings" in r.out and r.err == ""


def test_example_json_contract(cli) -> None:
    r = cli("scan", "--example", "--format", "json")
    assert r.code == 0
    report = json.loads(r.out)
    jsonschema.validate(report, SCHEMA)
    assert report["complete"] is True
    by_name = {f["resource"]["name"]: f for f in report["findings"]}
    web = by_name["web"]
    assert web["severity"] == "CRITICAL" and web["resource"]["type"] == "AWS::ECS::Service"
    assert web["resource"]["uid"] == "arn:aws:ecs:eu-west-1:111122223333:service/shop/web"
    traits = {t["id"]: t for t in web["traits"]}
    assert {
        "internet-reachable",
        "plaintext-credentials",
        "admin-access-role",
        "public-ip",
        "open-security-group",
        "stale-revision-credentials",
    } <= set(traits)
    cred = {e["variable"]: e for e in traits["plaintext-credentials"]["evidence"]}
    assert set(cred) == {"DB_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}  # not the negatives
    assert cred["DB_PASSWORD"]["container"] == "web" and len(cred["DB_PASSWORD"]["fingerprint"]) == 12
    assert cred["DB_PASSWORD"]["rule"] == "credential-name"
    assert traits["writable-root-filesystem"]["contribution"] == "contextual"
    assert traits["plaintext-credentials"]["contribution"] == "contributing"
    assert by_name["node-agent"]["severity"] == "HIGH"  # malicious package (Moderate) x privileged (High)
    assert web["likelihood"] == "Very High" and web["rating"]["likelihood_traits"] == [
        "internet-reachable",
        "exploitable-vulnerability",
    ]
    assert web["title"].startswith("Potential Remote Code Execution: internet-reachable ECS service")
    assert "catalog" not in by_name  # only contextual traits: not listed by default


def test_example_covers_every_trait(cli) -> None:
    from ecs_exposure.traits import registry

    report = json.loads(cli("scan", "--example", "-f", "json", "--include-informational").out)
    seen = {t["id"] for f in report["findings"] for t in f["traits"]}
    assert seen == set(registry())


def test_informational_on_request(cli) -> None:
    report = json.loads(cli("scan", "--example", "-f", "json", "--include-informational").out)
    catalog = [f for f in report["findings"] if f["resource"]["name"] == "catalog"]
    assert catalog and catalog[0]["severity"] == "INFORMATIONAL"


def test_ids_are_stable_across_runs(cli, tmp_path: Path) -> None:
    a = json.loads(cli("scan", "--example", "-f", "json").out)
    b = json.loads(cli("scan", "--example", "-f", "json").out)
    assert a == b  # deterministic: no clock, sorted
    assert len({f["id"] for f in a["findings"]}) == len(a["findings"])


@pytest.mark.parametrize(("threshold", "code"), [("critical", 1), ("CRITICAL", 1), ("informational", 1)])
def test_fail_on(cli, threshold: str, code: int) -> None:
    assert cli("scan", "--example", "--fail-on", threshold).code == code


def test_fail_on_not_reached(cli, tmp_path: Path) -> None:
    td = write(
        tmp_path / "td.json",
        taskdef(container(environment=[{"name": "DB_PASSWORD", "value": "x!y"}]), revision=None),
    )
    r = cli("scan", str(td), "--fail-on", "high")
    assert r.code == 0, r.out  # MEDIUM at most
    assert cli("scan", str(td), "--fail-on", "medium").code == 1


def test_output_file(cli, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    r = cli("scan", "--example", "-f", "json", "-o", str(out))
    assert r.code == 0 and r.out == ""
    jsonschema.validate(json.loads(out.read_text()), SCHEMA)


def test_task_definition_file_resource(cli, tmp_path: Path) -> None:
    td = write(
        tmp_path / "td.json",
        taskdef(container(privileged=True), revision=None, taskRoleArn="arn:aws:iam::111122223333:role/task"),
    )
    report = json.loads(cli("scan", "td.json", "-f", "json", cwd=tmp_path).out)
    [f] = report["findings"]
    assert f["resource"] == {
        "type": "AWS::ECS::TaskDefinition",
        "uid": "td.json",
        "name": "app",
        "account": None,
        "region": None,
        "partition": None,
        "cluster": None,
        "location": {"file": "td.json", "pointer": ""},
        "tags": {},
    }
    unknown = {u["id"] for u in f["unknown_traits"]}
    assert {"open-security-group", "public-ip", "internet-reachable", "admin-access-role"} <= unknown
    assert report["summary"]["unknown_traits"]["internet-reachable"] == 1
    assert td.exists()


def test_bad_input_one_line_exit_3_rest_scanned(cli, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"containerDefinitions": [')
    write(tmp_path / "wrong.json", taskdef(revision=None, containerDefinitions="nope"))
    write(tmp_path / "good.json", taskdef(container(privileged=True), revision=None))
    r = cli("scan", "broken.json", "wrong.json", "good.json", "-f", "json", cwd=tmp_path)
    assert r.code == 3
    lines = r.err.strip().splitlines()
    assert lines == [
        "ecs-exposure: broken.json: invalid JSON at line 1 column 27: unexpected end of data",
        "ecs-exposure: wrong.json: containerDefinitions: expected a list of containers, found a string",
    ]
    assert "Traceback" not in r.err
    report = json.loads(r.out)
    assert report["complete"] is False and len(report["issues"]) == 2
    assert [f["resource"]["uid"] for f in report["findings"]] == ["good.json"]


def test_fail_on_wins_over_incomplete(cli, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{")
    write(tmp_path / "good.json", taskdef(container(privileged=True), revision=None))
    assert cli("scan", "broken.json", "good.json", "--fail-on", "medium", cwd=tmp_path).code == 1
    assert cli("scan", "broken.json", "good.json", "--fail-on", "critical", cwd=tmp_path).code == 3


def test_snapshot_with_failed_api_is_incomplete(cli, tmp_path: Path) -> None:
    doc = snapshot(
        services=[service(public=True)],
        drop=("ec2.securityGroups",),
        errors=[
            {
                "account_id": "111122223333",
                "region": "eu-west-1",
                "api": "ec2:DescribeSecurityGroups",
                "error": "AccessDenied",
                "message": "denied",
            }
        ],
    )
    r = cli("scan", str(write(tmp_path / "s.json", doc)), "-f", "json")
    assert r.code == 3
    assert "ec2:DescribeSecurityGroups failed when collected: AccessDenied" in r.err
    [f] = json.loads(r.out)["findings"]
    unknown = {u["id"]: u["reason"] for u in f["unknown_traits"]}
    assert "AccessDenied" in unknown["open-security-group"]  # never a pass


def test_missing_task_definition_is_incomplete(cli, tmp_path: Path) -> None:
    doc = snapshot(services=[service(td="app:9")])
    r = cli("scan", str(write(tmp_path / "s.json", doc)))
    assert r.code == 3 and "runs app:9, which is not in the inputs" in r.err


def test_usage_errors(cli) -> None:
    r = cli("scan")
    assert r.code == 2 and "--example" in r.err
    assert cli("scan", "--example", "--fail-on", "severe").code == 2
    assert cli("scan", "--example", "--trait", "no-such-trait").code == 2
    assert cli().code == 2


def test_trait_filter(cli) -> None:
    report = json.loads(cli("scan", "--example", "-f", "json", "--trait", "privileged-container").out)
    assert {t["id"] for f in report["findings"] for t in f["traits"]} == {"privileged-container"}


def test_help_and_version(cli) -> None:
    r = cli("scan", "--help")
    assert r.code == 0 and "exit codes" in r.out and "--fail-on" in r.out
    assert cli("--version").out.startswith("ecs-exposure ")


def test_traits_command(cli) -> None:
    r = cli("traits", "--format", "json")
    ids = [t["id"] for t in json.loads(r.out)]
    assert "plaintext-credentials" in ids and len(ids) == len(set(ids))


def test_example_is_packaged() -> None:
    assert example_path().is_file()


def test_skipped_files_are_noted(cli, tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    write(tmp_path / "infra" / "package.json", {"name": "x"})
    write(tmp_path / "infra" / "tsconfig.json", {"compilerOptions": {}})
    write(tmp_path / "infra" / "td.json", taskdef(container(privileged=True), revision=None))
    r = cli("scan", "infra", "-f", "json", cwd=tmp_path)
    assert r.code == 0  # a skipped file is not a problem
    assert json.loads(r.out)["skipped"] == ["infra/package.json", "infra/tsconfig.json"]
    assert r.err == (
        "ecs-exposure: note: skipped infra/package.json and 1 more: JSON that is neither a task definition, "
        "a snapshot nor a template\n"
    )
