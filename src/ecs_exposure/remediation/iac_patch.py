"""``fix`` on infrastructure code: the changes the live fix makes, as a unified diff of the source.

From a scan's findings on CloudFormation templates (their evidence points at template paths), the
fixes are written into the template text with :class:`~ecs_exposure.sources.iac.patch.Editor`:

- ``privileged-container``, ``host-pid-namespace``, ``host-ipc-namespace``: the property removed;
- ``host-network-mode``: ``NetworkMode: awsvpc`` (or ``bridge``);
- ``host-filesystem-mount``: the host mount points and their host volumes removed;
- ``dangerous-capabilities``: the dangerous capabilities and host devices removed;
- ``plaintext-credentials``: the environment entry moved to ``Secrets`` with ``ValueFrom`` a new
  ``AWS::SecretsManager::Secret`` whose value comes from a ``NoEcho`` parameter (never the literal:
  a literal parameter default is removed), and the execution role granted
  ``secretsmanager:GetSecretValue`` on it (an execution role is created when the task has none);
- ``open-security-group``: the ``0.0.0.0/0`` / ``::/0`` source replaced by a parameter for the
  allowed range (its default from ``--allow-cidr`` when given);
- ``public-ip``: ``AssignPublicIp: DISABLED``.

A value reached through ``Fn::If``, a mapping or another file is not edited: a note says what to
change by hand. IAM and vulnerability fixes need a human and are notes too. The patch removes the
lines that held a credential, as any patch must: write it to a file, never to a shared log.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..model import Inventory, Loc, ScanResult
from ..sources.iac.cloudformation import is_template
from ..sources.iac.patch import EditConflict, Editor, unified_diff
from ..sources.iac.positions import IacPositions
from ..sources.iac.yamlload import YamlError, load_yaml
from ..traits.dangerous_capabilities import DANGEROUS, normalise
from .plan import FixOptions

EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


@dataclass
class IacPatch:
    path: str
    diff: str
    changes: list[str] = field(default_factory=list)  # what was changed, in words (no values)
    notes: list[str] = field(default_factory=list)  # what must be done by hand


def _camel(text: str) -> str:
    return "".join(w[:1].upper() + w[1:].lower() for w in re.split(r"[^A-Za-z0-9]+", text) if w) or "Value"


@dataclass
class _File:
    shown: str
    kind: str
    text: str
    doc: dict
    ed: Editor
    pos: IacPositions
    patch: IacPatch
    params: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    done: set = field(default_factory=set)
    deleted: set = field(default_factory=set)
    grants: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # task def → secrets


class _Planner:
    def __init__(self, inv: Inventory, options: FixOptions) -> None:
        self.inv = inv
        self.options = options
        self.files: dict[str, _File | None] = {}
        self._pending_secrets: dict[tuple, list] = {}  # containers that get a new Secrets list
        self._pending_owner: dict[tuple, tuple] = {}

    def file(self, shown: str) -> _File | None:
        if shown not in self.files:
            self.files[shown] = self._open(shown)
        return self.files[shown]

    def _open(self, shown: str) -> _File | None:
        pos = self.inv.positions.get(shown)
        if not isinstance(pos, IacPositions) or pos.path is None:
            return None
        try:
            text = pos.path.read_text("utf-8")
            doc = load_yaml(text) if pos.kind == "yaml" else orjson.loads(text)
        except (OSError, UnicodeDecodeError, YamlError, orjson.JSONDecodeError):
            return None
        if not is_template(doc):
            return None
        return _File(shown, pos.kind, text, doc, Editor(text, pos.kind), pos, IacPatch(shown, ""))

    # -- helpers

    def real(self, f: _File, parts: tuple) -> tuple | None:
        """The path in the text, or None when the value is reached through an intrinsic function."""
        real = f.pos.real(parts)
        if any(isinstance(p, str) and (p.startswith("Fn::") or p == "Ref") for p in real):
            return None
        if real[:1] == ("Mappings",):
            return None
        return real

    def by_hand(self, f: _File, trait: str, parts: tuple, what: str) -> None:
        where = Loc(f.shown, parts).pointer
        note = f"{trait}: {where}: {what} (written through an intrinsic function: change it by hand)"
        if note not in f.patch.notes:
            f.patch.notes.append(note)

    def _do(self, f: _File, key: object, action) -> None:
        if key in f.done:
            return
        f.done.add(key)
        try:
            ok = action()
        except EditConflict:
            ok = False
        if not ok:
            f.patch.notes.append(f"could not edit {key!r}: change it by hand")

    # -- fixes

    def remove(self, f: _File, trait: str, parts: tuple, what: str) -> None:
        real = self.real(f, parts)
        if real is None:
            self.by_hand(f, trait, parts, what)
            return
        if real in f.deleted:
            return
        f.deleted.add(real)
        self._do(f, real, lambda: f.ed.delete(real))
        f.patch.changes.append(f"{trait}: {what}")

    def set_value(self, f: _File, trait: str, parts: tuple, value: Any, what: str) -> None:
        real = self.real(f, parts)
        if real is None or value is None:
            self.by_hand(f, trait, parts, what)
            return
        self._do(f, real, lambda: f.ed.replace(real, value))
        f.patch.changes.append(f"{trait}: {what}")

    def fix(self, finding) -> None:
        for hit in finding.hits:
            for ev in hit.evidence:
                if ev.loc is None:
                    continue
                f = self.file(ev.loc.file)
                if f is None:
                    continue
                facts = dict(ev.facts)
                parts = ev.loc.parts
                t = hit.trait_id
                if parts[:1] == ("Parameters",) and t in _SAFE_DEFAULT:
                    # the value is a parameter's default: the safe value instead
                    value = _SAFE_DEFAULT[t]
                    self.set_value(f, t, parts, value, f"{parts[1]}: default {value}")
                elif t == "privileged-container":
                    self.remove(f, t, parts, f"container {facts.get('container')}: Privileged removed")
                elif t in ("host-pid-namespace", "host-ipc-namespace"):
                    self.remove(f, t, parts, f"{parts[-1]} removed")
                elif t == "host-network-mode":
                    mode = self.options.network_mode
                    why = f"NetworkMode: {mode} (the service then needs subnets and security groups)"
                    self.set_value(f, t, parts, mode, why)
                elif t == "public-ip":
                    why = "AssignPublicIp: DISABLED (egress then needs a NAT gateway or VPC endpoints)"
                    self.set_value(f, t, parts, "DISABLED", why)
                elif t == "open-security-group":
                    self.close_rule(f, parts, facts)
                elif t == "host-filesystem-mount":
                    self.unmount(f, parts, facts)
                elif t == "dangerous-capabilities":
                    self.drop_capabilities(f, parts, facts)
                elif t == "plaintext-credentials":
                    self.move_credential(f, ev, facts)
                elif t in ("admin-access-role", "service-admin-role", "credentials-outside-environment"):
                    note = f"{t}: {ev.summary.split(' (')[0]}: needs a human decision (see fix -f text)"
                    if note not in f.patch.notes:
                        f.patch.notes.append(note)

    def close_rule(self, f: _File, parts: tuple, facts: dict) -> None:
        cidr = facts.get("cidr")
        v6 = cidr == "::/0"
        name = "AllowedIngressCidrIpv6" if v6 else "AllowedIngressCidr"
        key = "CidrIpv6" if v6 else "CidrIp"
        target = parts if parts[:1] == ("Parameters",) else (*parts, key)
        allow = [c for c in self.options.allow_cidrs if (":" in c) == v6]
        if parts[:1] == ("Parameters",):
            self.set_value(
                f,
                "open-security-group",
                target,
                allow[0] if allow else None,
                f"default source range {allow[0] if allow else ''}",
            )
            return
        spec: dict[str, Any] = {
            "Type": "String",
            "Description": "Source range allowed to reach the tasks (set by ecs-exposure fix)",
        }
        if allow:
            spec["Default"] = allow[0]
        f.params.setdefault(name, spec)
        self.set_value(
            f, "open-security-group", target, {"Ref": name}, f"{key} {cidr} replaced by parameter {name}"
        )

    def unmount(self, f: _File, parts: tuple, facts: dict) -> None:
        # parts: …/ContainerDefinitions/i/MountPoints/j; the volume is the task definition's
        self.remove(
            f,
            "host-filesystem-mount",
            parts,
            f"container {facts.get('container')}: mount of host volume {facts.get('volume')} removed",
        )
        td_parts = parts[: parts.index("ContainerDefinitions")] if "ContainerDefinitions" in parts else None
        if td_parts is None:
            return
        volumes = self._raw(f, f.pos.real((*td_parts, "Volumes")))
        if isinstance(volumes, list):
            for i, v in enumerate(volumes):
                if (
                    isinstance(v, dict)
                    and v.get("Name") == facts.get("volume")
                    and not self._still_mounted(f, td_parts, facts.get("volume"), parts)
                ):
                    self.remove(
                        f,
                        "host-filesystem-mount",
                        (*td_parts, "Volumes", i),
                        f"host volume {facts.get('volume')} removed",
                    )

    def _still_mounted(self, f: _File, td_parts: tuple, volume: object, removing: tuple) -> bool:
        defs = self._raw(f, f.pos.real((*td_parts, "ContainerDefinitions")))
        for i, c in enumerate(defs if isinstance(defs, list) else []):
            for j, m in enumerate((c.get("MountPoints") or []) if isinstance(c, dict) else []):
                path = (*td_parts, "ContainerDefinitions", i, "MountPoints", j)
                if (
                    isinstance(m, dict)
                    and m.get("SourceVolume") == volume
                    and f.pos.real(path) not in f.deleted
                    and path != removing
                ):
                    return True
        return False

    def drop_capabilities(self, f: _File, parts: tuple, facts: dict) -> None:
        if parts[-1] == "Add":
            items = self._raw(f, self.real(f, parts) or ())
            if not isinstance(items, list):
                self.by_hand(f, "dangerous-capabilities", parts, "remove the dangerous capabilities")
                return
            for i, cap in enumerate(items):
                if isinstance(cap, str) and normalise(cap) in DANGEROUS:
                    self.remove(
                        f,
                        "dangerous-capabilities",
                        (*parts, i),
                        f"container {facts.get('container')}: capability {normalise(cap)} removed",
                    )
        else:  # a host device
            self.remove(
                f,
                "dangerous-capabilities",
                parts,
                f"container {facts.get('container')}: host device {facts.get('hostPath')} removed",
            )

    def _raw(self, f: _File, real: tuple) -> Any:
        node: Any = f.doc
        for p in real:
            try:
                node = node[p]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def move_credential(self, f: _File, ev, facts: dict) -> None:
        parts = ev.loc.parts
        used = facts.get("usedAt")
        entry = (
            tuple(int(p) if p.isdigit() else p for p in used.strip("/").split("/"))
            if isinstance(used, str)
            else parts
        )
        if "Environment" not in entry or "ContainerDefinitions" not in entry:
            return
        real_entry = self.real(f, entry)
        if real_entry is None:
            self.by_hand(f, "plaintext-credentials", entry, f"move {facts.get('variable')} to Secrets")
            return
        if real_entry in f.done:
            return
        raw = self._raw(f, real_entry)
        if not isinstance(raw, dict):
            return
        name = raw.get("Name")
        value = raw.get("Value")
        ci = entry.index("ContainerDefinitions")
        td_logical = entry[1]
        container_parts = entry[: ci + 2]
        container = self._raw(f, self.real(f, container_parts) or ())
        cname = container.get("Name") if isinstance(container, dict) else None
        base = f"{td_logical}{_camel(str(cname or 'Container'))}{_camel(str(name))}"
        secret = f"{base}Secret"
        if (
            isinstance(value, dict)
            and set(value) == {"Ref"}
            and value["Ref"] in (f.doc.get("Parameters") or {})
        ):
            param = value["Ref"]
            spec = f.doc["Parameters"][param]
            if isinstance(spec, dict) and "Default" in spec:
                self.remove(
                    f,
                    "plaintext-credentials",
                    ("Parameters", param, "Default"),
                    f"parameter {param}: literal default removed",
                )
            if isinstance(spec, dict) and str(spec.get("NoEcho", "")).lower() != "true":
                self._do(f, ("noecho", param), lambda: f.ed.add_member(("Parameters", param), "NoEcho", True))
        elif isinstance(value, str):
            param = f"{base}Value"
            f.params[param] = {
                "Type": "String",
                "NoEcho": True,
                "Description": f"{name} of container {cname} (moved to Secrets Manager by ecs-exposure fix)",
            }
        else:
            self.by_hand(f, "plaintext-credentials", entry, f"move {name} to Secrets")
            return
        f.resources[secret] = {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Description": f"{name} of container {cname} (moved out of the task definition)",
                "SecretString": {"Ref": param},
            },
        }
        self.remove(
            f, "plaintext-credentials", entry, f"container {cname}: {name} moved to Secrets ({secret})"
        )
        ref = {"Name": name, "ValueFrom": {"Ref": secret}}
        real_container = self.real(f, container_parts)
        if isinstance(container.get("Secrets"), list) and container["Secrets"]:
            self._do(
                f, ("secrets", real_container, name), lambda: f.ed.append((*real_container, "Secrets"), ref)
            )
        else:
            key = ("new-secrets", real_container)
            if key in f.done:
                self._pending_secrets[key].append(ref)
            else:
                self._pending_secrets[key] = [ref]
                f.done.add(key)
                self._pending_owner[key] = (f, real_container, container)
        f.grants[td_logical].append(secret)

    def finish(self) -> list[IacPatch]:
        for key, refs in self._pending_secrets.items():
            f, real_container, container = self._pending_owner[key]
            anchor = next((k for k in ("Name", "Image") if k in container), None)
            try:
                if not f.ed.add_member(real_container, "Secrets", refs, after=anchor):
                    f.patch.notes.append("could not add Secrets: add it by hand")
            except EditConflict:
                f.patch.notes.append("could not add Secrets: add it by hand")
        out = []
        for f in self.files.values():
            if f is None:
                continue
            for td, secrets in f.grants.items():
                self._grant(f, td, secrets)
            resources = f.doc.get("Resources") or {}
            try:
                for logical, res in f.resources.items():
                    f.ed.add_member(
                        ("Resources",), logical, res, after=list(resources)[-1] if resources else None
                    )
                if f.params:
                    if isinstance(f.doc.get("Parameters"), dict) and f.doc["Parameters"]:
                        for name, spec in f.params.items():
                            f.ed.add_member(("Parameters",), name, spec)
                    else:
                        f.ed.add_section("Parameters", f.params, "Resources")
            except EditConflict:
                f.patch.notes.append(
                    "could not add the new resources and parameters: the patch is incomplete"
                )
            f.patch.diff = unified_diff(f.shown, f.text, f.ed.result())
            if f.patch.diff or f.patch.notes:
                out.append(f.patch)
        return out

    def _grant(self, f: _File, td: str, secrets: list[str]) -> None:
        props = (f.doc.get("Resources", {}).get(td) or {}).get("Properties") or {}
        statement = {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [{"Ref": s} for s in secrets],
        }
        role = props.get("ExecutionRoleArn")
        policy = {
            "PolicyName": "ecs-exposure-secrets",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        }
        if role is None:
            name = f"{td}ExecutionRole"
            f.resources[name] = {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                    "ManagedPolicyArns": [EXEC_POLICY],
                    "Policies": [policy],
                },
            }
            anchor = next((k for k in ("Family", "Cpu", "Memory") if k in props), None)
            try:
                f.ed.add_member(
                    ("Resources", td, "Properties"),
                    "ExecutionRoleArn",
                    {"Fn::GetAtt": [name, "Arn"]},
                    after=anchor,
                )
            except EditConflict:
                f.patch.notes.append(f"{td}: set ExecutionRoleArn to {name} by hand")
            f.patch.changes.append(
                f"plaintext-credentials: {td}: new execution role {name} may read its secrets"
            )
            return
        roles: list[Any] = []
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            target = role["Fn::GetAtt"]
            target = target.split(".")[0] if isinstance(target, str) else target[0]
            roles = [{"Ref": target}]
        elif isinstance(role, str) and ":role/" in role:
            roles = [role.rsplit("/", 1)[-1]]
        if not roles:
            f.patch.notes.append(
                f"{td}: grant its execution role secretsmanager:GetSecretValue on {', '.join(secrets)}"
            )
            return
        f.resources[f"{td}SecretsAccess"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": policy["PolicyName"],
                "Roles": roles,
                "PolicyDocument": policy["PolicyDocument"],
            },
        }
        f.patch.changes.append(
            f"plaintext-credentials: {td}: its execution role may read {', '.join(secrets)}"
        )


_SAFE_DEFAULT = {
    "privileged-container": "false",
    "host-pid-namespace": "task",
    "host-ipc-namespace": "none",
    "host-network-mode": "awsvpc",
    "public-ip": "DISABLED",
}


def iac_patches(inv: Inventory, result: ScanResult, options: FixOptions, selected=None) -> list[IacPatch]:
    """The patches for the findings on infrastructure code (``selected``: the finding ids to fix)."""
    planner = _Planner(inv, options)
    for finding in result.findings:
        if selected is not None and finding.id not in selected:
            continue
        if finding.resource.loc.file in inv.positions:
            planner.fix(finding)
    return planner.finish()


def is_iac(inv: Inventory, shown: str) -> bool:
    return isinstance(inv.positions.get(shown), IacPositions)


__all__ = ["IacPatch", "Path", "iac_patches", "is_iac"]
