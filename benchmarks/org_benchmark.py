"""Scan an organization served by moto, behind a proxy that behaves like AWS's API throttles.

    python benchmarks/org_benchmark.py                          # 50 accounts, workers 1 2 4 8
    python benchmarks/org_benchmark.py --accounts 60 --workers 2 8 --prowler-accounts 3

moto runs in its own process, seeded with an organization of N member accounts (moto keeps each
account's state apart; the scanner reaches them with sts:AssumeRole), each with 20–50 ECS services
over two regions. Between the scanner and moto, a loopback proxy (tests/orgfake.py) adds a fixed
latency to every request (default 40 ms, a cross-region round trip) and enforces per-account token
buckets like AWS's: ECS 20/s burst 50 per account and region, EC2 20/s burst 100 per API, IAM 5/s
burst 10 per account, answering ThrottlingException / RequestLimitExceeded / Throttling past them.

Runs, each a fresh `ecs-exposure scan --aws` process over every account:
- in-process (today's default: one account after the other, regions in parallel);
- `--workers N` (a local Dask cluster of N processes, one task per account×region);
- a rescan of the unchanged estate with the revision cache (cold run, then warm run);
- Prowler's ECS checks on the first K accounts (`prowler aws --role …`), where it is installed
  (benchmarks/out/prowler-venv, as collect_benchmark.py installs it), extrapolated to N accounts.

Printed: wall time, requests (counted by the proxy), requests per service, throttling answers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from collect_benchmark import OUT, prowler_bin, start_moto
from orgfake import OrgProxy, organization, seed_account

REGIONS = ("eu-west-1", "us-east-1")
AWS_LIMITS = {"ecs": (20.0, 50.0), "ec2": (20.0, 100.0), "iam": (5.0, 10.0)}


def seed(url: str, accounts: int) -> tuple[list[str], int]:
    org = organization(url, members=accounts)
    sizes = [20 + (i * 7) % 31 for i in range(accounts)]  # 20..50 services per account

    def one(i: int) -> None:
        a, n = org["members"][i], sizes[i]
        seed_account(
            url, a, REGIONS[0], services=(n + 1) // 2, tag="r1", families=max(1, (n + 1) // 2 * 7 // 10)
        )
        seed_account(url, a, REGIONS[1], services=n // 2, tag="r2", families=max(1, n // 2 * 7 // 10))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(one, range(accounts)))
    return org["members"], sum(sizes)


def env(url: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGIONS[0],
        AWS_ENDPOINT_URL=url,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return e


def ours(proxy: OrgProxy, accounts_file: Path, extra: list[str], workdir: Path) -> dict:
    exe = shutil.which("ecs-exposure", path=str(Path(sys.executable).parent)) or "ecs-exposure"
    before, throttled_before = sum(proxy.counts.values()), sum(proxy.throttled.values())
    out = workdir / "findings.json"
    t = time.perf_counter()
    r = subprocess.run(
        [
            exe, "scan", "--aws", "--endpoint-url", proxy.url, "--region", REGIONS[0], "--region", REGIONS[1],
            "--accounts-file", str(accounts_file), "--role-name", "audit",
            "-f", "json", "-o", str(out), "--stats",
            *extra,
        ],
        env=env(proxy.url),
        capture_output=True,
        text=True,
    )  # fmt: skip
    wall = time.perf_counter() - t
    if r.returncode not in (0, 1, 3):
        raise RuntimeError(f"ecs-exposure failed ({r.returncode}): {r.stderr[-800:]}")
    report = json.loads(out.read_text())
    return {
        "wall": wall,
        "requests": sum(proxy.counts.values()) - before,
        "throttled": sum(proxy.throttled.values()) - throttled_before,
        "findings": len(report["findings"]),
        "complete": report["complete"],
        "code": r.returncode,
        "stderr": r.stderr,
    }


def prowler(exe: Path, proxy: OrgProxy, accounts: list[str], workdir: Path) -> dict | None:
    before, throttled_before = sum(proxy.counts.values()), sum(proxy.throttled.values())
    t = time.perf_counter()
    for a in accounts:
        r = subprocess.run(
            [
                str(exe), "aws", "--role", f"arn:aws:iam::{a}:role/audit", "--services", "ecs",
                "--region", *REGIONS, "--output-formats", "json-ocsf",
                "--output-directory", str(workdir / "prowler" / a), "--no-banner",
            ],
            env=env(proxy.url),
            capture_output=True,
            text=True,
            timeout=3600,
        )  # fmt: skip
        if r.returncode not in (0, 3):
            print(f"Prowler exited {r.returncode}: {(r.stderr or r.stdout)[-400:]}", file=sys.stderr)
            return None
    return {
        "wall": time.perf_counter() - t,
        "requests": sum(proxy.counts.values()) - before,
        "throttled": sum(proxy.throttled.values()) - throttled_before,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--latency", type=float, default=0.04, help="seconds added to every request")
    ap.add_argument("--prowler-accounts", type=int, default=3, help="accounts Prowler scans (0: none)")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGIONS[0]
    )
    proc, url = start_moto()
    rows: list[tuple[str, dict]] = []
    try:
        t = time.perf_counter()
        members, services = seed(url, args.accounts)
        print(
            f"seeded {len(members)} accounts, {services} services over {len(REGIONS)} regions "
            f"in {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )
        workdir = Path(tempfile.mkdtemp(prefix="org-bench-", dir=OUT))
        accounts_file = workdir / "accounts.txt"
        accounts_file.write_text("\n".join(members) + "\n")
        with OrgProxy(url, latency=args.latency, limits=AWS_LIMITS) as proxy:
            runs: list[tuple[str, list[str]]] = [("in-process", ["--no-cache"])]
            runs += [(f"--workers {n}", ["--workers", str(n), "--no-cache"]) for n in args.workers]
            for label, extra in runs:
                rows.append((label, ours(proxy, accounts_file, extra, workdir)))
                print(f"  {label}: {rows[-1][1]['wall']:.1f} s", file=sys.stderr)
            cache = workdir / "cache"
            best = max(args.workers)
            for label in ("cold cache", "rescan (warm cache)"):
                rows.append(
                    (
                        f"--workers {best}, {label}",
                        ours(
                            proxy, accounts_file, ["--workers", str(best), "--cache-dir", str(cache)], workdir
                        ),
                    )
                )
            rows.append(
                (
                    "in-process, rescan (warm cache)",
                    ours(proxy, accounts_file, ["--cache-dir", str(cache)], workdir),
                )
            )
            theirs = None
            if args.prowler_accounts:
                exe = prowler_bin()
                if exe is not None:
                    theirs = prowler(exe, proxy, members[: args.prowler_accounts], workdir)
    finally:
        proc.terminate()
        proc.wait()
    print(
        f"\n{len(members)} accounts, {services} services, {len(REGIONS)} regions; "
        f"proxy latency {args.latency * 1000:.0f} ms, AWS-like per-account token buckets"
    )
    print(
        f"{'run':<36} {'wall':>8} {'speed-up':>8} {'requests':>9} {'req/service':>11} "
        f"{'throttled':>9} {'findings':>8}"
    )
    base = rows[0][1]["wall"]
    for label, r in rows:
        print(
            f"{label:<36} {r['wall']:>7.1f}s {base / r['wall']:>7.2f}x {r['requests']:>9} "
            f"{r['requests'] / services:>11.2f} {r['throttled']:>9} {r['findings']:>8}"
            + ("" if r["complete"] else "  (incomplete)")
        )
    if theirs is not None:
        k = args.prowler_accounts
        share = k / len(members)
        print(
            f"{'Prowler ECS checks, ' + str(k) + ' accounts':<36} {theirs['wall']:>7.1f}s {'':>8} "
            f"{theirs['requests']:>9} {'':>11} {theirs['throttled']:>9}"
        )
        print(
            f"{'  … extrapolated to all accounts':<36} {theirs['wall'] / share:>7.1f}s "
            f"{base / (theirs['wall'] / share):>7.2f}x {theirs['requests'] / share:>9.0f} "
            f"{theirs['requests'] / share / services:>11.2f}"
        )
    for label, r in rows:
        if not r["complete"]:
            print(f"\n{label} stderr tail:\n{r['stderr'][-1500:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
