"""What the sub-commands share: exit codes, the parser class, argument types, AWS and input
options, the collection step and the one-line reporting of scan issues.

Everything printed on stderr goes through :func:`say`, which escapes control characters, ANSI
escapes and bidi overrides from names and file names (:mod:`ecs_exposure.safetext`), so one problem
is always one line.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from ..baseline import failing
from ..config import Config, ConfigError, resolve_config
from ..fingerprint import ENV_VAR, FingerprintKeyError, parse_key, set_fingerprint_key
from ..model import ScanResult, Severity
from ..safetext import escape
from ..sources.aws.cli import NoCredentials, collect_progress, format_stats, write_snapshot
from ..sources.aws.collector import CallStats, CollectConfig, collect, role_account
from ..sources.aws.pacing import parse_rate
from ..sources.jsonio import DEFAULT_MAX_FILE_SIZE, size_text

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


def say(message: str) -> None:
    """One line on stderr, prefixed, with anything from the inputs made visible and harmless."""
    print(f"ecs-exposure: {escape(message)}", file=sys.stderr)


def error(message: str) -> None:
    say(f"error: {message}")


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def file_size(text: str) -> int:
    """``512M``, ``2G``, ``1.5GiB``, ``100000`` (bytes): binary units."""
    m = _SIZE.fullmatch(text)
    value = int(float(m.group(1)) * _UNITS[m.group(2).lower()]) if m else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a size such as 512M or 2G, not {text!r}")
    return value


def add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-file-size",
        type=file_size,
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="SIZE",
        help=f"largest input file read, after decompression (default: {size_text(DEFAULT_MAX_FILE_SIZE)}, "
        "e.g. 1G); a larger file is reported as an error and not read",
    )


def missing_paths(paths: Iterable[Path]) -> int | None:
    """Paths named on the command line that do not exist (or are links to nothing) are usage
    errors: one line each, and EXIT_USAGE. None when all exist."""
    bad = False
    for p in paths:
        if os.path.lexists(p) and (os.path.exists(p) or not os.path.islink(p)):
            continue
        bad = True
        if os.path.islink(p):
            error(f"{p}: broken symbolic link (to {os.readlink(p)})")
        else:
            error(f"{p}: no such file or directory")
    return EXIT_USAGE if bad else None


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
        help="role assumed in each account of --accounts-file or --organization "
        "(default: ecs-exposure-readonly)",
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
    o = p.add_argument_group("organizations, sharding and pacing")
    o.add_argument(
        "--organization",
        action="store_true",
        help="read every ACTIVE account of the AWS Organization (organizations:ListAccounts, from the "
        "management or a delegated administrator account), each through --role-name",
    )
    o.add_argument(
        "--include-ou",
        action="append",
        default=[],
        metavar="ID",
        help="with --organization: only the accounts under this OU or root (and its child OUs; repeatable)",
    )
    o.add_argument(
        "--exclude-account",
        action="append",
        default=[],
        metavar="ID",
        help="do not read this account (repeatable)",
    )
    o.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run one task per account×region on a local Dask cluster of N worker processes "
        "(needs the 'org' extra: pip install 'ecs-exposure[org]')",
    )
    o.add_argument(
        "--scheduler",
        metavar="ADDRESS|FILE",
        help="run the tasks on an existing Dask cluster: tcp://HOST:8786, or a scheduler file",
    )
    o.add_argument(
        "--max-shard-seconds",
        type=float,
        metavar="S",
        help="time budget of one account×region (one account in-process): past it no request is sent "
        "and what was not read is recorded as failed (exit 3)",
    )
    o.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="SERVICE=RATE[:BURST]",
        help="requests per second (and burst) allowed per account and region, e.g. ecs=40:100 "
        "(defaults from AWS's documented limits: ecs=20:50, ec2=20:100 per API, iam=5:10 per account)",
    )
    o.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="the revision cache (default: the user cache directory). It holds task definitions, "
        "credentials included: kept 0700/0600",
    )
    o.add_argument(
        "--no-cache", action="store_true", help="describe every revision again and keep nothing on disk"
    )


def add_config_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration")
    g.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="read this configuration file (default: .ecs-exposure.yaml in the working directory or "
        "the nearest parent, up to the repository root)",
    )
    g.add_argument("--no-config", action="store_true", help="read no configuration file")


def read_config(args: argparse.Namespace) -> Config | None:
    """The command's configuration, or None after printing one line per problem. A
    ``fingerprint_key_file`` in it keys the credential fingerprints from now on, unless
    ``ECS_EXPOSURE_FINGERPRINT_KEY`` is set (the environment of one run wins over a shared file)."""
    try:
        config = resolve_config(args.config, args.no_config)
    except ConfigError as e:
        for line in e.lines:
            error(line)
        return None
    key_file = config.options.get("fingerprint_key_file")
    if key_file is not None and ENV_VAR not in os.environ:
        where = f"fingerprint_key_file {key_file}"
        try:
            key = parse_key(Path(key_file).read_text(encoding="utf-8"), where)
        except OSError as e:
            error(f"{where}: cannot read: {e.strerror or e.__class__.__name__}")
            return None
        except (FingerprintKeyError, UnicodeDecodeError) as e:
            error(str(e) if isinstance(e, FingerprintKeyError) else f"{where} is not text")
            return None
        set_fingerprint_key(key)
        # worker processes this run starts (a local Dask cluster) fingerprint with the same key
        os.environ[ENV_VAR] = key.hex()
    return config


def example_path() -> Path:
    return Path(str(resources.files("ecs_exposure") / "examples" / "estate.json"))


def emit_issues(result: ScanResult) -> None:
    """One line per issue; notes of skipped files grouped by reason (``skipped a.json and 3 more:
    not a task definition or snapshot``), other notes one line each."""
    for issue in result.issues:
        say(str(issue))
    skipped: dict[str, list[str]] = {}
    for note in result.notes:
        name, sep, reason = note.partition(": skipped, ")
        if sep:
            # one line per reason (the JSON report lists every file)
            skipped.setdefault(reason, []).append(name)
        else:
            say(f"note: {note}")
    for reason, names in skipped.items():
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        say(f"note: skipped {names[0]}{more}: {reason}")


def exit_code(result: ScanResult, fail_on: Severity | None) -> int:
    """1 when a finding counts against ``fail_on`` (at or above it, not suppressed, new when a
    baseline was given: :func:`baseline.failing`), even when the scan is incomplete: a CI gate that
    tolerates 3 as a warning must never pass a build with a finding over the gate. Then 3 when the
    scan is incomplete, else 0. When 1 hides an incomplete scan, a last line on stderr says so (the
    JSON report has ``complete: false`` either way)."""
    if fail_on is not None and failing(result, fail_on):
        if not result.complete:
            n = len(result.issues)
            say(
                f"scan incomplete ({n} input problem{'s' if n != 1 else ''} above): exit {EXIT_FINDINGS} "
                f"because a finding is at or above --fail-on, which outranks {EXIT_INCOMPLETE}"
            )
        return EXIT_FINDINGS
    return EXIT_OK if result.complete else EXIT_INCOMPLETE


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
    if args.workers is not None and args.workers < 1:
        return "--workers must be at least 1"
    if args.workers is not None and args.scheduler:
        return "give --workers (a local cluster) or --scheduler (an existing one), not both"
    if args.max_shard_seconds is not None and args.max_shard_seconds <= 0:
        return "--max-shard-seconds must be above 0"
    if (args.include_ou) and not args.organization:
        return "--include-ou goes with --organization"
    rates = []
    for text in args.rate:
        try:
            rates.append(parse_rate(text))
        except ValueError as e:
            return f"--rate: {e}"
    if args.organization:
        found = organization_roles(args)
        if isinstance(found, str):
            return found
        roles += found
    excluded = set(args.exclude_account)
    roles = [r for r in dict.fromkeys(roles) if role_account(r)[0] not in excluded]
    return CollectConfig(
        profile=args.profile,
        regions=tuple(args.region),
        all_regions=args.all_regions,
        role_arns=tuple(roles),
        endpoint_url=args.endpoint_url,
        concurrency=args.concurrency,
        all_revisions=args.all_revisions,
        rates=tuple(rates),
        use_cache=not args.no_cache,
        cache_dir=args.cache_dir,
        max_shard_seconds=args.max_shard_seconds,
    )


def organization_roles(args: argparse.Namespace) -> list[str] | str:
    """The role ARN of each ACTIVE account of the organization (a message when it cannot be read)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from ..sources.aws.collector import error_entry
    from ..sources.aws.organizations import list_accounts, select_accounts

    try:
        session = boto3.Session(profile_name=args.profile)
        # Organizations' endpoint lives in us-east-1 (aws), us-gov-west-1 or cn-northwest-1
        region = {"aws-us-gov": "us-gov-west-1", "aws-cn": "cn-northwest-1"}.get(
            session.get_partition_for_region(session.region_name or "us-east-1"), "us-east-1"
        )
        client = session.client("organizations", endpoint_url=args.endpoint_url, region_name=region)
        accounts = list_accounts(client, args.include_ou)
    except (ClientError, BotoCoreError) as e:
        code, message = error_entry(e)
        return f"cannot list the organization's accounts: {code} {message}".rstrip()
    active, inactive = select_accounts(accounts, args.exclude_account)
    for a in inactive:
        print(
            f"ecs-exposure: note: account {a.account_id} ({a.name}) is {a.state}: not read",
            file=sys.stderr,
        )
    if not active:
        return "the organization has no ACTIVE account to read"
    return [f"arn:{a.partition}:iam::{a.account_id}:role/{args.role_name}" for a in active]


def sharded(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "workers", None) or getattr(args, "scheduler", None))


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
        say(f"note: {note}")
    return doc, EXIT_OK


def save_snapshot(doc: dict, path: Path) -> bool:
    try:
        write_snapshot(doc, path)
    except OSError as e:
        say(f"{path}: cannot write: {e.strerror}")
        return False
    say(f"note: wrote {path}; snapshots may hold credentials from task definitions: protect it like a secret")
    return True
