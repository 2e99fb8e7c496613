"""Credential detection: the normal path at estate scale, and adversarial values.

    python benchmarks/credentials_benchmark.py                      # this checkout
    python benchmarks/credentials_benchmark.py --baseline 181a349   # and a git revision, side by side

1. The estate of ``scan_benchmark.py`` (10,000 services: about 800,000 environment entries in
   8,000 task definitions) is parsed once; then the ``plaintext-credentials`` work is timed — every
   environment classified, evidence built with keyed fingerprints — best of three.
2. Every value of ``tests/adversarial_credentials.py`` (built to make a backtracking rule
   quadratic) is classified under three names, read as a command line and as a ``valueFrom``;
   the slowest of the five is printed. The current code gets 1 MB values, the baseline (if
   given) small ones, with their growth from one size to the next: linear code doubles when the
   size doubles, quadratic code quadruples.

With ``--baseline REV``, ``src/ecs_exposure/credentials.py`` of that revision is loaded beside the
current one and timed on the same inputs (the normal path: ``environment_matches`` only, as the
evidence code differs between revisions).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from adversarial_credentials import ADVERSARIAL, MB  # noqa: E402
from scan_benchmark import make_snapshot  # noqa: E402


def load_revision(rev: str) -> types.ModuleType:
    """``ecs_exposure.credentials`` as it was at ``rev``, importable beside the current one."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src/ecs_exposure/credentials.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = importlib.util.spec_from_loader(f"ecs_exposure._credentials_{rev}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "ecs_exposure"
    sys.modules[spec.name] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:credentials.py", "exec"), module.__dict__)
    return module


def race(fns: dict[str, Callable[[], object]], rounds: int = 7) -> dict[str, float]:
    """Best time of each function over ``rounds``, taken in turn (so a machine busy for a while
    slows each alike), with the garbage collector paused as the scan pauses it."""
    from ecs_exposure.gcpause import paused_gc

    times: dict[str, list[float]] = {k: [] for k in fns}
    with paused_gc():
        for _ in range(rounds):
            for k, fn in fns.items():
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
    return {k: min(v) for k, v in times.items()}


def adversarial_time(mod: types.ModuleType, value: str) -> float:
    calls = (
        lambda: mod.classify("DB_PASSWORD", value),
        lambda: mod.classify("CONFIG", value),
        lambda: mod.classify("AWS_SECRET_ACCESS_KEY", value),
        lambda: list(mod.text_matches(value)),
        lambda: mod.literal_secret_reference(value),
    )
    worst = 0.0
    for call in calls:
        t = time.perf_counter()
        call()
        worst = max(worst, time.perf_counter() - t)
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--baseline", metavar="REV", help="also time credentials.py of this git revision")
    ap.add_argument("--size", type=int, default=MB, help="adversarial value size (default 1 MB)")
    ap.add_argument(
        "--baseline-sizes",
        type=int,
        nargs="+",
        default=[5_000, 10_000, 20_000],
        help="adversarial sizes for the baseline (default 5, 10, 20 kB)",
    )
    ap.add_argument("--normal-only", action="store_true", help="skip the adversarial values")
    args = ap.parse_args()
    os.environ.setdefault("ECS_EXPOSURE_FINGERPRINT_KEY", "00" * 32)  # never make a key file here

    from ecs_exposure import credentials
    from ecs_exposure.sources.files import load_document
    from ecs_exposure.traits._secrets import environment_evidence

    baseline = load_revision(args.baseline) if args.baseline else None

    inv = load_document(make_snapshot(args.services, vulns=False), "estate.json", explicit=True)
    tds = [td for a in inv.accounts for r in a.regions for td in r.task_definitions.values()]
    envs = [c.environment for td in tds for c in td.containers if c.environment]
    entries = sum(len(e) for e in envs)
    print(f"estate: {args.services} services, {len(tds)} task definitions, {entries:,} environment entries")

    fns: dict[str, Callable[[], object]] = {
        "environment_matches current": lambda: [credentials.environment_matches(e) for e in envs],
        "plaintext-credentials evidence current": lambda: [environment_evidence(td) for td in tds],
    }
    if baseline is not None:
        fns[f"environment_matches {args.baseline}"] = lambda: [baseline.environment_matches(e) for e in envs]
    timings = race(fns)
    found = sum(len(credentials.environment_matches(e)) for e in envs)
    for what, seconds in timings.items():
        print(f"  {what:48} {seconds:6.3f} s  ({seconds / entries * 1e9:5.0f} ns per entry)")
    print(f"  credentials found: {found:,}")
    if args.normal_only:
        return 0

    print(f"\nadversarial values: slowest of 5 calls; current at {args.size:,} characters", end="")
    if baseline is not None:
        sizes = " / ".join(f"{s // 1000} kB" for s in args.baseline_sizes)
        print(f", {args.baseline} at {sizes} (growth per doubling)", end="")
    print()
    worst = 0.0
    for rule, what, build in ADVERSARIAL:
        t = adversarial_time(credentials, build(args.size))
        worst = max(worst, t)
        line = f"  {rule:18} {what:46} {t:6.3f} s"
        if baseline is not None:
            old = [adversarial_time(baseline, build(s)) for s in args.baseline_sizes]
            growth = old[-1] / old[-2] if old[-2] > 0.001 else float("nan")
            line += "   " + " ".join(f"{x:7.3f}" for x in old) + f"  x{growth:4.1f}"
        print(line, flush=True)
    print(f"slowest adversarial value (current): {worst:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
