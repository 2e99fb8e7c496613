"""What the sub-commands share: exit codes, the parser class, argument types, AWS options, the
collection step and the one-line reporting of scan issues."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from ..model import ScanResult, Severity
from ..sources.aws.cli import NoCredentials, collect_progress, format_stats, write_snapshot
from ..sources.aws.collector import CallStats, CollectConfig, collect

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with one line, as argparse does
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, not {text!r}")
    return value


def vuln_severity(text: str) -> str:
    value = text.strip().upper()
    if value not in ("CRITICAL", "HIGH", "MEDIUM", "LOW"):
        raise argparse.ArgumentTypeError("one of critical, high, medium, low")
    return value


def error(message: str) -> None:
    print(f"ecs-exposure: error: {message}", file=sys.stderr)


def add_aws_options(p: argparse.ArgumentParser) -> None:
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


def example_path() -> Path:
    return Path(str(resources.files("ecs_exposure") / "examples" / "estate.json"))


def emit_issues(result: ScanResult) -> None:
    for issue in result.issues:
        print(f"ecs-exposure: {issue}", file=sys.stderr)
    # one line per kind of skip (the JSON report lists every file)
    skipped: dict[str, list[str]] = {}
    for note in result.notes:
        file, sep, why = note.partition(": skipped, ")
        if sep:
            skipped.setdefault(why.split(" (", 1)[0], []).append(file)
        else:
            print(f"ecs-exposure: note: {note}", file=sys.stderr)
    for why, files in skipped.items():
        more = f" and {len(files) - 1} more" if len(files) > 1 else ""
        print(f"ecs-exposure: note: skipped {files[0]}{more}: {why}", file=sys.stderr)


def collect_config(args: argparse.Namespace) -> CollectConfig | str:
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


def collect_live(args: argparse.Namespace) -> tuple[dict | None, int]:
    """The snapshot collected from AWS, or None and an exit code."""
    config = collect_config(args)
    if isinstance(config, str):
        error(config)
        return None, EXIT_USAGE
    stats = CallStats()
    try:
        with collect_progress(stats, enabled=sys.stderr.isatty()):
            doc = collect(config, stats)
    except NoCredentials as e:
        error(str(e))
        return None, EXIT_USAGE
    if args.stats:
        print(format_stats(stats), file=sys.stderr, end="")
    for note in doc.get("notes", []):
        print(f"ecs-exposure: note: {note}", file=sys.stderr)
    return doc, EXIT_OK


def save_snapshot(doc: dict, path: Path) -> bool:
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
