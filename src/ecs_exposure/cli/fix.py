"""``ecs-exposure fix``: plan the fixes (dry run), write revisions and commands, or apply them live."""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from ..engine import scan
from ..gcpause import paused_gc
from ..outputs import plans as plans_output
from ..remediation import FixOptions, plans
from ..remediation.apply import Applier, ApplyError, Journal
from ..sources import load_paths
from ..sources.snapshot import load_snapshot
from .common import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    add_aws_options,
    collect_live,
    emit_issues,
    error,
    example_path,
)

NAME = "fix"


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    f = sub.add_parser(
        NAME,
        help="plan the fix of each finding (dry run: prints what would change)",
        description="Plan the fixes the reference model recommends: new task definition revisions, "
        "service updates, security-group and IAM changes, as data. Nothing is changed in AWS.",
    )
    f.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="task definitions and snapshots, as for scan"
    )
    f.add_argument("--example", action="store_true", help="plan fixes for the built-in example estate")
    f.add_argument(
        "--finding", action="append", default=[], metavar="ID", help="only this finding (repeatable)"
    )
    f.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="ARN",
        help="only this resource, by ARN or name (repeatable)",
    )
    f.add_argument(
        "--trait", action="append", default=[], metavar="ID", help="only fix this trait (repeatable)"
    )
    f.add_argument("-f", "--format", choices=("text", "json", "commands"), default="text")
    f.add_argument(
        "--write-dir",
        type=Path,
        metavar="DIR",
        help="write each new revision as a register-task-definition --cli-input-json file",
    )
    f.add_argument(
        "--keep-privileged",
        action="store_true",
        help="keep privileged containers, with a read-only root filesystem",
    )
    f.add_argument(
        "--read-only-mounts", action="store_true", help="keep host mounts read-only instead of removing them"
    )
    f.add_argument(
        "--network-mode",
        choices=("awsvpc", "bridge"),
        default="awsvpc",
        help="replacement for networkMode host (default: awsvpc)",
    )
    f.add_argument(
        "--allow-cidr",
        action="append",
        default=[],
        metavar="CIDR",
        help="source allowed instead of 0.0.0.0/0 (repeatable)",
    )
    f.add_argument(
        "--allow-sg",
        action="append",
        default=[],
        metavar="SG",
        help="security group allowed instead of 0.0.0.0/0, e.g. the load balancer's (repeatable)",
    )
    f.add_argument("--force", action="store_true", help="also change security groups other services share")
    f.add_argument(
        "--subnet",
        action="append",
        default=[],
        metavar="ID",
        help="subnet for a service moved from networkMode host to awsvpc (repeatable)",
    )
    f.add_argument(
        "--security-group",
        action="append",
        default=[],
        metavar="ID",
        help="security group for a service moved from networkMode host to awsvpc (repeatable)",
    )
    f.add_argument(
        "--secret-name-template",
        default="ecs/{family}/{container}/{name}",
        metavar="TEMPLATE",
        help="name of each secret made from a plaintext credential",
    )
    f.add_argument(
        "--patch",
        type=Path,
        metavar="FILE",
        help="infrastructure code (CloudFormation): write the fixes as a unified diff of the templates to "
        "FILE, for 'git apply' (it removes the lines that held credentials: keep it out of shared logs)",
    )
    f.add_argument("--aws", action="store_true", help="read the estate live from AWS (needed to --apply)")
    f.add_argument(
        "--apply",
        action="store_true",
        help="make the changes in AWS (with --aws); the default is a dry run that only prints the plan",
    )
    f.add_argument(
        "--apply-iam",
        action="store_true",
        help="with --apply: also narrow IAM policies (detach AdministratorAccess, remove wildcard "
        "statements); without it IAM changes are only printed",
    )
    f.add_argument(
        "--journal",
        type=Path,
        metavar="FILE",
        help="where --apply records every change and its undo (default: ecs-exposure-journal-TIME.json)",
    )
    add_aws_options(f)
    f.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    f.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    paths: list[Path] = list(args.paths) + ([example_path()] if args.example else [])
    if not paths and not args.aws:
        error("give at least one PATH, --example, or --aws")
        return EXIT_USAGE
    options = FixOptions(
        keep_privileged=args.keep_privileged,
        read_only_mounts=args.read_only_mounts,
        network_mode=args.network_mode,
        allow_cidrs=tuple(args.allow_cidr),
        allow_sgs=tuple(args.allow_sg),
        force_shared_groups=args.force,
        subnets=tuple(args.subnet),
        security_groups=tuple(args.security_group),
        secret_name_template=args.secret_name_template,
    )
    if args.apply and not args.aws:
        error("--apply needs --aws: fixes are applied to the live estate")
        return EXIT_USAGE
    collected = None
    if args.aws:
        collected, code = collect_live(args)
        if collected is None:
            return code
    with paused_gc():
        inventory = load_paths(paths)
        if collected is not None:
            inventory.merge(load_snapshot(copy.deepcopy(collected), "aws"))
        result = scan(inventory)
        if args.patch is not None:
            return _write_patch(args, inventory, result, options)
        found = plans(
            inventory,
            result,
            options,
            set(args.finding) or None,
            set(args.service) or None,
            set(args.trait) or None,
            args.write_dir,
            {"aws": collected} if collected is not None else None,
        )
    if args.write_dir is not None:
        args.write_dir.mkdir(parents=True, exist_ok=True)
        for p in found:
            if p.new_revision is None:
                continue
            if any("credentials-outside-environment" in n for n in p.notes):
                print(
                    f"ecs-exposure: note: {p.resource}: new revision not written, it would still hold a "
                    "credential (fix its command, labels or secret references by hand)",
                    file=sys.stderr,
                )
                continue
            target = args.write_dir / p.revision_file
            target.write_bytes(
                orjson.dumps(p.new_revision, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
            )
    if args.format == "json":
        sys.stdout.buffer.write(plans_output.render_json(found))
    elif args.format == "commands":
        sys.stdout.write("".join(c + "\n" for p in found for c in p.commands))
    else:
        sys.stdout.write(plans_output.render_text(found))
    emit_issues(result)
    if args.apply:
        return _apply(args, found, collected or {})
    return EXIT_OK if result.complete else EXIT_INCOMPLETE


def _write_patch(args: argparse.Namespace, inventory, result, options: FixOptions) -> int:
    from ..remediation.iac_patch import iac_patches

    patches = iac_patches(inventory, result, options, set(args.finding) or None)
    text = "".join(p.diff for p in patches)
    try:
        fd = os.open(args.patch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as e:
        error(f"{args.patch}: cannot write: {e.strerror}")
        return EXIT_USAGE
    for p in patches:
        for change in p.changes:
            print(f"{p.path}: {change}")
        for note in p.notes:
            print(f"{p.path}: by hand: {note}")
    changed = sum(1 for p in patches if p.diff)
    print(
        f"ecs-exposure: {args.patch}: {changed} file{'s' if changed != 1 else ''} patched"
        + ("" if changed else " (nothing to change in infrastructure code)")
        + f"; apply with: git apply {args.patch}",
        file=sys.stderr,
    )
    emit_issues(result)
    return EXIT_OK if result.complete else EXIT_INCOMPLETE


def region_clients(profile: str | None, endpoint_url: str | None) -> Callable[[str | None], dict]:
    import boto3

    session = boto3.Session(profile_name=profile)
    cache: dict[str | None, dict] = {}

    def clients(region: str | None) -> dict:
        if region not in cache:
            cache[region] = {
                n: session.client(n, region_name=region or session.region_name, endpoint_url=endpoint_url)
                for n in ("ecs", "ec2", "iam", "secretsmanager")
            }
        return cache[region]

    return clients


def _apply(args: argparse.Namespace, found: list, collected: dict) -> int:
    if not found:
        print("ecs-exposure: nothing to apply", file=sys.stderr)
        return EXIT_OK
    journal_path = args.journal or Path(f"ecs-exposure-journal-{time.strftime('%Y%m%dT%H%M%S')}.json")
    journal = Journal(journal_path)
    clients = region_clients(args.profile, args.endpoint_url)
    services = {
        s.get("serviceArn"): s
        for a in collected.get("accounts", [])
        for r in a.get("regions", [])
        for s in (r.get("ecs") or {}).get("services") or []
    }
    task_defs = {
        t.get("taskDefinitionArn"): t
        for a in collected.get("accounts", [])
        for r in a.get("regions", [])
        for t in (r.get("ecs") or {}).get("taskDefinitions") or []
    }
    for plan in found:
        region = plan.resource_uid.split(":")[3] if plan.resource_uid.startswith("arn:") else None
        applier = Applier(clients(region), journal, region or "", apply_iam=args.apply_iam)
        try:
            applier.apply(plan, task_defs.get(plan.task_definition_arn), services.get(plan.resource_uid))
        except ApplyError as e:
            for line in applier.log:
                print(f"ecs-exposure: applied: {line}", file=sys.stderr)
            print(
                f"ecs-exposure: error: {e}; stopped. Undo what was done with: ecs-exposure rollback "
                f"{journal_path}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        for line in applier.log:
            print(f"ecs-exposure: applied: {line}", file=sys.stderr)
    journal.save()
    print(
        f"ecs-exposure: journal written to {journal_path} (undo with: ecs-exposure rollback {journal_path})",
        file=sys.stderr,
    )
    return EXIT_OK
