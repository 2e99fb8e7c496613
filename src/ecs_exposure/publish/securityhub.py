"""Import ASFF findings into AWS Security Hub (CSPM) as a custom integration, and resolve the ones
that disappeared since the last import.

AWS's rules, from the Security Hub API reference, that this module follows:

- ``BatchImportFindings`` takes at most 100 findings a call; each one that fails is listed in
  ``FailedFindings`` (with ``FailedCount``) while the call itself succeeds, so failures are read
  from the response, not from an exception.
- With the default product ARN ``arn:…:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`` the
  caller must be the account the finding is about (``AwsAccountId``), in the finding's Region.
- After a finding exists, ``BatchImportFindings`` may not change ``Workflow`` (nor Note,
  UserDefinedFields, VerificationState): the provider archives it (``RecordState: ARCHIVED``, a
  provider field) and the workflow status is set with ``BatchUpdateFindings`` (``Workflow.Status:
  RESOLVED`` with a ``Note``), which the same account may call on its own findings, 100 at a time.
  A finding that comes back is imported ``ACTIVE`` again and Security Hub resets it to ``NEW``.

"The last import" is read from Security Hub itself (``GetFindings`` filtered on our ProductArn,
GeneratorId and ``RecordState: ACTIVE``), never from a local file; the filters are checked again on
the answers. Only findings of the accounts and Regions the current run covers are resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..outputs.asff import GENERATOR_ID, ID_PREFIX, SCHEMA_VERSION, product_arn

BATCH = 100  # BatchImportFindings and BatchUpdateFindings limit
MAX_FINDING_BYTES = 240 * 1024  # "The maximum allowed size for a finding is 240 Kb"
REQUIRED = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "CreatedAt",
    "UpdatedAt",
    "Title",
    "Description",
    "Resources",
)
# what an archiving update re-sends of the previous finding: the required fields and the
# provider-owned ones (Security Hub adds read-only fields to what GetFindings returns)
RESEND = (*REQUIRED, "Types", "Severity", "FindingProviderFields", "Remediation", "ProductFields")


class PublishError(Exception):
    """Nothing can be published: no credentials, Security Hub not enabled, a wrong file."""


@dataclass
class PublishReport:
    imported: int = 0
    updated: int = 0  # of the imported, how many existed already
    resolved: list[str] = field(default_factory=list)  # finding ids archived and resolved
    failed: list[str] = field(default_factory=list)  # one line per finding that failed
    skipped_resolution: list[str] = field(default_factory=list)  # why resolution did not run somewhere

    @property
    def ok(self) -> bool:
        return not self.failed


def chunks(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 else ""


def _partition_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 4 else "aws"


def check_findings(findings: Any, account: str) -> list[str]:
    """Problems that Security Hub would reject a finding for, found before any call."""
    if not isinstance(findings, list):
        return ["expected a JSON array of ASFF findings (ecs-exposure scan -f asff)"]
    problems = []
    for i, f in enumerate(findings):
        if not isinstance(f, dict):
            problems.append(f"[{i}]: not an object")
            continue
        missing = [k for k in REQUIRED if not f.get(k)]
        if missing:
            problems.append(f"[{i}] {f.get('Id', '?')}: missing {', '.join(missing)}")
            continue
        if f["SchemaVersion"] != SCHEMA_VERSION:
            problems.append(f"[{i}] {f['Id']}: SchemaVersion {f['SchemaVersion']!r} is not {SCHEMA_VERSION}")
        if f["AwsAccountId"] != account:
            problems.append(
                f"[{i}] {f['Id']}: about account {f['AwsAccountId']}, but the credentials are of account "
                f"{account}; Security Hub accepts a custom finding only from its own account"
            )
        expected = product_arn(_partition_of(f["ProductArn"]), _region_of(f["ProductArn"]), account)
        if f["ProductArn"] != expected:
            problems.append(f"[{i}] {f['Id']}: ProductArn {f['ProductArn']} is not this account's {expected}")
        if len(repr(f).encode()) > MAX_FINDING_BYTES:
            problems.append(f"[{i}] {f['Id']}: larger than 240 KB")
    return problems


def _previous(client: Any, arn: str) -> dict[str, dict[str, Any]]:
    """Our ACTIVE findings in Security Hub for one product ARN, by Id."""
    filters = {
        "ProductArn": [{"Value": arn, "Comparison": "EQUALS"}],
        "GeneratorId": [{"Value": GENERATOR_ID, "Comparison": "EQUALS"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    }
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("get_findings").paginate(
        Filters=filters, PaginationConfig={"PageSize": 100}
    ):
        for f in page.get("Findings", []):
            if (
                f.get("ProductArn") == arn
                and f.get("GeneratorId") == GENERATOR_ID
                and f.get("RecordState", "ACTIVE") == "ACTIVE"
                and str(f.get("Id", "")).startswith(ID_PREFIX)
            ):
                found[f["Id"]] = f
    return found


def _import(client: Any, findings: list[dict[str, Any]], report: PublishReport) -> set[str]:
    """BatchImportFindings in batches; returns the ids that failed."""
    failed: set[str] = set()
    for batch in chunks(findings):
        response = client.batch_import_findings(Findings=batch)
        for ff in response.get("FailedFindings", []):
            failed.add(ff.get("Id", "?"))
            code, message = ff.get("ErrorCode"), ff.get("ErrorMessage")
            report.failed.append(f"{ff.get('Id', '?')}: BatchImportFindings failed: {code} {message}")
        report.imported += len(batch) - len(response.get("FailedFindings", []))
    return failed


def _resolve(client: Any, gone: list[dict[str, Any]], now: str, report: PublishReport) -> None:
    archived = []
    for prev in gone:
        update = {k: prev[k] for k in RESEND if k in prev}
        update.update({"UpdatedAt": now, "RecordState": "ARCHIVED"})
        archived.append(update)
    failed = _import(client, archived, report)
    report.imported -= len(archived) - len(failed)  # archiving is not an import of a finding
    done = [u for u in archived if u["Id"] not in failed]
    report.resolved.extend(
        _set_workflow(
            client,
            done,
            "RESOLVED",
            "Resolved by ecs-exposure: the latest scan of this account and Region no longer finds it.",
            report,
        )
    )


def _set_workflow(
    client: Any, findings: list[dict[str, Any]], status: str, note: str, report: PublishReport
) -> list[str]:
    """BatchUpdateFindings Workflow.Status (with a Note) in batches; returns the ids it updated."""
    done = []
    for batch in chunks(findings):
        response = client.batch_update_findings(
            FindingIdentifiers=[{"Id": u["Id"], "ProductArn": u["ProductArn"]} for u in batch],
            Workflow={"Status": status},
            Note={"Text": note, "UpdatedBy": "ecs-exposure"},
        )
        unprocessed = {
            u.get("FindingIdentifier", {}).get("Id"): u for u in response.get("UnprocessedFindings", [])
        }
        for u in batch:
            err = unprocessed.get(u["Id"])
            if err is not None:
                report.failed.append(
                    f"{u['Id']}: BatchUpdateFindings did not set Workflow {status}: "
                    f"{err.get('ErrorCode')} {err.get('ErrorMessage')}"
                )
            else:
                done.append(u["Id"])
    return done


def publish(
    findings: list[dict[str, Any]],
    client_for: Callable[[str], Any],
    account: str,
    now: str,
    scope: Iterable[tuple[str, str]] = (),
    resolve: bool = True,
) -> PublishReport:
    """Import ``findings`` and resolve what disappeared in every (partition, region) of the
    findings and of ``scope``. ``client_for(region)`` gives a Security Hub client."""
    report = PublishReport()
    by_arn: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        by_arn.setdefault(f["ProductArn"], []).append(f)
    for partition, region in scope:
        by_arn.setdefault(product_arn(partition, region, account), [])
    for arn in sorted(by_arn):
        current = by_arn[arn]
        client = client_for(_region_of(arn))
        previous = _previous(client, arn)
        newly_suppressed = []
        for f in current:
            prev = previous.get(f["Id"])
            if prev is not None:
                report.updated += 1
                f["CreatedAt"] = prev.get("CreatedAt", f["CreatedAt"])  # first seen stays first seen
                wanted = f.pop("Workflow", {}).get("Status")  # BatchImportFindings cannot change it now
                if wanted == "SUPPRESSED" and prev.get("Workflow", {}).get("Status") != "SUPPRESSED":
                    newly_suppressed.append(f)
        failed = _import(client, current, report)
        _set_workflow(
            client,
            [f for f in newly_suppressed if f["Id"] not in failed],
            "SUPPRESSED",
            "Suppressed by an ecs-exposure suppression rule (see ProductFields).",
            report,
        )
        if not resolve:
            continue
        seen = {f["Id"] for f in current}
        gone = [p for i, p in sorted(previous.items()) if i not in seen]
        if gone:
            _resolve(client, gone, now, report)
    return report
