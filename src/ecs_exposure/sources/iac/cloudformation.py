"""CloudFormation templates (JSON or YAML with short intrinsic tags, ``cdk synth`` output, SAM) →
the inventory.

References are resolved inside the template (``Ref``, ``Fn::GetAtt``, ``Fn::Sub`` in both forms,
``Fn::Join``, ``Fn::Select``, ``Fn::Split``, ``Fn::FindInMap``, ``Fn::If``, ``Fn::Base64``,
parameters with defaults, pseudo parameters), so that a service, its task definition, security
groups, load balancer and roles are linked. What only deploy time decides — a parameter without
default, ``Fn::ImportValue``, a ``{{resolve:…}}`` dynamic reference, a nested stack's output, the
account and region — is an :class:`~.values.Unknown`. Both branches of ``Fn::If`` are evaluated:
in a list both items are kept, elsewhere the branches are merged (the riskier scalar wins), and the
evidence names the condition.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...model import Inventory, Loc, Origin, ScanIssue
from ..reader import Reader
from . import mapping as m
from .locs import USER_MAPS, PascalLoc
from .positions import IacPositions, Parts
from .values import NO_VALUE, Unknown, Value, concat, text_of

SERVERLESS = "AWS::Serverless-2016-10-31"

# the resource types read; any other is kept only as a reference target
ECS_TYPES = {"AWS::ECS::TaskDefinition", "AWS::ECS::Service"}


def is_template(doc: object) -> bool:
    if not isinstance(doc, dict):
        return False
    resources = doc.get("Resources")
    if isinstance(resources, dict) and resources:
        return all(isinstance(r, dict) and isinstance(r.get("Type"), str) for r in resources.values())
    return "AWSTemplateFormatVersion" in doc


def has_serverless_transform(doc: dict) -> bool:
    t = doc.get("Transform")
    return t == SERVERLESS or (isinstance(t, list) and SERVERLESS in t)


# --------------------------------------------------------------------------- resolution

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_DYNAMIC = re.compile(r"\{\{resolve:(ssm-secure|ssm|secretsmanager):[^}]*\}\}")

# Fn::If outside a list: the branch value that carries the risk wins (a trait in either branch is
# reported, naming the condition); a missing value counts as the API default
_RISKY: dict[str, object] = {
    "Privileged": True,
    "EnableExecuteCommand": True,
    "NetworkMode": "host",
    "PidMode": "host",
    "IpcMode": "host",
    "AssignPublicIp": "ENABLED",
    "Scheme": "internet-facing",
    "CidrIp": "0.0.0.0/0",
    "CidrIpv6": "::/0",
    "ReadonlyRootFilesystem": False,
    "ReadOnly": False,
}
_MAX_STEPS = 2_000_000  # values visited per template: YAML aliases can make a small file huge


class TemplateTooLarge(Exception):
    pass


def _same(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    return a == b


class Resolver:
    """Resolves values of one template, recording aliases and origins in its position map."""

    def __init__(self, doc: dict, shown: str, pos: IacPositions) -> None:
        self.doc = doc
        self.shown = shown
        self.pos = pos
        self.params = doc.get("Parameters") if isinstance(doc.get("Parameters"), dict) else {}
        self.mappings = doc.get("Mappings") if isinstance(doc.get("Mappings"), dict) else {}
        self.resources: dict[str, dict] = {
            k: v for k, v in (doc.get("Resources") or {}).items() if isinstance(v, dict)
        }
        self.steps = 0
        self.refs: dict[str, Callable[[str], Value]] = {}  # logical id → Ref value (set by the loader)
        self.getatts: dict[str, Callable[[str], Value]] = {}

    # -- entry point

    def resolve(self, value: Value, vpath: Parts, conds: tuple[str, ...] = ()) -> Value:
        return self._r(value, vpath, vpath, conds)

    def _alias(self, vpath: Parts, rpath: Parts) -> None:
        if vpath != rpath:
            self.pos.aliases[vpath] = rpath

    def _origin(
        self, vpath: Parts, conds: tuple[str, ...], defined_at: Parts | None = None, via: str | None = None
    ):
        if conds or defined_at is not None:
            self.pos.origins[vpath] = Origin(conds, defined_at, via)

    def _r(self, v: Value, vpath: Parts, rpath: Parts, conds: tuple[str, ...]) -> Value:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise TemplateTooLarge
        if isinstance(v, str):
            if "{{resolve:" in v:
                return self._dynamic(v)
            return v
        if isinstance(v, dict):
            if len(v) == 1:
                ((k, arg),) = v.items()
                if k == "Ref" or (isinstance(k, str) and k.startswith("Fn::")):
                    return self._fn(k, arg, vpath, rpath, conds)
            out = {}
            for k, x in v.items():
                r = self._r(x, (*vpath, k), (*rpath, k), conds)
                if r is not NO_VALUE:
                    out[k] = r
            return out
        if isinstance(v, list):
            return self._list(v, vpath, rpath, conds)
        return v

    def _list(self, items: list, vpath: Parts, rpath: Parts, conds: tuple[str, ...]) -> list:
        out: list = []
        for i, item in enumerate(items):
            if isinstance(item, dict) and len(item) == 1 and "Fn::If" in item:
                arg = item["Fn::If"]
                if isinstance(arg, list) and len(arg) == 3:
                    cond = text_of(arg[0]) or "?"
                    for b, word in ((1, "true"), (2, "false")):
                        branch_r = (*rpath, i, "Fn::If", b)
                        bconds = (*conds, f"condition {cond} is {word}")
                        target = (*vpath, len(out))
                        r = self._r(arg[b], target, branch_r, bconds)
                        if r is NO_VALUE:
                            continue
                        self._alias(target, branch_r)
                        self._origin(target, bconds)
                        out.append(r)
                    continue
            target = (*vpath, len(out))
            r = self._r(item, target, (*rpath, i), conds)
            if r is NO_VALUE:
                continue
            if len(out) != i:
                self._alias(target, (*rpath, i))
            out.append(r)
        return out

    def _dynamic(self, text: str) -> Value:
        m_ = _DYNAMIC.search(text)
        service = m_.group(1) if m_ else "ssm"
        return Unknown(
            f"dynamic reference {{{{resolve:{service}:…}}}}, resolved at deploy",
            text,
            sensitive=service in ("ssm-secure", "secretsmanager"),
        )

    # -- intrinsic functions

    def _fn(self, fn: str, arg: Any, vpath: Parts, rpath: Parts, conds: tuple[str, ...]) -> Value:
        here = (*rpath, fn)
        if fn == "Ref":
            return self.ref(text_of(arg) or "", vpath, conds)
        if fn == "Fn::GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            if isinstance(arg, list) and len(arg) == 2:
                attr = self._r(arg[1], vpath, (*here, 1), conds)
                return self.getatt(text_of(arg[0]) or "", text_of(attr) or "")
            return Unknown("malformed Fn::GetAtt", "<Fn::GetAtt>")
        if fn == "Fn::Sub":
            return self._sub(arg, vpath, here, conds)
        if fn == "Fn::Join":
            if isinstance(arg, list) and len(arg) == 2:
                sep = text_of(self._r(arg[0], vpath, (*here, 0), conds)) or ""
                items = self._r(arg[1], vpath, (*here, 1), conds)
                if type(items) is Unknown:
                    return Unknown(items.reason, items.text, items.sensitive)
                if isinstance(items, list):
                    return concat(items, sep)
            return Unknown("malformed Fn::Join", "<Fn::Join>")
        if fn == "Fn::Select":
            if isinstance(arg, list) and len(arg) == 2:
                idx = self._r(arg[0], vpath, (*here, 0), conds)
                items = self._r(arg[1], vpath, (*here, 1), conds)
                try:
                    n = int(idx)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    n = None
                if isinstance(items, list) and n is not None and 0 <= n < len(items):
                    return items[n]
                if type(items) is Unknown:
                    return Unknown(items.reason, f"<element {idx} of {items.text}>", items.sensitive)
                if type(idx) is Unknown:
                    return Unknown(idx.reason, "<Fn::Select>")
            return Unknown("Fn::Select out of range or malformed", "<Fn::Select>")
        if fn == "Fn::Split":
            if isinstance(arg, list) and len(arg) == 2:
                sep = text_of(self._r(arg[0], vpath, (*here, 0), conds)) or ","
                s = self._r(arg[1], vpath, (*here, 1), conds)
                if isinstance(s, str):
                    return s.split(sep)
                if type(s) is Unknown:
                    return Unknown(s.reason, s.text, s.sensitive)
            return Unknown("malformed Fn::Split", "<Fn::Split>")
        if fn == "Fn::FindInMap":
            return self._find_in_map(arg, vpath, here, conds)
        if fn == "Fn::If":
            return self._if(arg, vpath, here, conds)
        if fn == "Fn::ImportValue":
            name = self._r(arg, vpath, here, conds)
            return Unknown(
                f"Fn::ImportValue {text_of(name)}: exported by another stack",
                f"<ImportValue {text_of(name)}>",
            )
        if fn == "Fn::Base64":
            s = self._r(arg, vpath, here, conds)
            if isinstance(s, str):
                return base64.b64encode(s.encode()).decode()
            return s if type(s) is Unknown else Unknown("Fn::Base64 of a structure", "<Fn::Base64>")
        if fn == "Fn::Length":
            items = self._r(arg, vpath, here, conds)
            return (
                len(items)
                if isinstance(items, list)
                else Unknown("Fn::Length of an open list", "<Fn::Length>")
            )
        if fn == "Fn::ToJsonString":
            r = self._r(arg, vpath, here, conds)
            from .values import first_unknown, plain

            u = first_unknown(r)
            return Unknown(u.reason, json.dumps(plain(r)), u.sensitive) if u else json.dumps(plain(r))
        if fn == "Fn::GetAZs":
            return Unknown("Fn::GetAZs: the region's zones", "<availability zones>")
        return Unknown(f"{fn} is decided at deploy", f"<{fn}>")

    def _sub(self, arg: Any, vpath: Parts, here: Parts, conds: tuple[str, ...]) -> Value:
        variables: dict[str, Value] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            for k, x in arg[1].items():
                variables[k] = self._r(x, vpath, (*here, 1, k), conds)
            template = arg[0]
        else:
            template = arg
        if not isinstance(template, str):
            return Unknown("malformed Fn::Sub", "<Fn::Sub>")
        parts: list[Value] = []
        last = 0
        for mt in _SUB_VAR.finditer(template):
            parts.append(template[last : mt.start()])
            last = mt.end()
            name = mt.group(1)
            if name.startswith("!"):
                parts.append("${" + name[1:] + "}")
                continue
            name = name.strip()
            if name in variables:
                parts.append(variables[name])
            elif "." in name and not name.startswith("AWS::"):
                res, attr = name.split(".", 1)
                parts.append(self.getatt(res, attr))
            else:
                parts.append(self.ref(name, None, conds))
        parts.append(template[last:])
        out = concat(parts)
        if isinstance(out, str) and "{{resolve:" in out:
            return self._dynamic(out)
        return out

    def _find_in_map(self, arg: Any, vpath: Parts, here: Parts, conds: tuple[str, ...]) -> Value:
        if not isinstance(arg, list) or len(arg) < 3:
            return Unknown("malformed Fn::FindInMap", "<Fn::FindInMap>")
        keys = [self._r(a, vpath, (*here, i), conds) for i, a in enumerate(arg[:3])]
        default = None
        if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
            default = self._r(arg[3]["DefaultValue"], vpath, (*here, 3, "DefaultValue"), conds)
        table = self.mappings.get(text_of(keys[0]) or "")
        if not isinstance(table, dict):
            return (
                default
                if default is not None
                else Unknown(f"mapping {text_of(keys[0])} not in the template", "<Fn::FindInMap>")
            )
        k1, k2 = keys[1], keys[2]
        if type(k1) is Unknown or type(k2) is Unknown:
            # an open key: the value is known only when every candidate agrees
            rows = [table.get(k1)] if type(k1) is not Unknown else list(table.values())
            cands = [
                row.get(k2) if type(k2) is not Unknown else v
                for row in rows
                if isinstance(row, dict)
                for v in ([None] if type(k2) is not Unknown else row.values())
            ]
            cands = [c for c in cands if c is not None]
            if cands and all(c == cands[0] for c in cands):
                return self._r(cands[0], vpath, vpath, conds)
            u = k1 if type(k1) is Unknown else k2
            return Unknown(
                f"Fn::FindInMap {text_of(keys[0])} with a key set at deploy ({u.reason})", "<Fn::FindInMap>"
            )
        row = table.get(text_of(k1))
        if isinstance(row, dict) and text_of(k2) in row:
            where = ("Mappings", text_of(keys[0]), text_of(k1), text_of(k2))
            value = self._r(row[text_of(k2)], vpath, where, conds)  # type: ignore[arg-type]
            self._alias(vpath, where)  # type: ignore[arg-type]
            self._origin(vpath, conds, where, f"mapping {text_of(keys[0])}")  # type: ignore[arg-type]
            return value
        if default is not None:
            return default
        return Unknown(
            f"Fn::FindInMap: no {text_of(k1)}/{text_of(k2)} in mapping {text_of(keys[0])}", "<Fn::FindInMap>"
        )

    def _if(self, arg: Any, vpath: Parts, here: Parts, conds: tuple[str, ...]) -> Value:
        if not isinstance(arg, list) or len(arg) != 3:
            return Unknown("malformed Fn::If", "<Fn::If>")
        cond = text_of(arg[0]) or "?"
        a = self._r(arg[1], vpath, (*here, 1), (*conds, f"condition {cond} is true"))
        b = self._r(arg[2], vpath, (*here, 2), (*conds, f"condition {cond} is false"))
        key = next((p for p in reversed(vpath) if isinstance(p, str)), "")
        merged, branch = self._merge(key, a, b)
        self._origin(
            vpath,
            (*conds, f"condition {cond} is {'true' if branch == 1 else 'false'}")
            if branch
            else (*conds, f"condition {cond}"),
        )
        if branch:
            self._alias(vpath, (*here, branch))
        return merged

    def _merge(self, key: str, a: Value, b: Value) -> tuple[Value, int]:
        """Both branches of an Fn::If: (merged value, the branch it came from or 0 for both)."""
        if a is NO_VALUE and b is NO_VALUE:
            return NO_VALUE, 0
        risky = _RISKY.get(key, NO_VALUE)
        if risky is False:  # a flag whose absence is the risk
            for v, n in ((a, 1), (b, 2)):
                if v is NO_VALUE or v is False or (isinstance(v, str) and v.lower() == "false"):
                    return v, n
        if a is NO_VALUE:
            return b, 2
        if b is NO_VALUE:
            return a, 1
        if isinstance(a, dict) and isinstance(b, dict):
            out = dict(b)
            for k, v in a.items():
                out[k] = self._merge(k, v, b[k])[0] if k in b else v
            return out, 0
        if isinstance(a, list) and isinstance(b, list):
            return a + [x for x in b if x not in a], 0
        if risky is not NO_VALUE:
            for v, n in ((a, 1), (b, 2)):
                if _same(v, risky):
                    return v, n
        if key == "Value":  # an environment value: a literal may be a credential
            for v, n in ((a, 1), (b, 2)):
                if isinstance(v, str) and v:
                    return v, n
        for v, n in ((a, 1), (b, 2)):
            if type(v) is Unknown:
                return v, n
        return a, 1

    # -- names

    def ref(self, name: str, vpath: Parts | None, conds: tuple[str, ...]) -> Value:
        if name.startswith("AWS::"):
            return _pseudo(name)
        if name in self.params:
            return self._param(name, vpath, conds)
        if name in self.refs:
            return self.refs[name](name)
        if name in self.resources:
            return f"<{name}>"
        return Unknown(f"Ref {name}: not in the template", f"<{name}>")

    def getatt(self, resource: str, attr: str) -> Value:
        if resource in self.getatts:
            return self.getatts[resource](attr)
        return Unknown(f"Fn::GetAtt {resource}.{attr}: not in the template", f"<{resource}.{attr}>")

    def _param(self, name: str, vpath: Parts | None, conds: tuple[str, ...]) -> Value:
        spec = self.params[name] if isinstance(self.params[name], dict) else {}
        noecho = str(spec.get("NoEcho", "")).lower() == "true"
        ptype = str(spec.get("Type", "String"))
        if ptype.startswith("AWS::SSM::Parameter::Value"):
            return Unknown(
                f"parameter {name} is read from SSM parameter {spec.get('Default')} at deploy",
                f"<parameter {name}>",
            )
        if "Default" not in spec:
            return Unknown(f"parameter {name} has no default", f"<parameter {name}>", sensitive=noecho)
        default = spec["Default"]
        if ptype == "CommaDelimitedList" or ptype.startswith("List<"):
            value: Value = (
                [s.strip() for s in str(default).split(",")] if isinstance(default, str) else default
            )
        elif isinstance(default, bool):
            value = "true" if default else "false"
        elif isinstance(default, int | float):
            value = str(default)
        else:
            value = default
        if vpath is not None:
            where = ("Parameters", name, "Default")
            via = f"parameter {name}'s default" + (" (NoEcho)" if noecho else "")
            self._alias(vpath, where)
            self._origin(vpath, conds, where, via)
            if len(vpath) >= 2 and vpath[-1] == "Value" and isinstance(vpath[-2], int):
                self._origin(vpath[:-1], conds, where, via)  # evidence points at the environment entry
        return value


def _pseudo(name: str) -> Value:
    if name == "AWS::NoValue":
        return NO_VALUE
    if name == "AWS::Partition":
        return "aws"
    if name == "AWS::URLSuffix":
        return "amazonaws.com"
    if name == "AWS::AccountId":
        return Unknown("the account is chosen at deploy", m.ACCOUNT)
    if name == "AWS::Region":
        return Unknown("the region is chosen at deploy", m.REGION)
    return Unknown(f"{name} is set at deploy", "${" + name + "}")


# --------------------------------------------------------------------------- API shape


def api_keys(value: Value, parent: str = "") -> Value:
    """CloudFormation's PascalCase properties → the ECS API's camelCase (user maps kept as written)."""
    if isinstance(value, dict):
        if parent[:1].upper() + parent[1:] in USER_MAPS:
            return value
        return {
            (k[:1].lower() + k[1:] if isinstance(k, str) and k != m.MEMBERS else k): api_keys(v, k)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [api_keys(v, parent) for v in value]
    return value


# --------------------------------------------------------------------------- loading


class Template:
    """One template being mapped onto the inventory."""

    def __init__(self, doc: dict, shown: str, pos: IacPositions) -> None:
        self.doc = doc
        self.shown = shown
        self.pos = pos
        self.inv = Inventory()
        self.account, self.region = m.new_inventory(shown)
        self.res = Resolver(doc, shown, pos)
        self.r = Reader()
        self.types = {k: str(v.get("Type", "")) for k, v in self.res.resources.items()}
        self.cdk = any(
            isinstance(v.get("Metadata"), dict) and "aws:cdk:path" in v["Metadata"]
            for v in self.res.resources.values()
        )
        for logical, rtype in self.types.items():
            self.res.refs[logical] = self._ref_factory(logical, rtype)
            self.res.getatts[logical] = self._getatt_factory(logical, rtype)

    # -- identities

    def uid(self, logical: str) -> str:
        return f"{self.shown}#/Resources/{logical}"

    def loc(self, logical: str, *parts: object) -> PascalLoc:
        return PascalLoc(self.shown, ("Resources", logical, *parts))  # type: ignore[arg-type]

    def display(self, logical: str) -> str:
        meta = self.res.resources[logical].get("Metadata")
        path = meta.get("aws:cdk:path") if isinstance(meta, dict) else None
        if isinstance(path, str) and "/" in path:
            parts = path.split("/")[1:]  # drop the stack name
            if parts and parts[-1] in ("Resource", "Default"):
                parts = parts[:-1]
            return "/".join(parts) or logical
        return logical

    def name_prop(self, logical: str, prop: str) -> str:
        props = self.res.resources[logical].get("Properties")
        v = props.get(prop) if isinstance(props, dict) else None
        if v is None:
            return self.display(logical)
        t = text_of(self.res.resolve(v, ("Resources", logical, "Properties", prop)))
        return t or self.display(logical)

    def _ref_factory(self, logical: str, rtype: str) -> Callable[[str], Value]:
        def ref(_: str) -> Value:
            return self._ref(logical, rtype)

        return ref

    def _getatt_factory(self, logical: str, rtype: str) -> Callable[[str], Value]:
        def getatt(attr: str) -> Value:
            return self._getatt(logical, rtype, attr)

        return getatt

    def _ref(self, logical: str, rtype: str) -> Value:
        a, r = m.ACCOUNT, m.REGION
        if rtype in ("AWS::ECS::TaskDefinition", "AWS::ECS::Service", "AWS::ECS::TaskSet"):
            return self.uid(logical)
        if rtype == "AWS::EC2::InternetGateway":
            return f"igw-{logical}"
        if rtype in ("AWS::EC2::SecurityGroup", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "AWS::EC2::VPC"):
            return logical
        if rtype == "AWS::IAM::Role":
            return self.name_prop(logical, "RoleName")
        if rtype == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{a}:policy/{self.name_prop(logical, 'ManagedPolicyName')}"
        if rtype == "AWS::ECS::Cluster":
            return self.name_prop(logical, "ClusterName")
        if rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            return f"arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/{logical}"
        if rtype == "AWS::ElasticLoadBalancingV2::TargetGroup":
            return f"arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{logical}"
        if rtype == "AWS::ElasticLoadBalancingV2::Listener":
            return f"arn:aws:elasticloadbalancing:{r}:{a}:listener/{logical}"
        if rtype == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{r}:{a}:secret:{logical}"
        if rtype == "AWS::CloudFormation::Stack" or rtype.startswith("Custom::"):
            return Unknown(f"{logical} ({rtype}) is known at deploy", f"<{logical}>")
        return f"<{logical}>"  # a name or id AWS assigns: not a secret

    def _getatt(self, logical: str, rtype: str, attr: str) -> Value:
        a = m.ACCOUNT
        if rtype == "AWS::IAM::Role" and attr == "Arn":
            return f"arn:aws:iam::{a}:role/{self.name_prop(logical, 'RoleName')}"
        if rtype == "AWS::EC2::SecurityGroup" and attr == "GroupId":
            return logical
        if rtype in ("AWS::ECS::TaskDefinition", "AWS::ECS::Service") and attr in (
            "TaskDefinitionArn",
            "ServiceArn",
        ):
            return self.uid(logical)
        if rtype == "AWS::ECS::Service" and attr == "Name":
            return self.name_prop(logical, "ServiceName")
        if rtype == "AWS::ECS::Cluster" and attr == "Arn":
            return f"arn:aws:ecs:{m.REGION}:{a}:cluster/{self.name_prop(logical, 'ClusterName')}"
        if rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer" and attr == "SecurityGroups":
            return self.prop(logical, "SecurityGroups") or []
        if rtype == "AWS::ElasticLoadBalancingV2::TargetGroup" and attr == "TargetGroupArn":
            return self._ref(logical, rtype)
        if rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer" and attr == "LoadBalancerArn":
            return self._ref(logical, rtype)
        if rtype == "AWS::ElasticLoadBalancingV2::Listener" and attr == "ListenerArn":
            return self._ref(logical, rtype)
        if rtype == "AWS::IAM::ManagedPolicy" and attr == "PolicyArn":
            return self._ref(logical, rtype)
        return _default_getatt(self.res, logical, rtype, attr)

    # -- properties

    def props(self, logical: str) -> dict:
        raw = self.res.resources[logical].get("Properties")
        if raw is None:
            return {}
        conds = self.conditions(logical)
        v = self.res.resolve(raw, ("Resources", logical, "Properties"), conds)
        if not isinstance(v, dict):
            self.r.problem(self.loc(logical, "Properties"), "expected an object of properties")
            return {}
        return v

    def prop(self, logical: str, name: str) -> Value:
        raw = self.res.resources[logical].get("Properties")
        if not isinstance(raw, dict) or name not in raw:
            return None
        return self.res.resolve(
            raw[name], ("Resources", logical, "Properties", name), self.conditions(logical)
        )

    def conditions(self, logical: str) -> tuple[str, ...]:
        c = self.res.resources[logical].get("Condition")
        return (f"condition {c} is true",) if isinstance(c, str) else ()

    # -- the walk

    def load(self) -> Inventory:
        res = self.res.resources
        by_type: dict[str, list[str]] = {}
        for logical, rtype in self.types.items():
            by_type.setdefault(rtype, []).append(logical)
            if (c := res[logical].get("Condition")) and isinstance(c, str):
                self.pos.origins[("Resources", logical)] = Origin((f"condition {c} is true",))
        self._iam(by_type)
        self._network(by_type)
        self._load_balancing(by_type)
        for logical in by_type.get("AWS::ECS::TaskDefinition", []):
            self._task_definition(logical)
        task_sets: dict[str, list[m.TaskSetInput]] = {}
        for logical in by_type.get("AWS::ECS::TaskSet", []):
            p = self.props(logical)
            svc = text_of(p.get("Service"))
            if svc:
                task_sets.setdefault(svc, []).append(
                    m.TaskSetInput(
                        p.get("TaskDefinition"),
                        api_keys(p.get("NetworkConfiguration")),
                        api_keys(p.get("LoadBalancers")),
                        self.loc(logical, "Properties"),
                    )
                )
        for logical in by_type.get("AWS::ECS::Service", []):
            self._service(logical, task_sets)
        self.inv.accounts.append(self.account)
        self.inv.issues.extend(self.r.issues)
        return self.inv

    def _task_definition(self, logical: str) -> None:
        api = api_keys(self.props(logical))
        family = self.display(logical)
        td = m.build_task_definition(api, self.loc(logical, "Properties"), self.uid(logical), family, self.r)
        if td is not None:
            self.region.task_definitions[td.arn or self.uid(logical)] = td

    def _service(self, logical: str, task_sets: dict[str, list[m.TaskSetInput]]) -> None:
        api = api_keys(self.props(logical))
        name = text_of(api.get("serviceName")) or self.display(logical)
        svc = m.build_service(
            api,
            self.loc(logical, "Properties"),
            self.uid(logical),
            name,
            task_sets.get(self.uid(logical), []),
        )
        self.region.services.append(svc)

    def _iam(self, by_type: dict[str, list[str]]) -> None:
        roles: dict[str, object] = {}  # role name → Role
        for logical in by_type.get("AWS::IAM::Role", []):
            p = self.props(logical)
            name = self.name_prop(logical, "RoleName")
            arn = f"arn:aws:iam::{m.ACCOUNT}:role/{name}"
            inline = []
            for i, pol in enumerate(p.get("Policies") or [] if isinstance(p.get("Policies"), list) else []):
                if not isinstance(pol, dict):
                    continue
                doc = m.policy_document(
                    text_of(pol.get("PolicyName")) or f"policy {i}",
                    pol.get("PolicyDocument"),
                    self.loc(logical, "Properties", "Policies", i, "PolicyDocument"),
                )
                if doc is not None:
                    inline.append(doc)
            boundary = p.get("PermissionsBoundary")
            trust = (
                m.policy_document(
                    "AssumeRolePolicyDocument",
                    p["AssumeRolePolicyDocument"],
                    self.loc(logical, "Properties", "AssumeRolePolicyDocument"),
                )
                if "AssumeRolePolicyDocument" in p
                else None
            )
            roles[name] = m.build_role(
                arn, name, self.loc(logical), p.get("ManagedPolicyArns") or [], inline, boundary, trust
            )
        for logical in by_type.get("AWS::IAM::ManagedPolicy", []):
            p = self.props(logical)
            arn = text_of(self._ref(logical, "AWS::IAM::ManagedPolicy")) or ""
            doc = m.policy_document(
                self.name_prop(logical, "ManagedPolicyName"),
                p.get("PolicyDocument"),
                self.loc(logical, "Properties", "PolicyDocument"),
                arn,
            )
            if doc is not None:
                self.account.policies[arn] = doc  # type: ignore[index]
            for role_name in m._texts(p.get("Roles")):
                if role_name in roles:
                    roles[role_name] = m.add_to_role(roles[role_name], attached=(arn,))  # type: ignore[arg-type]
        for rtype in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy"):
            for logical in by_type.get(rtype, []):
                p = self.props(logical)
                doc = m.policy_document(
                    text_of(p.get("PolicyName")) or logical,
                    p.get("PolicyDocument"),
                    self.loc(logical, "Properties", "PolicyDocument"),
                )
                targets = (
                    m._texts(p.get("Roles")) if rtype == "AWS::IAM::Policy" else m._texts([p.get("RoleName")])
                )
                for role_name in targets:
                    if doc is not None and role_name in roles:
                        roles[role_name] = m.add_to_role(roles[role_name], inline=(doc,))  # type: ignore[arg-type]
        for role in roles.values():
            self.account.roles[role.arn] = role  # type: ignore[index, attr-defined]

    def _network(self, by_type: dict[str, list[str]]) -> None:
        rules: dict[str, list[m.RuleInput]] = {}
        for logical in by_type.get("AWS::EC2::SecurityGroup", []):
            p = self.props(logical)
            items = p.get("SecurityGroupIngress")
            rules[logical] = []
            if type(items) is Unknown:
                rules[logical].append(
                    m.RuleInput(
                        "-1", None, None, items, None, self.loc(logical, "Properties", "SecurityGroupIngress")
                    )
                )
            for i, rule in enumerate(items if isinstance(items, list) else []):
                if isinstance(rule, dict):
                    rules[logical].extend(
                        self._rules(rule, self.loc(logical, "Properties", "SecurityGroupIngress", i))
                    )
        for logical in by_type.get("AWS::EC2::SecurityGroupIngress", []):
            p = self.props(logical)
            gid = text_of(p.get("GroupId")) or text_of(p.get("GroupName"))
            if gid in rules:
                rules[gid].extend(self._rules(p, self.loc(logical, "Properties")))
        for logical, group_rules in rules.items():
            p = self.props(logical)
            self.region.security_groups[logical] = m.build_security_group(  # type: ignore[index]
                logical,
                text_of(p.get("GroupName")) or self.display(logical),
                p.get("VpcId"),
                group_rules,
                self.loc(logical),
            )
        for logical in by_type.get("AWS::EC2::Subnet", []):
            p = self.props(logical)
            self.region.subnets[logical] = m.build_subnet(
                logical, p.get("VpcId"), p.get("MapPublicIpOnLaunch"), self.loc(logical)
            )  # type: ignore[index]
        attachments: dict[str, list] = {}
        for logical in by_type.get("AWS::EC2::VPCGatewayAttachment", []):
            p = self.props(logical)
            if (igw := text_of(p.get("InternetGatewayId"))) is not None:
                attachments.setdefault(igw, []).append(p.get("VpcId"))
        for logical in by_type.get("AWS::EC2::InternetGateway", []):
            gid = f"igw-{logical}"
            self.region.internet_gateways[gid] = m.build_internet_gateway(gid, attachments.get(gid, []))  # type: ignore[index]
        routes: dict[str, list] = {}
        for logical in by_type.get("AWS::EC2::Route", []):
            p = self.props(logical)
            table = text_of(p.get("RouteTableId"))
            dest = p.get("DestinationCidrBlock") or p.get("DestinationIpv6CidrBlock")
            gateway = p.get("GatewayId")
            if gateway is None:
                gateway = next(
                    (
                        p[k]
                        for k in (
                            "NatGatewayId",
                            "TransitGatewayId",
                            "VpcPeeringConnectionId",
                            "VpcEndpointId",
                            "InstanceId",
                            "NetworkInterfaceId",
                            "EgressOnlyInternetGatewayId",
                        )
                        if k in p
                    ),
                    None,
                )
            if table:
                routes.setdefault(table, []).append((dest, gateway, self.loc(logical, "Properties")))
        associations: dict[str, list[str]] = {}
        for logical in by_type.get("AWS::EC2::SubnetRouteTableAssociation", []):
            p = self.props(logical)
            table, subnet = text_of(p.get("RouteTableId")), text_of(p.get("SubnetId"))
            if table and subnet:
                associations.setdefault(table, []).append(subnet)
        for logical in by_type.get("AWS::EC2::RouteTable", []):
            p = self.props(logical)
            self.region.route_tables.append(  # type: ignore[union-attr]
                m.build_route_table(
                    logical,
                    p.get("VpcId"),
                    associations.get(logical, []),
                    routes.get(logical, []),
                    self.loc(logical),
                )
            )

    def _rules(self, rule: dict, loc: Loc) -> list[m.RuleInput]:
        proto, lo, hi = rule.get("IpProtocol"), rule.get("FromPort"), rule.get("ToPort")
        out = []
        for key in ("CidrIp", "CidrIpv6"):
            if key in rule:
                out.append(m.RuleInput(proto, lo, hi, rule[key], None, loc))
        src = (
            rule.get("SourceSecurityGroupId")
            or rule.get("SourceSecurityGroupName")
            or rule.get("SourcePrefixListId")
        )
        if src is not None:
            out.append(m.RuleInput(proto, lo, hi, None, text_of(src) or "<source>", loc))
        return out

    def _load_balancing(self, by_type: dict[str, list[str]]) -> None:
        elb = "AWS::ElasticLoadBalancingV2::"
        for logical in by_type.get(elb + "LoadBalancer", []):
            p = self.props(logical)
            arn = text_of(self._ref(logical, elb + "LoadBalancer")) or logical
            self.region.load_balancers[arn] = m.build_load_balancer(  # type: ignore[index]
                arn,
                text_of(p.get("Name")) or self.display(logical),
                p.get("Scheme"),
                p.get("Type"),
                p.get("SecurityGroups"),
                self.loc(logical, "Properties"),
            )
        tg_lbs: dict[str, list[str]] = {}
        listeners: dict[str, object] = {}
        for logical in by_type.get(elb + "Listener", []):
            p = self.props(logical)
            arn = text_of(self._ref(logical, elb + "Listener")) or logical
            targets = m.forward_targets(p.get("DefaultActions"))
            li = m.build_listener(
                arn,
                p.get("LoadBalancerArn"),
                p.get("Port"),
                p.get("Protocol"),
                targets,
                self.loc(logical, "Properties"),
            )
            listeners[arn] = li
        for logical in by_type.get(elb + "ListenerRule", []):
            p = self.props(logical)
            listener = text_of(p.get("ListenerArn")) or ""
            targets = m.forward_targets(p.get("Actions"))
            if listener in listeners:
                li = listeners[listener]
                listeners[listener] = dataclasses.replace(
                    li, target_group_arns=tuple(dict.fromkeys(li.target_group_arns + tuple(targets)))
                )  # type: ignore[attr-defined]
            else:  # a listener of another stack: its load balancer is not in the inputs
                for tg in targets:
                    tg_lbs.setdefault(tg, []).append(f"<load balancer of listener {listener}>")
        for li in listeners.values():
            self.region.listeners.append(li)  # type: ignore[union-attr, arg-type]
            for tg in li.target_group_arns:  # type: ignore[attr-defined]
                tg_lbs.setdefault(tg, []).append(li.load_balancer_arn)  # type: ignore[attr-defined]
        for logical in by_type.get(elb + "TargetGroup", []):
            p = self.props(logical)
            arn = text_of(self._ref(logical, elb + "TargetGroup")) or logical
            self.region.target_groups[arn] = m.build_target_group(  # type: ignore[index]
                arn,
                text_of(p.get("Name")) or self.display(logical),
                list(dict.fromkeys(tg_lbs.get(arn, []))),
                p.get("Port"),
                p.get("Protocol"),
                self.loc(logical, "Properties"),
            )


def _default_getatt(res: Resolver, logical: str, rtype: str, attr: str) -> Value:
    if rtype == "AWS::CloudFormation::Stack" or rtype.startswith(
        ("Custom::", "AWS::CloudFormation::CustomResource")
    ):
        return Unknown(f"{logical}.{attr} is an output of {rtype}, known at deploy", f"<{logical}.{attr}>")
    if rtype == "AWS::SSM::Parameter" and attr == "Value":
        props = res.resources[logical].get("Properties") or {}
        return res.resolve(props.get("Value"), ("Resources", logical, "Properties", "Value"))
    return f"<{logical}.{attr}>"


def load_template(doc: dict, shown: str, path: Path | None, kind: str, text: str | None = None) -> Inventory:
    """A parsed template → inventory, with its position map registered under ``shown``."""
    pos = IacPositions(path, kind, text if path is None else None)
    t = Template(doc, shown, pos)
    try:
        inv = t.load()
    except TemplateTooLarge:
        inv = Inventory()
        inv.issues.append(ScanIssue(shown, "", "template too large once its YAML aliases are expanded"))
        return inv
    inv.positions[shown] = pos
    return inv
