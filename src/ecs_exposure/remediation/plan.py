"""Remediation plans as data: what to change, before and after, how safe, what it needs.

A plan is computed from a finding and the task definition's JSON as ECS returned it (re-read from
the file or snapshot the scan came from). Task definition fixes always make a *new revision*; the
service is then updated to it. Credential values never enter a plan: a change names the variable
and the secret to create, and says where the value comes from.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..model import Evidence, ExposureFinding, TraitHit
from ..traits.base import evidence_fact
from ..traits.dangerous_capabilities import DANGEROUS as DANGEROUS_CAPABILITIES
from ..traits.dangerous_capabilities import normalise as normalise_capability

SAFE, REVIEW = "safe", "needs-review"

# keys DescribeTaskDefinition returns that RegisterTaskDefinition does not accept
DESCRIBE_ONLY = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
    "deleteRequestedAt",
)


@dataclass(frozen=True)
class Change:
    trait: str
    target: str  # what changes: "task definition web:7 container web", "service web", "sg-123"
    action: str  # one line: what the change does
    before: Any
    after: Any
    safety: str  # SAFE or REVIEW
    permissions: tuple[str, ...] = ()  # IAM actions needed to apply it
    side_effects: tuple[str, ...] = ()  # what to check after
    step: dict[str, Any] | None = None  # what --apply does (None: advice, or part of the new revision)


@dataclass
class FixOptions:
    keep_privileged: bool = False
    read_only_mounts: bool = False  # keep host mounts, read-only, instead of removing them
    network_mode: str = "awsvpc"  # replacement for networkMode host
    allow_cidrs: tuple[str, ...] = ()
    allow_sgs: tuple[str, ...] = ()
    force_shared_groups: bool = False
    secret_name_template: str = "ecs/{family}/{container}/{name}"
    subnets: tuple[str, ...] = ()  # for a service moved from networkMode host to awsvpc
    security_groups: tuple[str, ...] = ()


@dataclass
class Plan:
    finding_id: str
    resource: str
    resource_type: str
    changes: list[Change] = field(default_factory=list)
    new_revision: dict[str, Any] | None = None  # register-task-definition --cli-input-json input
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # what --apply needs to find the live resources
    resource_uid: str = ""
    cluster_arn: str | None = None
    task_definition_arn: str | None = None  # the revision the new one is made from
    revision_file: str = ""  # file name of the new revision with --write-dir, unique among the plans


def _without_nulls(value: Any) -> Any:
    """``null`` means "not set" in a task definition; RegisterTaskDefinition refuses it."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def registration_input(described: dict[str, Any]) -> dict[str, Any]:
    """A describe-task-definition output turned into register-task-definition input."""
    td = copy.deepcopy(described.get("taskDefinition", described))
    for key in DESCRIBE_ONLY:
        td.pop(key, None)
    return _without_nulls(td)


def _containers(td: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in td.get("containerDefinitions") or [] if isinstance(c, dict)]


def _label(td: dict[str, Any], described: dict[str, Any]) -> str:
    rev = described.get("revision")
    return f"{td.get('family')}:{rev}" if rev is not None else str(td.get("family"))


# --------------------------------------------------------------------------- task definition fixes


def fix_task_definition(
    described: dict[str, Any],
    hits: dict[str, TraitHit],
    options: FixOptions,
    account: str | None,
    region: str | None,
) -> tuple[dict[str, Any] | None, list[Change], list[str]]:
    """The new revision (or None when nothing in it changes), its changes, and notes."""
    td = registration_input(described)
    label = _label(td, described)
    changes: list[Change] = []
    notes: list[str] = []
    register = ("ecs:RegisterTaskDefinition",)

    if "privileged-container" in hits:
        for c in _containers(td):
            if c.get("privileged"):
                if options.keep_privileged:
                    c["readonlyRootFilesystem"] = True
                    changes.append(
                        Change(
                            "privileged-container",
                            f"{label} container {c.get('name')}",
                            "keep privileged (--keep-privileged), make the root filesystem read-only",
                            {"readonlyRootFilesystem": c.get("readonlyRootFilesystem")},
                            {"readonlyRootFilesystem": True},
                            REVIEW,
                            register,
                            ("the container must not write outside its mounted volumes",),
                        )
                    )
                else:
                    del c["privileged"]
                    changes.append(
                        Change(
                            "privileged-container",
                            f"{label} container {c.get('name')}",
                            "drop privileged",
                            {"privileged": True},
                            {"privileged": None},
                            REVIEW,
                            register,
                            ("a container that needs a device or capability must be given exactly that one",),
                        )
                    )

    if "host-filesystem-mount" in hits:
        host_volumes = {
            v.get("name") for v in td.get("volumes") or [] if (v.get("host") or {}).get("sourcePath")
        }
        for c in _containers(td):
            mounts = c.get("mountPoints") or []
            kept = []
            for m in mounts:
                if m.get("sourceVolume") not in host_volumes:
                    kept.append(m)
                elif options.read_only_mounts:
                    kept.append({**m, "readOnly": True})
                    changes.append(
                        Change(
                            "host-filesystem-mount",
                            f"{label} container {c.get('name')}",
                            f"mount host volume {m.get('sourceVolume')} read-only",
                            {"readOnly": m.get("readOnly", False)},
                            {"readOnly": True},
                            REVIEW,
                            register,
                            ("a read-only Docker socket still controls the host: remove it",),
                        )
                    )
                else:
                    changes.append(
                        Change(
                            "host-filesystem-mount",
                            f"{label} container {c.get('name')}",
                            f"remove the mount of host volume {m.get('sourceVolume')}",
                            m,
                            None,
                            REVIEW,
                            register,
                            ("the application loses access to the host path",),
                        )
                    )
            if mounts:
                c["mountPoints"] = kept
            if options.read_only_mounts and any(m.get("sourceVolume") in host_volumes for m in mounts):
                c["readonlyRootFilesystem"] = True
        if not options.read_only_mounts:
            td["volumes"] = [v for v in td.get("volumes") or [] if v.get("name") not in host_volumes]

    for trait, key in (("host-pid-namespace", "pidMode"), ("host-ipc-namespace", "ipcMode")):
        if trait in hits and td.get(key) == "host":
            del td[key]
            changes.append(
                Change(
                    trait,
                    label,
                    f"drop {key}: host",
                    {key: "host"},
                    {key: None},
                    REVIEW,
                    register,
                    ("tools that inspect host processes stop working",),
                )
            )

    if "host-network-mode" in hits and td.get("networkMode") == "host":
        td["networkMode"] = options.network_mode
        effects = ["container ports are no longer the host's"]
        if options.network_mode == "awsvpc":
            effects.append("the service needs a networkConfiguration (subnets, security groups)")
        changes.append(
            Change(
                "host-network-mode",
                label,
                f"networkMode host → {options.network_mode}",
                {"networkMode": "host"},
                {"networkMode": options.network_mode},
                REVIEW,
                register,
                tuple(effects),
            )
        )

    if "dangerous-capabilities" in hits:
        for c in _containers(td):
            linux = c.get("linuxParameters") or {}
            caps = (linux.get("capabilities") or {}).get("add") or []
            bad = [x for x in caps if normalise_capability(x) in DANGEROUS_CAPABILITIES]
            if bad:
                linux["capabilities"]["add"] = [x for x in caps if x not in bad]
                changes.append(
                    Change(
                        "dangerous-capabilities",
                        f"{label} container {c.get('name')}",
                        f"drop capabilities {', '.join(bad)}",
                        {"add": caps},
                        {"add": linux["capabilities"]["add"]},
                        REVIEW,
                        register,
                    )
                )
            if linux.get("devices"):
                changes.append(
                    Change(
                        "dangerous-capabilities",
                        f"{label} container {c.get('name')}",
                        "unmap host devices",
                        {"devices": [d.get("hostPath") for d in linux["devices"]]},
                        {"devices": []},
                        REVIEW,
                        register,
                    )
                )
                linux["devices"] = []

    if "plaintext-credentials" in hits:
        changes += _move_credentials(
            td, hits["plaintext-credentials"], options, label, account, region, notes
        )

    if not changes:
        return None, [], notes
    return td, changes, notes


def _move_credentials(
    td: dict[str, Any],
    hit: TraitHit,
    options: FixOptions,
    label: str,
    account: str | None,
    region: str | None,
    notes: list[str],
) -> list[Change]:
    """environment entries → secrets entries naming a Secrets Manager secret (created from the value)."""
    changes = []
    names: list[str] = []
    by_container: dict[str, set[str]] = {}
    for ev in hit.evidence:
        by_container.setdefault(str(evidence_fact(ev, "container")), set()).add(
            str(evidence_fact(ev, "variable"))
        )
    for c in _containers(td):
        wanted = by_container.get(str(c.get("name")), set())
        if not wanted:
            continue
        env = c.get("environment") or []
        c["environment"] = [e for e in env if e.get("name") not in wanted]
        secrets = c["secrets"] = list(c.get("secrets") or [])
        for var in sorted(wanted):
            name = options.secret_name_template.format(
                family=td.get("family"), container=c.get("name"), name=var
            )
            names.append(name)
            secrets.append({"name": var, "valueFrom": name})
            step = {"op": "create_secret", "container": c.get("name"), "variable": var, "name": name}
            changes.append(
                Change(
                    "plaintext-credentials",
                    f"{label} container {c.get('name')}",
                    f"move {var} to Secrets Manager secret {name} "
                    "(the value goes straight from the old revision into the secret; it is never shown)",
                    {"environment": var},
                    {"secrets": {"name": var, "valueFrom": name}},
                    SAFE,
                    ("secretsmanager:CreateSecret", "ecs:RegisterTaskDefinition"),
                    ("rotate the credential: old revisions still hold it in plaintext",),
                    step,
                )
            )
    if names:
        role = td.get("executionRoleArn")
        created = not role
        resources = [
            f"arn:aws:secretsmanager:{region or '*'}:{account or '*'}:secret:{n}-??????" for n in names
        ]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": resources}
            ],
        }
        if not role:
            role = f"arn:aws:iam::{account or '<account>'}:role/ecsTaskExecutionRole-{td.get('family')}"
            td["executionRoleArn"] = role
            notes.append(
                f"the task had no execution role: {role} is created, trusting ecs-tasks.amazonaws.com"
            )
        changes.append(
            Change(
                "plaintext-credentials",
                f"execution role {role.rsplit('/', 1)[-1]}",
                "allow secretsmanager:GetSecretValue on exactly these secrets "
                "(inline policy ecs-exposure-secrets)",
                None,
                policy,
                SAFE,
                ("iam:PutRolePolicy", *(("iam:CreateRole",) if created else ())),
                (),
                {
                    "op": "put_role_policy",
                    "role": role.rsplit("/", 1)[-1],
                    "policy_name": "ecs-exposure-secrets",
                    "document": policy,
                    "create_role": created,
                },
            )
        )
    return changes


# --------------------------------------------------------------------------- service, network, IAM


def _awsvpc(hits: dict[str, TraitHit], options: FixOptions) -> dict[str, Any] | None:
    """The network configuration a service needs once its revision moves from host to awsvpc."""
    if "host-network-mode" not in hits or options.network_mode != "awsvpc":
        return None
    return {
        "subnets": list(options.subnets),
        "securityGroups": list(options.security_groups),
        "assignPublicIp": "DISABLED",
    }


def _narrowed(policy: str, statement: str, document: dict[str, Any] | None) -> dict[str, Any]:
    """The suggested policy: the role's policy without the wildcard statement."""
    if policy.startswith("arn:aws:iam::aws:policy/") or (policy.startswith("arn:") and document is None):
        return {
            "detach": policy,
            "then": "attach a policy that lists only the actions and resources the service uses",
        }
    if document is None:
        return {"remove_statement": statement}
    statements = document.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    kept = [s for i, s in enumerate(statements) if str(s.get("Sid") or i) != statement]
    return {**document, "Statement": kept} if kept else {"delete_policy": policy}


def service_changes(
    finding: ExposureFinding,
    hits: dict[str, TraitHit],
    new_revision: bool,
    shared_groups: dict[str, list[str]],
    options: FixOptions,
    policy_document: Callable[[Evidence], dict[str, Any] | None] = lambda ev: None,
) -> tuple[list[Change], list[str]]:
    """``policy_document(evidence)`` gives the policy a role trait's evidence points into, when known."""
    changes: list[Change] = []
    notes: list[str] = []
    name = finding.resource.name
    if new_revision and _awsvpc(hits, options) is not None and not options.subnets:
        notes.append(
            "networkMode host → awsvpc: the service needs subnets and security groups "
            "(--subnet, --security-group), or choose --network-mode bridge"
        )
    if new_revision:
        changes.append(
            Change(
                "(new revision)",
                f"service {name}",
                "update the service to the new revision",
                {"taskDefinition": finding.task_definitions[0] if finding.task_definitions else None},
                {"taskDefinition": "(the new revision)"},
                SAFE,
                ("ecs:UpdateService",),
                ("a rolling deployment starts; roll back with the previous revision",),
                {"op": "update_service", "new_revision": True, "awsvpc": _awsvpc(hits, options)},
            )
        )
    if "public-ip" in hits:
        changes.append(
            Change(
                "public-ip",
                f"service {name}",
                "assignPublicIp ENABLED → DISABLED",
                {"assignPublicIp": "ENABLED"},
                {"assignPublicIp": "DISABLED"},
                REVIEW,
                ("ecs:UpdateService",),
                (
                    "tasks then need a NAT gateway or VPC endpoints for egress (ECR, logs, secrets)",
                    "ingress must come through a load balancer",
                ),
                {"op": "update_service", "disable_public_ip": True},
            )
        )
    if "open-security-group" in hits:
        for ev in hits["open-security-group"].evidence:
            group = str(evidence_fact(ev, "securityGroup"))
            users = [u for u in shared_groups.get(group, []) if u != finding.resource.uid]
            if users and not options.force_shared_groups:
                notes.append(
                    f"{group} is shared with {', '.join(u.rsplit('/', 1)[-1] for u in users)}: not changed "
                    "(--force to change it anyway)"
                )
                continue
            rule = {k: evidence_fact(ev, k) for k in ("protocol", "fromPort", "toPort", "cidr")}
            replacement = [
                *(f"from {c}" for c in options.allow_cidrs),
                *(f"from {g}" for g in options.allow_sgs),
            ]
            changes.append(
                Change(
                    "open-security-group",
                    group,
                    f"revoke {rule['cidr']} on {rule['protocol']} {rule['fromPort']}-{rule['toPort']}"
                    + (f", allow {', '.join(replacement)}" if replacement else ""),
                    rule,
                    {"allow": replacement},
                    REVIEW,
                    ("ec2:RevokeSecurityGroupIngress",)
                    + (("ec2:AuthorizeSecurityGroupIngress",) if replacement else ()),
                    ("clients outside the allowed sources lose access",)
                    + (
                        ("no replacement given (--allow-cidr / --allow-sg): nothing reaches the port",)
                        if not replacement
                        else ()
                    ),
                    {
                        "op": "replace_ingress",
                        "group": group,
                        "rule": rule,
                        "allow": [*options.allow_cidrs, *options.allow_sgs],
                    },
                )
            )
    for trait in ("admin-access-role", "service-admin-role"):
        if trait in hits:
            for ev in hits[trait].evidence:
                role = str(evidence_fact(ev, "role"))
                policy = str(evidence_fact(ev, "policy"))
                changes.append(
                    Change(
                        trait,
                        f"role {role.rsplit('/', 1)[-1]}",
                        f"narrow policy {policy.rsplit('/', 1)[-1]} "
                        f"statement {evidence_fact(ev, 'statement')}: "
                        "replace the wildcard with the actions and resources the service uses (unknown to "
                        "ecs-exposure: generate them from CloudTrail with IAM Access Analyzer)",
                        {"policy": policy, "statement": evidence_fact(ev, "statement")},
                        _narrowed(policy, str(evidence_fact(ev, "statement")), policy_document(ev)),
                        REVIEW,
                        ("iam:DetachRolePolicy", "iam:PutRolePolicy"),
                        ("anything the service did with these permissions stops working",),
                        {
                            "op": "narrow_policy",
                            "role": role.rsplit("/", 1)[-1],
                            "policy": policy,
                            "statement": evidence_fact(ev, "statement"),
                        },
                    )
                )
    for trait in (
        "exploitable-vulnerability",
        "software-vulnerability",
        "end-of-life-os",
        "malicious-package",
    ):
        if trait in hits:
            for ev in hits[trait].evidence:
                fixed = evidence_fact(ev, "fixedVersions") or ()
                changes.append(
                    Change(
                        trait,
                        f"image {evidence_fact(ev, 'image')}",
                        "rebuild the image"
                        + (f" with {', '.join(fixed)}" if fixed else " on a supported base image"),
                        None,
                        None,
                        REVIEW,
                        ("ecr:PutImage", "ecs:RegisterTaskDefinition", "ecs:UpdateService"),
                    )
                )
    return changes, notes


def aws_cli_commands(plan: Plan, cluster: str | None, write_dir: str | None) -> list[str]:
    """The AWS CLI commands that apply the plan, in a safe order."""
    out = []
    for ch in plan.changes:
        if ch.trait == "plaintext-credentials" and isinstance(ch.after, dict) and "secrets" in ch.after:
            name = ch.after["secrets"]["valueFrom"]
            out.append(
                f'aws secretsmanager create-secret --name {name} --secret-string "$VALUE"  '
                f"# $VALUE: {ch.before['environment']} from the current revision (never printed)"
            )
    for ch in plan.changes:
        if ch.target.startswith("execution role") and isinstance(ch.after, dict):
            role = ch.target.split()[-1]
            out.append(
                f"aws iam put-role-policy --role-name {role} --policy-name ecs-exposure-secrets "
                f"--policy-document '{json.dumps(ch.after, separators=(',', ':'))}'"
            )
    if plan.new_revision is not None:
        path = f"{write_dir}/{plan.revision_file}" if write_dir else plan.revision_file
        out.append(f"aws ecs register-task-definition --cli-input-json file://{path}")
    if plan.resource_type == "AWS::ECS::Service":
        args = []
        if plan.new_revision is not None:
            args.append(f"--task-definition {plan.new_revision.get('family')}")
        if any(ch.trait == "public-ip" for ch in plan.changes):
            args.append(
                "--network-configuration 'awsvpcConfiguration={assignPublicIp=DISABLED,subnets=[…],"
                "securityGroups=[…]}'  # keep the service's subnets and groups"
            )
        if args:
            out.append(
                f"aws ecs update-service --cluster {cluster or '<cluster>'} --service {plan.resource} "
                + " ".join(args)
            )
    for ch in plan.changes:
        step = ch.step or {}
        if step.get("op") == "narrow_policy":
            if str(step["policy"]).startswith("arn:"):
                out.append(
                    f"aws iam detach-role-policy --role-name {step['role']} --policy-arn {step['policy']}"
                    "  # needs review: attach a policy with only the actions the service uses"
                )
            else:
                out.append(
                    f"aws iam get-role-policy --role-name {step['role']} --policy-name {step['policy']}"
                    f"  # then remove statement {step['statement']} and put-role-policy the rest"
                )
    for ch in plan.changes:
        if ch.trait == "open-security-group" and isinstance(ch.before, dict):
            r = ch.before
            flag = "--cidr" if ":" not in str(r["cidr"]) else "--ip-permissions"
            if flag == "--cidr":
                out.append(
                    f"aws ec2 revoke-security-group-ingress --group-id {ch.target} "
                    f"--protocol {r['protocol']} --port {r['fromPort']}-{r['toPort']} --cidr {r['cidr']}"
                )
            else:
                out.append(
                    f"aws ec2 revoke-security-group-ingress --group-id {ch.target} --ip-permissions "
                    f"IpProtocol={r['protocol']},FromPort={r['fromPort']},ToPort={r['toPort']},"
                    f"Ipv6Ranges=[{{CidrIpv6={r['cidr']}}}]"
                )
            for source in ch.after.get("allow", []):
                src = source.removeprefix("from ")
                opt = f"--source-group {src}" if src.startswith("sg-") else f"--cidr {src}"
                out.append(
                    f"aws ec2 authorize-security-group-ingress --group-id {ch.target} --protocol "
                    f"{r['protocol']} --port {r['fromPort']}-{r['toPort']} {opt}"
                )
    return out
