"""Inline suppressions in infrastructure code → :class:`~ecs_exposure.model.SuppressionRule`.

Two spellings, each with a mandatory reason:

- a comment on or above a resource, or inside it (YAML; HCL for Terraform)::

      # ecs-exposure:ignore privileged-container the agent needs the host's devices
      Agent:
        Type: AWS::ECS::TaskDefinition

- CloudFormation resource metadata (JSON and YAML)::

      Metadata:
        ecs-exposure:
          ignore:
            - trait: privileged-container
              reason: the agent needs the host's devices

A rule covers the resource it is written on and every finding resource (service, or task definition
run by none) that uses it: a rule on a security group covers the services in it. It is recorded with
its source (``file:line``); a suppressed trait is reported as suppressed, never dropped. A malformed
one — no reason, an unknown trait — is reported as a problem of the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ...model import Inventory, ScanIssue, SuppressionRule

COMMENT = re.compile(r"#\s*ecs-exposure:ignore\b[ \t]*(?P<rest>.*)$")
_REF_TYPES = ("Ref", "Fn::GetAtt", "Fn::Sub")


def known_traits() -> frozenset[str]:
    # the registry sits above the sources; read only its ids, when a suppression is found
    from ...traits import registry

    return frozenset(registry())


def parse_comment(rest: str) -> tuple[str | None, str | None]:
    """``TRAIT reason words`` → (trait, reason)."""
    words = rest.strip().split(None, 1)
    if not words:
        return None, None
    reason = words[1].strip() if len(words) > 1 else None
    return words[0], reason or None


# --------------------------------------------------------------------------- references


def _refs(value: object, out: set[str]) -> None:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if len(v) == 1:
                ((k, arg),) = v.items()
                if k == "Ref" and isinstance(arg, str):
                    out.add(arg)
                elif k == "Fn::GetAtt":
                    first = (
                        arg.split(".", 1)[0]
                        if isinstance(arg, str)
                        else arg[0]
                        if isinstance(arg, list) and arg
                        else None
                    )
                    if isinstance(first, str):
                        out.add(first)
                elif k == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) and arg else arg
                    if isinstance(text, str):
                        out.update(n.split(".", 1)[0] for n in re.findall(r"\$\{([^!}][^}]*)\}", text))
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def related(resources: dict[str, dict]) -> dict[str, set[str]]:
    """For each service and task definition: the logical ids it uses (forward references, and the
    listeners and load balancers in front of its target groups)."""
    fwd: dict[str, set[str]] = {}
    for logical, res in resources.items():
        out: set[str] = set()
        _refs(res.get("Properties"), out)
        fwd[logical] = out & resources.keys()

    def closure(start: str) -> set[str]:
        seen = {start}
        todo = [start]
        while todo:
            for n in fwd.get(todo.pop(), ()):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    out: dict[str, set[str]] = {}
    for logical, res in resources.items():
        if res.get("Type") not in ("AWS::ECS::Service", "AWS::ECS::TaskDefinition"):
            continue
        mine = closure(logical)
        for other, refs in fwd.items():  # listeners and rules forwarding to one of its target groups
            if (
                other not in mine
                and str(resources[other].get("Type", "")).startswith("AWS::ElasticLoadBalancingV2::Listener")
                and refs & mine
            ):
                mine |= closure(other)
        out[logical] = mine
    return out


# --------------------------------------------------------------------------- the template


def _resource_lines(text: str) -> list[tuple[str, int, int]]:
    """(logical id, first line, last line) of each resource, 1-based, from the YAML's marks."""
    from .positions import YamlText

    try:
        index = YamlText(text)
    except Exception:
        return []
    found, exact = index.span(("Resources",))
    if found is None or not exact or found.node is None or not hasattr(found.node, "value"):
        return []
    lines = text.splitlines()
    out = []
    for k, v in found.node.value:
        if not isinstance(getattr(k, "value", None), str):
            continue
        # a block ends where the next key starts: its last line is the last one with content
        end = v.end_mark
        last = end.line + (1 if text[end.index - end.column : end.index].strip() else 0)
        while last > k.start_mark.line + 1 and (
            not lines[last - 1].strip() or lines[last - 1].lstrip().startswith("#")
        ):
            last -= 1
        out.append((k.value, k.start_mark.line + 1, last))
    return out


def _comments(text: str) -> Iterable[tuple[int, str, bool]]:
    """(line, the text after the marker, whether the line holds only the comment)."""
    for n, line in enumerate(text.splitlines(), 1):
        if "ecs-exposure:ignore" not in line:
            continue
        mt = COMMENT.search(line)
        if mt:
            yield n, mt.group("rest"), line.lstrip().startswith("#")


def template_suppressions(doc: dict, shown: str, inv: Inventory, yaml_text: str | None) -> None:
    """Add the inline suppressions of one CloudFormation template to ``inv``."""
    resources = {k: v for k, v in (doc.get("Resources") or {}).items() if isinstance(v, dict)}
    declared: list[tuple[str, str | None, str | None, str]] = []  # (logical id, trait, reason, source)
    for logical, res in resources.items():
        meta = res.get("Metadata")
        block = meta.get("ecs-exposure") if isinstance(meta, dict) else None
        if block is None:
            continue
        items = block.get("ignore") if isinstance(block, dict) else None
        where = f"{shown}: Resources.{logical}.Metadata.ecs-exposure"
        if not isinstance(items, list):
            inv.issues.append(
                ScanIssue(
                    shown,
                    f"Resources.{logical}.Metadata.ecs-exposure",
                    "expected ignore: a list of {trait, reason}",
                )
            )
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                inv.issues.append(
                    ScanIssue(
                        shown,
                        f"Resources.{logical}.Metadata.ecs-exposure.ignore[{i}]",
                        "expected {trait, reason}",
                    )
                )
                continue
            trait, reason = item.get("trait"), item.get("reason")
            declared.append(
                (
                    logical,
                    trait if isinstance(trait, str) else None,
                    reason if isinstance(reason, str) and reason.strip() else None,
                    f"{where}.ignore[{i}]",
                )
            )
    if yaml_text is not None and "ecs-exposure:ignore" in yaml_text:
        spans = _resource_lines(yaml_text)
        for line, rest, alone in _comments(yaml_text):
            owner = next((name for name, first, last in spans if first <= line <= last), None)
            if owner is None and alone:
                owner = next(
                    (
                        name
                        for name, first, _ in spans
                        if first > line and _only_comments(yaml_text, line, first)
                    ),
                    None,
                )
            trait, reason = parse_comment(rest)
            if owner is None:
                inv.issues.append(
                    ScanIssue(f"{shown}:{line}", "", "ecs-exposure:ignore is not on or above a resource")
                )
                continue
            declared.append((owner, trait, reason, f"{shown}:{line}"))
    if not declared:
        return
    traits = known_traits()
    users = related(resources)
    for logical, trait, reason, source in declared:
        if trait is None:
            inv.issues.append(ScanIssue(source, "", "ecs-exposure:ignore names no trait"))
            continue
        if trait not in traits:
            inv.issues.append(
                ScanIssue(
                    source,
                    "",
                    f"ecs-exposure:ignore names an unknown trait {trait!r} (see 'ecs-exposure traits')",
                )
            )
            continue
        if reason is None:
            inv.issues.append(ScanIssue(source, "", f"ecs-exposure:ignore {trait} needs a reason"))
            continue
        uids = [f"{shown}#/Resources/{logical}"] + [
            f"{shown}#/Resources/{r}" for r, uses in sorted(users.items()) if logical in uses and r != logical
        ]
        inv.suppressions.append(
            SuppressionRule(
                reason=reason, source=source, traits=(trait,), resources=tuple(uids), paths=(shown,)
            )
        )


def _only_comments(text: str, after: int, before: int) -> bool:
    lines = text.splitlines()
    return all(not ln.strip() or ln.lstrip().startswith("#") for ln in lines[after : before - 1])
