"""Undo what a journal records, newest first, and say per change what was restored and what was not.

Every entry whose call was made or may have been made (``done``, ``intent``, ``failed`` with an
unknown outcome) is undone by looking first: a secret, role, revision or task set is removed only
when it carries this journal's tag; a service, policy or rule is put back only when it still holds
what the apply made of it. What changed since the apply, or cannot be put back (a service moved to
awsvpc, a previous revision since deregistered), is reported as *not restored* and makes the exit
code non-zero.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..sources.aws.collector import error_entry
from .apply import code_of, has_rule, policy_document, same_network
from .journal import Journal
from .plan import TAG

RESTORED, NOTHING, NOT_RESTORED = "restored", "nothing to undo", "NOT restored"


@dataclass
class Undone:
    status: str
    label: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.status}: {self.label}" + (f" — {self.detail}" if self.detail else "")


class Rollback:
    def __init__(self, journal: Journal, clients_for: Callable[[str | None], dict[str, Any]]) -> None:
        self.journal = journal
        self.clients_for = clients_for
        self.replaced: dict[str, str] = {}  # deleted task set → the one recreated in its place

    def run(self) -> list[Undone]:
        report = []
        for entry in reversed(self.journal.entries):
            label = str(entry.get("label") or entry.get("op"))
            done = entry.get("rollback")
            if done and done.get("status") in (RESTORED, NOTHING):
                continue
            if entry.get("status") == "failed" and (entry.get("error") or {}).get("made") == "no":
                result = Undone(NOTHING, label, "the call was refused: nothing was made")
            else:
                self.c = self.clients_for(entry.get("region"))
                try:
                    result = getattr(self, f"_undo_{entry['op']}")(entry, label)
                except (ClientError, BotoCoreError) as e:
                    code, message = error_entry(e)
                    result = Undone(NOT_RESTORED, label, f"{code}: {message}".rstrip(": "))
            entry["rollback"] = {"status": result.status, "detail": result.detail}
            self.journal.save()
            report.append(result)
        return report

    # ------------------------------------------------------------------ secrets

    def _undo_create_secret(self, entry: dict[str, Any], label: str) -> Undone:
        sm = self.c["secretsmanager"]
        name = entry["request"]["Name"]
        try:
            found = sm.describe_secret(SecretId=(entry.get("result") or {}).get("arn") or name)
        except ClientError as e:
            if code_of(e) == "ResourceNotFoundException":
                return Undone(NOTHING, label, "the secret does not exist")
            raise
        tags = {t.get("Key"): t.get("Value") for t in found.get("Tags") or []}
        if tags.get(TAG) != self.journal.id:
            return Undone(NOTHING, label, "the secret of that name was not made by this apply")
        versions = found.get("VersionIdsToStages") or {}
        ours = (entry.get("result") or {}).get("version")
        if len(versions) > 1 or (ours and ours not in versions):
            return Undone(
                NOT_RESTORED,
                label,
                f"secret {name} has new versions since the apply (rotated?): delete it yourself "
                "once nothing reads it",
            )
        sm.delete_secret(SecretId=found["ARN"], ForceDeleteWithoutRecovery=True)
        return Undone(RESTORED, label, f"deleted secret {name} (its value is still in the old revision)")

    def _undo_put_parameter(self, entry: dict[str, Any], label: str) -> Undone:
        ssm = self.c["ssm"]
        name = entry["request"]["Name"]
        try:
            found = ssm.get_parameter(Name=name)["Parameter"]
        except ClientError as e:
            if code_of(e) == "ParameterNotFound":
                return Undone(NOTHING, label, "the parameter does not exist")
            raise
        tags = {
            t.get("Key"): t.get("Value")
            for t in ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name).get("TagList")
            or []
        }
        if tags.get(TAG) != self.journal.id:
            return Undone(NOTHING, label, "the parameter of that name was not made by this apply")
        if int(found.get("Version") or 1) > 1:
            return Undone(
                NOT_RESTORED, label, f"parameter {name} was changed since the apply: delete it yourself"
            )
        ssm.delete_parameter(Name=name)
        return Undone(RESTORED, label, f"deleted parameter {name}")

    # ------------------------------------------------------------------ IAM

    def _undo_create_role(self, entry: dict[str, Any], label: str) -> Undone:
        iam = self.c["iam"]
        name = entry["request"]["RoleName"]
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except ClientError as e:
            if code_of(e) == "NoSuchEntity":
                return Undone(NOTHING, label, "the role does not exist")
            raise
        tags = {t.get("Key"): t.get("Value") for t in role.get("Tags") or []}
        if tags.get(TAG) != self.journal.id:
            return Undone(NOTHING, label, "the role of that name was not made by this apply")
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
        if attached or inline:
            return Undone(
                NOT_RESTORED,
                label,
                f"role {name} has policies ecs-exposure did not give it: "
                + ", ".join([p["PolicyName"] for p in attached] + inline),
            )
        iam.delete_role(RoleName=name)
        return Undone(RESTORED, label, f"deleted role {name}")

    def _undo_attach_role_policy(self, entry: dict[str, Any], label: str) -> Undone:
        return self._detach_if_attached(entry, label)

    def _detach_if_attached(self, entry: dict[str, Any], label: str) -> Undone:
        iam = self.c["iam"]
        req = entry["request"]
        try:
            attached = iam.list_attached_role_policies(RoleName=req["RoleName"])["AttachedPolicies"]
        except ClientError as e:
            if code_of(e) == "NoSuchEntity":
                return Undone(NOTHING, label, "the role does not exist")
            raise
        if not any(p.get("PolicyArn") == req["PolicyArn"] for p in attached):
            return Undone(NOTHING, label, "the policy is not attached")
        iam.detach_role_policy(RoleName=req["RoleName"], PolicyArn=req["PolicyArn"])
        return Undone(
            RESTORED, label, f"detached {req['PolicyArn'].rsplit('/', 1)[-1]} from {req['RoleName']}"
        )

    def _undo_detach_role_policy(self, entry: dict[str, Any], label: str) -> Undone:
        iam = self.c["iam"]
        req = entry["request"]
        attached = iam.list_attached_role_policies(RoleName=req["RoleName"])["AttachedPolicies"]
        if any(p.get("PolicyArn") == req["PolicyArn"] for p in attached):
            return Undone(NOTHING, label, "the policy is attached")
        iam.attach_role_policy(RoleName=req["RoleName"], PolicyArn=req["PolicyArn"])
        return Undone(
            RESTORED, label, f"attached {req['PolicyArn'].rsplit('/', 1)[-1]} to {req['RoleName']} again"
        )

    def _restore_policy(self, entry: dict[str, Any], label: str, ours: Any) -> Undone:
        iam = self.c["iam"]
        req = entry["request"]
        role, name = req["RoleName"], req["PolicyName"]
        previous = (entry.get("before") or {}).get("document")
        try:
            current = policy_document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        except ClientError as e:
            if code_of(e) != "NoSuchEntity":
                raise
            current = None
        if _same(current, previous):
            return Undone(NOTHING, label, f"policy {name} of {role} is as before")
        if ours is not _ANY and not _same(current, ours):
            return Undone(
                NOT_RESTORED, label, f"policy {name} of {role} changed since the apply: left as it is"
            )
        if previous is None:
            iam.delete_role_policy(RoleName=role, PolicyName=name)
            return Undone(RESTORED, label, f"deleted inline policy {name} of {role}")
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(previous))
        return Undone(RESTORED, label, f"restored inline policy {name} of {role}")

    def _undo_put_role_policy(self, entry: dict[str, Any], label: str) -> Undone:
        return self._restore_policy(entry, label, entry["request"].get("PolicyDocument"))

    def _undo_narrow_role_policy(self, entry: dict[str, Any], label: str) -> Undone:
        before = entry.get("before") or {}
        kept = before.get("kept")
        ours = None if not kept else {**(before.get("document") or {}), "Statement": kept}
        return self._restore_policy(entry, label, ours)

    # ------------------------------------------------------------------ ECS

    def _undo_register_task_definition(self, entry: dict[str, Any], label: str) -> Undone:
        ecs = self.c["ecs"]
        arn = (entry.get("result") or {}).get("arn")
        candidates = [arn] if arn else []
        if not arn:  # the call may have registered a revision we never heard of: look for our tag
            family = entry["request"]["family"]
            latest = int((entry.get("before") or {}).get("latest_revision") or 0)
            pages = ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status="ACTIVE")
            for page in pages:
                for a in page.get("taskDefinitionArns") or []:
                    fam, _, rev = a.rsplit("/", 1)[-1].rpartition(":")
                    if fam == family and int(rev) > latest:
                        candidates.append(a)
        undone = []
        for a in candidates:
            td = ecs.describe_task_definition(taskDefinition=a, include=["TAGS"])
            tags = {t.get("key"): t.get("value") for t in td.get("tags") or []}
            if tags.get(TAG) != self.journal.id:
                continue
            if td["taskDefinition"].get("status") == "ACTIVE":
                ecs.deregister_task_definition(taskDefinition=a)
                undone.append(a.rsplit("/", 1)[-1])
        if not undone:
            return Undone(NOTHING, label, "no ACTIVE revision of this apply")
        return Undone(
            RESTORED,
            label,
            f"deregistered {', '.join(undone)} (INACTIVE now; ECS never reuses a revision number)",
        )

    def _service(self, cluster: str, service: str) -> dict[str, Any] | None:
        found = self.c["ecs"].describe_services(cluster=cluster, services=[service]).get("services") or []
        return found[0] if found else None

    def _undo_update_service(self, entry: dict[str, Any], label: str) -> Undone:
        req, before = entry["request"], entry.get("before") or {}
        svc = self._service(req["cluster"], req["service"])
        if svc is None:
            return Undone(NOT_RESTORED, label, "the service is gone")
        current_net = svc.get("networkConfiguration") or None
        current = (svc.get("taskDefinition"), bool(svc.get("enableExecuteCommand")))
        if current == (
            before.get("taskDefinition"),
            bool(before.get("enableExecuteCommand")),
        ) and same_network(current_net, before.get("networkConfiguration")):
            return Undone(NOTHING, label, "the service is as before")
        ours_td = (
            (entry.get("result") or {}).get("taskDefinition")
            or req.get("taskDefinition")
            or before.get("taskDefinition")
        )
        if svc.get("taskDefinition") not in (ours_td, before.get("taskDefinition")):
            return Undone(
                NOT_RESTORED,
                label,
                f"the service runs {str(svc.get('taskDefinition')).rsplit('/', 1)[-1]} now, neither "
                "the revision "
                "before nor the one of the apply: left as it is",
            )
        if not before.get("networkConfiguration") and current_net:
            return Undone(
                NOT_RESTORED,
                label,
                "irreversible: the service now has a network configuration (awsvpc), which "
                "UpdateService cannot "
                f"remove, and ECS refuses one for its previous host-mode revision "
                f"{str(before.get('taskDefinition')).rsplit('/', 1)[-1]}; recreate the service to go back",
            )
        previous = before.get("taskDefinition")
        params: dict[str, Any] = {"cluster": req["cluster"], "service": req["service"]}
        if previous and previous != svc.get("taskDefinition"):
            status = (
                self.c["ecs"]
                .describe_task_definition(taskDefinition=previous)["taskDefinition"]
                .get("status")
            )
            if status != "ACTIVE":
                return Undone(
                    NOT_RESTORED,
                    label,
                    f"the previous revision {previous.rsplit('/', 1)[-1]} is {status}: a service "
                    "cannot be updated to "
                    "an INACTIVE revision, and a deregistered revision cannot be made ACTIVE again",
                )
            params["taskDefinition"] = previous
        if before.get("networkConfiguration") and not same_network(
            current_net, before["networkConfiguration"]
        ):
            params["networkConfiguration"] = before["networkConfiguration"]
        if bool(svc.get("enableExecuteCommand")) != bool(before.get("enableExecuteCommand")):
            params["enableExecuteCommand"] = bool(before.get("enableExecuteCommand"))
            if "taskDefinition" not in params and "networkConfiguration" not in params:
                params["forceNewDeployment"] = True
        self.c["ecs"].update_service(**params)
        return Undone(
            RESTORED,
            label,
            "service updated back to " + ", ".join(k for k in params if k not in ("cluster", "service")),
        )

    def _undo_create_task_set(self, entry: dict[str, Any], label: str) -> Undone:
        req = entry["request"]
        svc = self._service(req["cluster"], req["service"])
        if svc is None:
            return Undone(NOTHING, label, "the service is gone")
        arn = (entry.get("result") or {}).get("arn")
        known = set((entry.get("before") or {}).get("taskSets") or [])
        ours = [
            t
            for t in svc.get("taskSets") or []
            if t.get("taskSetArn") == arn
            or (
                not arn
                and t.get("taskSetArn") not in known
                and t.get("taskDefinition") == req.get("taskDefinition")
            )
        ]
        ours = [t for t in ours if t.get("taskSetArn") not in self.replaced.values()]
        if not ours:
            return Undone(NOTHING, label, "no task set of this apply")
        for t in ours:
            self.c["ecs"].delete_task_set(
                cluster=req["cluster"], service=req["service"], taskSet=t["taskSetArn"], force=True
            )
        return Undone(
            RESTORED, label, "deleted task set " + ", ".join(t["taskSetArn"].rsplit("/", 1)[-1] for t in ours)
        )

    def _undo_update_service_primary_task_set(self, entry: dict[str, Any], label: str) -> Undone:
        req = entry["request"]
        previous = (entry.get("before") or {}).get("primaryTaskSet")
        if not previous:
            return Undone(NOTHING, label, "there was no primary task set before")
        previous = self.replaced.get(previous, previous)
        svc = self._service(req["cluster"], req["service"])
        if svc is None:
            return Undone(NOT_RESTORED, label, "the service is gone")
        primary = next((t for t in svc.get("taskSets") or [] if t.get("status") == "PRIMARY"), None)
        if (primary or {}).get("taskSetArn") == previous:
            return Undone(NOTHING, label, "the primary task set is as before")
        if not any(t.get("taskSetArn") == previous for t in svc.get("taskSets") or []):
            return Undone(NOT_RESTORED, label, f"task set {previous.rsplit('/', 1)[-1]} no longer exists")
        self.c["ecs"].update_service_primary_task_set(
            cluster=req["cluster"], service=req["service"], primaryTaskSet=previous
        )
        return Undone(RESTORED, label, f"task set {previous.rsplit('/', 1)[-1]} is primary again")

    def _undo_delete_task_set(self, entry: dict[str, Any], label: str) -> Undone:
        req = entry["request"]
        old = (entry.get("before") or {}).get("taskSet") or {}
        svc = self._service(req["cluster"], req["service"])
        if svc is None:
            return Undone(NOT_RESTORED, label, "the service is gone")
        if any(t.get("taskSetArn") == req["taskSet"] for t in svc.get("taskSets") or []):
            return Undone(NOTHING, label, "the task set still exists")
        status = (
            self.c["ecs"]
            .describe_task_definition(taskDefinition=old["taskDefinition"])["taskDefinition"]
            .get("status")
        )
        if status != "ACTIVE":
            return Undone(
                NOT_RESTORED,
                label,
                f"its revision {old['taskDefinition'].rsplit('/', 1)[-1]} is {status}: it cannot be "
                "recreated",
            )
        params = {k: v for k, v in old.items() if k != "status"}
        if "scale" in params:
            params["scale"] = {k: v for k, v in params["scale"].items() if k in ("unit", "value")}
        if "capacityProviderStrategy" in params:
            params.pop("launchType", None)
        new = self.c["ecs"].create_task_set(cluster=req["cluster"], service=req["service"], **params)[
            "taskSet"
        ]["taskSetArn"]
        self.replaced[req["taskSet"]] = new
        return Undone(
            RESTORED,
            label,
            f"recreated it as task set {new.rsplit('/', 1)[-1]} with the same revision, network and "
            "load balancers "
            "(a task set's id cannot be restored)",
        )

    # ------------------------------------------------------------------ EC2

    def _undo_authorize_security_group_ingress(self, entry: dict[str, Any], label: str) -> Undone:
        req = entry["request"]
        ec2 = self.c["ec2"]
        group = ec2.describe_security_groups(GroupIds=[req["GroupId"]])["SecurityGroups"][0]
        if not has_rule(group, req["IpPermissions"][0]):
            return Undone(NOTHING, label, "the rule is not there")
        ec2.revoke_security_group_ingress(GroupId=req["GroupId"], IpPermissions=req["IpPermissions"])
        return Undone(RESTORED, label, f"revoked the rule added to {req['GroupId']}")

    def _undo_revoke_security_group_ingress(self, entry: dict[str, Any], label: str) -> Undone:
        req = entry["request"]
        ec2 = self.c["ec2"]
        group = ec2.describe_security_groups(GroupIds=[req["GroupId"]])["SecurityGroups"][0]
        if has_rule(group, req["IpPermissions"][0]):
            return Undone(NOTHING, label, "the rule is there")
        ec2.authorize_security_group_ingress(GroupId=req["GroupId"], IpPermissions=req["IpPermissions"])
        return Undone(RESTORED, label, f"authorized the revoked rule on {req['GroupId']} again")


_ANY = object()


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def rollback(journal: Journal, clients_for: Callable[[str | None], dict[str, Any]]) -> list[Undone]:
    return Rollback(journal, clients_for).run()
