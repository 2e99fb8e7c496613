"""``ecs-exposure fix``: plan the fixes (dry run), write revisions and commands, or apply them live."""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import orjson

from ..engine import ScanOptions, scan
from ..gcpause import paused_gc
from ..model import ScanResult, Status
from ..outputs import plans as plans_output
from ..outputs import plans_markdown
from ..remediation import FixOptions, Plan, commands, live, plans
from ..remediation.apply import Applier, ApplyError, finalize
from ..remediation.journal import Journal
from ..remediation.plan import IAM_FLAG, IRREVERSIBLE_FLAG, Ref, holds_ref, holds_sensitive, walk
from ..sources import load_paths
from ..sources.jsonio import file_size_limit
from ..sources.snapshot import load_snapshot
from ..sources.vulns import load_kev, load_vuln_file
from .common import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    add_aws_options,
    add_config_options,
    add_input_options,
    collect_live,
    emit_issues,
    error,
    example_path,
    missing_paths,
    read_config,
    say,
)

NAME = "fix"


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    f = sub.add_parser(
        NAME,
        help="plan the fix of each finding (dry run: prints what would change)",
        description="Plan the fixes the reference model recommends: new task definition revisions, "
        "service updates, security-group and IAM changes, and the manual steps the tool leaves to you, "
        "as data. Nothing is changed in AWS unless --apply is given.",
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
    f.add_argument(
        "--vulns",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="vulnerability report, as for scan (its traits get their manual steps)",
    )
    f.add_argument("--kev", type=Path, metavar="FILE", help="the CISA KEV catalogue, as for scan")
    f.add_argument(
        "-f",
        "--format",
        choices=("text", "json", "commands", "markdown"),
        default="text",
        help="text (default), json (ecs-exposure/plans@2), commands: a bash script of the AWS CLI calls "
        "--apply makes, in the same order, or markdown: the plans as a pull-request comment",
    )
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
        "--secret-store",
        choices=("secretsmanager", "ssm"),
        default="secretsmanager",
        help="where plaintext credentials go: Secrets Manager (default) or Parameter Store SecureString",
    )
    f.add_argument(
        "--secret-name-template",
        default=None,
        metavar="TEMPLATE",
        help="name of each secret made from a plaintext credential (default ecs/{family}/{container}/{name}, "
        "with --secret-store ssm /ecs/{family}/{container}/{name})",
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
        "--allow-irreversible",
        action="store_true",
        help="with --apply: also make changes rollback cannot undo (a service moved from networkMode host "
        "to awsvpc); without it they are held back, with the rest of their service's changes",
    )
    f.add_argument(
        "--journal",
        type=Path,
        metavar="FILE",
        help="where --apply records every change before making it (default: ecs-exposure-journal-TIME.json)",
    )
    add_aws_options(f)
    add_input_options(f)
    add_config_options(f)
    f.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    f.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = read_config(args)  # suppressions: accepted risks get no plan unless named
    if config is None:
        return EXIT_USAGE
    paths: list[Path] = list(args.paths) + ([example_path()] if args.example else [])
    vulns: list[Path] = list(args.vulns)
    if args.example:
        vulns.extend(sorted((example_path().parent / "vulns").glob("*.json")))
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
        secret_store=args.secret_store,
        secret_name_template=args.secret_name_template,
    )
    if args.apply and not args.aws:
        error("--apply needs --aws: fixes are applied to the live estate")
        return EXIT_USAGE
    flags = {
        flag for flag, on in ((IAM_FLAG, args.apply_iam), (IRREVERSIBLE_FLAG, args.allow_irreversible)) if on
    }
    if (code := missing_paths(args.paths)) is not None:
        return code
    collected = None
    if args.aws:
        collected, code = collect_live(args)
        if collected is None:
            return code
    with paused_gc(), file_size_limit(args.max_file_size):
        inventory = load_paths(paths)
        if collected is not None:
            inventory.merge(load_snapshot(copy.deepcopy(collected), "aws"))
        for path in vulns:
            reports, issues = load_vuln_file(path)
            inventory.image_reports.extend(reports)
            inventory.issues.extend(issues)
            if reports:
                inventory.vuln_sources.append(str(path))
        if args.kev is not None:
            inventory.kev, issues = load_kev(args.kev)
            inventory.issues.extend(issues)
        result = scan(inventory, ScanOptions(suppressions=config.suppressions))
        result = _without_accepted(result, set(args.finding), set(args.service))
        if args.patch is not None:
            return _write_patch(args, inventory, result, options)
        codedeploy = (
            live.codedeploy_groups(collected, region_clients(args.profile, args.endpoint_url))
            if collected
            else {}
        )
        found = plans(
            inventory,
            result,
            options,
            set(args.finding) or None,
            set(args.service) or None,
            set(args.trait) or None,
            args.write_dir,
            {"aws": collected} if collected is not None else None,
            codedeploy,
        )
    if args.write_dir is not None and not args.apply:
        write_revisions(args.write_dir, found, {})
    if args.format == "json":
        sys.stdout.buffer.write(plans_output.render_json(found))
    elif args.format == "markdown":
        sys.stdout.write(plans_markdown.render(found))
    elif args.format == "commands":
        sys.stdout.write(commands.script(found, flags))
    else:
        sys.stdout.write(plans_output.render_text(found, set(args.trait) or None))
    emit_issues(result)
    if args.apply:
        return _apply(args, found, collected or {}, flags)
    return EXIT_OK if result.complete else EXIT_INCOMPLETE


def write_revisions(directory: Path, found: list[Plan], results: dict[str, object]) -> None:
    """Each new revision as a register-task-definition --cli-input-json file, when it can be registered
    as is: never with a credential inside, never with an ARN still to be learned."""
    directory.mkdir(parents=True, exist_ok=True)
    for p in found:
        if p.new_revision is None:
            continue
        revision = walk(p.new_revision, lambda m: results.get(m.step, m) if isinstance(m, Ref) else m)
        if holds_sensitive(revision):
            print(
                f"ecs-exposure: note: {p.resource}: new revision not written, it would still hold a "
                "credential "
                "(fix its command, labels or secret references by hand)",
                file=sys.stderr,
            )
            continue
        if holds_ref(revision):
            print(
                f"ecs-exposure: note: {p.resource}: new revision not written: it references secrets "
                "whose ARN "
                "Secrets Manager only gives when it creates them; run the plan with --apply (the "
                "file is written "
                "then), run -f commands, or use --secret-store ssm (Parameter Store ARNs are known "
                "in advance)",
                file=sys.stderr,
            )
            continue
        (directory / p.revision_file).write_bytes(
            orjson.dumps(revision, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        )
        for m in p.manual:
            if m.request:
                service, op, params = m.request
                resolved = walk(params, lambda r: results.get(r.step, r) if isinstance(r, Ref) else r)
                if holds_ref(resolved):
                    continue
                name = f"{service}-{op.replace('_', '-')}-{p.resource}.json"
                body = finalize(op, resolved)
                (directory / name).write_bytes(
                    orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
                )


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


def _without_accepted(result: ScanResult, findings: set[str], resources: set[str]) -> ScanResult:
    """The result without the findings a suppression accepts as a whole (config file, resource tag,
    inline rule), unless named with --finding or --service: an accepted risk is not fixed unasked.
    Traits suppressed inside a finding are already out of its hits. One note says what was left."""
    kept, left = [], []
    for f in result.findings:
        named = f.id in findings or f.resource.uid in resources or f.resource.name in resources
        (left if f.status == Status.SUPPRESSED and not named else kept).append(f)
    if left:
        say(
            f"note: {len(left)} suppressed finding{'s' if len(left) != 1 else ''} not planned "
            f"({', '.join(f.resource.name for f in left[:3])}{' …' if len(left) > 3 else ''}); name one "
            "with --finding or --service to plan it anyway"
        )
    return replace(result, findings=tuple(kept))


def region_clients(profile: str | None, endpoint_url: str | None) -> Callable[[str | None], dict]:
    """boto3 clients per region, one attempt per call: a write is never retried behind the journal's
    back (a retried RegisterTaskDefinition registers twice); the applier retries throttling itself."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=profile)
    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60
    )
    cache: dict[str | None, dict] = {}

    def clients(region: str | None) -> dict:
        if region not in cache:
            cache[region] = {
                n: session.client(
                    n, region_name=region or session.region_name, endpoint_url=endpoint_url, config=config
                )
                for n in ("ecs", "ec2", "iam", "secretsmanager", "ssm", "sts", "codedeploy")
            }
        return cache[region]

    return clients


def _apply(args: argparse.Namespace, found: list[Plan], collected: dict, flags: set[str]) -> int:
    journal_path = args.journal or Path(f"ecs-exposure-journal-{time.strftime('%Y%m%dT%H%M%S')}.json")
    journal = Journal(journal_path)
    journal.save()  # written before anything is changed, and kept when nothing is
    clients = region_clients(args.profile, args.endpoint_url)
    revisions = {
        t.get("taskDefinitionArn"): t
        for a in collected.get("accounts", [])
        for r in a.get("regions", [])
        for t in (r.get("ecs") or {}).get("taskDefinitions") or []
    }
    caller = None
    try:
        caller = clients(args.region[0] if getattr(args, "region", None) else None)[
            "sts"
        ].get_caller_identity()["Account"]
    except Exception:  # the account check below then does not guess
        caller = None
    applier = Applier(clients, journal, flags, revisions)
    results: dict[str, object] = {}
    code = EXIT_OK
    for plan in found:
        if not plan.steps:
            continue
        if plan.account and caller and plan.account != caller:
            print(
                f"ecs-exposure: note: {plan.resource}: in account {plan.account}, not the caller's "
                f"({caller}): "
                "not applied (run --apply with that account's credentials)",
                file=sys.stderr,
            )
            code = EXIT_INCOMPLETE
            continue
        try:
            outcome = applier.apply(plan)
        except ApplyError as e:
            print(
                f"ecs-exposure: error: {e}; stopped. {len(journal.entries)} change(s) journalled in "
                f"{journal_path}; "
                f"undo them with: ecs-exposure rollback {journal_path}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        for line in outcome.log:
            print(f"ecs-exposure: {plan.resource}: {line}", file=sys.stderr)
        for note in outcome.notes:
            print(f"ecs-exposure: note: {note}", file=sys.stderr)
        if outcome.status in ("skipped", "partial"):
            code = EXIT_INCOMPLETE
        results.update(outcome.results)
        for m in plan.manual:
            if m.request:
                service, op, params = m.request
                resolved = walk(params, lambda r: results.get(r.step, r) if isinstance(r, Ref) else r)
                print(
                    f"ecs-exposure: {plan.resource}: next, by hand: {m.what}: aws {service} "
                    f"{op.replace('_', '-')} "
                    f"--cli-input-json '{json.dumps(finalize(op, resolved))}'",
                    file=sys.stderr,
                )
    if args.write_dir is not None:
        write_revisions(args.write_dir, found, results)
    if journal.entries:
        print(
            f"ecs-exposure: {len(journal.entries)} change(s) journalled in {journal_path} (undo with: "
            f"ecs-exposure rollback {journal_path})",
            file=sys.stderr,
        )
    else:
        print("ecs-exposure: nothing to change: AWS already holds every planned fix", file=sys.stderr)
    return code
