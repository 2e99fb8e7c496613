"""Apply plans to AWS: write-ahead journal, a check before every call, convergence.

For each step of a plan, in order:

1. read what the resource holds now. If it already is what the step would make, nothing is done
   (a rerun, or a run after a partial failure, records no change); if it is no longer what the plan
   was made from (another deployment, another secret of that name), the rest of the plan is skipped
   with a note — the plan is never forced onto a resource that changed;
2. journal the intent (what was there before, how to find what the call makes);
3. make the call: throttling is retried (AWS refused the request), nothing else is (a retried
   RegisterTaskDefinition would register twice): the client makes one attempt;
4. journal the outcome: done with what AWS returned, or failed with whether it may have taken effect.

Steps that need a flag (``--allow-irreversible``, ``--apply-iam``) are held back with their whole
group when the flag is not given. The first failed call stops the run. Secret values go from the
task definition straight into the call that stores them: never into a plan, the journal or a log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..sources.aws.collector import error_entry
from .journal import Journal
from .plan import (
    ROLE_INLINE_QUOTA,
    TAG,
    Plan,
    Ref,
    Sensitive,
    Step,
    content_hash,
    merge_grant,
    policy_size,
    registration_input,
    value_at,
    walk,
)

THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
}
CONTENT_TAG = "ecs-exposure:content"


class ApplyError(Exception):
    """A call failed: the run stops; the journal says what to roll back."""


class Conflict(Exception):
    """The resource is no longer what the plan was made from: the plan's remaining steps are skipped."""


def made(e: Exception) -> str:
    """Whether a failed call may have taken effect: an AWS error answer (4xx) means it did not."""
    if isinstance(e, ClientError):
        status = int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if 400 <= status < 500:
            return "no"
    return "unknown"


def code_of(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code") or "")


def finalize(op: str, params: dict[str, Any]) -> dict[str, Any]:
    """Request parameters as the API takes them: policy documents as JSON text."""
    out = dict(params)
    if op == "put_role_policy" and isinstance(out.get("PolicyDocument"), dict):
        out["PolicyDocument"] = json.dumps(out["PolicyDocument"])
    if op == "create_deployment":
        content = out["revision"]["appSpecContent"]["content"]
        if not isinstance(content, str):
            out["revision"] = {**out["revision"], "appSpecContent": {"content": json.dumps(content)}}
    return out


def same_network(a: Any, b: Any) -> bool:
    def norm(n: Any) -> Any:
        aws = (n or {}).get("awsvpcConfiguration") or {}
        if not aws:
            return None
        return (
            sorted(aws.get("subnets") or []),
            sorted(aws.get("securityGroups") or []),
            aws.get("assignPublicIp") or "DISABLED",
        )

    return norm(a) == norm(b)


def has_rule(group: dict[str, Any], perm: dict[str, Any]) -> bool:
    """Whether the security group holds exactly this ingress permission (one source)."""
    for p in group.get("IpPermissions") or []:
        if str(p.get("IpProtocol")) != str(perm.get("IpProtocol")):
            continue
        if perm.get("FromPort") is not None and (p.get("FromPort"), p.get("ToPort")) != (
            perm.get("FromPort"),
            perm.get("ToPort"),
        ):
            continue
        for key, inner in (
            ("IpRanges", "CidrIp"),
            ("Ipv6Ranges", "CidrIpv6"),
            ("UserIdGroupPairs", "GroupId"),
        ):
            wanted = {r.get(inner) for r in perm.get(key) or []}
            if wanted and wanted <= {r.get(inner) for r in p.get(key) or []}:
                return True
    return False


def policy_document(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        from urllib.parse import unquote

        try:
            return json.loads(value)
        except ValueError:
            return json.loads(unquote(value))
    return value


@dataclass
class Outcome:
    plan: Plan
    status: str = "applied"  # applied, unchanged, partial, skipped, failed
    log: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)  # step id → value (ARN …)


class Applier:
    def __init__(
        self,
        clients_for: Callable[[str | None], dict[str, Any]],
        journal: Journal,
        flags: set[str],
        revisions: dict[str, dict[str, Any]],
    ) -> None:
        self.clients_for = clients_for  # region → boto3 clients (one attempt per call: see module doc)
        self.journal = journal
        self.flags = flags
        self.revisions = revisions  # task definition ARN → describe output (the source of secret values)
        self.made = 0

    # ------------------------------------------------------------------ a plan

    def apply(self, plan: Plan) -> Outcome:
        out = Outcome(plan)
        held = {s.group: s.requires for s in plan.steps if s.requires and s.requires not in self.flags}
        for group, flag in sorted(held.items()):
            what = [c for c in plan.changes if c.group == group]
            reason = next((c.why_irreversible for c in what if c.why_irreversible), "")
            out.notes.append(
                f"{plan.resource}: not applied without {flag}: "
                + "; ".join(sorted({f"{c.trait} ({c.action})" for c in what}))
                + (f" — irreversible: {reason}" if reason else "")
            )
        steps = [s for s in plan.steps if s.group not in held]
        self.c = self.clients_for(plan.region)
        before = self.made
        try:
            for step in steps:
                self._run(plan, step, out)
        except Conflict as e:
            out.status = "skipped" if self.made == before else "partial"
            out.notes.append(f"{plan.resource}: skipped the rest of its plan: {e}")
            return out
        out.status = "applied" if self.made > before else "unchanged"
        return out

    # ------------------------------------------------------------------ a step

    def _resolve(self, plan: Plan, step: Step, out: Outcome) -> dict[str, Any]:
        source = self.revisions.get(step.source_revision or plan.task_definition_arn or "")
        current = registration_input(source) if source else None

        def value(marker: Ref | Sensitive) -> Any:
            if isinstance(marker, Ref):
                if marker.step not in out.results:
                    raise ApplyError(f"{step.label}: {marker.what} is not known (its step did not run)")
                return out.results[marker.step]
            found = value_at(current, marker.path) if current is not None else None
            if not isinstance(found, str):
                raise Conflict(f"{step.label}: the current revision no longer has the value at {marker.path}")
            return found

        self._marked = walk(step.params, lambda m: value(m) if isinstance(m, Ref) else m)
        params = walk(self._marked, value)
        return self._tagged(step, params)

    def _tagged(self, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        if "Tags" in params:
            params["Tags"] = [
                {**t, "Value": self.journal.id} if t.get("Value") == "<journal>" else t
                for t in params["Tags"]
            ]
        return params

    def _run(self, plan: Plan, step: Step, out: Outcome) -> None:
        params = self._resolve(plan, step, out)
        pre = getattr(self, f"_pre_{step.op}")(plan, step, params)
        if pre.get("noop") is not None:
            out.results[step.id] = pre["noop"]
            out.log.append(f"already done: {step.label}")
            return
        call_params = finalize(step.op, params)
        if step.op in ("create_secret", "put_parameter"):
            secret = self._secret_value(plan, step)
            call_params["SecretString" if step.op == "create_secret" else "Value"] = secret
        if step.op == "register_task_definition":
            call_params["tags"] = [
                {"key": TAG, "value": self.journal.id},
                {"key": CONTENT_TAG, "value": pre["hash"]},
            ]
        if step.op == "create_task_set":
            call_params["tags"] = [{"key": TAG, "value": self.journal.id}]
        entry = self.journal.intent(
            {
                "op": step.op,
                "step": step.id,
                "label": step.label,
                "region": plan.region,
                "account": plan.account,
                "resource": plan.resource,
                "finding": plan.finding_id,
                "reversible": step.reversible,
                "why_irreversible": step.why_irreversible,
                "request": self._recordable(step.op, params),
                "before": pre.get("before") or {},
            }
        )
        try:
            response = self._call(step.service, step.op, call_params, step.label)
        except (ClientError, BotoCoreError) as e:
            code, message = error_entry(e)
            self.journal.failed(entry, code, message, made(e))
            raise ApplyError(f"{step.label}: {code}") from None
        finally:
            call_params.pop("SecretString", None)
            call_params.pop("Value", None)
        result = self._result(step, params, response)
        self.journal.done(entry, result)
        self.made += 1
        if "value" in result:
            out.results[step.id] = result["value"]
        out.log.append(step.label)

    def _call(self, service: str, op: str, params: dict[str, Any], label: str) -> Any:
        if op == "narrow_role_policy":
            return self._narrow(params, label)
        fn = getattr(self.c[service], op)
        for attempt in range(6):
            try:
                return fn(**params)
            except ClientError as e:
                if code_of(e) in THROTTLED and attempt < 5:
                    time.sleep(min(0.2 * 2**attempt, 5.0))
                    continue
                raise
        raise AssertionError("unreachable")

    def _narrow(self, params: dict[str, Any], label: str) -> Any:
        """PutRolePolicy with the kept statements, or DeleteRolePolicy when none is left (IAM refuses a
        policy without statements)."""
        iam = self.c["iam"]
        role, name = params["RoleName"], params["PolicyName"]
        doc = policy_document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]) or {}
        statements = doc.get("Statement") or []
        statements = statements if isinstance(statements, list) else [statements]
        kept = [s for i, s in enumerate(statements) if str(s.get("Sid") or i) != str(params["Statement"])]
        if kept:
            document = json.dumps({**doc, "Statement": kept})
            return self._call(
                "iam",
                "put_role_policy",
                {"RoleName": role, "PolicyName": name, "PolicyDocument": document},
                label,
            )
        return self._call("iam", "delete_role_policy", {"RoleName": role, "PolicyName": name}, label)

    def _secret_value(self, plan: Plan, step: Step) -> str:
        described = self.revisions.get(step.source_revision or "")
        value = value_at(registration_input(described), step.source or ()) if described else None
        if not isinstance(value, str):
            raise Conflict(f"{step.label}: the value is no longer in {step.source_revision}")
        return value

    @staticmethod
    def _recordable(op: str, params: dict[str, Any]) -> dict[str, Any]:
        """What the journal keeps of a request: never a value, only what names and undoes it."""
        if op == "register_task_definition":
            return {"family": params.get("family")}
        return {k: v for k, v in params.items() if k not in ("SecretString", "Value", "SecretBinary")}

    def _result(self, step: Step, params: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        op = step.op
        if op == "create_secret":
            return {"value": response["ARN"], "arn": response["ARN"], "version": response.get("VersionId")}
        if op == "put_parameter":
            arn = self._parameter_arn(params["Name"])
            return {"value": arn, "arn": arn, "version": response.get("Version")}
        if op == "create_role":
            return {"value": response["Role"]["Arn"], "arn": response["Role"]["Arn"]}
        if op == "register_task_definition":
            arn = response["taskDefinition"]["taskDefinitionArn"]
            return {"value": arn, "arn": arn}
        if op == "create_task_set":
            arn = response["taskSet"]["taskSetArn"]
            return {"value": arn, "arn": arn}
        return {}

    def _parameter_arn(self, name: str) -> str:
        plan_part = name if name.startswith("/") else "/" + name
        ident = self.c["sts"].get_caller_identity()
        partition = ident["Arn"].split(":")[1]
        region = self.c["ssm"].meta.region_name
        return f"arn:{partition}:ssm:{region}:{ident['Account']}:parameter{plan_part}"

    # ------------------------------------------------------------------ checks before each call
    # Each returns {"noop": value} when the change is already there, {"before": …} to go on, or
    # raises Conflict when the resource is not what the plan was made from.

    def _pre_create_secret(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        sm = self.c["secretsmanager"]
        try:
            found = sm.describe_secret(SecretId=params["Name"])
        except ClientError as e:
            if code_of(e) == "ResourceNotFoundException":
                return {"before": {"existed": False}}
            raise
        tags = {t.get("Key"): t.get("Value") for t in found.get("Tags") or []}
        if found.get("DeletedDate"):
            raise Conflict(
                f"secret {params['Name']} is scheduled for deletion: restore it or pick another name"
            )
        if TAG in tags:
            current = sm.get_secret_value(SecretId=found["ARN"]).get("SecretString")
            if current == self._secret_value(plan, step):
                return {"noop": found["ARN"]}
        raise Conflict(
            f"a secret named {params['Name']} already exists and was not made by ecs-exposure from "
            "this value "
            "(choose another --secret-name-template)"
        )

    def _pre_put_parameter(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        ssm = self.c["ssm"]
        try:
            found = ssm.get_parameter(Name=params["Name"], WithDecryption=True)["Parameter"]
        except ClientError as e:
            if code_of(e) == "ParameterNotFound":
                return {"before": {"existed": False}}
            raise
        tags = {
            t.get("Key"): t.get("Value")
            for t in ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=params["Name"]).get(
                "TagList"
            )
            or []
        }
        if TAG in tags and found.get("Value") == self._secret_value(plan, step):
            return {"noop": found.get("ARN") or self._parameter_arn(params["Name"])}
        raise Conflict(f"a parameter named {params['Name']} already exists and was not made by ecs-exposure")

    def _pre_create_role(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        try:
            role = self.c["iam"].get_role(RoleName=params["RoleName"])["Role"]
        except ClientError as e:
            if code_of(e) == "NoSuchEntity":
                return {"before": {"existed": False}}
            raise
        tags = {t.get("Key"): t.get("Value") for t in role.get("Tags") or []}
        trust = json.dumps(policy_document(role.get("AssumeRolePolicyDocument")) or {})
        if TAG in tags and "ecs-tasks.amazonaws.com" in trust:
            return {"noop": role["Arn"]}
        raise Conflict(f"a role named {params['RoleName']} already exists and was not made by ecs-exposure")

    def _pre_attach_role_policy(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        attached = self.c["iam"].list_attached_role_policies(RoleName=params["RoleName"])["AttachedPolicies"]
        if any(p.get("PolicyArn") == params["PolicyArn"] for p in attached):
            return {"noop": True}
        return {"before": {"attached": False}}

    def _pre_put_role_policy(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.c["iam"]
        role, name = params["RoleName"], params["PolicyName"]
        try:
            previous = policy_document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        except ClientError as e:
            if code_of(e) != "NoSuchEntity":
                raise
            previous = None
        merged = merge_grant(previous, params["PolicyDocument"])
        if previous is not None and merge_grant(None, previous) == merged:
            return {"noop": True}
        params["PolicyDocument"] = merged
        total = policy_size(merged)
        for other in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            if other != name:
                total += policy_size(
                    policy_document(iam.get_role_policy(RoleName=role, PolicyName=other)["PolicyDocument"])
                )
        if total > ROLE_INLINE_QUOTA:
            raise Conflict(
                f"the inline policies of role {role} would total {total} characters, over IAM's limit of "
                f"{ROLE_INLINE_QUOTA}: grant the secrets through a managed policy instead"
            )
        return {"before": {"document": previous}}

    def _pre_register_task_definition(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        # identity of the wanted revision: refs resolved, credentials by their place only
        digest = content_hash(self._marked)
        family = params["family"]
        latest = 0
        try:
            td = self.c["ecs"].describe_task_definition(taskDefinition=family, include=["TAGS"])
            latest = int(td["taskDefinition"].get("revision") or 0)
            tags = {t.get("key"): t.get("value") for t in td.get("tags") or []}
            if td["taskDefinition"].get("status") == "ACTIVE" and tags.get(CONTENT_TAG) == digest:
                return {"noop": td["taskDefinition"]["taskDefinitionArn"], "hash": digest}
        except ClientError as e:
            if code_of(e) not in ("ClientException", "InvalidParameterException"):
                raise
        return {"before": {"latest_revision": latest}, "hash": digest}

    def _service(self, params: dict[str, Any]) -> dict[str, Any]:
        found = self.c["ecs"].describe_services(cluster=params["cluster"], services=[params["service"]])
        services = found.get("services") or []
        if not services or services[0].get("status") != "ACTIVE":
            raise Conflict(f"service {params['service']} is gone or not ACTIVE")
        return services[0]

    def _pre_update_service(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        svc = self._service(params)
        controller = (svc.get("deploymentController") or {}).get("type") or "ECS"
        if controller != step.expect.get("controller", "ECS"):
            raise Conflict(f"service {plan.resource} now uses the {controller} deployment controller")
        current = {
            "taskDefinition": svc.get("taskDefinition"),
            "networkConfiguration": svc.get("networkConfiguration") or None,
            "enableExecuteCommand": bool(svc.get("enableExecuteCommand")),
        }
        wanted_td = params.get("taskDefinition", current["taskDefinition"])
        wanted_net = params.get("networkConfiguration", current["networkConfiguration"])
        wanted_exec = params.get("enableExecuteCommand", current["enableExecuteCommand"])
        if (
            current["taskDefinition"] == wanted_td
            and same_network(current["networkConfiguration"], wanted_net)
            and current["enableExecuteCommand"] == wanted_exec
        ):
            return {"noop": True}
        if (
            current["taskDefinition"] != step.expect.get("taskDefinition")
            and current["taskDefinition"] != wanted_td
        ):
            raise Conflict(
                f"service {plan.resource} now runs {str(current['taskDefinition']).rsplit('/', 1)[-1]}, not "
                f"{str(step.expect.get('taskDefinition')).rsplit('/', 1)[-1]} as planned"
            )
        if not same_network(
            current["networkConfiguration"], step.expect.get("networkConfiguration")
        ) and not same_network(current["networkConfiguration"], wanted_net):
            raise Conflict(f"the network configuration of service {plan.resource} changed since the plan")
        return {"before": current}

    def _pre_create_task_set(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        svc = self._service(params)
        sets = svc.get("taskSets") or []
        primary = next((t for t in sets if t.get("status") == "PRIMARY"), None)
        for t in sets:
            if t.get("taskDefinition") == params["taskDefinition"] and same_network(
                t.get("networkConfiguration"), params.get("networkConfiguration")
            ):
                return {"noop": t["taskSetArn"]}
        if (primary or {}).get("taskSetArn") != step.expect.get("primaryTaskSet"):
            raise Conflict(f"the primary task set of {plan.resource} changed since the plan")
        return {"before": {"taskSets": [t.get("taskSetArn") for t in sets]}}

    def _pre_update_service_primary_task_set(
        self, plan: Plan, step: Step, params: dict[str, Any]
    ) -> dict[str, Any]:
        svc = self._service(params)
        primary = next((t for t in svc.get("taskSets") or [] if t.get("status") == "PRIMARY"), None)
        if (primary or {}).get("taskSetArn") == params["primaryTaskSet"]:
            return {"noop": True}
        return {"before": {"primaryTaskSet": (primary or {}).get("taskSetArn")}}

    def _pre_delete_task_set(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        svc = self._service(params)
        found = next((t for t in svc.get("taskSets") or [] if t.get("taskSetArn") == params["taskSet"]), None)
        if found is None:
            return {"noop": True}
        keep = {
            k: found[k]
            for k in (
                "taskDefinition",
                "networkConfiguration",
                "loadBalancers",
                "serviceRegistries",
                "launchType",
                "capacityProviderStrategy",
                "platformVersion",
                "scale",
                "externalId",
                "status",
            )
            if found.get(k)
        }
        return {"before": {"taskSet": keep}}

    def _group(self, group_id: str) -> dict[str, Any]:
        return self.c["ec2"].describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]

    def _pre_authorize_security_group_ingress(
        self, plan: Plan, step: Step, params: dict[str, Any]
    ) -> dict[str, Any]:
        if has_rule(self._group(params["GroupId"]), params["IpPermissions"][0]):
            return {"noop": True}
        return {"before": {"present": False}}

    def _pre_revoke_security_group_ingress(
        self, plan: Plan, step: Step, params: dict[str, Any]
    ) -> dict[str, Any]:
        if not has_rule(self._group(params["GroupId"]), params["IpPermissions"][0]):
            return {"noop": True}
        return {"before": {"present": True}}

    def _pre_detach_role_policy(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        attached = self.c["iam"].list_attached_role_policies(RoleName=params["RoleName"])["AttachedPolicies"]
        if not any(p.get("PolicyArn") == params["PolicyArn"] for p in attached):
            return {"noop": True}
        return {"before": {"attached": True}}

    def _pre_narrow_role_policy(self, plan: Plan, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        try:
            doc = policy_document(
                self.c["iam"].get_role_policy(RoleName=params["RoleName"], PolicyName=params["PolicyName"])[
                    "PolicyDocument"
                ]
            )
        except ClientError as e:
            if code_of(e) == "NoSuchEntity":
                return {"noop": True}
            raise
        statements = doc.get("Statement") or []
        statements = statements if isinstance(statements, list) else [statements]
        kept = [s for i, s in enumerate(statements) if str(s.get("Sid") or i) != str(params["Statement"])]
        if len(kept) == len(statements):
            return {"noop": True}
        return {"before": {"document": doc, "kept": kept}}
