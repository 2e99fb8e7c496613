"""``ecs-exposure publish --security-hub REPORT.asff.json``: import ASFF findings into Security Hub
and resolve the ones the latest scan no longer finds (see :mod:`ecs_exposure.publish.securityhub`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ..outputs._common import iso
from ..publish.securityhub import PublishError, check_findings, publish
from .common import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, error

NAME = "publish"


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    p = sub.add_parser(
        NAME,
        help="import ASFF findings into AWS Security Hub and resolve the ones that disappeared",
        description="Import the findings of 'ecs-exposure scan -f asff' into AWS Security Hub (a custom "
        "integration of the calling account, 100 findings a call), then archive and resolve the "
        "ecs-exposure findings Security Hub holds for the same account and Region that this report no "
        "longer contains. Exit 3 when Security Hub refused some findings (listed on stderr).",
    )
    p.add_argument(
        "--security-hub",
        type=Path,
        required=True,
        metavar="REPORT",
        help="the ASFF file to import (ecs-exposure scan -f asff -o REPORT)",
    )
    add_publish_options(p)
    p.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    p.set_defaults(run=run)


def add_publish_options(p: argparse.ArgumentParser, region: bool = True) -> None:
    g = p.add_argument_group("Security Hub")
    if region:
        g.add_argument(
            "--region",
            action="append",
            default=[],
            metavar="REGION",
            help="also resolve ecs-exposure findings in this Region when the report has none there "
            "(repeatable); findings are imported in the Region their ProductArn names",
        )
        g.add_argument("--profile", help="AWS profile of the credentials to use")
        g.add_argument("--endpoint-url", metavar="URL", help="send every AWS call here")
    g.add_argument(
        "--no-resolve",
        action="store_true",
        help="only import: leave findings that disappeared since the last import as they are",
    )


def publish_findings(
    findings: list[dict[str, Any]],
    profile: str | None,
    endpoint_url: str | None,
    scope: Iterable[tuple[str, str, str | None]],
    resolve: bool,
) -> int:
    """Import into the caller's account; ``scope`` is (partition, Region, account or None) of what the
    run covered: resolution happens only where the account is the caller's."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        session = boto3.Session(profile_name=profile)
        account = session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
    except NoCredentialsError:
        error("no AWS credentials found (set a profile, AWS_* variables or an instance role)")
        return EXIT_USAGE
    except (BotoCoreError, ClientError) as e:
        error(f"cannot identify the AWS account: {e}")
        return EXIT_USAGE
    problems = check_findings(findings, account)
    if problems:
        for line in problems:
            print(f"ecs-exposure: {line}", file=sys.stderr)
        error("nothing imported")
        return EXIT_USAGE
    clients: dict[str, Any] = {}

    def client_for(region: str) -> Any:
        if region not in clients:
            clients[region] = session.client("securityhub", region_name=region, endpoint_url=endpoint_url)
        return clients[region]

    try:
        regions = sorted({(p, r) for p, r, a in scope if a in (None, account)})
        report = publish(findings, client_for, account, iso(datetime.now(UTC)), regions, resolve)
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        hint = (
            " (is Security Hub enabled in this account and Region?)"
            if code == "InvalidAccessException"
            else ""
        )
        error(f"Security Hub: {code}: {e.response.get('Error', {}).get('Message', '')}{hint}")
        return EXIT_USAGE
    except (BotoCoreError, PublishError) as e:
        error(f"Security Hub: {e}")
        return EXIT_USAGE
    for line in report.failed:
        print(f"ecs-exposure: {line}", file=sys.stderr)
    print(
        f"ecs-exposure: Security Hub: {report.imported} finding{'s' if report.imported != 1 else ''} "
        "imported "
        f"({report.updated} updated), {len(report.resolved)} resolved"
        + (f", {len(report.failed)} failed" if report.failed else ""),
        file=sys.stderr,
    )
    return EXIT_OK if report.ok else EXIT_INCOMPLETE


def run(args: argparse.Namespace) -> int:
    try:
        findings = orjson.loads(args.security_hub.read_bytes())
    except OSError as e:
        error(f"{args.security_hub}: cannot read: {e.strerror}")
        return EXIT_USAGE
    except orjson.JSONDecodeError as e:
        error(f"{args.security_hub}: invalid JSON at line {e.lineno} column {e.colno}")
        return EXIT_USAGE
    if isinstance(findings, dict) and "Findings" in findings:  # the batch-import-findings input shape
        findings = findings["Findings"]
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        error(f"{args.security_hub}: expected a JSON array of ASFF findings (ecs-exposure scan -f asff)")
        return EXIT_USAGE
    partitions = {
        str(f.get("ProductArn", "")).split(":")[1] for f in findings if ":" in str(f.get("ProductArn", ""))
    }
    partition = next(iter(partitions)) if len(partitions) == 1 else "aws"
    scope = [(partition, r, None) for r in args.region]
    return publish_findings(findings, args.profile, args.endpoint_url, scope, not args.no_resolve)
