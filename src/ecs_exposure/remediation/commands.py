"""A plan as a bash script of AWS CLI calls: the same calls, in the same order, as ``fix --apply``.

Every call passes its request as ``--cli-input-json``: the parameters are the plan's step parameters
exactly, so what a person reviews is what runs. A value only known at run time (the ARN Secrets
Manager gives a new secret, a new revision, a new task set) is captured in a shell variable and
spliced into the later requests.

No credential value is ever in the script or its output: a secret is created by having
``aws ecs describe-task-definition --query`` build the whole create-secret request, value included,
from the current revision, into a file in a private temporary directory (mode 0700, removed right
after the call and on exit) that ``create-secret --cli-input-json file://`` reads; a credential the
new revision keeps (in a command) is read the same way while its register request is assembled.
(A pipe into ``file:///dev/stdin`` does not work: the AWS CLI reads a parameter file twice.)
Outputs that would echo a task definition are reduced with ``--query``.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from .plan import TAG, Manual, Plan, Ref, Sensitive, Step, walk

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CAPTURE = {
    "create_secret": "ARN",
    "register_task_definition": "taskDefinition.taskDefinitionArn",
    "create_task_set": "taskSet.taskSetArn",
}


def _var(step_id: str) -> str:
    return f"ECS_EXPOSURE_{step_id.upper()}"


def _sq(text: str) -> str:
    """Single-quoted for bash."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _json_text(value: Any) -> str:
    """Compact JSON with each Ref as a sentinel ``@@REF:<step>@@``."""
    return json.dumps(
        walk(value, lambda m: f"@@REF:{m.step}@@" if isinstance(m, Ref) else m), separators=(",", ":")
    )


def _quoted(text: str) -> str:
    """``text`` single-quoted, with each sentinel spliced in as a double-quoted shell variable."""
    return re.sub(r"@@REF:(s\d+)@@", lambda m: "'\"$" + _var(m.group(1)) + "\"'", _sq(text))


def _retag(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("Value") == "<journal>":
            return {**value, "Value": "script"}
        return {k: _retag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_retag(v) for v in value]
    return value


def jmespath(path: tuple[str | int, ...]) -> str:
    out = "taskDefinition"
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _IDENT.match(p):
            out += f".{p}"
        else:
            out += "." + json.dumps(p)
    return out


def _literal(value: Any) -> str:
    return "`" + json.dumps(value, separators=(",", ":")).replace("`", "\\`") + "`"


def _cli(service: str, op: str) -> str:
    return f"aws {service} {op.replace('_', '-')}"


def _describe(plan: Plan, arn: str | None, query: str) -> str:
    return (
        f"aws ecs describe-task-definition --region {plan.region} --task-definition {shlex.quote(str(arn))} "
        f"--query {_sq(query)} --output json"
    )


def step_commands(plan: Plan, step: Step) -> list[str]:
    region = f"--region {plan.region}"
    params = _retag(step.params)
    if step.op in ("create_secret", "put_parameter"):
        value_key = "SecretString" if step.op == "create_secret" else "Value"
        fields = ", ".join(f"{k}: {_literal(v)}" for k, v in params.items())
        query = "{" + fields + f", {value_key}: {jmespath(step.source or ())}" + "}"
        send = (
            f'{_cli(step.service, step.op)} {region} --cli-input-json "file://$ECS_EXPOSURE_TMP/request.json"'
        )
        lines = [f'{_describe(plan, step.source_revision, query)} > "$ECS_EXPOSURE_TMP/request.json"']
        if step.op == "create_secret":
            lines.append(f"{_var(step.id)}=$({send} --query ARN --output text)")
        else:
            lines.append(f"{send} > /dev/null")
        return [*lines, 'rm -f "$ECS_EXPOSURE_TMP/request.json"']
    if step.op == "register_task_definition":
        params = {**params, "tags": [{"key": TAG, "value": "script"}]}
        marks: list[Sensitive] = []

        def mark(m: Ref | Sensitive) -> Any:
            if isinstance(m, Sensitive):
                marks.append(m)
                return f"@@SENS:{len(marks) - 1}@@"
            return f"@@REF:{m.step}@@"

        text = json.dumps(walk(params, mark), separators=(",", ":"))
        capture = f"--query {CAPTURE[step.op]} --output text"
        send = f"{_cli('ecs', step.op)} {region}"
        if not marks:
            return [f"{_var(step.id)}=$({send} --cli-input-json {_quoted(text)} {capture})"]
        lines = ["{"]
        pieces = re.split(r'"@@SENS:(\d+)@@"', text)
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                if piece:
                    lines.append(f"  printf '%s' {_quoted(piece)}")
            else:
                lines.append(
                    f"  {_describe(plan, plan.task_definition_arn, jmespath(marks[int(piece)].path))}"
                )
        lines.append('} > "$ECS_EXPOSURE_TMP/request.json"')
        lines.append(
            f'{_var(step.id)}=$({send} --cli-input-json "file://$ECS_EXPOSURE_TMP/request.json" {capture})'
        )
        lines.append('rm -f "$ECS_EXPOSURE_TMP/request.json"')
        return lines
    if step.op == "narrow_role_policy":
        kept = step.expect.get("kept")
        if kept is None:
            return [
                f"# {step.label}: its document is not in the inputs: aws iam get-role-policy --role-name "
                f"{params['RoleName']} --policy-name {params['PolicyName']}, remove statement "
                f"{params['Statement']}, then put-role-policy"
            ]
        if kept == "delete":
            body = {"RoleName": params["RoleName"], "PolicyName": params["PolicyName"]}
            return [f"{_cli('iam', 'delete_role_policy')} --cli-input-json {_quoted(_json_text(body))}"]
        body = {
            "RoleName": params["RoleName"],
            "PolicyName": params["PolicyName"],
            "PolicyDocument": json.dumps(kept),
        }
        return [f"{_cli('iam', 'put_role_policy')} --cli-input-json {_quoted(_json_text(body))}"]
    if step.op == "put_role_policy":
        params = {**params, "PolicyDocument": _json_text(params["PolicyDocument"])}
        # the document is JSON inside JSON: sentinels survive as plain text in it
        return [
            f"{_cli('iam', step.op)} --cli-input-json {_quoted(json.dumps(params, separators=(',', ':')))}"
        ]
    if step.op == "create_role":
        return [f"{_cli('iam', step.op)} --cli-input-json {_quoted(_json_text(params))} > /dev/null"]
    service = {"authorize_security_group_ingress": "ec2", "revoke_security_group_ingress": "ec2"}.get(
        step.op, step.service
    )
    line = (
        f"{_cli(service, step.op)} {region if service != 'iam' else ''} --cli-input-json "
        f"{_quoted(_json_text(params))}"
    )
    line = re.sub(r"  +", " ", line)
    if step.op in CAPTURE:
        return [f"{_var(step.id)}=$({line} --query {CAPTURE[step.op]} --output text)"]
    return [line + " > /dev/null"]


def manual_commands(plan: Plan, manual: Manual) -> list[str]:
    out = [f"# manual ({manual.trait}): {manual.what}", f"#   why not automatic: {manual.why}"]
    out += [f"#   {c}" for c in manual.commands]
    if manual.request:
        service, op, params = manual.request
        if op == "create_deployment":
            content = params["revision"]["appSpecContent"]["content"]
            params = {
                **params,
                "revision": {**params["revision"], "appSpecContent": {"content": _json_text(content)}},
            }
        name = f"{service}-{op.replace('_', '-')}-{re.sub(r'[^A-Za-z0-9_.-]', '_', plan.resource)}.json"
        text = json.dumps(params, separators=(",", ":"))
        out.append(f"printf '%s' {_quoted(text)} > {name}")
        call = f"aws {service} {op.replace('_', '-')} --region {plan.region} --cli-input-json file://{name}"
        out.append(f'echo "next, by hand: {call}"')
    return out


def script(plans: list[Plan], flags: set[str]) -> str:
    lines = [
        "#!/usr/bin/env bash",
        "# ecs-exposure fix: the AWS CLI calls of `ecs-exposure fix --apply`, in the same order.",
        "# Review before running. Secret values are read from the current task definitions at run time",
        "# and piped into the secret store: they are never in this script or its output.",
        "set -euo pipefail",
        'export AWS_PAGER=""',
        "# a request that holds a secret value goes through a file only this user can read, removed at once",
        "umask 077",
        "ECS_EXPOSURE_TMP=$(mktemp -d)",
        "trap 'rm -rf \"$ECS_EXPOSURE_TMP\"' EXIT",
        "",
    ]
    for plan in plans:
        held = {s.group for s in plan.steps if s.requires and s.requires not in flags}
        lines.append(f"# == {plan.resource_type.split('::')[-1]} {plan.resource} (finding {plan.finding_id})")
        if plan.region is None and plan.steps:
            lines.append("# no region known for it: nothing to run")
            continue
        for step in plan.steps:
            if step.group in held:
                lines.append(f"# held back (needs {step.requires or 'a flag'}): {step.label}")
                continue
            lines.append(f"# {step.label}")
            lines += step_commands(plan, step)
        for manual in plan.manual:
            lines += manual_commands(plan, manual)
        lines.append("")
    return "\n".join(lines) + "\n"
