"""Collect + scan a live estate served by moto, and compare with Prowler's ECS checks.

    python benchmarks/collect_benchmark.py                      # 1,000 services
    python benchmarks/collect_benchmark.py --services 1000 2000 --no-prowler

A moto server runs in its own process on 127.0.0.1, behind a small counting proxy so that every
HTTP request of either tool is counted by API. The estate: N services in 4 clusters, awsvpc with
security groups, about 30 % of services sharing a task definition family with others, 10 revisions
per family. ecs-exposure runs `scan --aws` (collect, then scan, JSON written); Prowler runs
`prowler aws --services ecs` with AWS_ENDPOINT_URL pointing at the proxy, from its own virtualenv
(created and installed by this script in benchmarks/out/prowler-venv on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import boto3

REGION = "us-east-1"
OUT = Path(__file__).resolve().parent / "out"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CountingProxy:
    """Forwards to moto and counts requests by operation."""

    def __init__(self, upstream: str) -> None:
        self.counts: Counter[str] = Counter()
        lock = threading.Lock()
        counts = self.counts

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                target = self.headers.get("X-Amz-Target")
                auth = self.headers.get("Authorization", "")
                service = auth.split("/")[3] if auth.count("/") >= 4 else "?"
                op = (
                    target.rsplit(".", 1)[-1]
                    if target
                    else (
                        parse_qs(body.decode("utf-8", "replace")).get("Action") or [self.path.split("?")[0]]
                    )[0]
                )
                with lock:
                    counts[f"{service}:{op}"] += 1
                req = urllib.request.Request(upstream + self.path, data=body or None, method=self.command)
                for k, v in self.headers.items():
                    if k.lower() not in ("host", "content-length", "connection"):
                        req.add_header(k, v)
                try:
                    with urllib.request.urlopen(req, timeout=120) as resp:
                        status, headers, payload = resp.status, dict(resp.headers), resp.read()
                except urllib.error.HTTPError as e:
                    status, headers, payload = e.code, dict(e.headers), e.read()
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "server",
                        "date",
                    ):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> Counter[str]:
        out = Counter(self.counts)
        self.counts.clear()
        return out


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError("moto server did not start")


def seed(url: str, n: int) -> None:
    kw = {"region_name": REGION, "endpoint_url": url}
    ec2, ecs = boto3.client("ec2", **kw), boto3.client("ecs", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    groups = [
        ec2.create_security_group(GroupName=f"g{i}", Description="g", VpcId=vpc)["GroupId"] for i in range(20)
    ]
    for g in groups[::5]:
        ec2.authorize_security_group_ingress(
            GroupId=g,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ],
        )
    clusters = [f"c{i}" for i in range(4)]
    for c in clusters:
        ecs.create_cluster(clusterName=c)
    # ~30 % of services share a family with others: 70 % unique families, the rest on n/30 shared ones
    shared = max(1, n // 30)
    families = [f"svc{i}" if i % 10 >= 3 else f"shared{i % shared}" for i in range(n)]

    def register(family: str) -> str:
        arn = ""
        for rev in range(10):
            arn = ecs.register_task_definition(
                family=family,
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[
                    {
                        "name": "app",
                        "image": f"nginx:1.{rev}",
                        "memory": 256,
                        "environment": [
                            {"name": "LOG_LEVEL", "value": "info"},
                            {"name": "DB_PASSWORD", "value": f"pw-{family}-{rev}"},
                        ],
                    }
                ],
            )["taskDefinition"]["taskDefinitionArn"]
        return arn

    with ThreadPoolExecutor(8) as pool:
        latest = dict(zip(sorted(set(families)), pool.map(register, sorted(set(families))), strict=True))

    def create(i: int) -> None:
        ecs.create_service(
            cluster=clusters[i % 4],
            serviceName=f"s{i}",
            taskDefinition=latest[families[i]],
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": [subnet],
                    "securityGroups": [groups[i % 20]],
                    "assignPublicIp": "ENABLED" if i % 4 == 0 else "DISABLED",
                }
            },
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(n)))


def prowler_bin() -> Path | None:
    venv = OUT / "prowler-venv"
    exe = venv / "bin" / "prowler"
    if exe.exists():
        return exe
    print("installing Prowler in benchmarks/out/prowler-venv (once) …", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    r = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "prowler"], capture_output=True, text=True
    )
    if r.returncode != 0 or not exe.exists():
        print(f"Prowler could not be installed: {r.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return exe


def aws_env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_ENDPOINT_URL=endpoint,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def run_ours(
    proxy: CountingProxy, workdir: Path, extra: tuple[str, ...] = ()
) -> tuple[float, Counter[str], int]:
    exe = shutil.which("ecs-exposure", path=str(Path(sys.executable).parent)) or "ecs-exposure"
    t = time.perf_counter()
    r = subprocess.run(
        [
            exe,
            "scan",
            "--aws",
            "--endpoint-url",
            proxy.url,
            "--region",
            REGION,
            "-f",
            "json",
            "-o",
            str(workdir / "findings.json"),
            *extra,
        ],
        env=aws_env(proxy.url),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    if r.returncode not in (0, 1):
        raise RuntimeError(f"ecs-exposure failed ({r.returncode}): {r.stderr[-500:]}")
    findings = len(json.loads((workdir / "findings.json").read_text())["findings"])
    return wall, proxy.take(), findings


def run_prowler(exe: Path, proxy: CountingProxy, workdir: Path) -> tuple[float, Counter[str], int] | None:
    t = time.perf_counter()
    r = subprocess.run(
        [
            str(exe),
            "aws",
            "--services",
            "ecs",
            "--region",
            REGION,
            "--output-formats",
            "json-ocsf",
            "--output-directory",
            str(workdir / "prowler"),
            "--no-banner",
        ],
        env=aws_env(proxy.url),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    wall = time.perf_counter() - t
    counts = proxy.take()
    if r.returncode not in (0, 3):
        print(f"Prowler exited {r.returncode}: {(r.stderr or r.stdout)[-500:]}", file=sys.stderr)
        return None
    results = sum(len(json.loads(p.read_text())) for p in (workdir / "prowler").rglob("*.ocsf.json"))
    return wall, counts, results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, nargs="+", default=[1000])
    ap.add_argument("--no-prowler", action="store_true", help="time ecs-exposure only")
    ap.add_argument(
        "--rescan",
        action="store_true",
        help="also scan the unchanged estate twice with the revision cache and report the second run",
    )
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    exe = None if args.no_prowler else prowler_bin()
    rows = []
    for n in args.services:
        proc, url = start_moto()
        try:
            t = time.perf_counter()
            seed(url, n)
            print(f"  seeded {n} services in {time.perf_counter() - t:.0f} s", file=sys.stderr)
            proxy = CountingProxy(url)
            workdir = OUT / f"run-{n}"
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir(parents=True)
            ours = run_ours(proxy, workdir, ("--no-cache",))
            theirs = run_prowler(exe, proxy, workdir) if exe else None
            rescan = None
            if args.rescan:
                cache = ("--cache-dir", str(workdir / "cache"))
                run_ours(proxy, workdir, cache)  # fills the cache
                rescan = run_ours(proxy, workdir, cache)
            rows.append((n, ours, theirs, rescan))
        finally:
            proc.terminate()
            proc.wait()
    for n, (wall, counts, findings), theirs, rescan in rows:
        print(f"\n{n} services")
        print(
            f"  ecs-exposure  {wall:7.1f} s  {sum(counts.values()):6d} requests "
            f"({sum(counts.values()) / n:.2f} per service)  {findings} findings"
        )
        if theirs:
            pwall, pcounts, presults = theirs
            print(
                f"  Prowler ECS   {pwall:7.1f} s  {sum(pcounts.values()):6d} requests "
                f"({sum(pcounts.values()) / n:.2f} per service)  {presults} check results"
            )
            fewer = sum(pcounts.values()) / max(1, sum(counts.values()))
            print(f"  ecs-exposure is {pwall / wall:.1f}x faster with {fewer:.1f}x fewer requests")
        if rescan:
            rwall, rcounts, _ = rescan
            print(
                f"  rescan, revision cache warm: {rwall:7.1f} s  {sum(rcounts.values()):6d} requests "
                f"({sum(rcounts.values()) / n:.2f} per service): "
                + ", ".join(f"{k} {v}" for k, v in sorted(rcounts.items()))
            )
        print("  ecs-exposure requests by API: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        if theirs:
            print(
                "  Prowler requests by API:      "
                + ", ".join(f"{k} {v}" for k, v in sorted(theirs[1].items()))
            )
    if len(rows) > 1:
        (n1, (w1, *_), *_), (n2, (w2, *_), *_) = rows[0], rows[-1]
        print(f"\ngrowth: {n2 / n1:.1f}x services -> {w2 / w1:.2f}x time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
