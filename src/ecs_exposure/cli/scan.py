"""``ecs-exposure scan``: read inputs (files, snapshots, live AWS), scan, write a report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..baseline import BaselineError, load_baseline, mark
from ..config import Config, shown
from ..engine import ScanOptions, scan
from ..gcpause import paused_gc
from ..model import Inventory, ScanResult, Severity
from ..outputs import asff
from ..shard.facts import assumables, assumables_from_files
from ..shard.merge import scan_with_chains
from ..sources import load_paths
from ..sources.jsonio import display_path, file_size_limit
from ..sources.snapshot import load_snapshot
from ..sources.vulns import load_kev, load_vuln_file
from ..store import DEFAULT as DEFAULT_STORE
from ..store import StoreError, target_key
from ..suppress import warnings
from ..traits import registry
from ..traits.base import TraitSettings

if TYPE_CHECKING:
    from ..store import Store

from .common import (
    EXIT_OK,
    EXIT_USAGE,
    add_aws_options,
    add_config_options,
    add_input_options,
    collect_live,
    emit_issues,
    error,
    example_path,
    exit_code,
    missing_paths,
    probability,
    read_config,
    save_snapshot,
    say,
    severity,
    sharded,
    vuln_severity,
)
from .output import add_output_options, check, formats, render_options, write_reports
from .publish import add_publish_options, publish_findings
from .shards import combine, run_shards, save_target

NAME = "scan"


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    s = sub.add_parser(
        NAME,
        help="scan task definitions and snapshots for exposure",
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="task definition JSON (register or describe shape, or a list of them), an ecs-exposure "
        "snapshot (.json or .json.gz), a CloudFormation template (JSON or YAML, cdk synth output, SAM), "
        "a container-definition list, a YAML task definition, a *.json.tpl template, or a directory "
        "searched recursively for all of these",
    )
    s.add_argument(
        "--example", action="store_true", help="scan the built-in example estate (no AWS account needed)"
    )
    add_output_options(s)
    s.add_argument(
        "--fail-on",
        type=severity,
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above SEVERITY (critical, high, medium, low, informational), "
        "even when the scan is incomplete; suppressed findings never count, and with --baseline only new "
        "ones do",
    )
    s.add_argument(
        "--include-informational",
        action=argparse.BooleanOptionalAction,
        help="also list resources that have only contextual traits",
    )
    t = s.add_argument_group("triage and history")
    t.add_argument(
        "--baseline",
        type=Path,
        metavar="REPORT",
        help="an earlier JSON report (scan -f json -o REPORT): its findings are not new unless their "
        "severity rose, and --fail-on counts only new findings",
    )
    t.add_argument(
        "--store",
        nargs="?",
        const=DEFAULT_STORE,
        metavar="URL",
        help="record this scan in the findings history: a SQLAlchemy URL (sqlite:///FILE, "
        "postgresql://HOST/DB) or, with no URL, a SQLite file in your data directory; see "
        "'ecs-exposure history' and 'ecs-exposure diff'",
    )
    t.add_argument(
        "--no-store", action="store_true", help="do not record this scan, whatever the config says"
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
        type=probability,
        metavar="P",
        help="EPSS score at or above which a network vulnerability is exploitable (default: 0.1)",
    )
    v.add_argument(
        "--min-severity",
        type=vuln_severity,
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
        help="colour in the table output (default: auto, when writing to a terminal)",
    )
    add_input_options(s)
    s.add_argument(
        "--skip-other-files",
        action="store_true",
        help="skip, with a note, a file named on the command line that is not an input ecs-exposure reads "
        "(for pre-commit hooks, which pass every changed file)",
    )
    s.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    s.add_argument(
        "--aws", action="store_true", help="collect a snapshot from AWS, then scan it (see 'collect')"
    )
    s.add_argument(
        "--save-snapshot",
        metavar="FILE|DIR",
        help="with --aws: keep the collected snapshot (.json or .json.gz); with --workers or --scheduler, "
        "a directory or s3://bucket/prefix where each worker writes its account×region",
    )
    add_aws_options(s)
    add_config_options(s)
    s.add_argument(
        "--security-hub",
        action="store_true",
        help="also import the findings into AWS Security Hub and resolve the ones that disappeared "
        "(as 'ecs-exposure publish' does)",
    )
    add_publish_options(s, region=False)
    s.set_defaults(run=run)


# built-in defaults of the options a config file may set (the command line wins over both)
DEFAULTS = {
    "format": "table",
    "include_informational": False,
    "epss_threshold": 0.1,
    "min_severity": "MEDIUM",
    "color": "auto",
}


def apply_config(args: argparse.Namespace, config: Config) -> str | None:
    """Fill the options not given on the command line from the config file, then the built-in
    defaults; a problem in words, or None."""
    for key, value in config.options.items():
        if key == "fingerprint_key_file":  # applied when the file was read (read_config)
            continue
        if key == "vulns":
            if not args.vulns:
                args.vulns = list(value)
        elif key == "store":
            if args.store is None and not args.no_store:
                args.store = DEFAULT_STORE if value is True else (value or None)
        elif getattr(args, key, None) is None:
            setattr(args, key, value)
    for key, value in DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.no_store:
        args.store = None
    if isinstance(args.format, str):  # from the config file or the default: "json,sarif"
        try:
            args.format = formats(args.format)
        except argparse.ArgumentTypeError as e:
            where = f" ({shown(config.path)})" if config.path else ""
            return f"format{where}: {e}"
    return None


def scan_target(
    paths: list[Path],
    inventory: Inventory,
    options: ScanOptions,
    shards: Iterable[tuple[str | None, str]] = (),
) -> tuple[str, str]:
    """What a scan read, as (words, key): scans with the same key are compared in the history.

    AWS data (live or from snapshots, whatever their file names) counts by account and region; task
    definition files by the path argument (directory or file) they were found under, as given
    relative to the working directory, so that CI runs in different checkouts compare. A scan of
    some traits only, or with the informational findings, is not compared with a full one. ``shards``:
    the (account, region) pairs a sharded scan read in its workers."""
    parts: set[str] = set()
    if options.traits:
        parts.add(f"only {','.join(sorted(options.traits))}")
    if options.include_informational:
        parts.add("with informational")
    for account in inventory.accounts:
        for region in account.regions:
            parts.add(f"aws {account.account_id} {region.region}")
        if not account.regions:
            parts.add(f"aws {account.account_id}")
    for account_id, region in shards:
        parts.add(f"aws {account_id} {region}")
    files = {f.task_definition.loc.file for f in inventory.task_definition_files}
    for p in paths:
        shown = display_path(p)
        prefix = "" if shown == "." else shown.rstrip("/") + "/"
        if any(f == shown or (f.startswith(prefix) and not f.startswith("../")) for f in files):
            parts.add(f"files {shown}")
    ordered = sorted(parts)
    words = "; ".join(ordered[:4]) + (f" (+{len(ordered) - 4} more)" if len(ordered) > 4 else "")
    return words or "nothing", target_key("\n".join(ordered))


def _triage(
    result: ScanResult,
    baseline: dict[str, Severity] | None,
    baseline_name: str | None,
    store: Store | None,
    target: tuple[str, str],
    started: datetime,
) -> tuple[ScanResult, int | str | None]:
    """Statuses from the baseline and the previous recorded scan of the same inputs, then the scan
    recorded: the result and the recorded scan's id (or why it could not be recorded)."""
    if store is None:
        return mark(result, baseline, (), baseline_name), None
    try:
        with store:
            words, key = target
            previous = store.previous(key=key)
            seen = store.finding_ids(previous.id) if previous is not None else set()
            result = mark(result, baseline, seen, baseline_name)
            return result, store.record(result, words, started, key)
    except StoreError as e:
        return mark(result, baseline, (), baseline_name), str(e)


def run(args: argparse.Namespace) -> int:
    config = read_config(args)
    if config is None:
        return EXIT_USAGE
    problem = apply_config(args, config)
    if problem is not None:
        error(problem)
        return EXIT_USAGE
    paths: list[Path] = list(args.paths)
    vulns: list[Path] = list(args.vulns)
    if args.example:
        paths.append(example_path())
        vulns.extend(sorted((example_path().parent / "vulns").glob("*.json")))
    named = [*args.paths, *args.vulns, *([args.kev] if args.kev is not None else [])]
    if (code := missing_paths(named)) is not None:
        return code
    collected = None
    save_to = None
    if args.aws and sharded(args):
        save_to = save_target(args.save_snapshot)
        if save_to is False:
            return EXIT_USAGE
    elif args.aws:
        collected, code = collect_live(args)
        if collected is None:
            return code
        if args.save_snapshot is not None and not save_snapshot(collected, Path(args.save_snapshot)):
            return EXIT_USAGE
    elif args.save_snapshot is not None:
        error("--save-snapshot goes with --aws")
        return EXIT_USAGE
    if not paths and not args.aws:
        error("give at least one PATH, --example, or --aws")
        return EXIT_USAGE
    problem = check(args)
    if problem is not None:
        error(problem)
        return EXIT_USAGE
    unknown = [t for t in args.trait if t not in registry()]
    if unknown:
        error(f"unknown trait {', '.join(unknown)} (see 'ecs-exposure traits')")
        return EXIT_USAGE

    baseline = None
    if args.baseline is not None:
        try:
            baseline = load_baseline(args.baseline)
        except BaselineError as e:
            error(str(e))
            return EXIT_USAGE
    store = None
    if args.store is not None:
        from ..store import Store  # SQLAlchemy loads only when the history is used

        try:
            store = Store.open(args.store)
        except StoreError as e:
            error(str(e))
            return EXIT_USAGE

    started = datetime.now(UTC)
    to_terminal = args.output is None and args.output_dir is None and sys.stdout.isatty()
    color = args.color == "always" or (args.color == "auto" and to_terminal)
    settings = TraitSettings(args.epss_threshold, args.min_severity)
    with paused_gc(), file_size_limit(args.max_file_size):
        inventory = load_paths(paths, skip_other_files=args.skip_other_files)
        chains = []
        shards: list[tuple[str | None, str]] = []
        if len({a.account_id for a in inventory.accounts}) > 1:
            chains = assumables_from_files(paths)  # several accounts offline: their chains too
        if collected is not None:
            chains += assumables(collected)  # cross-account facts, read before the raw document is freed
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
        options = ScanOptions(
            include_informational=args.include_informational,
            debug=args.debug,
            traits=tuple(args.trait),
            settings=settings,
            suppressions=config.suppressions,
        )
        if args.aws and sharded(args):
            merger, code = run_shards(
                args,
                options,
                save_to,  # type: ignore[arg-type]
                tuple(inventory.image_reports),
                tuple(inventory.vuln_sources),
                inventory.kev,
            )
            if merger is None:
                return code
            local = scan(inventory, options) if paths else None
            result = combine(local, merger.result())
            shards = [(r.account_id, r.region) for r in merger.results.values()]
        else:
            result = scan_with_chains(inventory, options, chains)
        baseline_name = str(args.baseline) if baseline is not None else None
        target = scan_target(paths, inventory, options, shards)
        result, recorded = _triage(result, baseline, baseline_name, store, target, started)
        code = write_reports(args, result, color)
    if code != EXIT_OK:
        return code
    emit_issues(result)
    for line in warnings(result.suppressions):
        say(f"warning: {line}")
    if isinstance(recorded, str):
        error(recorded)
        return EXIT_USAGE
    if recorded is not None:
        say(f"note: recorded as scan {recorded} in {store.url}")
    if args.security_hub:
        code = _security_hub(args, result)
        if code != EXIT_OK:
            return code
    return exit_code(result, args.fail_on)


def _security_hub(args: argparse.Namespace, result) -> int:
    """Publish this scan's findings; resolve only in the accounts' Regions the scan covered, and
    not at all when the scan is incomplete (an unread input is not a fixed finding)."""
    opts = render_options(args, color=False)
    try:
        findings = asff.findings(result, **opts)
    except asff.AsffError as e:
        error(str(e))
        return EXIT_USAGE
    scope = {(r.partition or "aws", r.region, r.account_id) for r in result.resources if r.region}
    if args.asff_region:
        scope.add(("aws", args.asff_region, args.asff_account))
    resolve = not args.no_resolve and result.complete
    if not result.complete and not args.no_resolve:
        say("note: scan incomplete: nothing resolved in Security Hub")
    return publish_findings(findings, args.profile, args.endpoint_url, sorted(scope), resolve)
