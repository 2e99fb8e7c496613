"""moto's Security Hub, completed where ``publish`` needs AWS's behaviour and moto 5.2 lacks it.

moto implements ``BatchImportFindings`` and ``GetFindings`` (without filters) but not
``BatchUpdateFindings``, and lets ``BatchImportFindings`` overwrite anything. This adds, to the real
moto server (its backend, response class and URL map, before the server starts), what the Security
Hub API reference states:

- ``BatchUpdateFindings`` (``PATCH /findings/batchupdate``): sets ``Workflow.Status`` and ``Note`` of
  the findings named by ``Id`` + ``ProductArn``; unknown ones come back in ``UnprocessedFindings``.
- ``BatchImportFindings`` refuses (``FailedFindings``) a finding whose ``AwsAccountId`` is not the
  caller's, and cannot change ``Workflow`` / ``Note`` of a finding that exists.

The request shapes are botocore's, so boto3 validates what ``publish`` sends exactly as against AWS.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

PATH = "{0}/findings/batchupdate$"


def install() -> None:
    from moto.securityhub import models, responses, urls

    if PATH in urls.url_paths:
        return

    def batch_update_findings(self: Any) -> str:
        params = json.loads(self.body or "{}")
        backend = self.securityhub_backend
        processed, unprocessed = [], []
        for ident in params.get("FindingIdentifiers", []):
            found = next(
                (
                    f
                    for f in backend.findings
                    if f.id == ident.get("Id") and f.data.get("ProductArn") == ident.get("ProductArn")
                ),
                None,
            )
            if found is None:
                unprocessed.append(
                    {"FindingIdentifier": ident, "ErrorCode": "FindingNotFound", "ErrorMessage": "not found"}
                )
                continue
            if "Workflow" in params:
                found.data["Workflow"] = {"Status": params["Workflow"]["Status"]}
            if "Note" in params:
                found.data["Note"] = {**params["Note"], "UpdatedAt": datetime.now(UTC).isoformat()}
            processed.append(ident)
        return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})

    original_import = models.SecurityHubBackend.batch_import_findings

    def batch_import_findings(
        self: Any, findings: list[dict[str, Any]]
    ) -> tuple[int, int, list[dict[str, Any]]]:
        refused, accepted = [], []
        for f in findings:
            if f.get("AwsAccountId") != self.account_id:
                refused.append(
                    {
                        "Id": f.get("Id", ""),
                        "ErrorCode": "AccessDeniedException",
                        "ErrorMessage": "AwsAccountId is not the caller's account",
                    }
                )
                continue
            existing = next((x for x in self.findings if x.id == f.get("Id")), None)
            if existing is not None:
                f = {k: v for k, v in f.items() if k not in ("Workflow", "Note")}
            accepted.append(f)
        failed_count, success_count, failed = original_import(self, accepted)
        return failed_count + len(refused), success_count, failed + refused

    responses.SecurityHubResponse.batch_update_findings = batch_update_findings
    models.SecurityHubBackend.batch_import_findings = batch_import_findings
    urls.url_paths[PATH] = responses.SecurityHubResponse.dispatch
