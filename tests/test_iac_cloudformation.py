"""CloudFormation (YAML with short tags, JSON, ``cdk synth`` output): one table of cases per trait —
where it fires, where it does not, where an unresolved reference makes it unknown — each case run in
all three forms; references across resources; evidence lines and columns in the template."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ecs_exposure.engine import ScanOptions, scan
from ecs_exposure.model import TraitHit, TraitUnknown
from iac_helpers import FORMS, inventory, outcomes, template, write

PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"
NET = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
LOCAL = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"


@dataclass
class Case:
    id: str
    trait: str
    yaml: str
    expect: str
    contains: str | None = None  # in an evidence summary (present) or the reason (unknown)
    reports: tuple[dict, ...] = ()
    forms: tuple[str, ...] = FORMS


def trivy(*vulns: tuple[str, str, str], eosl: bool = False, malicious: bool = False) -> dict:
    return {
        "SchemaVersion": 2,
        "ArtifactName": "nginx:1.27",
        "Metadata": {"OS": {"Family": "debian", "Name": "11", "EOSL": eosl}},
        "Results": [
            {
                "Target": "nginx:1.27",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": vid,
                        "PkgName": "pkg",
                        "InstalledVersion": "1",
                        "FixedVersion": "2",
                        "Severity": sev,
                        "CVSS": {"nvd": {"V3Vector": vec}},
                    }
                    for vid, sev, vec in vulns
                ],
            }
        ],
    }


def grype_kev(vid: str) -> dict:
    """A Grype report for nginx:1.27 with one known-exploited network vulnerability."""
    return {
        "matches": [
            {
                "vulnerability": {
                    "id": vid,
                    "severity": "High",
                    "fix": {"versions": ["2"], "state": "fixed"},
                    "cvss": [{"version": "3.1", "vector": NET, "metrics": {"baseScore": 8.1}}],
                    "knownExploited": [{"cve": vid}],
                },
                "relatedVulnerabilities": [],
                "artifact": {"name": "lib", "version": "1", "type": "deb"},
            }
        ],
        "distro": {"name": "debian", "version": "12"},
        "source": {
            "type": "image",
            "target": {"userInput": "nginx:1.27", "tags": ["nginx:1.27"], "repoDigests": []},
        },
    }


def policy(*statements: str) -> str:
    """Inline policy statements of the task role (each a YAML flow mapping)."""
    return "Policies:\n  - PolicyName: app\n    PolicyDocument:\n      Statement:\n" + "".join(
        f"        - {s}\n" for s in statements
    )


def allow(action: str, resource: str = '"*"') -> str:
    return f'{{Effect: Allow, Action: "{action}", Resource: {resource}}}'


NO_DEFAULT = "{name}:\n  Type: String"
SOCK = """
Volumes:
  - Name: sock
    Host:
      SourcePath: {path}
"""
MOUNT = """
MountPoints:
  - SourceVolume: sock
    ContainerPath: /var/run/docker.sock
"""
ALB = """
Alb:
  Type: AWS::ElasticLoadBalancingV2::LoadBalancer
  Properties:
    {scheme}
    SecurityGroups: [!Ref AlbSg]
    Subnets: [!Ref PublicSubnet]
AlbSg:
  Type: AWS::EC2::SecurityGroup
  Properties:
    GroupDescription: alb
    SecurityGroupIngress:
      - {{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}}
Listener:
  Type: AWS::ElasticLoadBalancingV2::Listener
  Properties:
    LoadBalancerArn: !Ref Alb
    Port: 443
    Protocol: HTTPS
    DefaultActions:
      - {{Type: forward, TargetGroupArn: !Ref Targets}}
Targets:
  Type: AWS::ElasticLoadBalancingV2::TargetGroup
  Properties: {{Port: 8080, Protocol: HTTP, TargetType: ip, VpcId: !Ref Vpc}}
"""
LB_LINK = "LoadBalancers:\n  - {ContainerName: web, ContainerPort: 8080, TargetGroupArn: !Ref Targets}"


def param(name: str, extra: str = "") -> str:
    return f"{name}:\n  Type: String\n" + "".join(f"  {line}\n" for line in extra.splitlines() if line)


CASES = [
    # -- privileged-container
    Case(
        "priv",
        "privileged-container",
        template(container="Privileged: true"),
        PRESENT,
        "container web runs privileged",
    ),
    Case("priv-false", "privileged-container", template(container="Privileged: false"), ABSENT),
    Case("priv-unset", "privileged-container", template(), ABSENT),
    Case("priv-string", "privileged-container", template(container='Privileged: "true"'), PRESENT),
    Case(
        "priv-param-no-default",
        "privileged-container",
        template(container="Privileged: !Ref Priv", params=param("Priv")),
        UNKNOWN,
        "parameter Priv has no default",
    ),
    Case(
        "priv-param-default",
        "privileged-container",
        template(container="Privileged: !Ref Priv", params=param("Priv", "Default: 'true'")),
        PRESENT,
        "parameter Priv's default",
    ),
    Case(
        "priv-if",
        "privileged-container",
        template(container="Privileged: !If [IsProd, false, true]"),
        PRESENT,
        "condition IsProd is false",
    ),
    Case(
        "priv-conditional-container",
        "privileged-container",
        template(
            container="",
            td="",
            resources="",
        ).replace(
            "      ContainerDefinitions:\n",
            "      ContainerDefinitions:\n"
            "        - !If\n"
            "          - IsProd\n"
            "          - {Name: agent, Image: agent:1, Privileged: true}\n"
            "          - !Ref AWS::NoValue\n",
        ),
        PRESENT,
        "container agent runs privileged (only when condition IsProd is true)",
    ),
    Case(
        "priv-import",
        "privileged-container",
        template(container="Privileged: !ImportValue shared-privileged"),
        UNKNOWN,
        "Fn::ImportValue shared-privileged",
    ),
    # -- host-pid-namespace / host-ipc-namespace / host-network-mode
    Case("pid", "host-pid-namespace", template(td="PidMode: host"), PRESENT),
    Case("pid-task", "host-pid-namespace", template(td="PidMode: task"), ABSENT),
    Case(
        "pid-param",
        "host-pid-namespace",
        template(td="PidMode: !Ref Pid", params=param("Pid")),
        UNKNOWN,
        "pidMode",
    ),
    Case(
        "pid-map",
        "host-pid-namespace",
        template(
            td="PidMode: !FindInMap [Modes, !Ref Env, Pid]",
            resources="",
        ).replace(
            "Conditions:\n", "Mappings:\n  Modes:\n    dev: {Pid: host}\n    prod: {Pid: task}\nConditions:\n"
        ),
        PRESENT,
        "mapping Modes",
    ),
    Case("ipc", "host-ipc-namespace", template(td="IpcMode: host"), PRESENT),
    Case("ipc-none", "host-ipc-namespace", template(td="IpcMode: none"), ABSENT),
    Case("ipc-param", "host-ipc-namespace", template(td="IpcMode: !Ref Ipc", params=param("Ipc")), UNKNOWN),
    Case("netmode", "host-network-mode", template(network_mode="NetworkMode: host"), PRESENT),
    Case("netmode-awsvpc", "host-network-mode", template(), ABSENT),
    Case(
        "netmode-import",
        "host-network-mode",
        template(network_mode="NetworkMode: !ImportValue net-mode"),
        UNKNOWN,
        "networkMode",
    ),
    # -- host-filesystem-mount
    Case(
        "mount-sock",
        "host-filesystem-mount",
        template(td=SOCK.format(path="/var/run/docker.sock"), container=MOUNT),
        PRESENT,
        "the container runtime's socket",
    ),
    Case(
        "mount-none", "host-filesystem-mount", template(td="Volumes: [{Name: sock}]", container=MOUNT), ABSENT
    ),
    Case(  # a host path is mounted, which one is open: present, not sensitive
        "mount-path-param",
        "host-filesystem-mount",
        template(td=SOCK.format(path="!Ref HostPath"), container=MOUNT, params=param("HostPath")),
        PRESENT,
        "host path <parameter HostPath>",
    ),
    Case(
        "mount-volume-param",
        "host-filesystem-mount",
        template(
            td=SOCK.format(path="/var/run/docker.sock"),
            container=MOUNT.replace("SourceVolume: sock", "SourceVolume: !Ref Vol"),
            params=param("Vol"),
        ),
        UNKNOWN,
        "mountPoints",
    ),
    # -- dangerous-capabilities
    Case(
        "caps",
        "dangerous-capabilities",
        template(container="LinuxParameters: {Capabilities: {Add: [SYS_ADMIN, NET_BIND_SERVICE]}}"),
        PRESENT,
        "SYS_ADMIN",
    ),
    Case(
        "caps-benign",
        "dangerous-capabilities",
        template(container="LinuxParameters: {Capabilities: {Add: [NET_BIND_SERVICE]}}"),
        ABSENT,
    ),
    Case(
        "caps-param",
        "dangerous-capabilities",
        template(
            container="LinuxParameters: {Capabilities: {Add: !Ref Caps}}",
            params="Caps:\n  Type: CommaDelimitedList",
        ),
        UNKNOWN,
        "linuxParameters",
    ),
    # -- plaintext-credentials
    Case(
        "cred-literal",
        "plaintext-credentials",
        template(
            container="Environment:\n  - {Name: LOG_LEVEL, Value: info}\n"
            "  - {Name: DB_PASSWORD, Value: Xk9#mQ2v!Lp7}"
        ),
        PRESENT,
        "DB_PASSWORD",
    ),
    Case(
        "cred-ref-resource",
        "plaintext-credentials",
        template(
            container="Environment:\n  - {Name: DB_PASSWORD_SECRET_ARN, Value: !Ref Vpc}\n"
            "  - {Name: REGION, Value: !Ref AWS::Region}"
        ),
        ABSENT,
    ),
    Case(
        "cred-noecho-default",
        "plaintext-credentials",
        template(
            container="Environment:\n  - {Name: DB_PASSWORD, Value: !Ref DbPassword}",
            params=param("DbPassword", "NoEcho: true\nDefault: Xk9mQ2vLp7zz"),
        ),
        PRESENT,
        "parameter DbPassword's default (NoEcho)",
    ),
    Case(
        "cred-noecho-no-default",
        "plaintext-credentials",
        template(
            container="Environment:\n  - {Name: DB_PASSWORD, Value: !Ref DbPassword}",
            params=param("DbPassword", "NoEcho: true"),
        ),
        PRESENT,
        "secret input",
    ),
    Case(
        "cred-dynamic-secret",
        "plaintext-credentials",
        template(
            container="Environment:\n"
            "  - {Name: API_KEY, Value: '{{resolve:secretsmanager:prod/api:SecretString:key}}'}"
        ),
        PRESENT,
        "dynamic reference",
    ),
    Case(
        "cred-param-no-default",
        "plaintext-credentials",
        template(
            container="Environment:\n  - {Name: DB_PASSWORD, Value: !Ref DbPassword}",
            params=param("DbPassword"),
        ),
        UNKNOWN,
        "environment DB_PASSWORD of container web",
    ),
    Case(
        "cred-sub-join",
        "plaintext-credentials",
        template(
            container="Environment:\n  - Name: DATABASE_URL\n    Value: !Sub 'postgres://app:Xk9mQ2vLp7@${Vpc}.db:5432/app'"
        ),
        PRESENT,
        "DATABASE_URL",
    ),
    # -- credentials-outside-environment (a template cannot leave it open: no unknown case)
    Case(
        "cred-command",
        "credentials-outside-environment",
        template(container='Command: ["run", "--password=Xk9mQ2vLp7zz"]'),
        PRESENT,
    ),
    Case(
        "cred-command-noecho",
        "credentials-outside-environment",
        template(
            container='Command: ["run", !Sub "--password=${DbPassword}"]',
            params="DbPassword:\n  Type: String\n  NoEcho: true",
        ),
        PRESENT,
        "secret input",
    ),
    Case(
        "cred-command-none",
        "credentials-outside-environment",
        template(container='Command: ["run", "--port=8080"]'),
        ABSENT,
    ),
    # -- root-user / writable-root-filesystem
    Case("root", "root-user", template(user=""), PRESENT),
    Case("root-not", "root-user", template(), ABSENT),
    Case(
        "root-param", "root-user", template(user="User: !Ref RunAs", params=param("RunAs")), UNKNOWN, "user"
    ),
    Case("rwroot", "writable-root-filesystem", template(readonly="ReadonlyRootFilesystem: false"), PRESENT),
    Case("rwroot-not", "writable-root-filesystem", template(), ABSENT),
    Case(
        "rwroot-param",
        "writable-root-filesystem",
        template(readonly="ReadonlyRootFilesystem: !Ref ReadOnly", params=param("ReadOnly")),
        UNKNOWN,
    ),
    # -- assumable-task-role
    Case("taskrole", "assumable-task-role", template(), PRESENT, "TaskRole"),
    Case(
        "taskrole-none",
        "assumable-task-role",
        template().replace("      TaskRoleArn: !GetAtt TaskRole.Arn\n", ""),
        ABSENT,
    ),
    # -- IAM: roles defined in the template, linked through Fn::GetAtt
    Case(
        "admin-managed",
        "admin-access-role",
        template(role_policy="ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]"),
        PRESENT,
    ),
    Case("admin-inline", "admin-access-role", template(role_policy=policy(allow("*"))), PRESENT),
    Case(
        "admin-narrow",
        "admin-access-role",
        template(role_policy=policy(allow("s3:GetObject", "arn:aws:s3:::b/*"))),
        ABSENT,
    ),
    Case(
        "admin-policy-param",
        "admin-access-role",
        template(role_policy="ManagedPolicyArns: [!Ref ExtraPolicy]", params=param("ExtraPolicy")),
        UNKNOWN,
        "not in the inputs",
    ),
    Case(
        "admin-separate-policy",
        "admin-access-role",
        template(
            resources="TaskPolicy:\n  Type: AWS::IAM::Policy\n  Properties:\n    PolicyName: all\n"
            "    Roles: [!Ref TaskRole]\n"
            "    PolicyDocument:\n      Statement:\n        - {Effect: Allow, Action: '*', Resource: '*'}"
        ),
        PRESENT,
    ),
    Case(
        "admin-managed-policy-resource",
        "admin-access-role",
        template(
            resources="TaskPolicy:\n  Type: AWS::IAM::ManagedPolicy\n  Properties:\n"
            "    Roles: [!Ref TaskRole]\n"
            "    PolicyDocument:\n      Statement:\n        - {Effect: Allow, Action: '*', Resource: '*'}"
        ),
        PRESENT,
    ),
    Case(
        "admin-role-import",
        "admin-access-role",
        template().replace("TaskRoleArn: !GetAtt TaskRole.Arn", "TaskRoleArn: !ImportValue shared-role"),
        UNKNOWN,
        "ImportValue shared-role",
    ),
    Case("svcadmin", "service-admin-role", template(role_policy=policy(allow("s3:*"))), PRESENT, "s3"),
    Case("svcadmin-not", "service-admin-role", template(role_policy=policy(allow("s3:GetObject"))), ABSENT),
    Case(
        "svcadmin-param",
        "service-admin-role",
        template(role_policy="ManagedPolicyArns: [!Ref ExtraPolicy]", params=param("ExtraPolicy")),
        UNKNOWN,
    ),
    Case("imp-full", "impact-full-control", template(role_policy=policy(allow("*"))), PRESENT),
    Case("imp-full-not", "impact-full-control", template(role_policy=policy(allow("s3:GetObject"))), ABSENT),
    Case(
        "imp-esc",
        "impact-policy-escalation",
        template(role_policy=policy(allow("iam:PutRolePolicy"))),
        PRESENT,
    ),
    Case(
        "imp-esc-not", "impact-policy-escalation", template(role_policy=policy(allow("iam:GetRole"))), ABSENT
    ),
    Case(
        "imp-mint",
        "impact-credential-minting",
        template(role_policy=policy(allow("iam:CreateAccessKey"))),
        PRESENT,
    ),
    Case(
        "imp-mint-not",
        "impact-credential-minting",
        template(role_policy=policy(allow("iam:ListRoles"))),
        ABSENT,
    ),
    Case(
        "imp-pass",
        "impact-pass-role-executor",
        template(role_policy=policy(allow("iam:PassRole"), allow("ecs:RunTask"))),
        PRESENT,
    ),
    Case(
        "imp-pass-not",
        "impact-pass-role-executor",
        template(role_policy=policy(allow("ecs:RunTask"))),
        ABSENT,
    ),
    Case(
        "imp-audit",
        "impact-disable-audit",
        template(role_policy=policy(allow("cloudtrail:StopLogging"))),
        PRESENT,
    ),
    Case(
        "imp-audit-not",
        "impact-disable-audit",
        template(role_policy=policy(allow("cloudtrail:LookupEvents"))),
        ABSENT,
    ),
    Case(
        "imp-destroy",
        "impact-data-destruction",
        template(role_policy=policy(allow("s3:DeleteBucket"))),
        PRESENT,
    ),
    Case(
        "imp-destroy-not",
        "impact-data-destruction",
        template(role_policy=policy(allow("s3:ListBucket"))),
        ABSENT,
    ),
    Case("imp-read", "impact-data-access", template(role_policy=policy(allow("s3:GetObject"))), PRESENT),
    Case(
        "imp-read-scoped",
        "impact-data-access",
        template(role_policy=policy(allow("s3:GetObject", '!Sub "arn:aws:s3:::${Env}-bucket/*"'))),
        ABSENT,
    ),
    Case(
        "imp-read-param",
        "impact-data-access",
        template(role_policy="ManagedPolicyArns: [!Ref ExtraPolicy]", params=param("ExtraPolicy")),
        UNKNOWN,
    ),
    # -- network: the service's groups, subnets and routes, linked by Ref
    Case("pubip", "public-ip", template(public="ENABLED"), PRESENT),
    Case("pubip-off", "public-ip", template(), ABSENT),
    Case(
        "pubip-param",
        "public-ip",
        template(public="!Ref PublicIp", params=param("PublicIp")),
        UNKNOWN,
        "assignPublicIp",
    ),
    Case(
        "pubip-if",
        "public-ip",
        template(public="!If [IsProd, DISABLED, ENABLED]"),
        PRESENT,
        "condition IsProd",
    ),
    Case(
        "opensg",
        "open-security-group",
        template(ingress="CidrIp: 0.0.0.0/0"),
        PRESENT,
        "covers container port 8080/tcp",
    ),
    Case("opensg-v6", "open-security-group", template(ingress="CidrIpv6: ::/0"), PRESENT),
    Case("opensg-private", "open-security-group", template(), ABSENT),
    Case(
        "opensg-param",
        "open-security-group",
        template(ingress="CidrIp: !Ref Allowed", params=param("Allowed")),
        UNKNOWN,
        "parameter Allowed",
    ),
    Case(
        "opensg-separate-ingress",
        "open-security-group",
        template(
            resources="OpenIngress:\n  Type: AWS::EC2::SecurityGroupIngress\n  Properties:\n"
            "    GroupId: !GetAtt ServiceSg.GroupId\n    IpProtocol: tcp\n    FromPort: 22\n"
            "    ToPort: 22\n    CidrIp: 0.0.0.0/0"
        ),
        PRESENT,
        "tcp/22",
    ),
    Case(
        "opensg-imported-group",
        "open-security-group",
        template().replace("SecurityGroups: [!Ref ServiceSg]", "SecurityGroups: [!ImportValue shared-sg]"),
        UNKNOWN,
        "not in the inputs",
    ),
    Case(
        "reach-public-ip",
        "internet-reachable",
        template(public="ENABLED", ingress="CidrIp: 0.0.0.0/0"),
        PRESENT,
        "igw-Igw",
    ),
    Case("reach-private", "internet-reachable", template(public="ENABLED"), ABSENT),
    Case(
        "reach-alb",
        "internet-reachable",
        template(service=LB_LINK, resources=ALB.format(scheme="Type: application")),
        PRESENT,
        "listener HTTPS:443",
    ),
    Case(
        "reach-alb-internal",
        "internet-reachable",
        template(service=LB_LINK, resources=ALB.format(scheme="Scheme: internal")),
        ABSENT,
    ),
    Case(
        "reach-alb-scheme-param",
        "internet-reachable",
        template(service=LB_LINK, resources=ALB.format(scheme="Scheme: !Ref Scheme"), params=param("Scheme")),
        UNKNOWN,
        "scheme",
    ),
    Case(
        "reach-no-route",
        "internet-reachable",
        template(public="ENABLED", ingress="CidrIp: 0.0.0.0/0").replace(
            "GatewayId: !Ref Igw", "GatewayId: !ImportValue gw"
        ),
        UNKNOWN,
        "routes",
    ),
    Case("exec", "ecs-exec-enabled", template(service="EnableExecuteCommand: true"), PRESENT),
    Case("exec-off", "ecs-exec-enabled", template(service="EnableExecuteCommand: false"), ABSENT),
    Case(
        "exec-param",
        "ecs-exec-enabled",
        template(service="EnableExecuteCommand: !Ref Exec", params=param("Exec")),
        UNKNOWN,
    ),
    # -- vulnerabilities of the template's images (reports given with --vulns)
    Case("vuln-exploitable", "exploitable-vulnerability", template(), PRESENT, reports=(grype_kev("CVE-1"),)),
    Case(
        "vuln-exploitable-local",
        "exploitable-vulnerability",
        template(),
        ABSENT,
        reports=(trivy(("CVE-1", "HIGH", LOCAL)),),
    ),
    Case("vuln-no-report", "exploitable-vulnerability", template(), UNKNOWN),
    Case(
        "vuln-software",
        "software-vulnerability",
        template(),
        PRESENT,
        reports=(trivy(("CVE-2", "HIGH", LOCAL)),),
    ),
    Case(
        "vuln-software-low",
        "software-vulnerability",
        template(),
        ABSENT,
        reports=(trivy(("CVE-2", "LOW", LOCAL)),),
    ),
    Case("vuln-eol", "end-of-life-os", template(), PRESENT, reports=(trivy(eosl=True),)),
    Case("vuln-eol-not", "end-of-life-os", template(), ABSENT, reports=(trivy(),)),
    Case(
        "vuln-mal",
        "malicious-package",
        template(),
        PRESENT,
        reports=(trivy(("MAL-2024-1", "CRITICAL", NET)),),
    ),
    Case("vuln-mal-not", "malicious-package", template(), ABSENT, reports=(trivy(),)),
    # -- an unregistered template has no revision history
    Case("stale", "stale-revision-credentials", template(), UNKNOWN, "older revisions"),
]

# traits a template cannot decide one way: documented, and checked by test_every_trait_has_cfn_cases
NO_PRESENT = {"stale-revision-credentials": "a template has no older revisions to read"}
NO_UNKNOWN = {
    "credentials-outside-environment": "an open value in a command is not a credential by itself; "
    "a secret input there is reported (cred-command-noecho)",
    "assumable-task-role": "TaskRoleArn written at all means a role; bare container lists cover it",
    "end-of-life-os": "covered by vuln-no-report (no report: unknown for every vulnerability trait)",
    "software-vulnerability": "as above",
    "malicious-package": "as above",
    "impact-full-control": "as imp-read-param",
    "impact-policy-escalation": "as imp-read-param",
    "impact-credential-minting": "as imp-read-param",
    "impact-pass-role-executor": "as imp-read-param",
    "impact-disable-audit": "as imp-read-param",
    "impact-data-destruction": "as imp-read-param",
    "stale-revision-credentials": "unknown is its only outcome",
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_trait(case: Case, form: str, tmp_path) -> None:
    path = write(tmp_path, case.yaml, form)
    got = outcomes(path, "web", list(case.reports)).get(case.trait)
    if case.expect == ABSENT:
        assert got is None, f"expected absent, got {got}"
        return
    if case.expect == UNKNOWN:
        assert isinstance(got, TraitUnknown), f"expected unknown, got {got}"
        if case.contains:
            assert case.contains in got.reason, got.reason
        return
    assert isinstance(got, TraitHit), f"expected present, got {got}"
    if case.contains:
        # the engine adds what the template says of the value (condition, parameter default)
        result = scan(inventory(path, list(case.reports)), ScanOptions(include_informational=True))
        [finding] = [f for f in result.findings if f.resource.name == "web"]
        [hit] = [h for h in finding.hits if h.trait_id == case.trait]
        summaries = [e.summary for e in hit.evidence]
        assert any(case.contains in s for s in summaries), summaries


def test_every_trait_has_cfn_cases() -> None:
    from ecs_exposure.traits import registry

    covered: dict[str, set[str]] = {}
    for c in CASES:
        covered.setdefault(c.trait, set()).add(c.expect)
    for trait_id in registry():
        got = covered.get(trait_id, set())
        assert PRESENT in got or trait_id in NO_PRESENT, f"{trait_id}: no CloudFormation case where it fires"
        assert ABSENT in got or trait_id in NO_PRESENT, (
            f"{trait_id}: no CloudFormation case where it does not"
        )
        assert UNKNOWN in got or trait_id in NO_UNKNOWN, (
            f"{trait_id}: no CloudFormation case where it is unknown"
        )
