"""Publishing to AWS Security Hub, against moto's Security Hub on a loopback moto server: import,
then a second scan of a changed estate resolves the fixed finding (archived + Workflow RESOLVED),
batches of 100, refused findings as errors, and no credential value ever published."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from moto_securityhub import install
from test_no_secret_leak import EXAMPLE, planted_values
from validate import asff_problems

ACCOUNT = "123456789012"  # moto's default account: the caller
REGION = "eu-west-1"
PRODUCT = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"


@pytest.fixture(scope="module")
def hub_url():
    """A moto server of its own, started after Security Hub is completed (see moto_securityhub)."""
    from moto.server import ThreadedMotoServer

    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def hub(hub_url: str, aws_env: None):
    client = boto3.client("securityhub", region_name=REGION, endpoint_url=hub_url)
    client.enable_security_hub()
    yield client
    client.disable_security_hub()  # moto drops the findings: each test starts empty


def _estate(tmp_path: Path, fixed: bool = False) -> Path:
    """The example estate in moto's account; ``fixed``: nightly-report no longer adds NET_ADMIN."""
    doc = json.loads(EXAMPLE.read_text().replace("111122223333", ACCOUNT))
    if fixed:
        for td in doc["accounts"][0]["regions"][0]["ecs"]["taskDefinitions"]:
            if td["family"] == "nightly-report":
                for c in td["containerDefinitions"]:
                    c.pop("linuxParameters", None)
    path = tmp_path / ("fixed.json" if fixed else "estate.json")
    path.write_text(json.dumps(doc))
    return path


def _findings(client) -> list[dict[str, Any]]:
    out = []
    for page in client.get_paginator("get_findings").paginate():
        out.extend(page["Findings"])
    return out


def test_import_then_second_scan_resolves_the_fixed_finding(cli, hub, hub_url: str, tmp_path: Path) -> None:
    estate = _estate(tmp_path)
    r = cli("scan", str(estate), "-f", "asff", "-o", "first.asff.json", "--timestamp", "2026-01-01T00:00:00Z")
    assert r.code == 0, r.err
    assert "wrote first.asff.json (asff," in r.err
    first = json.loads((tmp_path / "first.asff.json").read_text())
    assert all(asff_problems(f) == [] for f in first)

    r = cli("publish", "--security-hub", "first.asff.json", "--endpoint-url", hub_url)
    assert r.code == 0, r.err
    assert "6 findings imported (0 updated), 0 resolved" in r.err
    stored = {f["Id"]: f for f in _findings(hub)}
    assert len(stored) == 6
    assert {f["RecordState"] for f in stored.values()} == {"ACTIVE"}
    assert {f["Workflow"]["Status"] for f in stored.values()} == {"NEW"}
    assert {f["ProductArn"] for f in stored.values()} == {PRODUCT}
    nightly = next(i for i, f in stored.items() if "nightly-report" in f["Resources"][0]["Id"])

    # the estate changes: nightly-report drops NET_ADMIN; scan --security-hub publishes directly
    fixed = _estate(tmp_path, fixed=True)
    when = "2026-02-01T00:00:00Z"
    r = cli(
        "scan", str(fixed), "--security-hub", "--endpoint-url", hub_url, "--timestamp", when, "-o", "2.txt"
    )
    assert r.code == 0, r.err
    assert "5 findings imported (5 updated), 1 resolved" in r.err
    after = {f["Id"]: f for f in _findings(hub)}
    assert len(after) == 6
    gone = after[nightly]
    assert gone["RecordState"] == "ARCHIVED"
    assert gone["Workflow"]["Status"] == "RESOLVED"
    assert gone["Note"]["UpdatedBy"] == "ecs-exposure" and "no longer finds it" in gone["Note"]["Text"]
    for i, f in after.items():
        if i == nightly:
            continue
        assert f["RecordState"] == "ACTIVE"
        assert f["CreatedAt"] == "2026-01-01T00:00:00.000Z"  # first seen stays first seen
        assert f["UpdatedAt"] == "2026-02-01T00:00:00.000Z"

    # publishing the same report again changes nothing and resolves nothing more
    r = cli("scan", str(fixed), "--security-hub", "--endpoint-url", hub_url, "-f", "json", "-o", "third.json")
    assert r.code == 0 and "5 findings imported (5 updated), 0 resolved" in r.err, r.err


def test_nothing_published_holds_a_credential(cli, hub, hub_url: str, tmp_path: Path) -> None:
    estate = _estate(tmp_path)
    r = cli("scan", str(estate), "--security-hub", "--endpoint-url", hub_url, "-f", "json", "-o", "r.json")
    assert r.code == 0, r.err
    published = json.dumps(_findings(hub))
    values = set(planted_values(json.loads(estate.read_text())))
    assert len(values) >= 6
    for value in values:
        assert value not in published


def test_batches_of_100_and_refused_findings(hub, hub_url: str, tmp_path: Path) -> None:
    from ecs_exposure.publish.securityhub import publish

    template = json.loads(
        (Path(__file__).parent / "golden" / "findings.asff.json").read_text().replace("111122223333", ACCOUNT)
    )[0]
    findings = [dict(template, Id=f"ecs-exposure/{i:032x}") for i in range(250)]
    findings[7] = dict(findings[7], Resources=[])  # moto and AWS refuse a finding without resources
    calls: list[int] = []

    class Counting:  # counts the calls on the real client, changes nothing
        def __init__(self, client: Any) -> None:
            self._client = client

        def batch_import_findings(self, **kw: Any) -> Any:
            calls.append(len(kw["Findings"]))
            return self._client.batch_import_findings(**kw)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

    report = publish(findings, lambda region: Counting(hub), ACCOUNT, "2026-01-01T00:00:00.000Z")
    assert calls == [100, 100, 50]
    assert report.imported == 249
    assert len(report.failed) == 1 and report.failed[0].startswith("ecs-exposure/" + f"{7:032x}")
    assert not report.ok


def test_publish_refuses_another_accounts_findings(cli, hub, hub_url: str, tmp_path: Path) -> None:
    r = cli("scan", "--example", "-f", "asff", "-o", "other.asff.json")  # account 111122223333
    assert r.code == 0, r.err
    r = cli("publish", "--security-hub", "other.asff.json", "--endpoint-url", hub_url)
    assert r.code == 2
    assert "about account 111122223333, but the credentials are of account 123456789012" in r.err
    assert "nothing imported" in r.err
    assert _findings(hub) == []


def test_publish_bad_files(cli, tmp_path: Path, aws_env: None) -> None:
    (tmp_path / "x.json").write_text('{"not": "asff"}')
    r = cli("publish", "--security-hub", "x.json", "--endpoint-url", "http://127.0.0.1:9")
    assert r.code == 2 and "expected a JSON array of ASFF findings" in r.err
    r = cli("publish", "--security-hub", "missing.json")
    assert r.code == 2 and "cannot read" in r.err


def test_incomplete_scan_resolves_nothing(cli, hub, hub_url: str, tmp_path: Path) -> None:
    estate = _estate(tmp_path)
    r = cli("scan", str(estate), "--security-hub", "--endpoint-url", hub_url, "-f", "json", "-o", "a.json")
    assert r.code == 0, r.err
    fixed = _estate(tmp_path, fixed=True)
    (tmp_path / "broken.json").write_text("{")
    r = cli("scan", str(fixed), "broken.json", "--security-hub", "--endpoint-url", hub_url, "-o", "b.txt")
    assert r.code == 3
    assert "scan incomplete: nothing resolved in Security Hub" in r.err
    assert {f["RecordState"] for f in _findings(hub)} == {"ACTIVE"}
