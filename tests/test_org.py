"""Organization scans: discovery, sharding on a real Dask LocalCluster, faults, pacing, the revision
cache and cross-account role chains, against one moto server holding several accounts."""

from __future__ import annotations

import copy
import json
import os
import pickle
import signal
import stat
import threading
import time
from pathlib import Path

import boto3
import pytest

from awsfake import moto_post
from ecs_exposure.engine import ScanOptions
from ecs_exposure.model import ExposureFinding, Secret
from ecs_exposure.shard.facts import assumables, assumables_from_files
from ecs_exposure.shard.merge import scan_with_chains
from ecs_exposure.shard.model import AccountTarget, ShardOptions
from ecs_exposure.shard.runner import ClusterSpec, connect, run_sharded
from ecs_exposure.sources import load_paths
from ecs_exposure.sources.aws import collector as collector_module
from ecs_exposure.sources.aws.collector import CallStats, CollectConfig, collect
from ecs_exposure.sources.aws.organizations import list_accounts, select
from ecs_exposure.sources.snapshot import load_snapshot
from orgfake import (
    MANAGEMENT,
    OrgProxy,
    organization,
    role_arn,
    seed_account,
    trusting_admin_role,
)

pytestmark = pytest.mark.usefixtures("aws_env")

R1, R2 = "eu-west-1", "us-east-1"


@pytest.fixture(autouse=True)
def fresh(moto_url: str):
    moto_post(moto_url, "/moto-api/reset")
    collector_module._assumed.clear()  # moto forgets assumed-role keys on reset
    yield
    collector_module._assumed.clear()


def view(findings) -> list[tuple]:
    """What a finding says, without where in which document it was read (the shards' documents
    and the whole snapshot number services differently)."""
    out = []
    for f in findings:
        out.append(
            (
                f.id,
                f.resource.uid,
                f.severity.name,
                f.likelihood.name,
                f.impact.name,
                f.title,
                tuple(sorted((h.trait_id, tuple(sorted(e.summary for e in h.evidence))) for h in f.hits)),
                tuple(sorted((u.trait_id, u.reason) for u in f.unknown)),
            )
        )
    return sorted(out)


def single_process(config: CollectConfig, options: ScanOptions | None = None):
    doc = collect(config)
    chains = assumables(doc)
    inv = load_snapshot(copy.deepcopy(doc), "aws")
    return doc, scan_with_chains(inv, options or ScanOptions(), chains)


@pytest.fixture
def org(moto_url: str) -> dict:
    """Three member accounts with ECS in two regions, and a chain: member 1's task role may assume
    an admin role of member 2 that trusts member 1's account."""
    o = organization(moto_url, members=3, ou_members=2)
    m0, m1, m2 = o["members"]
    seed_account(moto_url, m0, R1, services=4, tag="a")
    seed_account(moto_url, m0, R2, services=3, tag="b")
    chain_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{m2}:role/deployer"}
        ],
    }
    seed_account(moto_url, m1, R1, services=4, tag="c", public=False, task_policy=chain_policy)
    seed_account(moto_url, m2, R2, services=2, tag="d")
    o["deployer"] = trusting_admin_role(moto_url, m2, R2, "deployer", trusted=m1)
    return o


def cfg(url: str, accounts: list[str], **kw) -> CollectConfig:
    return CollectConfig(
        regions=(R1, R2), endpoint_url=url, role_arns=tuple(role_arn(a) for a in accounts), **kw
    )


# --------------------------------------------------------------------------- discovery


def test_organization_discovery(moto_url: str, cli, tmp_path: Path) -> None:
    o = organization(moto_url, members=4, ou_members=2)
    client = boto3.client("organizations", endpoint_url=moto_url, region_name="us-east-1")
    every = list_accounts(client)
    assert {a.account_id for a in every} == {MANAGEMENT, *o["members"]}
    assert all(a.state == "ACTIVE" for a in every)
    # an OU: its own accounts and its child OU's, not the root's
    under = [a.account_id for a in list_accounts(client, [o["prod"]])]
    assert sorted(under) == sorted(o["members"][:2])
    ids, inactive = select(every, exclude=[o["members"][3]])
    assert o["members"][3] not in ids and MANAGEMENT in ids and inactive == []
    # accounts that are not ACTIVE (State, or Status on older answers) are never read
    from ecs_exposure.sources.aws.organizations import _accounts

    states = _accounts(
        [
            {"Id": "111111111111", "State": "SUSPENDED", "Status": "SUSPENDED"},
            {"Id": "222222222222", "Status": "PENDING_CLOSURE"},
            {"Id": "333333333333", "State": "CLOSED"},
            {"Id": "444444444444", "State": "ACTIVE", "Status": "ACTIVE"},
        ]
    )
    ids, inactive = select(states)
    assert ids == ["444444444444"] and len(inactive) == 3
    # the command line: every account of the OU read through --role-name, one excluded
    seed_account(moto_url, o["members"][0], R1, services=1, tag="x")
    out = tmp_path / "org.json"
    r = cli(
        "collect", "--aws", "--endpoint-url", moto_url, "--region", R1, "--organization",
        "--include-ou", o["prod"], "--exclude-account", o["members"][1], "--no-cache", "-o", str(out),
    )  # fmt: skip
    assert r.code == 0, r.err
    doc = json.loads(out.read_text())
    assert [a["account_id"] for a in doc["accounts"]] == [o["members"][0]]
    assert doc["accounts"][0]["regions"][0]["ecs"]["services"][0]["serviceName"] == "x-0"
    r = cli(
        "collect", "--aws", "--endpoint-url", moto_url, "--region", R1, "--include-ou", "ou-x", "-o", "x.json"
    )
    assert r.code == 2 and "--include-ou goes with --organization" in r.err


# --------------------------------------------------------------------------- Dask = single process


def test_dask_cluster_equals_single_process_and_resolves_cross_account_chain(
    moto_url: str, org: dict, tmp_path: Path
) -> None:
    m0, m1, m2 = org["members"]
    config = cfg(moto_url, [m0, m1, m2])
    doc, expected = single_process(config)
    assert doc["errors"] == [] and expected.complete
    collector_module._assumed.clear()
    parts = tmp_path / "parts"
    with connect(ClusterSpec(workers=2, processes=False)) as client:
        options = ShardOptions(config, ScanOptions(), save_to=str(parts))
        merger = run_sharded(client, [AccountTarget(role_arn(a)) for a in (m0, m1, m2)], options)
    result = merger.result()
    assert result.complete, result.issues
    assert view(result.findings) == view(expected.findings)
    # the parts the workers wrote, scanned offline, give the same findings, chains included
    offline = scan_with_chains(load_paths([parts]), ScanOptions(), assumables_from_files([parts]))
    assert view(offline.findings) == view(expected.findings)
    assert len({f.id for f in result.findings}) == len(result.findings)
    assert sorted(merger.results) == sorted(
        [f"{m0}/{R1}", f"{m0}/{R2}", f"{m1}/{R1}", f"{m1}/{R2}", f"{m2}/{R1}", f"{m2}/{R2}"]
    )
    # the chain: member 1's services may become admin of member 2, in both scans
    chained = [f for f in result.findings if f.resource.account_id == m1]
    assert chained, "member 1's private services have a finding only through the chain"
    for f in chained:
        full = next(h for h in f.hits if h.trait_id == "impact-full-control")
        assert any(
            org["deployer"] in e.summary and f"admits arn:aws:iam::{m1}:root" in e.summary
            for e in full.evidence
        )
        assert f.impact.name == "HIGH"
    # IAM is global: read once per account, however many regions
    assert merger.stats.calls["iam:GetAccountAuthorizationDetails"] <= 2 * 3
    assert 3 <= merger.stats.requests["sts:AssumeRole"] <= 3  # credentials reused across the shards


def test_chain_needs_the_trust_policy_too(moto_url: str) -> None:
    o = organization(moto_url, members=2)
    m0, m1 = o["members"]
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/deployer"}
        ],
    }
    seed_account(moto_url, m0, R1, services=1, tag="c", public=False, task_policy=grant)
    trusting_admin_role(moto_url, m1, R1, "deployer", trusted="999999999999")  # trusts someone else
    _, result = single_process(
        CollectConfig(regions=(R1,), endpoint_url=moto_url, role_arns=(role_arn(m0), role_arn(m1)))
    )
    for f in result.findings:
        assert not any("deployer" in e.summary for h in f.hits for e in h.evidence)


def test_shard_results_pickle_without_credentials(moto_url: str, org: dict) -> None:
    """Findings cross process boundaries; credential values cannot (Secret refuses pickling)."""
    m0 = org["members"][0]
    _, result = single_process(cfg(moto_url, [m0]))
    data = pickle.dumps(result.findings)
    assert pickle.loads(data) == result.findings and isinstance(result.findings[0], ExposureFinding)
    assert b"Pw-" not in data  # the plaintext password's value is not in what a shard returns
    with pytest.raises(TypeError):
        pickle.dumps(Secret("x"))


# --------------------------------------------------------------------------- faults


def test_worker_killed_mid_shard_is_retried_without_duplicates(moto_url: str, org: dict) -> None:
    m0, m1, m2 = org["members"]
    config = cfg(moto_url, [m0, m1, m2])
    _, expected = single_process(config)
    collector_module._assumed.clear()
    silenced = threading.Event()
    killed: list[int] = []
    with OrgProxy(moto_url) as proxy, connect(ClusterSpec(workers=2, processes=True)) as client:
        # the first DescribeServices of member 0 in eu-west-1 hangs: its shard is surely running then
        proxy.faults.silence = {(m0, "DescribeServices"): 4.0}
        proxy.faults.on_silence = lambda account, op: silenced.set()

        def kill() -> None:
            assert silenced.wait(60)
            shard = f"shard-{m0}/{R1}"
            for _ in range(100):
                for addr, keys in client.processing().items():
                    if any(str(k).startswith(shard) for k in keys):
                        pid = client.run(os.getpid, workers=[addr])[addr]
                        os.kill(pid, signal.SIGKILL)  # really killed: the process is gone
                        killed.append(pid)
                        return
                time.sleep(0.05)

        killer = threading.Thread(target=kill)
        killer.start()
        sharded_config = cfg(proxy.url, [m0, m1, m2])
        merger = run_sharded(
            client,
            [AccountTarget(role_arn(a)) for a in (m0, m1, m2)],
            ShardOptions(sharded_config, ScanOptions()),
        )
        killer.join()
    assert killed, "the worker running the shard was found and killed"
    result = merger.result()
    assert result.complete, result.issues
    assert view(result.findings) == view(expected.findings)  # the scan is still complete
    assert len({f.id for f in result.findings}) == len(result.findings)  # no duplicate finding
    assert len(merger.results) == 6 and merger.failures == []
    assert proxy.requests(m0, "DescribeServices") >= 2  # the shard ran again


def test_access_denied_account_is_recorded_and_exits_3(moto_url: str, org: dict, cli, tmp_path: Path) -> None:
    m0, m1, m2 = org["members"]
    with OrgProxy(moto_url) as proxy:
        proxy.faults.deny_assume = {m1}
        snaps = tmp_path / "parts"
        r = cli(
            "scan", "--aws", "--endpoint-url", proxy.url, "--region", R1, "--region", R2,
            "--role-arn", role_arn(m0), "--role-arn", role_arn(m1), "--role-arn", role_arn(m2),
            "--workers", "2", "--save-snapshot", str(snaps), "-f", "json", "--stats",
        )  # fmt: skip
    assert r.code == 3, r.err
    for region in (R1, R2):  # per account×region
        assert f"{m1}/{region}: sts:AssumeRole failed when collected: AccessDenied" in r.err
    report = json.loads(r.out)
    assert report["complete"] is False
    accounts = {f["resource"]["uid"].split(":")[4] for f in report["findings"]}
    assert accounts == {m0, m2}  # the others were read
    # each worker wrote its shard's snapshot, private; the scanner can read them back
    parts = sorted(p.name for p in snaps.iterdir())
    assert parts == sorted(f"{a}-{r}.json.gz" for a in (m0, m2) for r in (R1, R2))
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in snaps.iterdir())
    again = cli("scan", str(snaps), "-f", "json")
    assert {f["id"] for f in json.loads(again.out)["findings"]} >= {
        f["id"] for f in report["findings"] if "impact-full-control" not in json.dumps(f)
    }
    assert "Pw-" not in r.out + r.err  # no credential value in the report or the log


def test_throttling_past_retries_and_opted_out_region(moto_url: str, org: dict) -> None:
    m0, m1, _ = org["members"]
    with OrgProxy(moto_url) as proxy, connect(ClusterSpec(workers=2, processes=False)) as client:
        proxy.faults.throttle = {(m0, "DescribeServices")}
        config = CollectConfig(
            regions=(R1, "ap-east-1"),  # moto: ap-east-1 is not opted in
            endpoint_url=proxy.url,
            role_arns=(role_arn(m0), role_arn(m1)),
            max_attempts=2,
        )
        merger = run_sharded(
            client,
            [AccountTarget(config.role_arns[0]), AccountTarget(config.role_arns[1])],
            ShardOptions(config, ScanOptions()),
        )
    errors = {(e["account_id"], e["region"], e["api"], e["error"]) for e in merger.errors_all()}
    assert (m0, R1, "ecs:DescribeServices", "ThrottlingException") in errors
    assert (m0, "ap-east-1", "ec2:DescribeRegions", "RegionNotEnabled") in errors
    assert (m1, "ap-east-1", "ec2:DescribeRegions", "RegionNotEnabled") in errors
    assert sorted(merger.results) == sorted([f"{m0}/{R1}", f"{m1}/{R1}"])  # nothing read in ap-east-1
    assert merger.stats.throttled["ecs:DescribeServices"] == 2  # both attempts were throttled
    result = merger.result()
    assert not result.complete
    m0_services = [f for f in result.findings if f.resource.account_id == m0]
    assert m0_services == []  # its services were not read: no finding, and the scan is incomplete


def test_max_shard_seconds_stops_a_silent_shard(moto_url: str, org: dict) -> None:
    m0, m1, _ = org["members"]
    with OrgProxy(moto_url) as proxy, connect(ClusterSpec(workers=2, processes=False)) as client:
        proxy.faults.silence = {(m0, "ListServices"): 30.0}
        proxy.faults.silence_once = False
        config = CollectConfig(
            regions=(R1,),
            endpoint_url=proxy.url,
            role_arns=(role_arn(m0), role_arn(m1)),
            max_shard_seconds=2.0,
        )
        start = time.monotonic()
        merger = run_sharded(
            client, [AccountTarget(a) for a in config.role_arns], ShardOptions(config, ScanOptions())
        )
        took = time.monotonic() - start
    assert took < 20, took
    stuck = merger.results[f"{m0}/{R1}"]
    assert any(
        e["error"] in ("MaxShardSecondsExceeded", "Timeout") and e["api"] == "ecs:ListServices"
        for e in stuck.errors
    )
    assert stuck.seconds < 10
    assert merger.results[f"{m1}/{R1}"].errors == []
    assert not merger.result().complete


# --------------------------------------------------------------------------- incremental scans


def test_rescan_reuses_the_revision_cache(moto_url: str, tmp_path: Path) -> None:
    o = organization(moto_url, members=1)
    m0 = o["members"][0]
    seeded = seed_account(moto_url, m0, R1, services=30, tag="s", families=20)
    cache = tmp_path / "cache"
    config = CollectConfig(
        regions=(R1,), endpoint_url=moto_url, role_arns=(role_arn(m0),), use_cache=True, cache_dir=str(cache)
    )
    first, again = CallStats(), CallStats()
    doc1 = collect(config, first)
    assert first.calls["ecs:DescribeTaskDefinition"] == 20
    doc2 = collect(config, again)
    assert again.calls["ecs:DescribeTaskDefinition"] == 0  # every revision came from the cache
    strip = lambda d: [a["regions"] for a in d["accounts"]]  # noqa: E731
    assert strip(doc2) == strip(doc1)  # the same snapshot
    # the cache holds credentials: private directory and file
    part = cache / "revisions" / m0 / f"{R1}.json.gz"
    assert stat.S_IMODE(part.stat().st_mode) == 0o600
    assert stat.S_IMODE(part.parent.stat().st_mode) == 0o700
    # a service moves to a new revision: only that one is described, the old one is not resurrected
    ecs = __import__("orgfake").account_clients(moto_url, m0, R1, ("ecs",))["ecs"]
    old = seeded["task_definitions"][0]
    new = ecs.register_task_definition(
        family="s-0", containerDefinitions=[{"name": "app", "image": "nginx:1.28", "memory": 256}]
    )["taskDefinition"]["taskDefinitionArn"]
    for svc in ("s-0", "s-20"):  # (moto never finishes a rollout: replace the services instead)
        ecs.delete_service(cluster=seeded["cluster"], service=svc, force=True)
        ecs.create_service(
            cluster=seeded["cluster"], serviceName=f"{svc}-v2", taskDefinition=new, desiredCount=1
        )
    third = CallStats()
    doc3 = collect(config, third)
    assert third.calls["ecs:DescribeTaskDefinition"] == 1
    arns = {td["taskDefinitionArn"] for td in doc3["accounts"][0]["regions"][0]["ecs"]["taskDefinitions"]}
    assert new in arns and old not in arns


def test_all_revisions_lists_once_per_family_and_status_and_reads_only_new(
    moto_url: str, tmp_path: Path
) -> None:
    o = organization(moto_url, members=1)
    m0 = o["members"][0]
    seeded = seed_account(moto_url, m0, R1, services=6, tag="f", families=3)
    ecs = __import__("orgfake").account_clients(moto_url, m0, R1, ("ecs",))["ecs"]
    env = [{"name": "API_TOKEN", "value": "ghp_" + "a1B2" * 9}]
    old = ecs.register_task_definition(
        family="f-1",
        containerDefinitions=[{"name": "app", "image": "nginx:1", "memory": 256, "environment": env}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.deregister_task_definition(taskDefinition=old)  # INACTIVE: still readable, still a credential
    config = CollectConfig(
        regions=(R1,), endpoint_url=moto_url, role_arns=(role_arn(m0),), all_revisions=True,
        use_cache=True, cache_dir=str(tmp_path / "c"),
    )  # fmt: skip
    first = CallStats()
    doc = collect(config, first)
    # ACTIVE per family (3), INACTIVE and DELETE_IN_PROGRESS once each region-wide: not 2 per family
    assert first.calls["ecs:ListTaskDefinitions"] == 3 + 2
    tds = {td["taskDefinitionArn"]: td for td in doc["accounts"][0]["regions"][0]["ecs"]["taskDefinitions"]}
    assert tds[old]["status"] == "INACTIVE" and set(seeded["task_definitions"]) <= set(tds)
    again = CallStats()
    collect(config, again)
    assert again.calls["ecs:DescribeTaskDefinition"] == 0
    assert again.calls["ecs:ListTaskDefinitions"] == 3 + 2
    # a cached revision whose status moved is described again (its status and dates change)
    ecs.deregister_task_definition(taskDefinition=seeded["task_definitions"][2])
    third = CallStats()
    doc3 = collect(config, third)
    assert third.calls["ecs:DescribeTaskDefinition"] == 1
    moved = next(
        td
        for td in doc3["accounts"][0]["regions"][0]["ecs"]["taskDefinitions"]
        if td["taskDefinitionArn"] == seeded["task_definitions"][2]
    )
    assert moved["status"] == "INACTIVE"


def test_pacing_buckets_and_rates() -> None:
    from ecs_exposure.sources.aws.pacing import DEFAULT_RATES, Pacer, TokenBucket, parse_rate

    # AWS's documented defaults: ECS 20/s burst 50 (per account and Region), EC2 non-mutating
    # actions 20/s burst 100 per API, IAM global per account
    assert DEFAULT_RATES["ecs"] == (20.0, 50.0) and DEFAULT_RATES["ec2"] == (20.0, 100.0)
    p = Pacer()
    assert p.bucket("ecs", R1, "DescribeServices") is p.bucket("ecs", R1, "ListServices")
    assert p.bucket("ecs", R1, "ListServices") is not p.bucket("ecs", R2, "ListServices")
    assert p.bucket("ec2", R1, "DescribeSubnets") is not p.bucket("ec2", R1, "DescribeSecurityGroups")
    assert p.bucket("iam", R1, "GetAccountAuthorizationDetails") is p.bucket(
        "iam", R2, "GetAccountAuthorizationDetails"
    )
    assert parse_rate("ecs=40:100") == ("ecs", 40.0, 100.0)
    with pytest.raises(ValueError):
        parse_rate("ecs=fast")
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    b = TokenBucket(20, 50, clock=lambda: now[0], sleep=sleep)
    for _ in range(50):
        assert b.acquire()
    assert slept == []  # the burst
    for _ in range(20):
        b.acquire()
    assert abs(now[0] - 1.0) < 1e-6  # then 20 a second
    b.throttled()
    assert b.rate == 10 and b.tokens == 0  # AWS said no: half the rate
    assert not b.acquire(deadline=now[0] + 0.01)  # a wait past the deadline is refused
    for _ in range(40):
        b.succeeded()
    assert b.rate == 20


def test_workers_write_their_snapshot_to_s3_and_the_policy_allows_discovery(moto_url: str) -> None:
    """--save-snapshot s3://…: each worker puts its own part; the shipped policy's organization
    statement is exactly what discovery needs (moto enforcing IAM)."""
    from awsfake import enforce_iam, user_with_policy

    o = organization(moto_url, members=1)
    m0 = o["members"][0]
    seed_account(moto_url, m0, R1, services=2, tag="s")
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket="audit")
    config = CollectConfig(regions=(R1,), endpoint_url=moto_url, role_arns=(role_arn(m0),))
    with connect(ClusterSpec(workers=1, processes=False)) as client:
        merger = run_sharded(
            client,
            [AccountTarget(role_arn(m0))],
            ShardOptions(config, ScanOptions(), save_to="s3://audit/ecs/"),
        )
    assert merger.results[f"{m0}/{R1}"].snapshot == f"s3://audit/ecs/{m0}-{R1}.json.gz"
    body = s3.get_object(Bucket="audit", Key=f"ecs/{m0}-{R1}.json.gz")["Body"].read()
    part = json.loads(__import__("gzip").decompress(body))
    assert part["format"] == "ecs-exposure/snapshot@1" and part["accounts"][0]["account_id"] == m0
    policy = json.loads(
        (Path(__file__).parent.parent / "src/ecs_exposure/policies/readonly-policy.json").read_text()
    )
    org_statement = {"Version": "2012-10-17", "Statement": [policy["Statement"][1]]}
    allowed = user_with_policy(moto_url, "org-reader", org_statement)
    denied = user_with_policy(
        moto_url, "ecs-only", {"Version": "2012-10-17", "Statement": [policy["Statement"][0]]}
    )
    with enforce_iam(moto_url):
        ok = boto3.client("organizations", endpoint_url=moto_url, region_name="us-east-1", **allowed)
        assert {a.account_id for a in list_accounts(ok, [o["root"]])} == {MANAGEMENT, m0}
        no = boto3.client("organizations", endpoint_url=moto_url, region_name="us-east-1", **denied)
        with pytest.raises(Exception, match=r"AccessDenied|not authorized"):
            list_accounts(no)


def test_collect_with_workers_writes_one_snapshot_per_shard(moto_url: str, cli, tmp_path: Path) -> None:
    o = organization(moto_url, members=2)
    m0, m1 = o["members"]
    seed_account(moto_url, m0, R1, services=2, tag="k")
    out = tmp_path / "snaps"
    with OrgProxy(moto_url) as proxy:
        proxy.faults.deny_assume = {m1}
        r = cli(
            "collect", "--aws", "--endpoint-url", proxy.url, "--region", R1, "--role-arn", role_arn(m0),
            "--role-arn", role_arn(m1), "--workers", "1", "-o", str(out),
        )  # fmt: skip
    assert r.code == 3, r.err
    assert sorted(p.name for p in out.iterdir()) == sorted(["errors.json.gz", f"{m0}-{R1}.json.gz"])
    r = cli("scan", str(out), "-f", "json")
    assert r.code == 3 and f"{m1}/{R1}: sts:AssumeRole failed when collected: AccessDenied" in r.err
    assert {f["resource"]["name"] for f in json.loads(r.out)["findings"]} >= {"k-0"}
    r = cli(
        "collect", "--aws", "--endpoint-url", moto_url, "--workers", "1", "-o", str(tmp_path / "one.json")
    )
    assert r.code == 2 and "give a directory or an s3://bucket/prefix" in r.err


def test_one_account_scan_does_not_import_dask(tmp_path: Path) -> None:
    """The default stays in-process: Dask is imported only for --workers / --scheduler."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from ecs_exposure.cli import main\n"
        f"main(['scan', '--example', '-f', 'json', '-o', {str(tmp_path / 'r.json')!r}])\n"
        "assert not any(m == 'dask' or m.startswith(('dask.', 'distributed')) for m in sys.modules), 'dask'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_scan_on_an_existing_cluster_by_address_and_scheduler_file(
    moto_url: str, cli, tmp_path: Path
) -> None:
    from dask.distributed import Client, LocalCluster

    o = organization(moto_url, members=1)
    m0 = o["members"][0]
    seed_account(moto_url, m0, R1, services=3, tag="e")
    with (
        LocalCluster(n_workers=1, processes=False, protocol="tcp", dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        scheduler_file = tmp_path / "scheduler.json"
        client.write_scheduler_file(str(scheduler_file))
        reports = []
        for where in (cluster.scheduler_address, str(scheduler_file)):
            r = cli(
                "scan", "--aws", "--endpoint-url", moto_url, "--region", R1, "--role-arn", role_arn(m0),
                "--scheduler", where, "-f", "json",
            )  # fmt: skip
            assert r.code == 0, r.err
            reports.append(sorted((f["id"], f["severity"]) for f in json.loads(r.out)["findings"]))
    assert reports[0] == reports[1] and len(reports[0]) == 1  # e-0: public, privileged, a password
    r = cli("scan", "--aws", "--region", R1, "--scheduler", str(tmp_path / "missing.json"))
    assert r.code == 2 and "Dask scheduler" in r.err
