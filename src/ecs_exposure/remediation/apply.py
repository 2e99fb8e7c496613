"""Apply plans to AWS, in a safe order, with a journal that can undo every change.

Order per plan: create the secrets → grant the execution role → register the new revision →
update the service → change security groups → (with ``apply_iam``) narrow IAM policies. The first
failure stops everything; each change is written to the journal *as soon as it is made*, with what
undoes it, so a journal left by a failure rolls back cleanly. Secret values go from the current
task definition straight into Secrets Manager; the journal and the log name secrets, never values.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..sources.aws.collector import error_entry
from .plan import Plan

EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
TASKS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


class Journal:
    """Every change made, with its undo, saved after each one (write to a temporary file, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self.failed: dict[str, Any] | None = None

    def add(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)  # each entry names its region: rollback makes clients for it
        self.save()

    def save(self) -> None:
        doc = {
            "format": "ecs-exposure/journal@1",
            "written_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entries": self.entries,
            "failed": self.failed,
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".journal-")
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2, default=str)
        os.replace(tmp, self.path)

    @classmethod
    def load(cls, path: Path) -> Journal:
        doc = json.loads(path.read_text())
        if doc.get("format") != "ecs-exposure/journal@1":
            raise ValueError(f"{path}: not an ecs-exposure journal")
        j = cls(path)
        j.entries = doc.get("entries") or []
        j.failed = doc.get("failed")
        return j


class ApplyError(Exception):
    pass


def _env_value(described: dict[str, Any], container: str, variable: str) -> str | None:
    td = described.get("taskDefinition", described)
    for c in td.get("containerDefinitions") or []:
        if c.get("name") == container:
            for e in c.get("environment") or []:
                if e.get("name") == variable and isinstance(e.get("value"), str):
                    return e["value"]
    return None


class Applier:
    def __init__(
        self, clients: dict[str, Any], journal: Journal, region: str, apply_iam: bool = False
    ) -> None:
        self.c = clients  # boto3 clients of one region: ecs, ec2, iam, secretsmanager
        self.journal = journal
        self.region = region
        self.apply_iam = apply_iam
        self.log: list[str] = []

    def _record(self, entry: dict[str, Any]) -> None:
        self.journal.add({**entry, "region": self.region})

    def _do(self, what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except (ClientError, BotoCoreError) as e:
            code, message = error_entry(e)
            self.journal.failed = {"step": what, "error": code, "message": message}
            self.journal.save()
            raise ApplyError(f"{what}: {code}") from None

    def apply(self, plan: Plan, described: dict[str, Any] | None, service: dict[str, Any] | None) -> None:
        steps = [ch.step for ch in plan.changes if ch.step]
        secret_arns: dict[str, str] = {}
        for step in (s for s in steps if s["op"] == "create_secret"):
            value = _env_value(described or {}, step["container"], step["variable"])
            if value is None:
                raise ApplyError(f"{step['variable']}: not in the current revision's environment")
            out = self._do(
                f"create secret {step['name']}",
                self.c["secretsmanager"].create_secret,
                Name=step["name"],
                SecretString=value,
                Description=f"moved by ecs-exposure from {step['container']}/{step['variable']}",
            )
            secret_arns[step["name"]] = out["ARN"]
            self._record(
                {
                    "op": "create_secret",
                    "name": step["name"],
                    "arn": out["ARN"],
                    "undo": {"op": "delete_secret", "arn": out["ARN"]},
                }
            )
            self.log.append(f"created secret {step['name']}")
        for step in (s for s in steps if s["op"] == "put_role_policy"):
            iam = self.c["iam"]
            if step["create_role"]:
                self._do(
                    f"create role {step['role']}",
                    iam.create_role,
                    RoleName=step["role"],
                    AssumeRolePolicyDocument=json.dumps(TASKS_TRUST),
                )
                self._do(
                    f"attach execution policy to {step['role']}",
                    iam.attach_role_policy,
                    RoleName=step["role"],
                    PolicyArn=EXECUTION_POLICY,
                )
                self._record(
                    {
                        "op": "create_role",
                        "role": step["role"],
                        "undo": {"op": "delete_role", "role": step["role"], "detach": [EXECUTION_POLICY]},
                    }
                )
            try:
                previous = iam.get_role_policy(RoleName=step["role"], PolicyName=step["policy_name"])[
                    "PolicyDocument"
                ]
            except ClientError:
                previous = None
            self._do(
                f"grant {step['role']} the secrets",
                iam.put_role_policy,
                RoleName=step["role"],
                PolicyName=step["policy_name"],
                PolicyDocument=json.dumps(step["document"]),
            )
            self._record(
                {
                    "op": "put_role_policy",
                    "role": step["role"],
                    "policy_name": step["policy_name"],
                    "undo": {
                        "op": "restore_role_policy",
                        "role": step["role"],
                        "policy_name": step["policy_name"],
                        "document": previous,
                    },
                }
            )
            self.log.append(f"granted {step['role']} GetSecretValue on the new secrets")
        new_arn = None
        if plan.new_revision is not None:
            out = self._do(
                f"register a new revision of {plan.new_revision.get('family')}",
                self.c["ecs"].register_task_definition,
                **plan.new_revision,
            )
            new_arn = out["taskDefinition"]["taskDefinitionArn"]
            self._record(
                {
                    "op": "register_task_definition",
                    "arn": new_arn,
                    "from": plan.task_definition_arn,
                    "undo": {"op": "deregister_task_definition", "arn": new_arn},
                }
            )
            self.log.append(f"registered {new_arn.rsplit('/', 1)[-1]}")
        update: dict[str, Any] = {}
        network = (service or {}).get("networkConfiguration")
        for s in steps:
            if new_arn and s["op"] == "update_service" and s.get("new_revision"):
                update["taskDefinition"] = new_arn
                if s.get("awsvpc") and not network:
                    update["networkConfiguration"] = {"awsvpcConfiguration": s["awsvpc"]}
        if any(s["op"] == "update_service" and s.get("disable_public_ip") for s in steps) and network:
            update["networkConfiguration"] = {
                "awsvpcConfiguration": {**network["awsvpcConfiguration"], "assignPublicIp": "DISABLED"}
            }
        if update and service is not None:
            self._do(
                f"update service {plan.resource}",
                self.c["ecs"].update_service,
                cluster=plan.cluster_arn,
                service=plan.resource_uid,
                **update,
            )
            undo: dict[str, Any] = {
                "op": "update_service",
                "cluster": plan.cluster_arn,
                "service": plan.resource_uid,
                "taskDefinition": service.get("taskDefinition"),
            }
            if "networkConfiguration" in update:
                undo["networkConfiguration"] = network
            self._record(
                {
                    "op": "update_service",
                    "service": plan.resource_uid,
                    **{k: v for k, v in update.items() if k == "taskDefinition"},
                    "undo": undo,
                }
            )
            self.log.append(f"updated service {plan.resource}")
        for step in (s for s in steps if s["op"] == "replace_ingress"):
            self._replace_ingress(step)
        if self.apply_iam:
            for step in (s for s in steps if s["op"] == "narrow_policy"):
                self._narrow(step)

    def _permission(self, rule: dict[str, Any], source: str) -> dict[str, Any]:
        perm: dict[str, Any] = {"IpProtocol": rule["protocol"]}
        if rule.get("fromPort") is not None and rule["protocol"] not in ("-1", "all"):
            perm["FromPort"], perm["ToPort"] = rule["fromPort"], rule["toPort"]
        if source.startswith("sg-"):
            perm["UserIdGroupPairs"] = [{"GroupId": source}]
        elif ":" in source:
            perm["Ipv6Ranges"] = [{"CidrIpv6": source}]
        else:
            perm["IpRanges"] = [{"CidrIp": source}]
        return perm

    def _replace_ingress(self, step: dict[str, Any]) -> None:
        ec2, group, rule = self.c["ec2"], step["group"], step["rule"]
        for source in step["allow"]:  # first the replacement, so access is never cut twice
            perm = self._permission(rule, source)
            self._do(
                f"allow {source} into {group}",
                ec2.authorize_security_group_ingress,
                GroupId=group,
                IpPermissions=[perm],
            )
            self._record(
                {
                    "op": "authorize_ingress",
                    "group": group,
                    "permission": perm,
                    "undo": {"op": "revoke_ingress", "group": group, "permission": perm},
                }
            )
        perm = self._permission(rule, rule["cidr"])
        self._do(
            f"revoke {rule['cidr']} from {group}",
            ec2.revoke_security_group_ingress,
            GroupId=group,
            IpPermissions=[perm],
        )
        self._record(
            {
                "op": "revoke_ingress",
                "group": group,
                "permission": perm,
                "undo": {"op": "authorize_ingress", "group": group, "permission": perm},
            }
        )
        self.log.append(f"revoked {rule['cidr']} from {group}")

    def _narrow(self, step: dict[str, Any]) -> None:
        iam, role, policy = self.c["iam"], step["role"], step["policy"]
        if policy.startswith("arn:"):
            self._do(f"detach {policy} from {role}", iam.detach_role_policy, RoleName=role, PolicyArn=policy)
            self._record(
                {
                    "op": "detach_role_policy",
                    "role": role,
                    "policy": policy,
                    "undo": {"op": "attach_role_policy", "role": role, "policy": policy},
                }
            )
            self.log.append(f"detached {policy.rsplit('/', 1)[-1]} from {role}")
            return
        doc = self._do(f"read {policy} of {role}", iam.get_role_policy, RoleName=role, PolicyName=policy)[
            "PolicyDocument"
        ]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        statements = doc.get("Statement") or []
        statements = statements if isinstance(statements, list) else [statements]
        kept = [s for i, s in enumerate(statements) if str(s.get("Sid") or i) != str(step["statement"])]
        if kept:
            self._do(
                f"narrow {policy} of {role}",
                iam.put_role_policy,
                RoleName=role,
                PolicyName=policy,
                PolicyDocument=json.dumps({**doc, "Statement": kept}),
            )
        else:  # IAM refuses a policy without statements: the policy goes
            self._do(f"delete {policy} of {role}", iam.delete_role_policy, RoleName=role, PolicyName=policy)
        self._record(
            {
                "op": "put_role_policy",
                "role": role,
                "policy_name": policy,
                "undo": {"op": "restore_role_policy", "role": role, "policy_name": policy, "document": doc},
            }
        )
        self.log.append(f"removed statement {step['statement']} from {policy} of {role}")


def rollback(journal: Journal, clients_for: Any) -> list[str]:
    """Undo every journalled change, newest first. Undoing what is already gone is not an error.
    ``clients_for(region)`` gives the boto3 clients of a region."""
    done = []
    for entry in reversed(journal.entries):
        undo = entry.get("undo")
        if not undo or entry.get("rolled_back"):
            continue
        op = undo["op"]
        clients = clients_for(entry.get("region"))
        try:
            if op == "delete_secret":
                clients["secretsmanager"].delete_secret(SecretId=undo["arn"], ForceDeleteWithoutRecovery=True)
            elif op == "delete_role":
                for arn in undo.get("detach", []):
                    clients["iam"].detach_role_policy(RoleName=undo["role"], PolicyArn=arn)
                clients["iam"].delete_role(RoleName=undo["role"])
            elif op == "restore_role_policy":
                if undo["document"] is None:
                    clients["iam"].delete_role_policy(RoleName=undo["role"], PolicyName=undo["policy_name"])
                else:
                    doc = undo["document"]
                    clients["iam"].put_role_policy(
                        RoleName=undo["role"],
                        PolicyName=undo["policy_name"],
                        PolicyDocument=doc if isinstance(doc, str) else json.dumps(doc),
                    )
            elif op == "deregister_task_definition":
                clients["ecs"].deregister_task_definition(taskDefinition=undo["arn"])
            elif op == "update_service":
                kwargs = {k: undo[k] for k in ("taskDefinition", "networkConfiguration") if undo.get(k)}
                clients["ecs"].update_service(cluster=undo["cluster"], service=undo["service"], **kwargs)
            elif op == "revoke_ingress":
                clients["ec2"].revoke_security_group_ingress(
                    GroupId=undo["group"], IpPermissions=[undo["permission"]]
                )
            elif op == "authorize_ingress":
                clients["ec2"].authorize_security_group_ingress(
                    GroupId=undo["group"], IpPermissions=[undo["permission"]]
                )
            elif op == "attach_role_policy":
                clients["iam"].attach_role_policy(RoleName=undo["role"], PolicyArn=undo["policy"])
            else:
                raise ApplyError(f"unknown undo {op}")
        except ClientError as e:
            code, _ = error_entry(e)
            if not any(
                word in code for word in ("NotFound", "NoSuchEntity", "Duplicate", "InvalidPermission")
            ):
                journal.save()
                raise ApplyError(f"rollback of {entry['op']} failed: {code}") from None
        entry["rolled_back"] = True
        journal.save()
        done.append(f"undid {entry['op']}")
    return done
