"""The scanner on 280 real public task definitions written by others."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import SHARED, require_shared
from ecs_exposure.engine import ScanOptions, scan
from ecs_exposure.sources import load_paths

CORPUS = SHARED / "corpus" / "taskdefs"


@pytest.fixture(scope="module")
def corpus_result():
    require_shared(CORPUS)
    return scan(load_paths([CORPUS]), ScanOptions(include_informational=True))


def test_every_file_is_read(corpus_result) -> None:
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())  # 280 JSON and one .tpl template
    assert corpus_result.resources_scanned == len(files)
    # nothing in the corpus is malformed JSON; no detector may fail on real input
    assert not any("internal error" in i.message for i in corpus_result.issues)
    assert len(corpus_result.issues) == 0, [str(i) for i in corpus_result.issues]


def by_file(result, name: str):
    return [f for f in result.findings if name in f.resource.uid]


def traits_of(result, name: str) -> dict[str, list[str]]:
    [f] = by_file(result, name)
    return {h.trait_id: [e.summary for e in h.evidence] for h in f.hits}


def test_known_real_positives(corpus_result) -> None:
    t = traits_of(corpus_result, "241_remind101_empire")
    assert any("EMPIRE_DATABASE_URL" in s for s in t["plaintext-credentials"])
    t = traits_of(corpus_result, "266_2rprbm_conta-med-backend")
    assert {"MONGODB_URI", "WHATSAPP_APP_SECRET", "WHATSAPP_ACCESS_TOKEN"} <= {
        s.split("variable ")[1].split(" ")[0] for s in t["plaintext-credentials"]
    }


def test_known_real_negatives(corpus_result) -> None:
    # placeholders and pointers in real files: <DB_PASSWORD>, MY_ACCESS_TOKEN, ${...}, {aws_access_key_id}
    for name in (
        "186_JASUR2007",
        "021_signalfx",
        "117_DnOberon",
        "037_aws-samples_ecs-mesh",
        "278_DataDog",
        "248_XYOracleNetwork",
    ):
        for f in by_file(corpus_result, name):
            assert "plaintext-credentials" not in {h.trait_id for h in f.hits}, name


def test_trait_counts_are_plausible(corpus_result) -> None:
    counts = Counter(h.trait_id for f in corpus_result.findings for h in f.hits)
    raw = [json.loads(p.read_text()) for p in CORPUS.glob("*.json")]
    raw = [d.get("taskDefinition", d) for d in raw]
    privileged = sum(any(c.get("privileged") is True for c in d["containerDefinitions"]) for d in raw)
    host_pid = sum(d.get("pidMode") == "host" for d in raw)
    assert counts["privileged-container"] == privileged
    assert counts["host-pid-namespace"] == host_pid
    assert counts["plaintext-credentials"] >= 10


def test_fix_plans_every_corpus_task_definition(cli, tmp_path) -> None:
    """Real task definitions (nulls, odd shapes): every plan is made, and every written revision
    scans clean of what it fixed."""
    require_shared(CORPUS)
    out = tmp_path / "revisions"
    r = cli("fix", str(CORPUS), "-f", "json", "--write-dir", str(out))
    assert r.code == 0, r.err[-500:]
    report = json.loads(r.out)
    assert len(report["plans"]) >= 20
    written = list(out.glob("*.json"))
    with_revision = [p for p in report["plans"] if p["new_revision"]]
    withheld = r.err.count("new revision not written")
    assert len(written) == len(with_revision) - withheld  # no file overwrote another
    rescan = json.loads(cli("scan", str(out), "-f", "json").out)
    fixed = {
        "privileged-container",
        "plaintext-credentials",
        "host-filesystem-mount",
        "host-pid-namespace",
        "host-ipc-namespace",
        "host-network-mode",
        "dangerous-capabilities",
    }
    assert not fixed & {t["id"] for f in rescan["findings"] for t in f["traits"]}
    assert rescan["complete"] is True


# --------------------------------------------------------------------------- infrastructure code

CFN_CORPUS = SHARED / "corpus" / "cloudformation"
TF_CORPUS = SHARED / "corpus" / "terraform"
CFN_EXPECTED = Path(__file__).parent / "data" / "cfn_corpus_expected.json"
# the engine's word for a service whose task definition another stack or a custom resource makes
_OTHER_STACK = "which is not in the inputs: its task definition traits are unknown"


@pytest.fixture(scope="module")
def cfn_result():
    require_shared(CFN_CORPUS)
    return scan(load_paths([CFN_CORPUS]), ScanOptions(include_informational=True))


def test_every_cloudformation_template_is_read(cfn_result) -> None:
    files = sorted(p for p in CFN_CORPUS.iterdir() if p.is_file())
    assert len(files) == 88
    inv = load_paths([CFN_CORPUS])
    assert not inv.notes, inv.notes  # none skipped
    assert not inv.issues, [str(i) for i in inv.issues]  # none unreadable (077 has a trailing comma)
    read = {Path(p).name for p in inv.positions}
    assert read == {p.name for p in files}
    assert not any("internal error" in i.message for i in cfn_result.issues)
    # the only issues: services whose task definition is another stack's or a custom resource's
    assert all(_OTHER_STACK in i.message for i in cfn_result.issues), [str(i) for i in cfn_result.issues]
    assert len(cfn_result.issues) == 3
    assert cfn_result.resources_scanned >= 100


def test_cloudformation_sample_read_by_hand(cfn_result) -> None:
    """Ten templates whose findings were checked by hand against the template text."""
    expected = json.loads(CFN_EXPECTED.read_text())["files"]
    assert len(expected) == 10
    vuln = {"end-of-life-os", "exploitable-vulnerability", "malicious-package", "software-vulnerability"}
    for name, resources in expected.items():
        got = {
            f.resource.uid.split("#", 1)[1]: f
            for f in cfn_result.findings
            if f.resource.uid.split("#")[0].endswith(name)
        }
        assert got.keys() == resources.keys(), name
        for pointer, want in resources.items():
            f = got[pointer]
            assert sorted(h.trait_id for h in f.hits) == want["present"], (name, pointer)
            unknown = sorted(
                u.trait_id for u in f.unknown if u.trait_id not in vuln | {"stale-revision-credentials"}
            )
            assert unknown == want["unknown"], (name, pointer)
            assert f.severity.name == want["severity"], (name, pointer)


def test_terraform_corpus_every_file_read_or_reported() -> None:
    """Until Terraform is read, each .tf file is a scan issue (never a silent pass); every other file —
    the container-definition lists and templates Terraform loads — is read or skipped with a reason."""
    require_shared(TF_CORPUS)
    files = sorted(p for p in TF_CORPUS.rglob("*") if p.is_file())
    inv = load_paths([TF_CORPUS])
    tf = [p for p in files if p.suffix == ".tf"]
    assert len(tf) == 128
    issues = {Path(i.source).name for i in inv.issues}
    assert {p.name for p in tf} <= issues
    assert all("Terraform is not read yet" in i.message for i in inv.issues)
    read = {Path(f.uid).name for f in inv.task_definition_files}
    skipped = {Path(n.split(": skipped, ")[0]).name for n in inv.notes}
    others = {p.name for p in files if p.suffix != ".tf"}
    assert others == read | skipped
    assert len(inv.task_definition_files) == 28
    assert not read & skipped
    result = scan(inv, ScanOptions(include_informational=True))
    assert not any("internal error" in i.message for i in result.issues)
    jenkins = next(f for f in result.findings if "127_" in f.resource.uid)
    assert {"privileged-container", "plaintext-credentials"} <= {h.trait_id for h in jenkins.hits}
