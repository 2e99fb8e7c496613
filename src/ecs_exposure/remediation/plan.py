"""Remediation plans as data: what to change, before and after, how safe, whether it can be undone.

A plan is made of three things:

- **changes**: what a reader needs to judge a fix (target, before → after, ``safe`` or
  ``needs-review``, reversible or not and why, the IAM actions it needs);
- **steps**: the AWS calls that make the changes, in the order ``fix --apply`` makes them and
  ``-f commands`` prints them. A step's parameters are the API's own request parameters; a value
  only known once an earlier step has run (the ARN Secrets Manager gives a new secret, the new
  revision, the new task set) is a :class:`Ref` to that step;
- **manual** steps: what the tool does not do (rebuild an image, move a credential out of a
  command, narrow a role it cannot know the needs of, deploy through CodeDeploy), with why.

Credential values never enter a plan. Where the new revision still carries one (a credential in a
command the tool cannot move), the revision holds a :class:`Sensitive` marker naming where the value
is in the *current* revision: ``--apply`` reads it from there at call time, ``-f commands`` has the
AWS CLI read it from there at run time, and such a revision is never written to a file.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..model import TraitHit
from ..traits.base import evidence_fact
from ..traits.dangerous_capabilities import DANGEROUS as DANGEROUS_CAPABILITIES
from ..traits.dangerous_capabilities import normalise as normalise_capability

SAFE, REVIEW = "safe", "needs-review"
IRREVERSIBLE_FLAG = "--allow-irreversible"
IAM_FLAG = "--apply-iam"
TAG = "ecs-exposure"  # tag key on every resource ecs-exposure creates (value: journal id, or "script")
TASK_EXECUTION_POLICY = "policy/service-role/AmazonECSTaskExecutionRolePolicy"
GRANT_PREFIX = "ecs-exposure-secrets-"

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
class Ref:
    """The value an earlier step produces: ``what`` names it for people ("ARN of secret X")."""

    step: str
    what: str


@dataclass(frozen=True)
class Sensitive:
    """A credential the new revision keeps, at ``path`` in the current revision's registration input."""

    path: tuple[str | int, ...]


@dataclass(frozen=True)
class Change:
    trait: str
    target: str  # what changes: "web:7 container web", "service web", "sg-123", "role exec"
    action: str  # one line: what the change does
    before: Any
    after: Any
    safety: str  # SAFE or REVIEW
    permissions: tuple[str, ...] = ()  # IAM actions needed to apply it
    side_effects: tuple[str, ...] = ()  # what to check after
    reversible: bool = True
    why_irreversible: str = ""
    requires: str | None = None  # a flag --apply needs before it makes this change
    group: str = "revision"  # changes applied (or held back) together
    effective: bool = True  # applying its steps removes the trait (False: a manual step finishes it)


@dataclass(frozen=True)
class Manual:
    """A step for a person: what to do, why the tool does not, and the commands that help."""

    trait: str
    what: str
    why: str
    commands: tuple[str, ...] = ()
    # an AWS call the person makes (client, method, parameters), with Refs to the plan's steps
    request: tuple[str, str, dict[str, Any]] | None = None


@dataclass
class Step:
    id: str  # unique in a run: "s12"
    op: str  # the boto3 method: create_secret, register_task_definition, update_service …
    service: str  # boto3 client: ecs, ec2, iam, secretsmanager, ssm
    params: dict[str, Any]  # request parameters; Ref / Sensitive where a value is known later
    label: str  # one line for logs and the journal
    group: str = "revision"
    reversible: bool = True
    why_irreversible: str = ""
    requires: str | None = None
    source: tuple[str | int, ...] | None = None  # create_secret / put_parameter: where the value is
    source_revision: str | None = None  # … in this revision (ARN)
    expect: dict[str, Any] = field(default_factory=dict)  # what the plan saw, checked before the call
    produces: str = ""  # name of the value it gives later steps ("ARN of secret X")


@dataclass
class FixOptions:
    keep_privileged: bool = False
    read_only_mounts: bool = False  # keep host mounts, read-only, instead of removing them
    network_mode: str = "awsvpc"  # replacement for networkMode host
    allow_cidrs: tuple[str, ...] = ()
    allow_sgs: tuple[str, ...] = ()
    force_shared_groups: bool = False
    secret_store: str = "secretsmanager"  # or "ssm" (Parameter Store SecureString)
    secret_name_template: str | None = None  # default depends on the store
    subnets: tuple[str, ...] = ()  # for a service moved from networkMode host to awsvpc
    security_groups: tuple[str, ...] = ()

    @property
    def name_template(self) -> str:
        if self.secret_name_template:
            return self.secret_name_template
        return (
            "/ecs/{family}/{container}/{name}"
            if self.secret_store == "ssm"
            else "ecs/{family}/{container}/{name}"
        )


@dataclass
class Plan:
    finding_id: str
    resource: str
    resource_type: str
    traits: tuple[str, ...] = ()  # every trait of the finding this plan covers
    changes: list[Change] = field(default_factory=list)
    manual: list[Manual] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    new_revision: dict[str, Any] | None = None  # register-task-definition input (Refs, Sensitive inside)
    notes: list[str] = field(default_factory=list)
    # what --apply needs to find the live resources
    resource_uid: str = ""
    cluster_arn: str | None = None
    account: str | None = None
    region: str | None = None
    partition: str = "aws"
    controller: str | None = None  # ECS, CODE_DEPLOY, EXTERNAL (services only)
    task_definition_arn: str | None = None  # the revision the new one is made from
    revision_file: str = ""  # file name of the new revision with --write-dir, unique among the plans

    @property
    def claimed(self) -> set[str]:
        """Traits that applying every step removes (manual steps and held-back changes excluded)."""
        manual = {m.trait for m in self.manual}
        return {c.trait for c in self.changes if c.effective and not c.requires} - manual


# --------------------------------------------------------------------------- helpers


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


def value_at(doc: Any, path: tuple[str | int, ...]) -> Any:
    node = doc
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def mark_sensitive(td: dict[str, Any], paths: list[tuple[str | int, ...]]) -> None:
    """Replace each credential at ``paths`` with a :class:`Sensitive` marker (in place)."""
    for path in paths:
        parent = value_at(td, path[:-1])
        key = path[-1]
        try:
            if isinstance(parent[key], str):  # type: ignore[index]
                parent[key] = Sensitive(path)  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            continue


def walk(value: Any, fn: Any) -> Any:
    """A copy of ``value`` with every Ref / Sensitive replaced by ``fn(marker)``."""
    if isinstance(value, Ref | Sensitive):
        return fn(value)
    if isinstance(value, dict):
        return {k: walk(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [walk(v, fn) for v in value]
    return value


def holds_sensitive(value: Any) -> bool:
    found = []
    walk(value, lambda m: found.append(m) if isinstance(m, Sensitive) else m)
    return bool(found)


def holds_ref(value: Any) -> bool:
    found = []
    walk(value, lambda m: found.append(m) if isinstance(m, Ref) else m)
    return bool(found)


def shown(value: Any) -> Any:
    """For people: refs by what they stand for, credentials as a mark."""
    return walk(
        value,
        lambda m: f"<{m.what}>" if isinstance(m, Ref) else "<credential, read from the current revision>",
    )


def content_hash(revision: dict[str, Any]) -> str:
    """Identity of a new revision, for convergence: refs resolved, credentials by their place only."""
    canonical = walk(revision, lambda m: {"credential-at": list(m.path)} if isinstance(m, Sensitive) else m)
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _containers(td: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in td.get("containerDefinitions") or [] if isinstance(c, dict)]


def _label(td: dict[str, Any], described: dict[str, Any]) -> str:
    rev = described.get("revision")
    return f"{td.get('family')}:{rev}" if rev is not None else str(td.get("family"))


_IAM_NAME = re.compile(r"[^\w+=,.@-]")


def iam_name(prefix: str, family: str, limit: int) -> str:
    """An IAM role or policy name: allowed characters only, hashed down to ``limit`` characters."""
    name = _IAM_NAME.sub("_", prefix + family)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(family.encode()).hexdigest()[:8]
    return name[: limit - 9] + "-" + digest


def execution_role_name(family: str) -> str:
    return iam_name("ecsTaskExecutionRole-", family, 64)  # role names: 64 characters at most


def grant_policy_name(family: str) -> str:
    return iam_name(GRANT_PREFIX, family, 128)  # policy names: 128 characters at most


_SM_NAME = re.compile(r"[^A-Za-z0-9/_+=.@-]")
_SSM_NAME = re.compile(r"[^A-Za-z0-9/_.-]")
_ARN_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def secret_name(template: str, store: str, family: str, container: str, variable: str) -> str:
    """A valid secret or parameter name. Secrets Manager: ASCII letters, digits and ``/_+=.@-``, and
    no trailing hyphen + six characters (they read as the suffix Secrets Manager adds to the ARN).
    Parameter Store: ``a-zA-Z0-9_.-/``, not starting with ``aws`` or ``ssm``, a path starting with ``/``."""
    name = template.format(family=family, container=container, name=variable)
    if store == "ssm":
        name = _SSM_NAME.sub("_", name)
        if not name.startswith("/") and "/" in name:
            name = "/" + name
        if name.lstrip("/").lower().startswith(("aws", "ssm")):
            name = "/ecs-exposure" + ("" if name.startswith("/") else "/") + name
        return name[:1011]
    name = _SM_NAME.sub("_", name)[:512]
    if _ARN_SUFFIX.search(name):
        name += "_"
    return name


def grant_document(action: str, resources: list[Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "EcsExposureSecrets", "Effect": "Allow", "Action": action, "Resource": resources}
        ],
    }


def merge_grant(previous: dict[str, Any] | None, ours: dict[str, Any]) -> dict[str, Any]:
    """Our grant added to the family's existing ecs-exposure grant: resources are only ever added."""
    if not previous:
        return ours
    by_action: dict[str, list[Any]] = {}
    for doc in (previous, ours):
        stmts = doc.get("Statement") or []
        for s in stmts if isinstance(stmts, list) else [stmts]:
            if s.get("Effect") != "Allow":
                continue
            actions = s.get("Action")
            for a in actions if isinstance(actions, list) else [actions]:
                res = s.get("Resource")
                for r in res if isinstance(res, list) else [res]:
                    if r not in by_action.setdefault(a, []):
                        by_action[a].append(r)
    statements = [
        {
            "Sid": "EcsExposureSecrets" + ("" if i == 0 else str(i)),
            "Effect": "Allow",
            "Action": a,
            "Resource": rs,
        }
        for i, (a, rs) in enumerate(sorted(by_action.items()))
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def policy_size(document: Any) -> int:
    """IAM counts a policy's characters without white space."""
    text = document if isinstance(document, str) else json.dumps(document)
    return len(re.sub(r"\s", "", text))


ROLE_INLINE_QUOTA = 10_240  # aggregate of a role's inline policies, white space not counted


# --------------------------------------------------------------------------- task definition fixes


@dataclass
class RevisionFix:
    """The new revision of one task definition and what goes with it."""

    revision: dict[str, Any] | None
    changes: list[Change] = field(default_factory=list)
    manual: list[Manual] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    secrets: list[Step] = field(default_factory=list)  # create_secret / put_parameter
    role: list[Step] = field(default_factory=list)  # create_role, attach_role_policy
    grant: Step | None = None
    network_awsvpc: bool = False  # networkMode host → awsvpc: the service needs a network configuration


class StepIds:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"s{self.n}"


@dataclass
class RevisionContext:
    """What the fix of a revision needs to know beyond its JSON."""

    account: str | None
    region: str | None
    partition: str = "aws"
    arn: str | None = None  # the revision's ARN (where secret values are read from)
    sensitive: list[tuple[str | int, ...]] = field(default_factory=list)  # credential paths in it
    # the execution role's existing inline policies (name → document), when known
    role_policies: dict[str, dict[str, Any]] | None = None
    can_deploy_awsvpc: bool = True  # a network configuration can be given to the service


def fix_task_definition(
    described: dict[str, Any],
    hits: dict[str, TraitHit],
    options: FixOptions,
    ctx: RevisionContext,
    ids: StepIds | None = None,
) -> RevisionFix:
    """The new revision (None when nothing in it changes), its changes, steps and notes."""
    ids = ids or StepIds()
    td = registration_input(described)
    mark_sensitive(td, ctx.sensitive)
    label = _label(td, described)
    fix = RevisionFix(None)
    changes = fix.changes
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
                            effective=False,
                        )
                    )
                    fix.manual.append(
                        Manual(
                            "privileged-container",
                            f"container {c.get('name')} stays privileged (--keep-privileged): give "
                            "it the one "
                            "capability or device it needs instead",
                            "which capability the application needs is not in the task definition",
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
                            effective=False,
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
        else:
            fix.manual.append(
                Manual(
                    "host-filesystem-mount",
                    "host paths stay mounted read-only (--read-only-mounts): remove them once the "
                    "application "
                    "no longer needs them",
                    "whether the application needs the host path is not in the task definition",
                )
            )

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
        if options.network_mode == "awsvpc" and not ctx.can_deploy_awsvpc:
            fix.manual.append(
                Manual(
                    "host-network-mode",
                    "move the task to networkMode awsvpc with the service's subnets and security groups "
                    "(--subnet, --security-group), or to bridge (--network-mode bridge)",
                    "the subnets and security groups a host-mode service should get are not in the inputs",
                )
            )
        else:
            td["networkMode"] = options.network_mode
            effects = ["container ports are no longer the host's"]
            if options.network_mode == "awsvpc":
                effects.append("the service gets a networkConfiguration (subnets, security groups)")
                fix.network_awsvpc = True
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
        _move_credentials(td, hits["plaintext-credentials"], options, label, ctx, ids, fix)

    if changes:
        fix.revision = td
    return fix


def _move_credentials(
    td: dict[str, Any],
    hit: TraitHit,
    options: FixOptions,
    label: str,
    ctx: RevisionContext,
    ids: StepIds,
    fix: RevisionFix,
) -> None:
    """environment entries → ``secrets`` entries referencing a secret made from the value, by ARN."""
    wanted: dict[str, set[str]] = {}
    for ev in hit.evidence:
        if ev.revision and ev.revision != label:
            continue  # in another revision the service still runs: not in this one
        wanted.setdefault(str(evidence_fact(ev, "container")), set()).add(str(evidence_fact(ev, "variable")))
    store = options.secret_store
    family = str(td.get("family"))
    if not ctx.account or not ctx.region:
        fix.manual.append(
            Manual(
                "plaintext-credentials",
                f"move the credentials of {label} to "
                f"{'Parameter Store' if store == 'ssm' else 'Secrets Manager'} "
                "and reference them by ARN in `secrets`",
                "the account and region of this task definition are unknown, so are the ARNs",
            )
        )
        return
    resources: list[Any] = []
    for ci, c in enumerate(td.get("containerDefinitions") or []):
        if not isinstance(c, dict):
            continue
        names = wanted.get(str(c.get("name")), set())
        if not names:
            continue
        env = c.get("environment") or []
        moving = [(ei, e) for ei, e in enumerate(env) if isinstance(e, dict) and e.get("name") in names]
        if not moving:
            continue
        c["environment"] = [e for e in env if not (isinstance(e, dict) and e.get("name") in names)]
        secrets = c["secrets"] = list(c.get("secrets") or [])
        for ei, e in moving:
            var = str(e.get("name"))
            name = secret_name(options.name_template, store, family, str(c.get("name")), var)
            sid = ids()
            source = ("containerDefinitions", ci, "environment", ei, "value")
            tags = [{"Key": TAG, "Value": "<journal>"}]
            if store == "ssm":
                arn: Any = f"arn:{ctx.partition}:ssm:{ctx.region}:{ctx.account}:parameter{name}"
                step = Step(
                    sid,
                    "put_parameter",
                    "ssm",
                    {
                        "Name": name,
                        "Type": "SecureString",
                        "Description": f"moved by ecs-exposure from {label} {c.get('name')}/{var}",
                        "Tags": tags,
                    },
                    f"create SecureString parameter {name} from {var} of {label}",
                    source=source,
                    source_revision=ctx.arn,
                    produces=f"ARN of parameter {name}",
                )
                where, perm = f"Parameter Store SecureString {name}", "ssm:PutParameter"
            else:
                step = Step(
                    sid,
                    "create_secret",
                    "secretsmanager",
                    {
                        "Name": name,
                        "Description": f"moved by ecs-exposure from {label} {c.get('name')}/{var}",
                        "Tags": tags,
                    },
                    f"create secret {name} from {var} of {label}",
                    source=source,
                    source_revision=ctx.arn,
                    produces=f"ARN of secret {name}",
                )
                arn = Ref(sid, step.produces)
                where, perm = f"Secrets Manager secret {name}", "secretsmanager:CreateSecret"
            fix.secrets.append(step)
            resources.append(arn)
            secrets.append({"name": var, "valueFrom": arn})
            fix.changes.append(
                Change(
                    "plaintext-credentials",
                    f"{label} container {c.get('name')}",
                    f"move {var} to {where}, referenced by its ARN "
                    "(the value goes straight from the current revision into the store; it is never shown)",
                    {"environment": var},
                    {"secrets": {"name": var, "valueFrom": shown(arn)}},
                    SAFE,
                    (perm, "ecs:RegisterTaskDefinition"),
                    ("the old revisions still hold the value: rotate it",),
                )
            )
    if not resources:
        return
    role_arn = td.get("executionRoleArn")
    role_steps: list[Step] = []
    if not isinstance(role_arn, str) or not role_arn:
        name = execution_role_name(family)
        role_arn = f"arn:{ctx.partition}:iam::{ctx.account}:role/{name}"
        td["executionRoleArn"] = role_arn
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    # confused-deputy guard: only ECS acting for this account may assume it
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": ctx.account},
                        "ArnLike": {"aws:SourceArn": f"arn:{ctx.partition}:ecs:{ctx.region}:{ctx.account}:*"},
                    },
                }
            ],
        }
        role_steps.append(
            Step(
                ids(),
                "create_role",
                "iam",
                {
                    "RoleName": name,
                    "AssumeRolePolicyDocument": json.dumps(trust),
                    "Description": f"task execution role of {family}, created by ecs-exposure",
                    "Tags": [{"Key": TAG, "Value": "<journal>"}],
                },
                f"create execution role {name}",
            )
        )
        policy_arn = f"arn:{ctx.partition}:iam::aws:{TASK_EXECUTION_POLICY}"
        role_steps.append(
            Step(
                ids(),
                "attach_role_policy",
                "iam",
                {"RoleName": name, "PolicyArn": policy_arn},
                f"attach AmazonECSTaskExecutionRolePolicy to {name}",
            )
        )
        fix.changes.append(
            Change(
                "plaintext-credentials",
                f"role {name}",
                "create the task execution role (trusting ecs-tasks.amazonaws.com for this account) with the "
                "AWS managed AmazonECSTaskExecutionRolePolicy: the task had none, and ECS needs one "
                "to read secrets",
                None,
                {"executionRoleArn": role_arn, "attached": [policy_arn]},
                SAFE,
                ("iam:CreateRole", "iam:TagRole", "iam:AttachRolePolicy", "iam:PassRole"),
            )
        )
        fix.role = role_steps
    role_name = str(role_arn).rsplit("/", 1)[-1]
    if ":role/" in str(role_arn) and str(role_arn).split(":")[4] not in ("", ctx.account):
        fix.manual.append(
            Manual(
                "plaintext-credentials",
                f"grant execution role {role_arn} read access to the new secrets",
                "the role is in another account: ecs-exposure only changes the account it scans",
            )
        )
        return
    action = "ssm:GetParameters" if store == "ssm" else "secretsmanager:GetSecretValue"
    policy_name = grant_policy_name(family)
    previous = (ctx.role_policies or {}).get(policy_name)
    document = merge_grant(previous, grant_document(action, resources))
    fix.grant = Step(
        ids(),
        "put_role_policy",
        "iam",
        {"RoleName": role_name, "PolicyName": policy_name, "PolicyDocument": document},
        f"grant {role_name} {action} on the secrets of {family} (inline policy {policy_name})",
    )
    others = {k: v for k, v in (ctx.role_policies or {}).items() if k != policy_name}
    size = policy_size(shown(document)) + sum(policy_size(d) for d in others.values())
    effects: tuple[str, ...] = ()
    if ctx.role_policies is not None and size > ROLE_INLINE_QUOTA:
        effects = (
            f"the role's inline policies would total about {size} characters, over IAM's 10,240: "
            "--apply stops before the call; attach a managed policy instead",
        )
    fix.changes.append(
        Change(
            "plaintext-credentials",
            f"execution role {role_name}",
            f"allow {action} on exactly these secrets, in its own inline policy {policy_name} (one per "
            "family: the grants of other services sharing the role are not touched)",
            {"policy": policy_name, "document": shown(previous) if previous else None},
            shown(document),
            SAFE,
            ("iam:PutRolePolicy",),
            effects,
        )
    )
