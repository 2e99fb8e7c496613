"""Scan throughput and peak memory on synthetic estates.

    python benchmarks/scan_benchmark.py                 # 10,000 and 20,000 services
    python benchmarks/scan_benchmark.py --services 1000 5000

For each size it writes a snapshot (``ecs-exposure/snapshot@1``) of N services with a realistic
mix — about 5 containers of about 20 environment variables each, a few credentials, privileged
containers, public and private services, 500 roles (for 10,000 services) and security groups shared
across services, Inspector findings for the 300 images in use — then runs parse → traits →
findings → JSON report written, in a fresh process so that peak memory (max RSS) is that of the
scan alone. Prints services per second and peak memory, and
checks the targets: 10,000 services in under 5 s and 1 GB, 20,000 in under 2.2x the 10,000 time.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCOUNT, REGION = "123456789012", "us-east-1"
P = f"arn:aws:ecs:{REGION}:{ACCOUNT}"

ENV_NAMES = [
    "LOG_LEVEL",
    "NODE_ENV",
    "PORT",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "REDIS_URL",
    "CACHE_TTL",
    "FEATURE_FLAGS",
    "SENTRY_ENVIRONMENT",
    "AWS_REGION",
    "QUEUE_URL",
    "BUCKET_NAME",
    "TIMEOUT_SECONDS",
    "MAX_CONNECTIONS",
    "SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "JAVA_OPTS",
    "TZ",
    "SECRET_ARN",
    "TOKEN_URL",
    "MYSQL_ALLOW_EMPTY_PASSWORD",
    "PASSWORD_MIN_LENGTH",
]


def _value(rng: random.Random, name: str, i: int) -> str:
    if name.endswith("_URL") or name.endswith("ENDPOINT"):
        return f"https://{name.lower().replace('_', '-')}.internal.example.com:{4000 + i % 100}/v1"
    if name == "SECRET_ARN":
        return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:svc-{i}-AbCdEf"
    if name == "MYSQL_ALLOW_EMPTY_PASSWORD":
        return "yes"
    if name == "JAVA_OPTS":
        return "-Xms512m -Xmx1024m -XX:+UseG1GC -Dfile.encoding=UTF-8"
    return f"{name.lower()}-{rng.randrange(10**6)}"


def _container(rng: random.Random, svc: int, c: int) -> dict:
    env = [{"name": n, "value": _value(rng, n, svc)} for n in rng.sample(ENV_NAMES, 20)]
    if rng.random() < 0.03:  # a leaked password now and then
        env.insert(rng.randrange(len(env)), {"name": "DB_PASSWORD", "value": f"pw-{rng.randrange(10**9)}!"})
    if rng.random() < 0.005:
        env.append(
            {
                "name": "AWS_ACCESS_KEY_ID",
                "value": "AKIA" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=16)),
            }
        )
    d = {
        "name": f"c{c}",
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/svc{svc % 300}:{rng.randrange(3)}",
        "essential": c == 0,
        "cpu": 128,
        "memory": 256,
        "portMappings": [{"containerPort": 8080 + c, "protocol": "tcp"}],
        "environment": env,
        "secrets": [
            {"name": "API_KEY", "valueFrom": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/svc{svc}/api"}
        ],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": f"/ecs/svc{svc}"}},
        "readonlyRootFilesystem": rng.random() < 0.5,
        "user": "1000" if rng.random() < 0.5 else None,
    }
    if rng.random() < 0.01:
        d["privileged"] = True
    return d


def _inspector_finding(image: int, k: int) -> dict:
    network = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    local = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
    return {
        "type": "PACKAGE_VULNERABILITY",
        "status": "ACTIVE",
        "severity": ("CRITICAL", "HIGH", "MEDIUM", "LOW")[k % 4],
        "exploitAvailable": "YES" if k == 0 and image % 5 == 0 else "NO",
        "epss": {"score": 0.001 * k},
        "packageVulnerabilityDetails": {
            "vulnerabilityId": f"CVE-2026-{image:04d}{k:02d}",
            "cvss": [{"baseScore": 7.5, "version": "3.1", "scoringVector": network if k % 2 == 0 else local}],
            "vulnerablePackages": [{"name": f"lib{k}", "version": "1.0", "fixedInVersion": "1.1"}],
        },
        "resources": [
            {
                "type": "AWS_ECR_CONTAINER_IMAGE",
                "region": REGION,
                "details": {
                    "awsEcrContainerImage": {
                        "registry": ACCOUNT,
                        "repositoryName": f"svc{image}",
                        "imageTags": ["0", "1", "2"],
                        "imageHash": f"sha256:{image:064x}",
                    }
                },
            }
        ],
    }


TRUST = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}


def make_snapshot(n: int, seed: int = 7, vulns: bool = True) -> dict:
    rng = random.Random(seed)
    roles = []
    for r in range(max(10, n // 20)):
        stmt = {"Effect": "Allow", "Action": ["sqs:SendMessage", "s3:GetObject"], "Resource": "*"}
        stmts = [stmt]
        if r % 25 == 0:
            stmts = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
        elif r % 10 == 0:
            stmts = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
        elif r % 5 == 0:  # scoped to the service's own resources, with a guardrail: ARN patterns to match
            stmts = [
                {
                    "Effect": "Allow",
                    "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
                    "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs-{r}",
                },
                {"Effect": "Allow", "Action": "s3:*Object", "Resource": f"arn:aws:s3:::data-{r}/*"},
                {"Effect": "Deny", "Action": "iam:*", "Resource": f"arn:aws:iam::{ACCOUNT}:role/*"},
            ]
        roles.append(
            {
                "RoleName": f"role{r}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/role{r}",
                "AttachedManagedPolicies": [],
                "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Statement": stmts}}],
                # GetAccountAuthorizationDetails always returns the trust policy
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [TRUST]},
            }
        )
    sgs = [
        {
            "GroupId": f"sg-{g:05d}",
            "VpcId": "vpc-1",
            "IpPermissions": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 8080,
                    "ToPort": 8090,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0" if g % 7 == 0 else "10.0.0.0/8"}],
                    "Ipv6Ranges": [],
                    "UserIdGroupPairs": [],
                }
            ],
        }
        for g in range(max(20, n // 50))
    ]
    subnets = [{"SubnetId": f"subnet-{s}", "VpcId": "vpc-1", "MapPublicIpOnLaunch": s < 2} for s in range(6)]
    route_tables = [
        {
            "RouteTableId": "rtb-public",
            "VpcId": "vpc-1",
            "Associations": [{"SubnetId": "subnet-0"}, {"SubnetId": "subnet-1"}],
            "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}],
        },
        {
            "RouteTableId": "rtb-main",
            "VpcId": "vpc-1",
            "Associations": [{"Main": True}],
            "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"}],
        },
    ]
    lbs, listeners, tgs = [], [], []
    for b in range(max(5, n // 200)):
        arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/lb{b}/{b:016x}"
        lbs.append(
            {
                "LoadBalancerArn": arn,
                "LoadBalancerName": f"lb{b}",
                "Scheme": "internet-facing" if b % 3 == 0 else "internal",
                "Type": "application",
                "SecurityGroups": [f"sg-{(b * 7) % len(sgs):05d}"],
            }
        )
        listeners.append(
            {
                "ListenerArn": arn.replace("loadbalancer", "listener") + "/1",
                "LoadBalancerArn": arn,
                "Port": 8080,
                "Protocol": "HTTP",
            }
        )
    task_defs, services = [], []
    shared_families = max(1, n // 10)
    for s in range(n):
        # ~30% of services share a task definition family with others
        family = f"shared{s % shared_families}" if s % 10 < 3 else f"svc{s}"
        rev = 1 + (s % 5)
        arn = f"{P}:task-definition/{family}:{rev}"
        if family.startswith("svc") or s < shared_families * 10 // 3 + 1:
            task_defs.append(
                {
                    "taskDefinitionArn": arn,
                    "family": family,
                    "revision": rev,
                    "networkMode": "awsvpc",
                    "taskRoleArn": roles[s % len(roles)]["Arn"],
                    "executionRoleArn": roles[(s + 1) % len(roles)]["Arn"],
                    "containerDefinitions": [_container(rng, s, c) for c in range(rng.choice((4, 5, 5, 6)))],
                }
            )
        lb = []
        if s % 4 == 0:
            tg_arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/tg{s}/{s:016x}"
            tgs.append(
                {
                    "TargetGroupArn": tg_arn,
                    "TargetGroupName": f"tg{s}",
                    "Port": 8080,
                    "Protocol": "HTTP",
                    "LoadBalancerArns": [lbs[s % len(lbs)]["LoadBalancerArn"]],
                }
            )
            lb = [{"targetGroupArn": tg_arn, "containerName": "c0", "containerPort": 8080}]
        services.append(
            {
                "serviceArn": f"{P}:service/cluster{s % 20}/svc{s}",
                "serviceName": f"svc{s}",
                "clusterArn": f"{P}:cluster/cluster{s % 20}",
                "taskDefinition": arn,
                "launchType": "FARGATE",
                "loadBalancers": lb,
                "deployments": [{"status": "PRIMARY", "taskDefinition": arn}],
                "networkConfiguration": {
                    "awsvpcConfiguration": {
                        "subnets": [f"subnet-{s % 6}"],
                        "securityGroups": [sgs[s % len(sgs)]["GroupId"]],
                        "assignPublicIp": "ENABLED" if s % 6 < 2 else "DISABLED",
                    }
                },
                "enableExecuteCommand": s % 9 == 0,
            }
        )
    # every shared family's referenced revision must exist
    have = {t["taskDefinitionArn"] for t in task_defs}
    for svc in services:
        if svc["taskDefinition"] not in have:
            fam, rev = svc["taskDefinition"].rsplit("/", 1)[1].split(":")
            task_defs.append(
                {
                    "taskDefinitionArn": svc["taskDefinition"],
                    "family": fam,
                    "revision": int(rev),
                    "networkMode": "awsvpc",
                    "containerDefinitions": [_container(rng, 0, c) for c in range(5)],
                }
            )
            have.add(svc["taskDefinition"])
    # Inspector findings for the 300 images in use: ~15 each, a few network-exploitable
    findings = [_inspector_finding(i, k) for i in range(300) for k in range(15)] if vulns else []
    return {
        "format": "ecs-exposure/snapshot@1",
        "collected_at": "2026-11-28T00:00:00Z",
        "accounts": [
            {
                "account_id": ACCOUNT,
                "partition": "aws",
                "iam": {"roles": roles, "policies": []},
                "regions": [
                    {
                        "region": REGION,
                        "ecs": {"services": services, "taskDefinitions": task_defs},
                        "ec2": {
                            "securityGroups": sgs,
                            "subnets": subnets,
                            "routeTables": route_tables,
                            "internetGateways": [],
                        },
                        "elbv2": {"loadBalancers": lbs, "listeners": listeners, "targetGroups": tgs},
                        "inspector2": {"findings": findings},
                    }
                ],
            }
        ],
        "errors": [],
    }


# the same steps as `ecs-exposure scan SNAPSHOT --format json --output FILE`, timed one by one
RUNNER = r"""
import resource, sys, time
t0 = time.perf_counter()
from ecs_exposure.engine import scan
from ecs_exposure.gcpause import paused_gc
from ecs_exposure.outputs import FORMATS
from ecs_exposure.sources import load_paths
from pathlib import Path
t1 = time.perf_counter()
with paused_gc():
    inv = load_paths([Path(sys.argv[1])])
    t2 = time.perf_counter()
    result = scan(inv)
    t3 = time.perf_counter()
    Path(sys.argv[2]).write_bytes(FORMATS["json"](result))
    t4 = time.perf_counter()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{t4 - t1:.3f} {t2 - t1:.3f} {t3 - t2:.3f} {t4 - t3:.3f} {rss_mb:.0f}", len(result.findings),
      f"{t1 - t0:.3f}")
"""


def run(n: int, workdir: Path, vulns: bool) -> dict:
    snap = workdir / f"estate-{n}.json"
    snap.write_text(json.dumps(make_snapshot(n, vulns=vulns)))
    out = workdir / f"findings-{n}.json"
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(snap), str(out)], capture_output=True, text=True, check=True
    )
    total, parse, traits, write, rss, findings, imports = proc.stdout.split()
    return {
        "n": n,
        "mb": snap.stat().st_size / 1e6,
        "total": float(total),
        "parse": float(parse),
        "traits": float(traits),
        "write": float(write),
        "rss": float(rss),
        "findings": int(findings),
        "imports": float(imports),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, nargs="+", default=[10_000, 20_000])
    ap.add_argument("--no-vulns", action="store_true", help="leave Inspector findings out of the estate")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.services:
            t = time.perf_counter()
            rows.append(run(n, Path(tmp), not args.no_vulns))
            print(
                f"  (generated and scanned {n} services in {time.perf_counter() - t:.1f} s)", file=sys.stderr
            )
    print(
        f"{'services':>9} {'snapshot':>9} {'scan s':>7} {'parse':>6} {'traits':>6} {'json':>6} "
        f"{'svc/s':>8} {'peak MB':>8} {'findings':>8}"
    )
    for r in rows:
        print(
            f"{r['n']:>9} {r['mb']:>7.0f}MB {r['total']:>7.2f} {r['parse']:>6.2f} {r['traits']:>6.2f} "
            f"{r['write']:>6.2f} {r['n'] / r['total']:>8.0f} {r['rss']:>8.0f} {r['findings']:>8}"
        )
    print(f"(import time, not in 'scan s': {rows[0]['imports']:.2f} s)")
    by_n = {r["n"]: r for r in rows}
    ok = True
    if 10_000 in by_n:
        r = by_n[10_000]
        good = r["total"] < 5 and r["rss"] < 1024
        ok &= good
        print(f"target 10,000 services < 5 s and < 1 GB: {'met' if good else 'MISSED'}")
    if 10_000 in by_n and 20_000 in by_n:
        ratio = by_n[20_000]["total"] / by_n[10_000]["total"]
        good = ratio < 2.2
        ok &= good
        print(f"target 20,000 / 10,000 time < 2.2: {ratio:.2f} {'met' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
