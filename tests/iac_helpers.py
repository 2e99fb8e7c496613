"""Helpers for infrastructure-code tests: templates written as YAML text, in the three forms a user
has them (YAML with short tags, JSON, ``cdk synth`` output), loaded through the file source."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from ecs_exposure.engine import targets
from ecs_exposure.model import Inventory, TraitHit, TraitUnknown
from ecs_exposure.sources import load_paths
from ecs_exposure.sources.iac.yamlload import load_yaml

FORMS = ("yaml", "json", "cdk")


def indent(snippet: str, spaces: int) -> str:
    return (
        textwrap.indent(textwrap.dedent(snippet).strip("\n"), " " * spaces) + "\n" if snippet.strip() else ""
    )


def template(
    container: str = "",
    td: str = "",
    service: str = "",
    resources: str = "",
    params: str = "",
    public: str = "DISABLED",
    ingress: str = "CidrIp: 10.0.0.0/8",
    role_policy: str = "",
    user: str = 'User: "1000"',
    readonly: str = "ReadonlyRootFilesystem: true",
    network_mode: str = "NetworkMode: awsvpc",
) -> str:
    """A service, its task definition, security group, roles, subnet routed to an internet gateway.
    Snippets are YAML at the indentation of where they go (dedented here)."""
    return (
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Parameters:\n"
        "  Env:\n"
        "    Type: String\n"
        "    Default: dev\n" + indent(params, 2) + "Conditions:\n"
        "  IsProd: !Equals [!Ref Env, prod]\n"
        "Resources:\n"
        "  TaskDef:\n"
        "    Type: AWS::ECS::TaskDefinition\n"
        "    Properties:\n"
        "      Family: app\n" + indent(network_mode, 6) + "      TaskRoleArn: !GetAtt TaskRole.Arn\n"
        "      ExecutionRoleArn: !GetAtt ExecRole.Arn\n" + indent(td, 6) + "      ContainerDefinitions:\n"
        "        - Name: web\n"
        "          Image: nginx:1.27\n"
        + indent(user, 10)
        + indent(readonly, 10)
        + "          PortMappings:\n"
        "            - ContainerPort: 8080\n" + indent(container, 10) + "  Service:\n"
        "    Type: AWS::ECS::Service\n"
        "    Properties:\n"
        "      ServiceName: web\n"
        "      TaskDefinition: !Ref TaskDef\n"
        "      NetworkConfiguration:\n"
        "        AwsvpcConfiguration:\n"
        f"          AssignPublicIp: {public}\n"
        "          SecurityGroups: [!Ref ServiceSg]\n"
        "          Subnets: [!Ref PublicSubnet]\n" + indent(service, 6) + "  ServiceSg:\n"
        "    Type: AWS::EC2::SecurityGroup\n"
        "    Properties:\n"
        "      GroupDescription: tasks\n"
        "      VpcId: !Ref Vpc\n"
        "      SecurityGroupIngress:\n"
        "        - IpProtocol: tcp\n"
        "          FromPort: 8080\n"
        "          ToPort: 8080\n" + indent(ingress, 10) + "  TaskRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        "        Statement:\n"
        "          - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}\n"
        + indent(role_policy, 6)
        + "  ExecRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        "        Statement:\n"
        "          - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}\n"
        "      ManagedPolicyArns:\n"
        "        - arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy\n"
        "  Vpc:\n"
        "    Type: AWS::EC2::VPC\n"
        "    Properties: {CidrBlock: 10.0.0.0/16}\n"
        "  PublicSubnet:\n"
        "    Type: AWS::EC2::Subnet\n"
        "    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/24}\n"
        "  Igw:\n"
        "    Type: AWS::EC2::InternetGateway\n"
        "  IgwAttachment:\n"
        "    Type: AWS::EC2::VPCGatewayAttachment\n"
        "    Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Igw}\n"
        "  PublicRoutes:\n"
        "    Type: AWS::EC2::RouteTable\n"
        "    Properties: {VpcId: !Ref Vpc}\n"
        "  DefaultRoute:\n"
        "    Type: AWS::EC2::Route\n"
        "    Properties:\n"
        "      {RouteTableId: !Ref PublicRoutes, DestinationCidrBlock: 0.0.0.0/0, GatewayId: !Ref Igw}\n"
        "  PublicSubnetRoutes:\n"
        "    Type: AWS::EC2::SubnetRouteTableAssociation\n"
        "    Properties: {SubnetId: !Ref PublicSubnet, RouteTableId: !Ref PublicRoutes}\n"
        + indent(resources, 2)
    )


def to_json(yaml_text: str, cdk: bool = False) -> str:
    doc: Any = load_yaml(yaml_text)
    if cdk:
        for logical, res in doc["Resources"].items():
            res.setdefault("Metadata", {})["aws:cdk:path"] = f"AppStack/{logical}/Resource"
    return json.dumps(doc, indent=1)


def write(tmp_path: Path, yaml_text: str, form: str) -> Path:
    if form == "yaml":
        path = tmp_path / "template.yaml"
        path.write_text(yaml_text)
    elif form == "json":
        path = tmp_path / "template.json"
        path.write_text(to_json(yaml_text))
    else:
        (tmp_path / "cdk.out").mkdir(exist_ok=True)
        (tmp_path / "cdk.out" / "manifest.json").write_text('{"version": "36.0.0", "artifacts": {}}')
        path = tmp_path / "cdk.out" / "AppStack.template.json"
        path.write_text(to_json(yaml_text, cdk=True))
    return path


def inventory(path: Path, reports: list[dict] = ()) -> Inventory:
    from ecs_exposure.model import Loc
    from ecs_exposure.sources.reader import Reader
    from ecs_exposure.sources.vulns import grype_report, is_trivy, trivy_report

    inv = load_paths([path])
    for i, rep in enumerate(reports):
        parse = trivy_report if is_trivy(rep) else grype_report
        inv.image_reports.append(parse(rep, Loc(f"report{i}.json"), Reader()))
        inv.vuln_sources.append(f"report{i}.json")
    return inv


def outcomes(
    path: Path, resource: str | None = None, reports: list[dict] = ()
) -> dict[str, TraitHit | TraitUnknown]:
    from ecs_exposure.traits import registry

    inv = inventory(path, reports)
    assert not inv.issues, [str(i) for i in inv.issues]
    for t in targets(inv, []):
        if resource is None or t.resource.name == resource:
            return {tid: o for tid, spec in registry().items() if (o := spec.detect(t)) is not None}
    raise AssertionError(f"no resource {resource!r} in {[t.resource.name for t in targets(inv, [])]}")
