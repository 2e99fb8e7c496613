"""Command line: arguments → objects, files and exit codes. No scanning logic lives here.

Exit codes: 0 no finding at or above ``--fail-on`` (or no ``--fail-on``) and a complete scan;
1 a finding at or above ``--fail-on``; 2 usage or fatal error; 3 the scan is incomplete (an
input could not be read, a snapshot records failed API calls, or a detector failed).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import orjson

from . import __version__, docs
from .engine import ScanOptions, scan, worst
from .gcpause import paused_gc
from .model import ScanResult, Severity
from .outputs import FORMATS
from .outputs import plans as plans_output
from .remediation import FixOptions, plans
from .remediation.apply import Applier, ApplyError, Journal, rollback
from .sources import load_paths
from .sources.aws.cli import NoCredentials, collect_progress, format_stats, write_snapshot
from .sources.aws.collector import CallStats, CollectConfig, collect
from .sources.snapshot import load_snapshot
from .sources.vulns import load_kev, load_vuln_file
from .traits import registry
from .traits.base import TraitSettings

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3

DESCRIPTION = """\
Find exposure in Amazon ECS: misconfigured task definitions, internet reachability, plaintext
credentials, vulnerable images and over-powerful roles, correlated into one rated finding per
service; then plan, apply and roll back the fix."""

EPILOG = """\
exit codes:
  0  scan complete, no finding at or above --fail-on
  1  a finding at or above --fail-on
  2  usage or fatal error
  3  scan incomplete: an input could not be read or an API call had failed (see stderr)

examples:
  ecs-exposure scan --example
  ecs-exposure scan taskdef.json infra/ --format json --output findings.json
  ecs-exposure scan snapshot.json.gz --fail-on high
  ecs-exposure scan taskdef.json --vulns trivy.json --vulns grype.json --kev kev.json
  ecs-exposure collect --aws --region eu-west-1 --output estate.json.gz
  ecs-exposure scan --aws --all-regions --role-arn arn:aws:iam::111122223333:role/audit --stats
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with one line, as argparse does
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, not {text!r}")
    return value


def _vuln_severity(text: str) -> str:
    value = text.strip().upper()
    if value not in ("CRITICAL", "HIGH", "MEDIUM", "LOW"):
        raise argparse.ArgumentTypeError("one of critical, high, medium, low")
    return value


def _add_aws_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("live AWS (read-only)")
    g.add_argument("--profile", help="AWS profile of the credentials to use")
    g.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="region to read (repeatable; default: the profile's region)",
    )
    g.add_argument("--all-regions", action="store_true", help="every region enabled for the account")
    g.add_argument(
        "--role-arn",
        action="append",
        default=[],
        metavar="ARN",
        help="assume this role and read its account (repeatable: one account each)",
    )
    g.add_argument(
        "--accounts-file",
        type=Path,
        metavar="FILE",
        help="account ids, one a line (# comments), each read through --role-name",
    )
    g.add_argument(
        "--role-name",
        default="ecs-exposure-readonly",
        metavar="NAME",
        help="role assumed in each account of --accounts-file (default: ecs-exposure-readonly)",
    )
    g.add_argument(
        "--endpoint-url", metavar="URL", help="send every AWS call here (a local moto server, a proxy)"
    )
    g.add_argument(
        "--concurrency",
        type=int,
        default=8,
        metavar="N",
        help="parallel API calls per account (default: 8); botocore's adaptive retries pace them",
    )
    g.add_argument(
        "--all-revisions",
        action="store_true",
        help="also read every revision of the families services run (for stale-revision-credentials)",
    )
    g.add_argument("--stats", action="store_true", help="print the API calls made, by kind, on stderr")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ecs-exposure",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"ecs-exposure {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser(
        "scan",
        help="scan task definitions and snapshots for exposure",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="task definition JSON (register or describe shape, or a list of them), an ecs-exposure "
        "snapshot (.json or .json.gz), or a directory searched recursively for *.json / *.json.gz",
    )
    s.add_argument(
        "--example", action="store_true", help="scan the built-in example estate (no AWS account needed)"
    )
    s.add_argument(
        "-f", "--format", choices=sorted(FORMATS), default="table", help="output format (default: table)"
    )
    s.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout"
    )
    s.add_argument(
        "--fail-on",
        type=_severity,
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above SEVERITY (critical, high, medium, low, informational)",
    )
    s.add_argument(
        "--include-informational",
        action="store_true",
        help="also list resources that have only contextual traits",
    )
    v = s.add_argument_group("vulnerabilities")
    v.add_argument(
        "--vulns",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a Trivy (trivy image -f json) or Grype (grype -o json) report, or Inspector list-findings / "
        "ECR describe-image-scan-findings output (repeatable); matched to container images by digest, "
        "else by repository and tag",
    )
    v.add_argument(
        "--kev",
        type=Path,
        metavar="FILE",
        help="the CISA Known Exploited Vulnerabilities catalogue (JSON): listed CVEs are exploitable",
    )
    v.add_argument(
        "--epss-threshold",
        type=_probability,
        default=0.1,
        metavar="P",
        help="EPSS score at or above which a network vulnerability is exploitable (default: 0.1)",
    )
    v.add_argument(
        "--min-severity",
        type=_vuln_severity,
        default="MEDIUM",
        metavar="SEVERITY",
        help="lowest severity reported by software-vulnerability (default: medium)",
    )
    s.add_argument(
        "--trait",
        action="append",
        default=[],
        metavar="ID",
        help="evaluate only this trait (repeatable; see 'ecs-exposure traits')",
    )
    s.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in the table output (default: auto, when writing to a terminal)",
    )
    s.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")

    s.add_argument(
        "--aws", action="store_true", help="collect a snapshot from AWS, then scan it (see 'collect')"
    )
    s.add_argument(
        "--save-snapshot",
        type=Path,
        metavar="FILE",
        help="with --aws: keep the collected snapshot (.json or .json.gz)",
    )
    _add_aws_options(s)

    c = sub.add_parser(
        "collect",
        help="read an AWS estate into a snapshot (read-only)",
        description="Read ECS, EC2, ELBv2, IAM, Inspector and ECR with read-only calls and write an "
        "ecs-exposure/snapshot@1 file. Failed calls are recorded in the snapshot's errors (exit 3).",
    )
    c.add_argument("--aws", action="store_true", required=True, help="read from the AWS APIs")
    c.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FILE",
        help="the snapshot to write (.json, or .json.gz to compress)",
    )
    _add_aws_options(c)
    c.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")

    f = sub.add_parser(
        "fix",
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
    _add_aws_options(f)
    f.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")

    rb = sub.add_parser("rollback", help="undo the changes a 'fix --apply' journal records")
    rb.add_argument("journal", type=Path, metavar="JOURNAL")
    rb.add_argument("--profile", help="AWS profile of the credentials to use")
    rb.add_argument("--endpoint-url", metavar="URL", help="send every AWS call here")

    t = sub.add_parser("traits", help="list the traits ecs-exposure detects")
    t.add_argument("-f", "--format", choices=("text", "markdown", "json"), default="text")
    return p


def example_path() -> Path:
    return Path(str(resources.files("ecs_exposure") / "examples" / "estate.json"))


def _emit_issues(result: ScanResult) -> None:
    for issue in result.issues:
        print(f"ecs-exposure: {issue}", file=sys.stderr)
    if result.notes:
        first = result.notes[0].split(": skipped", 1)[0]
        more = f" and {len(result.notes) - 1} more" if len(result.notes) > 1 else ""
        print(
            f"ecs-exposure: note: skipped {first}{more}: "
            "JSON that is neither a task definition nor a snapshot",
            file=sys.stderr,
        )


def _collect_config(args: argparse.Namespace) -> CollectConfig | str:
    roles = list(args.role_arn)
    if args.accounts_file is not None:
        try:
            lines = args.accounts_file.read_text().splitlines()
        except OSError as e:
            return f"{args.accounts_file}: cannot read: {e.strerror}"
        for n, line in enumerate(lines, 1):
            account = line.split("#", 1)[0].strip()
            if not account:
                continue
            if not (account.isdigit() and len(account) == 12):
                return f"{args.accounts_file}:{n}: expected a 12-digit account id"
            roles.append(f"arn:aws:iam::{account}:role/{args.role_name}")
    if args.concurrency < 1:
        return "--concurrency must be at least 1"
    return CollectConfig(
        profile=args.profile,
        regions=tuple(args.region),
        all_regions=args.all_regions,
        role_arns=tuple(roles),
        endpoint_url=args.endpoint_url,
        concurrency=args.concurrency,
        all_revisions=args.all_revisions,
    )


def _collect(args: argparse.Namespace) -> tuple[dict | None, int]:
    """The snapshot collected from AWS, or None and an exit code."""
    config = _collect_config(args)
    if isinstance(config, str):
        print(f"ecs-exposure: error: {config}", file=sys.stderr)
        return None, EXIT_USAGE
    stats = CallStats()
    try:
        with collect_progress(stats, enabled=sys.stderr.isatty()):
            doc = collect(config, stats)
    except NoCredentials as e:
        print(f"ecs-exposure: error: {e}", file=sys.stderr)
        return None, EXIT_USAGE
    if args.stats:
        print(format_stats(stats), file=sys.stderr, end="")
    for note in doc.get("notes", []):
        print(f"ecs-exposure: note: {note}", file=sys.stderr)
    return doc, EXIT_OK


def _write_snapshot(doc: dict, path: Path) -> bool:
    try:
        write_snapshot(doc, path)
    except OSError as e:
        print(f"ecs-exposure: {path}: cannot write: {e.strerror}", file=sys.stderr)
        return False
    print(
        f"ecs-exposure: note: wrote {path}; snapshots may hold credentials from task definitions: "
        "protect it like a secret",
        file=sys.stderr,
    )
    return True


def _run_collect(args: argparse.Namespace) -> int:
    doc, code = _collect(args)
    if doc is None:
        return code
    if not _write_snapshot(doc, args.output):
        return EXIT_USAGE
    for e in doc["errors"]:
        where = "/".join(x for x in (e.get("account_id"), e.get("region")) if x) or "aws"
        print(f"ecs-exposure: {where}: {e['api']} failed: {e['error']}", file=sys.stderr)
    return EXIT_INCOMPLETE if doc["errors"] else EXIT_OK


def _run_fix(args: argparse.Namespace) -> int:
    paths: list[Path] = list(args.paths) + ([example_path()] if args.example else [])
    if not paths and not args.aws:
        print("ecs-exposure: error: give at least one PATH, --example, or --aws", file=sys.stderr)
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
        print(
            "ecs-exposure: error: --apply needs --aws: fixes are applied to the live estate", file=sys.stderr
        )
        return EXIT_USAGE
    collected = None
    if args.aws:
        collected, code = _collect(args)
        if collected is None:
            return code
    with paused_gc():
        inventory = load_paths(paths)
        if collected is not None:
            inventory.merge(load_snapshot(copy.deepcopy(collected), "aws"))
        result = scan(inventory)
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
    _emit_issues(result)
    if args.apply:
        return _apply(args, found, collected or {})
    return EXIT_OK if result.complete else EXIT_INCOMPLETE


def _region_clients(args: argparse.Namespace) -> Callable[[str | None], dict]:
    import boto3

    session = boto3.Session(profile_name=args.profile)
    cache: dict[str | None, dict] = {}

    def clients(region: str | None) -> dict:
        if region not in cache:
            cache[region] = {
                n: session.client(
                    n, region_name=region or session.region_name, endpoint_url=args.endpoint_url
                )
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
    clients = _region_clients(args)
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


def _run_rollback(args: argparse.Namespace) -> int:
    try:
        journal = Journal.load(args.journal)
    except (OSError, ValueError) as e:
        print(
            f"ecs-exposure: {args.journal}: cannot read the journal ({e.__class__.__name__})", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        done = rollback(journal, _region_clients(args))
    except ApplyError as e:
        print(f"ecs-exposure: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    for line in done:
        print(f"ecs-exposure: {line}", file=sys.stderr)
    print(f"ecs-exposure: rolled back {len(done)} change{'s' if len(done) != 1 else ''}", file=sys.stderr)
    return EXIT_OK


def _run_scan(args: argparse.Namespace) -> int:
    paths: list[Path] = list(args.paths)
    vulns: list[Path] = list(args.vulns)
    if args.example:
        paths.append(example_path())
        vulns.extend(sorted((example_path().parent / "vulns").glob("*.json")))
    collected = None
    if args.aws:
        collected, code = _collect(args)
        if collected is None:
            return code
        if args.save_snapshot is not None and not _write_snapshot(collected, args.save_snapshot):
            return EXIT_USAGE
    elif args.save_snapshot is not None:
        print("ecs-exposure: error: --save-snapshot goes with --aws", file=sys.stderr)
        return EXIT_USAGE
    if not paths and collected is None:
        print("ecs-exposure: error: give at least one PATH, --example, or --aws", file=sys.stderr)
        return EXIT_USAGE
    unknown = [t for t in args.trait if t not in registry()]
    if unknown:
        print(
            f"ecs-exposure: error: unknown trait {', '.join(unknown)} (see 'ecs-exposure traits')",
            file=sys.stderr,
        )
        return EXIT_USAGE

    to_terminal = args.output is None and sys.stdout.isatty()
    color = args.color == "always" or (args.color == "auto" and to_terminal)
    settings = TraitSettings(args.epss_threshold, args.min_severity)
    with paused_gc():
        inventory = load_paths(paths)
        if collected is not None:
            inventory.merge(load_snapshot(collected, "aws"))
        for path in vulns:
            reports, issues = load_vuln_file(path)
            inventory.image_reports.extend(reports)
            inventory.issues.extend(issues)
            if reports:
                inventory.vuln_sources.append(str(path))
        if args.kev is not None:
            inventory.kev, issues = load_kev(args.kev)
            inventory.issues.extend(issues)
        options = ScanOptions(args.include_informational, args.debug, tuple(args.trait), settings)
        result = scan(inventory, options)
        text = FORMATS[args.format](result, color=color)
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    if args.output is not None:
        try:
            args.output.write_bytes(data)
        except OSError as e:
            print(f"ecs-exposure: {args.output}: cannot write: {e.strerror}", file=sys.stderr)
            return EXIT_USAGE
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    _emit_issues(result)

    top = worst(result)
    if args.fail_on is not None and top is not None and top >= args.fail_on:
        return EXIT_FINDINGS
    return EXIT_OK if result.complete else EXIT_INCOMPLETE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "rollback":
            return _run_rollback(args)
        if args.command == "fix":
            return _run_fix(args)
        if args.command == "collect":
            return _run_collect(args)
        if args.command == "traits":
            sys.stdout.write(
                {"text": docs.traits_text, "markdown": docs.traits_markdown, "json": docs.traits_json}[
                    args.format
                ]()
            )
            return EXIT_OK
        return _run_scan(args)
    except KeyboardInterrupt:
        print("ecs-exposure: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:
        if getattr(args, "debug", False):
            raise
        print(
            f"ecs-exposure: internal error ({e.__class__.__name__}); run with --debug for details",
            file=sys.stderr,
        )
        return EXIT_USAGE
