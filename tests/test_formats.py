"""The output formats: each validated against its official contract, on the example estate and on
findings in every state (suppressed, in progress, new / known from a baseline)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from xml.etree import ElementTree as ET

import pytest

from builders import container, taskdef
from conftest import scan_doc
from ecs_exposure.model import Category, Severity, TraitHit
from ecs_exposure.outputs import FORMATS, asff, junit, markdown, ocsf, sarif
from ecs_exposure.traits import registry
from ecs_exposure.traits.base import TraitSpec
from format_fixtures import NOW, example_result, states_result
from validate import (
    asff_problems,
    batch_import_request_problems,
    junit_problems,
    ocsf_problems,
    sarif_problems,
)

RESULTS = {"example": example_result, "states": states_result}


# --------------------------------------------------------------------------- OCSF


@pytest.mark.parametrize("which", RESULTS)
def test_ocsf_objects_valid_against_official_schema(which: str) -> None:
    result = RESULTS[which]()
    objects = json.loads(ocsf.render(result, now=NOW))
    assert len(objects) == len(result.findings) > 5
    for obj in objects:
        assert ocsf_problems(obj) == [], obj["finding_info"]["uid"]
        assert obj["metadata"]["version"] == "1.6.0"


def test_ocsf_validator_rejects_what_the_schema_forbids() -> None:
    obj = json.loads(ocsf.render(example_result(), now=NOW))[0]
    for breaking in (
        lambda o: o.update(severity_id=7),  # not in the enum
        lambda o: o.update(severity="Severe"),  # not the caption of severity_id
        lambda o: o["finding_info"].update(not_an_attribute=1),  # additionalProperties: false
        lambda o: o.pop("time"),  # required
        lambda o: o["finding_info"]["related_events"][0]["traits"][0].update(type=3),  # string_t
    ):
        broken = copy.deepcopy(obj)
        breaking(broken)
        assert ocsf_problems(broken), breaking


def test_ocsf_shape_of_an_exposure_finding() -> None:
    web = next(
        o for o in json.loads(ocsf.render(states_result(), now=NOW)) if o["message"].find("Remote") > 0
    )
    info = web["finding_info"]
    assert info["types"] == ["Exposure/Potential Remote Code Execution"]
    kinds = {t["uid"]: t["type"] for e in info["related_events"] for t in e["traits"]}
    assert kinds["internet-reachable"] == "Contributing Trait"
    assert kinds["assumable-task-role"] == "Contextual Trait"
    categories = {t["uid"]: t["category"] for e in info["related_events"] for t in e["traits"]}
    assert (
        categories["internet-reachable"] == "Reachability"
        and categories["admin-access-role"] == "Misconfiguration"
    )
    assert info["related_events_count"] == len(info["related_events"])
    target = web["resources"][0]
    assert (
        target["type"] == "AWS::ECS::Service"
        and target["uid"].startswith("arn:aws:ecs:")
        and target["role"] == "Target"
    )
    related = {r["type"] for r in web["resources"][1:]}
    assert {"AWS::ECS::TaskDefinition", "AWS::IAM::Role", "AWS::EC2::SecurityGroup"} <= related
    assert "AWS::ElasticLoadBalancingV2::LoadBalancer" in related
    assert web["cloud"] == {
        "provider": "AWS",
        "account": {"uid": "111122223333", "type_id": 10, "type": "AWS Account"},
        "region": "eu-west-1",
        "cloud_partition": "aws",
    }
    assert (web["severity_id"], web["severity"]) == (5, "Critical")
    assert (web["status_id"], web["status"]) == (2, "In Progress")
    assert web["time"] == 1767225600000 and web["time_dt"] == "2026-01-01T00:00:00.000Z"
    public_ip = next(e for e in info["related_events"] if e["uid"].endswith("/public-ip"))
    assert public_ip["status"].startswith("Suppressed: ECS Exec is needed")
    assert "admin-access-role" in web["remediation"]["desc"]


def test_ocsf_status_of_every_state() -> None:
    by_name = {o["resources"][0]["name"]: o for o in json.loads(ocsf.render(states_result(), now=NOW))}
    assert (by_name["worker"]["status_id"], by_name["worker"]["status"]) == (3, "Suppressed")
    assert "NACL" in by_name["worker"]["status_detail"]
    assert (by_name["api"]["status_id"], by_name["api"]["status"]) == (1, "New")
    assert by_name["billing"]["unmapped"]["new"] is False and by_name["api"]["unmapped"]["new"] is True


# --------------------------------------------------------------------------- ASFF


@pytest.mark.parametrize("which", RESULTS)
def test_asff_valid_against_botocore_model(which: str) -> None:
    findings = json.loads(asff.render(RESULTS[which](), now=NOW))
    assert findings
    for f in findings:
        assert asff_problems(f) == [], f["Id"]
    assert batch_import_request_problems(findings) == []


def test_asff_validator_enforces_the_documented_limits() -> None:
    f = json.loads(asff.render(example_result(), now=NOW))[0]
    for breaking in (
        lambda x: x.update(Title="t" * 257),
        lambda x: x.update(Description="d" * 1025),
        lambda x: x["Remediation"]["Recommendation"].update(Text="r" * 513),
        lambda x: x.update(Resources=[]),
        lambda x: x.update(Types=["Exposure/Potential X"]),
        lambda x: x["Severity"].update(Label="SEVERE"),
        lambda x: x.update(Unknown="x"),
        lambda x: x.pop("GeneratorId"),
        lambda x: x.update(ProductFields={f"k{i}": "v" for i in range(51)}),
    ):
        broken = copy.deepcopy(f)
        breaking(broken)
        assert asff_problems(broken), breaking


def test_asff_fields() -> None:
    by_name = {
        f["Resources"][0]["Id"].rsplit("/", 1)[-1]: f
        for f in json.loads(asff.render(states_result(), now=NOW))
    }
    web = by_name["web"]
    assert web["ProductArn"] == "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
    assert web["SchemaVersion"] == "2018-10-08" and web["GeneratorId"] == asff.GENERATOR_ID
    assert web["Id"] == "ecs-exposure/" + next(
        f.id for f in states_result().findings if f.resource.name == "web"
    )
    assert (
        web["Severity"]["Label"] == "CRITICAL"
        and web["FindingProviderFields"]["Severity"]["Label"] == "CRITICAL"
    )
    assert web["Resources"][0]["Type"] == "AwsEcsService"
    assert {r["Type"] for r in web["Resources"]} >= {
        "AwsIamRole",
        "AwsEc2SecurityGroup",
        "AwsEcsTaskDefinition",
    }
    assert "TTPs/Initial Access" in web["Types"]
    assert "Software and Configuration Checks/Vulnerabilities/CVE" in web["Types"]
    assert web["CreatedAt"] == web["UpdatedAt"] == "2026-01-01T00:00:00.000Z"
    assert web["RecordState"] == "ACTIVE"
    assert web["Workflow"] == {"Status": "NOTIFIED"}  # In Progress
    assert by_name["worker"]["Workflow"] == {"Status": "SUPPRESSED"}
    assert "NACL" in by_name["worker"]["ProductFields"]["ecs-exposure/Suppression"]
    assert by_name["api"]["Workflow"] == {"Status": "NEW"}
    assert len(web["Title"]) <= 256 and len(web["Description"]) <= 1024
    assert len(web["Remediation"]["Recommendation"]["Text"]) <= 512
    assert web["Description"].endswith("…")  # shortened, and says so


def test_asff_ids_are_stable_across_runs() -> None:
    first = [f["Id"] for f in json.loads(asff.render(example_result(), now=NOW))]
    again = [f["Id"] for f in json.loads(asff.render(example_result()))]
    assert first == again


def test_asff_for_files_needs_an_account_and_region() -> None:
    result = scan_doc(taskdef(container(privileged=True), revision=None))
    with pytest.raises(asff.AsffError, match="--asff-account"):
        asff.render(result, now=NOW)
    [f] = json.loads(asff.render(result, now=NOW, account_id="123456789012", region="us-east-1"))
    assert f["AwsAccountId"] == "123456789012" and f["Region"] == "us-east-1"
    assert f["Resources"][0]["Type"] == "AwsEcsTaskDefinition"
    assert asff_problems(f) == []


# --------------------------------------------------------------------------- SARIF


@pytest.mark.parametrize("which", RESULTS)
def test_sarif_valid_against_oasis_schema(which: str) -> None:
    assert sarif_problems(json.loads(sarif.render(RESULTS[which]()))) == []


def test_sarif_validator_rejects_invalid_logs() -> None:
    doc = json.loads(sarif.render(example_result()))
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["level"] = "critical"
    assert sarif_problems(broken)
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert sarif_problems(broken)


def test_sarif_rules_come_from_the_registry() -> None:
    run = json.loads(sarif.render(example_result()))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(registry())
    privileged = next(r for r in rules if r["id"] == "privileged-container")
    assert privileged["name"] == "PrivilegedContainer"
    assert privileged["shortDescription"]["text"] == "Privileged container"
    assert "privileged: true" in privileged["fullDescription"]["text"]
    assert (
        "How to fix it" in privileged["help"]["text"]
        and "**How to fix it.**" in privileged["help"]["markdown"]
    )
    assert privileged["properties"]["security-severity"] == "5.5"  # alone: Low × High → MEDIUM
    assert "security" in privileged["properties"]["tags"]
    creds = next(r for r in rules if r["id"] == "plaintext-credentials")
    assert creds["properties"]["security-severity"] == "8.0"  # cloud keys: High × Medium → HIGH
    context = next(r for r in rules if r["id"] == "root-user")
    assert (
        "security-severity" not in context["properties"]
        and context["defaultConfiguration"]["level"] == "note"
    )
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_sarif_new_trait_gets_a_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    specs = dict(registry())
    specs["shadow-admin-sidecar"] = TraitSpec(
        "shadow-admin-sidecar", Category.MISCONFIGURATION, "Shadow admin sidecar", "a shadow admin sidecar",
        False, "A sidecar with `admin` rights.", "Remove the sidecar.", lambda t: None,
    )  # fmt: skip
    monkeypatch.setattr("ecs_exposure.outputs._common.registry", lambda: specs)
    rules = json.loads(sarif.render(example_result()))["runs"][0]["tool"]["driver"]["rules"]
    new = next(r for r in rules if r["id"] == "shadow-admin-sidecar")
    assert new["name"] == "ShadowAdminSidecar" and new["help"]["markdown"].count("Remove the sidecar.") == 1


def test_sarif_file_input_points_at_the_line(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ecs_exposure.engine import scan
    from ecs_exposure.sources import load_paths

    monkeypatch.chdir(tmp_path)
    doc = taskdef(
        container(
            name="app",
            environment=[{"name": "LOG", "value": "1"}, {"name": "DB_PASSWORD", "value": "hunter2x9"}],
        ),
        container(name="side", privileged=True),
        revision=None,
    )
    text = json.dumps(doc, indent=2)
    (tmp_path / "td.json").write_text(text)
    result = scan(load_paths([tmp_path / "td.json"]))
    run = json.loads(sarif.render(result))["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    lines = text.splitlines()
    loc = by_rule["privileged-container"]["locations"][0]
    phys = loc["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "td.json"
    line = lines[phys["region"]["startLine"] - 1]
    assert line[phys["region"]["startColumn"] - 1 :].startswith("true")  # the value of "privileged"
    assert '"privileged"' in line
    cred = by_rule["plaintext-credentials"]["locations"][0]["physicalLocation"]["region"]
    assert lines[cred["startLine"] - 1][cred["startColumn"] - 1 :].startswith("{")
    assert "DB_PASSWORD" in lines[cred["startLine"]]  # the entry's first line is its "name"
    assert loc["logicalLocations"][0]["fullyQualifiedName"] == "td.json"
    assert sarif_problems(json.loads(sarif.render(result))) == []


def test_sarif_live_resources_have_logical_locations_only() -> None:
    from ecs_exposure.model import ScanResult

    result = replace(example_result(), positions={})  # as after scan --aws: no file behind
    run = json.loads(sarif.render(result))["runs"][0]
    for r in run["results"]:
        assert "physicalLocation" not in r["locations"][0]
        assert r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("arn:aws:")
    assert isinstance(result, ScanResult)


def test_sarif_fingerprints_suppressions_and_baseline() -> None:
    run = json.loads(sarif.render(states_result()))["runs"][0]
    fps = [r["partialFingerprints"]["ecsExposureFindingTrait/v1"] for r in run["results"]]
    assert len(fps) == len(set(fps))  # one per finding × trait
    again = json.loads(sarif.render(example_result()))["runs"][0]
    assert fps == [r["partialFingerprints"]["ecsExposureFindingTrait/v1"] for r in again["results"]]
    worker = [r for r in run["results"] if r["properties"]["status"] == "Suppressed"]
    assert worker and all(r["suppressions"][0]["status"] == "accepted" for r in worker)
    web_public_ip = [
        r for r in run["results"] if r["ruleId"] == "public-ip" and r["properties"]["status"] == "In Progress"
    ]
    assert web_public_ip[0]["suppressions"][0]["justification"] == "ECS Exec is needed for on-call debugging"
    states = {r["properties"]["findingId"]: r.get("baselineState") for r in run["results"]}
    assert set(states.values()) == {"new", "unchanged"}


def test_sarif_incomplete_scan_says_so(tmp_path) -> None:
    from ecs_exposure.engine import scan
    from ecs_exposure.sources import load_paths

    (tmp_path / "bad.json").write_text('{"containerDefinitions": [')
    run = json.loads(sarif.render(scan(load_paths([tmp_path / "bad.json"]))))["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert "invalid JSON" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


# --------------------------------------------------------------------------- JUnit


def test_junit_valid_and_one_case_per_resource() -> None:
    result = states_result()
    data = junit.render(result, fail_on=Severity.HIGH)
    assert junit_problems(data) == []
    root = ET.fromstring(data)
    cases = root.findall(".//testcase")
    assert len(cases) == result.resources_scanned == 7
    by_name = {c.get("name").split(" ")[0]: c for c in cases}
    assert by_name["worker"].find("skipped").get("message").startswith("suppressed: worker is an isolated")
    assert by_name["web"].find("failure") is not None  # CRITICAL, new
    assert by_name["billing"].find("failure") is None  # CRITICAL but known from the baseline
    assert by_name["node-agent"].find("failure") is not None  # HIGH, new
    assert by_name["api"].find("failure") is None and by_name["api"].find("system-out") is not None  # MEDIUM
    catalog = by_name["catalog"]
    assert catalog.find("failure") is None and catalog.find("skipped") is None  # informational
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("7", "2", "1")


def test_junit_validator_rejects_invalid_xml() -> None:
    assert junit_problems(b"<testsuites><testsuite name='x'/></testsuites>")  # tests/failures/errors required


def test_junit_incomplete_scan_is_an_error_case(tmp_path) -> None:
    from ecs_exposure.engine import scan
    from ecs_exposure.sources import load_paths

    (tmp_path / "bad.json").write_text("[1, 2")
    data = junit.render(scan(load_paths([tmp_path / "bad.json"])))
    assert junit_problems(data) == []
    assert ET.fromstring(data).find(".//error").get("type") == "ScanIncomplete"


def test_junit_control_characters_stay_valid_xml() -> None:
    result = example_result()
    f = result.findings[0]
    odd = replace(f, resource=replace(f.resource, name="evil\x1b[31m\x00name"))
    data = junit.render(replace(result, findings=(odd, *result.findings[1:]), resources=()))
    assert junit_problems(data) == []
    assert b"\x1b" not in data and b"\\x1b[31m" in data


# --------------------------------------------------------------------------- Markdown


def test_markdown_comment_content() -> None:
    text = markdown.render(states_result(), fail_on=Severity.HIGH)
    assert text.startswith("<!-- ecs-exposure -->\n## ecs-exposure: 7 findings on 7 resources")
    assert "| 🟥 Critical | 2 |" in text
    assert "**2** findings at or above **high** and new since the baseline fail the check." in text
    assert "1 suppressed (accepted risk)" in text
    assert "<details><summary>1 suppressed finding</summary>" in text
    assert (
        "&lt;b&gt;by NACL&lt;/b&gt;" in text and "<b>by NACL</b>" not in text
    )  # HTML from a reason is escaped
    assert "Public IP / Load balancer shop-public → sg-web → Service web → Task role web-task" in text
    assert "`admin-access-role`: Detach `AdministratorAccess`" in text  # trait docs keep their Markdown


def test_markdown_escapes_injection_from_inputs() -> None:
    result = example_result()
    f = result.findings[0]
    evil = replace(f, resource=replace(f.resource, name="<img src=x onerror=alert(1)> @octocat #1 | x"))
    text = markdown.render(replace(result, findings=(evil,)))
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt; \\@octocat \\#1 \\| x" in text


def test_markdown_stays_under_githubs_limit_with_10000_findings() -> None:
    result = example_result()
    many = tuple(
        replace(f, id=f"{i:032x}", resource=replace(f.resource, name=f"svc-{i}", uid=f"{f.resource.uid}-{i}"))
        for i in range(10_000)
        for f in result.findings[i % len(result.findings) : i % len(result.findings) + 1]
    )
    text = markdown.render(replace(result, findings=many))
    assert len(text) <= markdown.GITHUB_COMMENT_LIMIT
    assert "more findings are not shown" in text
    shown = (
        text.count("\n| CRITICAL") + text.count("\n| HIGH") + text.count("\n| MEDIUM") + text.count("\n| LOW")
    )
    # it fills the comment, not gives up
    assert shown > 50 and len(text) > 0.9 * markdown.GITHUB_COMMENT_LIMIT
    assert "## ecs-exposure: 10000 findings" in text


def test_plans_markdown(cli) -> None:
    r = cli("fix", "--example", "--format", "markdown")
    assert r.code == 0, r.err
    assert r.out.startswith("<!-- ecs-exposure fix -->\n## ecs-exposure fix: 6 plans")
    assert "| ✅ safe | `plaintext-credentials` |" in r.out
    assert "```diff\n- {" in r.out and "&#34;" not in r.out  # code blocks are not HTML-escaped
    assert "```sh\n" in r.out and "\nECS_EXPOSURE_S1=$(aws secretsmanager create-secret " in r.out
    assert "**Manual steps**" in r.out and "⛔ irreversible" not in r.out.split("### Service web")[1][:400]


# --------------------------------------------------------------------------- all formats


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_renders_an_empty_result(name: str) -> None:
    empty = replace(example_result(), findings=(), resources=(), unknown_traits=())
    out = FORMATS[name](empty, now=NOW)
    assert out


def test_every_format_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    for name, render in FORMATS.items():
        assert render(states_result()) == render(states_result()), name


def test_only_ocsf_and_asff_use_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no time given, a clock that moves changes OCSF and ASFF (their contracts need a time)
    and nothing else."""
    import itertools
    from datetime import datetime as real

    ticks = itertools.count()

    class Clock(real):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return real(2026, 1, 1, 0, 0, next(ticks), tzinfo=tz)

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setattr("ecs_exposure.outputs._common.datetime", Clock)
    for name, render in FORMATS.items():
        same = render(example_result()) == render(example_result())
        assert same is (name not in ("ocsf", "asff")), name


def test_hit_without_evidence_renders() -> None:
    result = example_result()
    f = result.findings[0]
    bare = replace(f, hits=(TraitHit("privileged-container", ()), *f.hits))
    for name, render in FORMATS.items():
        assert render(replace(result, findings=(bare,)), now=NOW), name
