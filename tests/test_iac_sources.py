"""Infrastructure-code inputs: which files are read, positions of evidence in the template, the YAML
loader against cfn-lint's, container lists, YAML task definitions, JSON templates, inline
suppressions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SHARED, require_shared
from ecs_exposure.engine import ScanOptions, scan
from ecs_exposure.sources import load_paths
from ecs_exposure.sources.iac.containers import parse_json_template
from ecs_exposure.sources.iac.values import Unknown
from ecs_exposure.sources.iac.yamlload import load_yaml
from iac_helpers import inventory, template, to_json, write

CFN = SHARED / "corpus" / "cloudformation"
TF = SHARED / "corpus" / "terraform"


def line_of(text: str, needle: str, nth: int = 0) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[nth]


def finding(result, name: str = "web"):
    [f] = [f for f in result.findings if f.resource.name == name]
    return f


def evidence(result, trait: str, name: str = "web"):
    [hit] = [h for h in finding(result, name).hits if h.trait_id == trait]
    return hit.evidence


# --------------------------------------------------------------------------- positions


@pytest.mark.parametrize("form", ["yaml", "json"])
def test_evidence_points_at_the_line_and_column_in_the_template(tmp_path: Path, form: str) -> None:
    yaml_text = template(
        container="Privileged: true\nEnvironment:\n  - {Name: A, Value: b}\n"
        "  - {Name: DB_PASSWORD, Value: Xk9mQ2vLp7zz}",
        public="ENABLED",
        ingress="CidrIp: 0.0.0.0/0",
        td="PidMode: host",
    )
    path = write(tmp_path, yaml_text, form)
    text = path.read_text()
    result = scan(load_paths([path]))
    pos = result.positions[str(path)]

    def at(trait: str) -> tuple[int, int]:
        [ev] = evidence(result, trait)[:1]
        found = pos.position(ev.loc.parts)
        assert found is not None, ev.loc
        return found

    line, col = at("privileged-container")
    assert line == line_of(text, '"Privileged"' if form == "json" else "Privileged:")
    assert text.splitlines()[line - 1][col - 1 :].lstrip('"').startswith("Privileged")
    assert at("plaintext-credentials")[0] == line_of(text, "DB_PASSWORD") - (1 if form == "json" else 0)
    assert at("host-pid-namespace")[0] == line_of(text, "PidMode")
    assert at("public-ip")[0] == line_of(text, "AssignPublicIp")
    # the rule of the security group, in another resource than the service
    rule_line = at("open-security-group")[0]
    assert "IpProtocol" in text.splitlines()[rule_line - 1] or "{" in text.splitlines()[rule_line - 1]
    assert line_of(text, "ServiceSg:" if form == "yaml" else '"ServiceSg"') < rule_line
    ev = evidence(result, "privileged-container")[0]
    assert ev.loc.pointer == "/Resources/TaskDef/Properties/ContainerDefinitions/0/Privileged"


def test_a_credential_from_a_parameter_default_is_reported_where_the_default_is_written(
    tmp_path: Path,
) -> None:
    yaml_text = template(
        container="Environment:\n  - {Name: DB_PASSWORD, Value: !Ref DbPassword}",
        params="DbPassword:\n  Type: String\n  NoEcho: true\n  Default: Xk9mQ2vLp7zz",
    )
    path = write(tmp_path, yaml_text, "yaml")
    result = scan(load_paths([path]))
    [ev] = evidence(result, "plaintext-credentials")
    assert ev.loc.parts == ("Parameters", "DbPassword", "Default")
    assert dict(ev.facts)["usedAt"] == "/Resources/TaskDef/Properties/ContainerDefinitions/0/Environment/0"
    line, _ = result.positions[str(path)].position(ev.loc.parts)
    assert line == line_of(path.read_text(), "Default: Xk9mQ2vLp7zz")
    assert "Xk9mQ2vLp7zz" not in json.dumps([e.summary for e in evidence(result, "plaintext-credentials")])


def test_a_container_in_a_conditional_list_item_points_at_its_branch(tmp_path: Path) -> None:
    yaml_text = template().replace(
        "      ContainerDefinitions:\n",
        "      ContainerDefinitions:\n        - !If\n          - IsProd\n"
        "          - {Name: agent, Image: agent:1, Privileged: true}\n          - !Ref AWS::NoValue\n",
    )
    path = write(tmp_path, yaml_text, "yaml")
    result = scan(load_paths([path]))
    [ev] = evidence(result, "privileged-container")
    assert dict(ev.facts)["conditions"] == ("condition IsProd is true",)
    line, _ = result.positions[str(path)].position(ev.loc.parts)
    assert line == line_of(path.read_text(), "Name: agent")
    # the second container (web) is listed after the conditional one, at its own place
    td = next(iter(inventory(path).accounts[0].regions[0].task_definitions.values()))
    assert [c.name for c in td.containers] == ["agent", "web"]


def test_references_link_service_task_definition_groups_and_roles(tmp_path: Path) -> None:
    yaml_text = template(
        public="ENABLED",
        ingress="CidrIp: 0.0.0.0/0",
        role_policy="ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]",
        container="Privileged: true",
    )
    for form in ("yaml", "json", "cdk"):
        (tmp_path / form).mkdir()
        path = write(tmp_path / form, yaml_text, form)
        f = finding(scan(load_paths([path])))
        assert {"internet-reachable", "public-ip", "open-security-group", "admin-access-role"} <= {
            h.trait_id for h in f.hits
        }
        assert f.severity.name == "HIGH"  # Moderate (reachable, no vulnerability data) x High (admin)
        assert f.resource.type == "AWS::ECS::Service"
        assert f.resource.uid.endswith("#/Resources/Service")
        if form == "cdk":
            assert f.resource.name == "web"


def test_cdk_paths_name_resources(tmp_path: Path) -> None:
    yaml_text = template(container="Privileged: true").replace("      ServiceName: web\n", "")
    path = write(tmp_path, yaml_text, "cdk")
    result = scan(load_paths([path]))
    assert [f.resource.name for f in result.findings] == [
        "Service"
    ]  # from aws:cdk:path AppStack/Service/Resource


# --------------------------------------------------------------------------- the YAML loader


def test_the_yaml_loader_reads_every_corpus_template_as_cfn_lint_does() -> None:
    require_shared(CFN)
    from cfnlint.decode import cfn_yaml

    files = sorted(p for p in CFN.iterdir() if p.suffix in (".yaml", ".yml", ".template"))
    assert len(files) >= 60
    for p in files:
        text = p.read_text()
        try:
            expected = json.loads(json.dumps(cfn_yaml.loads(text, str(p)), default=str))
        except Exception:
            continue  # cfn-lint rejects it (JSON with tabs …): compared below as JSON
        assert json.loads(json.dumps(load_yaml(text), default=str)) == expected, p.name


def test_yaml_errors_name_line_and_column(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("Resources:\n  A:\n    Type: x\n   bad: [\n")
    inv = load_paths([p])
    [issue] = inv.issues
    assert "invalid YAML at line" in issue.message and issue.source.endswith("bad.yaml")


# --------------------------------------------------------------------------- other shapes


def test_bare_container_list_leaves_task_settings_unknown(tmp_path: Path) -> None:
    p = tmp_path / "containers.json"
    p.write_text(
        json.dumps(
            [
                {
                    "name": "jenkins",
                    "image": "jenkins:lts",
                    "privileged": True,
                    "environment": [{"name": "JENKINS_PASS", "value": "vahgh2Wooca7"}],
                    "mountPoints": [{"sourceVolume": "docker", "containerPath": "/var/run/docker.sock"}],
                }
            ],
            indent=2,
        )
    )
    result = scan(load_paths([p]), ScanOptions(include_informational=True))
    [f] = result.findings
    assert f.resource.type == "AWS::ECS::TaskDefinition"
    assert {"privileged-container", "plaintext-credentials"} <= {h.trait_id for h in f.hits}
    unknown = {u.trait_id: u.reason for u in f.unknown}
    assert (
        "host-filesystem-mount" in unknown
        and "bare container-definition list" in unknown["host-filesystem-mount"]
    )
    assert {"host-network-mode", "host-pid-namespace", "admin-access-role"} <= unknown.keys()
    ev = evidence(result, "privileged-container", f.resource.name)[0]
    assert ev.loc.parts == (0, "privileged")
    assert result.positions[str(p)].position(ev.loc.parts)[0] == line_of(p.read_text(), '"privileged"')


def test_pascal_case_names_in_a_container_list_are_read_as_terraform_reads_them(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text(
        json.dumps(
            [{"name": "a", "image": "x", "environment": [{"Name": "API_TOKEN", "Value": "Zq7kP2mW9xLt"}]}]
        )
    )
    result = scan(load_paths([p]))
    assert not result.issues
    assert "plaintext-credentials" in {h.trait_id for h in result.findings[0].hits}


def test_yaml_task_definition(tmp_path: Path) -> None:
    p = tmp_path / "taskdef.yaml"
    p.write_text(
        "family: app\npidMode: host\ncontainerDefinitions:\n"
        "  - name: web\n    image: nginx\n    privileged: true\n"
    )
    result = scan(load_paths([p]))
    [f] = result.findings
    assert {"privileged-container", "host-pid-namespace"} <= {h.trait_id for h in f.hits}
    ev = evidence(result, "host-pid-namespace", "app")[0]
    assert result.positions[str(p)].position(ev.loc.parts) == (2, 1)


def test_json_template_placeholders_are_unknown_not_errors(tmp_path: Path) -> None:
    text = (
        '[\n  {\n    "name": "${name}",\n    "image": "${image}",\n    "cpu": ${cpu},\n'
        '    "privileged": ${privileged},\n    ${extra}\n    "environment": [\n'
        '      {"name": "DB_PASSWORD", "value": "${db_password}"}\n    ]\n  }\n]\n'
    )
    doc, replaced = parse_json_template(text)
    assert isinstance(doc[0]["cpu"], Unknown) and isinstance(doc[0]["privileged"], Unknown)
    assert replaced.count("\n") == text.count("\n")
    p = tmp_path / "task.json.tpl"
    p.write_text(text)
    result = scan(load_paths([p]), ScanOptions(include_informational=True))
    assert not result.issues, [str(i) for i in result.issues]
    [f] = result.findings or [None]
    unknown = {u.trait_id: u.reason for u in (f.unknown if f else ())} if f else {}
    if f is None:  # nothing present: check the unknowns through the engine's counts
        assert dict(result.unknown_traits)["privileged-container"] == 1
    else:
        assert "privileged-container" in unknown and "${privileged}" in unknown["privileged-container"]
        assert "plaintext-credentials" in unknown


def test_a_json_file_with_placeholders_outside_strings_is_read_as_a_template(tmp_path: Path) -> None:
    p = tmp_path / "task-definition.json"
    p.write_text('[{"name": "api", "image": "${img}", "cpu": ${cpu}, "essential": true}]')
    inv = load_paths([p])
    assert not inv.issues and len(inv.task_definition_files) == 1


def test_every_file_of_a_directory_is_read_or_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    write(tmp_path / "infra", template(), "yaml")
    (tmp_path / "infra" / "README.md").write_text("# infra\n")
    (tmp_path / "infra" / "docker-compose.yml").write_text("services:\n  web:\n    image: nginx\n")
    (tmp_path / "infra" / "main.tf").write_text('resource "aws_ecs_service" "x" {}\n')
    inv = load_paths([tmp_path / "infra"])
    skipped = {n.split(": skipped, ")[0].rsplit("/", 1)[-1]: n for n in inv.notes}
    assert skipped.keys() == {"README.md", "docker-compose.yml"}
    assert any(i.source.endswith("main.tf") and "Terraform" in i.message for i in inv.issues)


def test_a_directory_where_nothing_is_read_is_not_a_clean_scan(cli, tmp_path: Path) -> None:
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "README.md").write_text("x")
    (tmp_path / "tf" / "package.json").write_text("{}")
    r = cli("scan", "tf", cwd=tmp_path)
    assert r.code == 3
    assert "nothing read" in r.err


# --------------------------------------------------------------------------- suppressions

ABOVE = """\
  # ecs-exposure:ignore privileged-container the agent needs the host's devices
  Agent:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - {Name: agent, Image: agent:1, Privileged: true}
"""


def test_inline_suppressions_become_rules(tmp_path: Path) -> None:
    yaml_text = template(
        ingress="CidrIp: 0.0.0.0/0  # ecs-exposure:ignore open-security-group public health checks",
        resources="""
Agent:
  Type: AWS::ECS::TaskDefinition
  Metadata:
    ecs-exposure:
      ignore:
        - {trait: host-pid-namespace, reason: the agent reads host processes}
  Properties:
    PidMode: host
    ContainerDefinitions:
      - {Name: agent, Image: agent:1}
""",
    ).replace("  Service:\n", "  # ecs-exposure:ignore public-ip behind a firewall appliance\n  Service:\n")
    path = write(tmp_path, yaml_text, "yaml")
    inv = load_paths([path])
    assert not inv.issues, [str(i) for i in inv.issues]
    rules = {r.traits[0]: r for r in inv.suppressions}
    assert rules.keys() == {"open-security-group", "host-pid-namespace", "public-ip"}
    sg = rules["open-security-group"]
    assert sg.reason == "public health checks"
    assert sg.source == f"{path}:{line_of(yaml_text, 'open-security-group')}"
    # a rule on the group covers the service that uses it
    assert f"{path}#/Resources/Service" in sg.resources and f"{path}#/Resources/ServiceSg" in sg.resources
    assert rules["public-ip"].resources == (f"{path}#/Resources/Service",)
    assert rules["host-pid-namespace"].source.endswith("Resources.Agent.Metadata.ecs-exposure.ignore[0]")
    # the JSON form keeps the Metadata rules (comments are YAML only)
    jpath = write(tmp_path, yaml_text, "json")
    assert [r.traits for r in load_paths([jpath]).suppressions] == [("host-pid-namespace",)]


@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        ("# ecs-exposure:ignore privileged-container", "needs a reason"),
        ("# ecs-exposure:ignore privileged-containers typo here", "unknown trait 'privileged-containers'"),
        ("# ecs-exposure:ignore", "names no trait"),
    ],
)
def test_malformed_inline_suppressions_are_reported(tmp_path: Path, comment: str, problem: str) -> None:
    path = write(tmp_path, template().replace("  Service:\n", f"  {comment}\n  Service:\n"), "yaml")
    inv = load_paths([path])
    assert not inv.suppressions
    [issue] = inv.issues
    assert problem in issue.message and issue.source == f"{path}:{line_of(path.read_text(), comment)}"


def test_a_suppression_on_a_role_covers_the_services_whose_tasks_use_it(tmp_path: Path) -> None:
    yaml_text = template(
        role_policy="ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]"
    ).replace(
        "  TaskRole:\n",
        "  # ecs-exposure:ignore admin-access-role break-glass role, reviewed 2026-10\n  TaskRole:\n",
    )
    inv = load_paths([write(tmp_path, yaml_text, "yaml")])
    [rule] = inv.suppressions
    assert any(r.endswith("#/Resources/Service") for r in rule.resources)
    assert any(r.endswith("#/Resources/TaskDef") for r in rule.resources)


# --------------------------------------------------------------------------- JSON from YAML


def test_json_and_yaml_forms_give_the_same_findings(tmp_path: Path) -> None:
    yaml_text = template(container="Privileged: true", public="ENABLED", ingress="CidrIp: 0.0.0.0/0")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "t.yaml").write_text(yaml_text)
    (tmp_path / "b" / "t.json").write_text(to_json(yaml_text))
    a = scan(load_paths([tmp_path / "a"]))
    b = scan(load_paths([tmp_path / "b"]))
    assert [(f.severity, sorted(h.trait_id for h in f.hits)) for f in a.findings] == [
        (f.severity, sorted(h.trait_id for h in f.hits)) for f in b.findings
    ]
    assert [e.loc.parts for f in a.findings for h in f.hits for e in h.evidence] == [
        e.loc.parts for f in b.findings for h in f.hits for e in h.evidence
    ]


def test_terraform_container_files_of_the_corpus() -> None:
    """The Terraform corpus's container-definition files: read (not skipped); the privileged Jenkins
    with a literal password is found, its docker.sock volume unknown until the .tf is read."""
    require_shared(TF)
    path = next(TF.glob("127_*")) / "container_defination.json"
    result = scan(load_paths([path]), ScanOptions(include_informational=True))
    [f] = result.findings
    hits = {h.trait_id: h for h in f.hits}
    assert "privileged-container" in hits
    assert any("JENKINS_PASS" in e.summary for e in hits["plaintext-credentials"].evidence)
    assert "host-filesystem-mount" in {u.trait_id for u in f.unknown}
