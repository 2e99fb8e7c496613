"""``ecs-exposure scan``: read inputs (files, snapshots, live AWS), scan, write a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..engine import ScanOptions, scan, worst
from ..gcpause import paused_gc
from ..outputs import FORMATS
from ..sources import load_paths
from ..sources.snapshot import load_snapshot
from ..sources.vulns import load_kev, load_vuln_file
from ..traits import registry
from ..traits.base import TraitSettings
from .common import (
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    add_aws_options,
    collect_live,
    emit_issues,
    error,
    example_path,
    probability,
    save_snapshot,
    severity,
    vuln_severity,
)

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
    s.add_argument(
        "-f", "--format", choices=sorted(FORMATS), default="table", help="output format (default: table)"
    )
    s.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout"
    )
    s.add_argument(
        "--fail-on",
        type=severity,
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
        type=probability,
        default=0.1,
        metavar="P",
        help="EPSS score at or above which a network vulnerability is exploitable (default: 0.1)",
    )
    v.add_argument(
        "--min-severity",
        type=vuln_severity,
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
        type=Path,
        metavar="FILE",
        help="with --aws: keep the collected snapshot (.json or .json.gz)",
    )
    add_aws_options(s)
    s.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    paths: list[Path] = list(args.paths)
    vulns: list[Path] = list(args.vulns)
    if args.example:
        paths.append(example_path())
        vulns.extend(sorted((example_path().parent / "vulns").glob("*.json")))
    collected = None
    if args.aws:
        collected, code = collect_live(args)
        if collected is None:
            return code
        if args.save_snapshot is not None and not save_snapshot(collected, args.save_snapshot):
            return EXIT_USAGE
    elif args.save_snapshot is not None:
        error("--save-snapshot goes with --aws")
        return EXIT_USAGE
    if not paths and collected is None:
        error("give at least one PATH, --example, or --aws")
        return EXIT_USAGE
    unknown = [t for t in args.trait if t not in registry()]
    if unknown:
        error(f"unknown trait {', '.join(unknown)} (see 'ecs-exposure traits')")
        return EXIT_USAGE

    to_terminal = args.output is None and sys.stdout.isatty()
    color = args.color == "always" or (args.color == "auto" and to_terminal)
    settings = TraitSettings(args.epss_threshold, args.min_severity)
    with paused_gc():
        inventory = load_paths(paths, args.skip_other_files)
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
    emit_issues(result)

    top = worst(result)
    if args.fail_on is not None and top is not None and top >= args.fail_on:
        return EXIT_FINDINGS
    return EXIT_OK if result.complete else EXIT_INCOMPLETE
