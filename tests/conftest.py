from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ecs_exposure.engine import ScanOptions, scan, targets
from ecs_exposure.model import Inventory, ScanResult, TraitHit, TraitUnknown
from ecs_exposure.sources.files import load_document

# Fingerprints are keyed (HMAC-SHA-256): one fixed key for the whole suite, so that outputs and
# golden files are the same on every machine, and no test makes a key in the real data directory
# (the key is read at the first fingerprint, after this line).
TEST_FINGERPRINT_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
os.environ["ECS_EXPOSURE_FINGERPRINT_KEY"] = TEST_FINGERPRINT_KEY

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def require_shared(path: Path) -> Path:
    """shared/ (spec and corpus) sits beside the checkout; CI must have it, a developer may not."""
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI runs with a copy of shared/ beside the checkout")
        pytest.skip(f"{path} not present")
    return path


def load(doc: Any, name: str = "fixture.json") -> Inventory:
    return load_document(doc, name, explicit=True)


def outcomes(
    doc: Any, resource: str | None = None, reports: list[dict] = ()
) -> dict[str, TraitHit | TraitUnknown]:
    """Every trait's outcome for one resource of a document (the first, or the one named), with
    Trivy / Grype ``reports`` (parsed JSON) as if given with --vulns."""
    from ecs_exposure.model import Loc
    from ecs_exposure.sources.reader import Reader
    from ecs_exposure.sources.vulns import grype_report, is_trivy, trivy_report
    from ecs_exposure.traits import registry

    inv = load(doc)
    for i, rep in enumerate(reports):
        parse = trivy_report if is_trivy(rep) else grype_report
        inv.image_reports.append(parse(rep, Loc(f"report{i}.json"), Reader()))
        inv.vuln_sources.append(f"report{i}.json")
    for t in targets(inv, []):
        if resource is None or t.resource.name == resource:
            return {tid: o for tid, spec in registry().items() if (o := spec.detect(t)) is not None}
    raise AssertionError(f"no resource {resource!r}")


def scan_doc(doc: Any, **options: Any) -> ScanResult:
    return scan(load(doc), ScanOptions(**options))


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(tmp_path: Path):
    """Run the installed ``ecs-exposure`` console script, as a user would."""
    exe = shutil.which("ecs-exposure", path=os.path.dirname(sys.executable)) or shutil.which("ecs-exposure")
    assert exe, "the ecs-exposure console script is not installed (pip install -e .)"

    def run(*args: str, cwd: Path | None = None) -> Run:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
        p = subprocess.run(
            [exe, *args], capture_output=True, text=True, cwd=cwd or tmp_path, env=env, timeout=120
        )
        return Run(p.returncode, p.stdout, p.stderr)

    return run


# --------------------------------------------------------------------------- a real local AWS


@pytest.fixture(scope="session")
def moto_url():
    """A moto server on 127.0.0.1 (boto3 talks HTTP to it), shared by the AWS tests."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and no profile files: nothing can reach a real account."""
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    # the revision cache (on by default on the command line) of each test is its own: moto reuses ARNs
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


# --------------------------------------------------------------------------- a real PostgreSQL


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server started for this test session (see ``pgserver.py``)."""
    from pgserver import PostgresUnavailable, postgres_server

    server = postgres_server()
    try:
        running = server.__enter__()
    except PostgresUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {e}")
        pytest.skip(str(e))
    yield running
    server.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty findings history: a SQLite file, then a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}"
    return request.getfixturevalue("postgres").create_database()
