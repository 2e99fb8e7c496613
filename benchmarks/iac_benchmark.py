"""Infrastructure-code scan benchmark: ecs-exposure against Checkov on the same generated inputs.

    python benchmarks/iac_benchmark.py                       # 1,000 services, and 5,000 for linearity
    python benchmarks/iac_benchmark.py --services 1000 2000 5000 --checkov-sizes 1000 5000
    python benchmarks/iac_benchmark.py --no-checkov

Each framework generator writes N services — task definition, service, security group, task role —
into templates (CloudFormation: 100 services per template, the 500-resource limit kept; half YAML
with short tags, half JSON), with known exposure planted by index, and returns the ground truth.
Both tools run in a fresh process on the same directory; wall time and peak RSS (``wait4``) are
printed side by side, then, per trait, which of our findings Checkov also reports and where they
disagree with each other and with the planted truth.

Checkov runs from its own virtualenv (benchmarks/out/checkov-venv, created on first use, version
pinned below) as ``checkov -d DIR --framework <frameworks> -o json``.

Adding a framework (Terraform): write ``generate_terraform(n, directory) -> Truth`` producing the
same planted traits, register it in FRAMEWORKS, and add its Checkov check ids to CHECKOV_TRAITS if
they differ; ``--framework cloudformation,terraform`` then runs both.
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
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CHECKOV_VERSION = "3.3.30"
CHECKOV_VENV = OUT / "checkov-venv"

Truth = dict[int, set[str]]  # service index → planted trait ids

# Checkov check ids → our trait ids (the checks that look at the same thing)
CHECKOV_TRAITS = {
    "CKV_AWS_24": "open-security-group",  # 0.0.0.0/0 to port 22
    "CKV_AWS_25": "open-security-group",  # … 3389
    "CKV_AWS_260": "open-security-group",  # … 80
    "CKV_AWS_277": "open-security-group",  # all ports
    "CKV_AWS_62": "admin-access-role",
    "CKV_AWS_63": "admin-access-role",
    "CKV_AWS_110": "impact-policy-escalation",
    "CKV_AWS_107": "impact-credential-minting",
    "CKV_AWS_108": "impact-data-access",
    "CKV_AWS_334": "privileged-container",
    "CKV_AWS_335": "host-pid-namespace",
    "CKV_AWS_333": "public-ip",
    "CKV_AWS_336": "writable-root-filesystem",
}
COMPARED = sorted(
    {
        "privileged-container",
        "host-pid-namespace",
        "host-filesystem-mount",
        "plaintext-credentials",
        "public-ip",
        "open-security-group",
        "admin-access-role",
        "internet-reachable",
    }
)

# --------------------------------------------------------------------------- CloudFormation


def planted(i: int) -> set[str]:
    t = set()
    if i % 5 == 0:
        t.add("privileged-container")
    if i % 7 == 0:
        t.add("host-pid-namespace")
    if i % 9 == 0:
        t.add("host-filesystem-mount")
    if i % 4 == 0:
        t.add("plaintext-credentials")
    if i % 2 == 0:
        t.add("public-ip")
    if i % 3 == 0:
        t.add("open-security-group")
    if i % 10 == 0:
        t.add("admin-access-role")
    if i % 2 == 0 and i % 3 == 0:
        t.add("internet-reachable")  # public IP + subnet routed to the IGW + open group
    return t


def _cfn_service(i: int) -> dict:
    t = planted(i)
    env = [{"Name": "LOG_LEVEL", "Value": "info"}, {"Name": "TABLE", "Value": {"Ref": "AWS::StackName"}}]
    if "plaintext-credentials" in t:
        env.append({"Name": "DB_PASSWORD", "Value": f"Zq7kP2mW9xLt{i}"})
    container: dict = {
        "Name": "app",
        "Image": {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app:" + str(i)},
        "User": "1000",
        "ReadonlyRootFilesystem": True,
        "PortMappings": [{"ContainerPort": 8080}],
        "Environment": env,
    }
    td: dict = {
        "Family": f"app-{i}",
        "NetworkMode": "awsvpc",
        "RequiresCompatibilities": ["EC2"],
        "TaskRoleArn": {"Fn::GetAtt": [f"Role{i}", "Arn"]},
        "ContainerDefinitions": [container],
    }
    if "privileged-container" in t:
        container["Privileged"] = True
    if "host-pid-namespace" in t:
        td["PidMode"] = "host"
    if "host-filesystem-mount" in t:
        td["Volumes"] = [{"Name": "sock", "Host": {"SourcePath": "/var/run/docker.sock"}}]
        container["MountPoints"] = [{"SourceVolume": "sock", "ContainerPath": "/var/run/docker.sock"}]
    port, cidr = (80, "0.0.0.0/0") if "open-security-group" in t else (8080, "10.0.0.0/8")
    statement = (
        {"Effect": "Allow", "Action": "*", "Resource": "*"}
        if "admin-access-role" in t
        else {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::bucket-{i}/*"}
    )
    return {
        f"TaskDef{i}": {"Type": "AWS::ECS::TaskDefinition", "Properties": td},
        f"Service{i}": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "ServiceName": f"svc-{i}",
                "TaskDefinition": {"Ref": f"TaskDef{i}"},
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {
                        "AssignPublicIp": "ENABLED" if "public-ip" in t else "DISABLED",
                        "SecurityGroups": [{"Ref": f"Sg{i}"}],
                        "Subnets": [{"Ref": "PublicSubnet"}],
                    }
                },
            },
        },
        f"Sg{i}": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": f"service {i}",
                "VpcId": {"Ref": "Vpc"},
                "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": cidr}
                ],
            },
        },
        f"Role{i}": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                },
                "Policies": [{"PolicyName": "app", "PolicyDocument": {"Statement": [statement]}}],
            },
        },
    }


_NETWORK = {
    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
    "PublicSubnet": {
        "Type": "AWS::EC2::Subnet",
        "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.0.0/24"},
    },
    "Igw": {"Type": "AWS::EC2::InternetGateway"},
    "IgwAttach": {
        "Type": "AWS::EC2::VPCGatewayAttachment",
        "Properties": {"VpcId": {"Ref": "Vpc"}, "InternetGatewayId": {"Ref": "Igw"}},
    },
    "Routes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
    "DefaultRoute": {
        "Type": "AWS::EC2::Route",
        "Properties": {
            "RouteTableId": {"Ref": "Routes"},
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": {"Ref": "Igw"},
        },
    },
    "RoutesAssoc": {
        "Type": "AWS::EC2::SubnetRouteTableAssociation",
        "Properties": {"SubnetId": {"Ref": "PublicSubnet"}, "RouteTableId": {"Ref": "Routes"}},
    },
}


def _yaml(value: object, indent: int = 0) -> str:
    """CloudFormation YAML with short tags (!Ref, !Sub, !GetAtt), as people write it."""
    pad = " " * indent
    if isinstance(value, dict) and len(value) == 1:
        ((k, v),) = value.items()
        if k == "Ref":
            return f"!Ref {v}"
        if k == "Fn::Sub":
            return f"!Sub {json.dumps(v)}"
        if k == "Fn::GetAtt":
            return f"!GetAtt {v[0]}.{v[1]}"
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            body = _yaml(v, indent + 2)
            block = isinstance(v, dict | list) and v and not body.startswith("!")
            out.append(f"{pad}{k}:" + ("\n" + body if block else " " + body))
        return "\n".join(out)
    if isinstance(value, list):
        out = []
        for v in value:
            body = _yaml(v, indent + 2)
            out.append(f"{pad}- " + body.lstrip() if isinstance(v, dict | list) else f"{pad}- {body}")
        return "\n".join(out)
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, str) else str(value)


def generate_cloudformation(n: int, directory: Path) -> Truth:
    per = 100
    for start in range(0, n, per):
        resources = dict(_NETWORK)
        for i in range(start, min(n, start + per)):
            resources.update(_cfn_service(i))
        doc = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
        k = start // per
        if k % 2:
            (directory / f"stack-{k:03}.json").write_text(json.dumps(doc, indent=2))
        else:
            (directory / f"stack-{k:03}.yaml").write_text(_yaml(doc) + "\n")
    return {i: planted(i) for i in range(n)}


FRAMEWORKS: dict[str, Callable[[int, Path], Truth]] = {"cloudformation": generate_cloudformation}

# --------------------------------------------------------------------------- running


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of a command in a fresh process."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def ours(directory: Path, out: Path) -> tuple[float, float]:
    secs, mb, code = run(
        [sys.executable, "-m", "ecs_exposure", "scan", str(directory), "-f", "json", "-o", str(out)]
    )
    if code not in (0, 1, 3):
        raise SystemExit(f"ecs-exposure failed with exit code {code}")
    return secs, mb


def checkov_bin() -> Path:
    exe = CHECKOV_VENV / "bin" / "checkov"
    if not exe.exists():
        print(f"installing Checkov {CHECKOV_VERSION} in {CHECKOV_VENV} (once) …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)
        subprocess.run(
            [str(CHECKOV_VENV / "bin" / "pip"), "install", "-q", f"checkov=={CHECKOV_VERSION}"], check=True
        )
    return exe


def checkov(directory: Path, frameworks: list[str], out: Path) -> tuple[float, float]:
    exe = checkov_bin()
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    cmd = [
        str(exe),
        "-d",
        str(directory),
        "--framework",
        ",".join(frameworks),
        "-o",
        "json",
        "--output-file-path",
        str(out),
    ]
    secs, mb, code = run(cmd, env)
    if code not in (0, 1):
        raise SystemExit(f"checkov failed with exit code {code}")
    return secs, mb


def _index(name: str) -> int | None:
    digits = "".join(c for c in name.rsplit(".", 1)[-1].rsplit("/", 1)[-1] if c.isdigit())
    return int(digits) if digits else None


def our_traits(report: Path) -> Truth:
    doc = json.loads(report.read_text())
    got: Truth = {}
    for f in doc["findings"]:
        i = _index(f["resource"]["uid"])
        if i is not None:
            got.setdefault(i, set()).update(t["id"] for t in f["traits"])
    return got


def checkov_traits(out_dir: Path) -> tuple[Truth, dict[str, int]]:
    got: Truth = {}
    checks: dict[str, int] = {}
    for path in out_dir.glob("*.json"):
        docs = json.loads(path.read_text())
        for doc in docs if isinstance(docs, list) else [docs]:
            for r in doc.get("results", {}).get("failed_checks", []):
                checks[f"{r['check_id']} {r['check_name']}"] = (
                    checks.get(f"{r['check_id']} {r['check_name']}", 0) + 1
                )
                trait = CHECKOV_TRAITS.get(r["check_id"])
                i = _index(r["resource"])
                if trait and i is not None:
                    got.setdefault(i, set()).add(trait)
    return got, checks


def compare(truth: Truth, mine: Truth, theirs: Truth | None) -> None:
    print()
    head = f"{'trait':26} {'planted':>8} {'ours':>6} {'ours ok':>8}"
    if theirs is not None:
        head += f" {'Checkov':>8} {'both':>6} {'only ours':>10} {'only Checkov':>13} {'Checkov ok':>11}"
    print(head)
    for trait in COMPARED:
        planted_ = {i for i, t in truth.items() if trait in t}
        ours_ = {i for i, t in mine.items() if trait in t}
        line = f"{trait:26} {len(planted_):8} {len(ours_):6} {'yes' if ours_ == planted_ else 'NO':>8}"
        if theirs is not None:
            ck = {i for i, t in theirs.items() if trait in t}
            line += (
                f" {len(ck):8} {len(ours_ & ck):6} {len(ours_ - ck):10} {len(ck - ours_):13}"
                f" {'yes' if ck == planted_ else 'no':>11}"
            )
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--checkov-sizes", type=int, nargs="*", default=[1000], help="sizes Checkov also runs on")
    ap.add_argument("--no-checkov", action="store_true")
    ap.add_argument("--framework", default="cloudformation", help=f"comma-separated: {', '.join(FRAMEWORKS)}")
    args = ap.parse_args()
    frameworks = args.framework.split(",")
    OUT.mkdir(exist_ok=True)
    rows = []
    for n in args.services:
        work = Path(tempfile.mkdtemp(prefix=f"iac-{n}-", dir=OUT))
        try:
            truth: Truth = {}
            for fw in frameworks:
                (work / fw).mkdir()
                truth.update(FRAMEWORKS[fw](n, work / fw))
            secs, mb = ours(work, work / "ours.json")
            mine = our_traits(work / "ours.json")
            row = [n, secs, mb, None, None]
            theirs = None
            if not args.no_checkov and n in args.checkov_sizes:
                (work / "checkov").mkdir()
                csecs, cmb = checkov(work, frameworks, work / "checkov")
                theirs, checks = checkov_traits(work / "checkov")
                row[3:] = [csecs, cmb]
                print(f"\nCheckov's failed checks on {n} services:")
                for name, count in sorted(checks.items()):
                    print(f"  {count:6}  {name}")
            rows.append(row)
            print(f"\n{n} services ({', '.join(frameworks)}):", end="")
            compare(truth, mine, theirs)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    checkov_head = "Checkov " + CHECKOV_VERSION
    print(f"\n{'services':>8} {'ecs-exposure':>14} {'peak':>9} {checkov_head:>16} {'peak':>9} {'ratio':>7}")
    for n, secs, mb, csecs, cmb in rows:
        line = f"{n:8} {secs:13.2f}s {mb:7.0f}MB"
        if csecs is not None:
            line += f" {csecs:15.1f}s {cmb:7.0f}MB {csecs / secs:6.1f}x"
        print(line)
    if len(rows) > 1:
        (n0, s0, *_), (n1, s1, *_) = rows[0], rows[-1]
        print(f"time grew {s1 / s0:.2f}x for {n1 / n0:.1f}x the services")


if __name__ == "__main__":
    main()
