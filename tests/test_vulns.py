"""Vulnerability sources (Inspector, ECR, Trivy, Grype, KEV), image matching and the four traits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from builders import ACCOUNT, REGION, container, service, snapshot, taskdef
from conftest import load
from ecs_exposure.engine import ScanOptions, scan, targets
from ecs_exposure.model import Loc, TraitHit, TraitUnknown
from ecs_exposure.model.vulns import ImageRef
from ecs_exposure.sources.reader import Reader
from ecs_exposure.sources.vulns import grype_report, load_kev, load_vuln_file, trivy_report
from ecs_exposure.traits import registry
from ecs_exposure.traits.base import TraitSettings

ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
NET = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
LOCAL = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx:1.25", ("docker.io", "library/nginx", "1.25", None)),
        ("docker.io/library/nginx:1.25", ("docker.io", "library/nginx", "1.25", None)),
        ("index.docker.io/library/nginx:1.25", ("docker.io", "library/nginx", "1.25", None)),
        ("nginx", ("docker.io", "library/nginx", "latest", None)),
        ("bitnami/redis:7", ("docker.io", "bitnami/redis", "7", None)),
        (f"{ECR}/web:1", (ECR, "web", "1", None)),
        (f"{ECR}/team/web@{DIGEST}", (ECR, "team/web", None, DIGEST)),
        (f"{ECR}/web:1@{DIGEST}", (ECR, "web", "1", DIGEST)),
        ("localhost:5000/app:dev", ("localhost:5000", "app", "dev", None)),
        ("public.ecr.aws/nginx/nginx:1.27", ("public.ecr.aws", "nginx/nginx", "1.27", None)),
        ("MyRepo/App:V1", ("docker.io", "myrepo/app", "V1", None)),
    ],
)
def test_image_ref_normalisation(text: str, expected: tuple) -> None:
    ref = ImageRef.parse(text)
    assert ref is not None and (ref.registry, ref.repository, ref.tag, ref.digest) == expected


@pytest.mark.parametrize("text", ["", "has space:1", "app@sha256:short", "<IMAGE1_NAME>"])
def test_image_ref_rejects(text: str) -> None:
    ref = ImageRef.parse(text)
    assert ref is None or text == "<IMAGE1_NAME>"  # a placeholder parses but will never match a report


# --------------------------------------------------------------------------- report builders


def trivy(
    name: str, *vulns: dict[str, Any], eosl: bool | None = False, digests: tuple[str, ...] = ()
) -> dict:
    os_info: dict[str, Any] = {"Family": "debian", "Name": "12.5"}
    if eosl is not None:
        os_info["EOSL"] = eosl
    return {
        "SchemaVersion": 2,
        "ArtifactName": name,
        "ArtifactType": "container_image",
        "Metadata": {"OS": os_info, "RepoTags": [name], "RepoDigests": list(digests)},
        "Results": [{"Target": name, "Class": "os-pkgs", "Vulnerabilities": list(vulns)}],
    }


def tv(cve: str, severity: str = "HIGH", vector: str | None = NET, pkg: str = "openssl") -> dict[str, Any]:
    v: dict[str, Any] = {
        "VulnerabilityID": cve,
        "PkgName": pkg,
        "InstalledVersion": "1.0",
        "FixedVersion": "1.1",
        "Severity": severity,
        "SeveritySource": "nvd",
    }
    if vector:
        v["CVSS"] = {"nvd": {"V3Vector": vector, "V3Score": 7.5}}
    return v


def grype(name: str, *matches: dict[str, Any], manifest: str | None = None) -> dict:
    return {
        "matches": list(matches),
        "distro": {"name": "alpine", "version": "3.19"},
        "source": {
            "type": "image",
            "target": {"userInput": name, "tags": [name], "repoDigests": [], "manifestDigest": manifest},
        },
    }


def gm(
    vid: str,
    severity: str = "High",
    vector: str | None = NET,
    epss: float | None = None,
    kev: bool = False,
    related: tuple[str, ...] = (),
) -> dict[str, Any]:
    v: dict[str, Any] = {
        "id": vid,
        "severity": severity,
        "fix": {"versions": ["2.0"], "state": "fixed"},
        "cvss": [],
    }
    if vector:
        v["cvss"] = [{"version": "3.1", "vector": vector, "metrics": {"baseScore": 8.1}}]
    if epss is not None:
        v["epss"] = [{"cve": vid, "epss": epss, "percentile": 0.9, "date": "2026-11-01"}]
    if kev:
        v["knownExploited"] = [{"cve": vid}]
    return {
        "vulnerability": v,
        "relatedVulnerabilities": [{"id": r} for r in related],
        "artifact": {"name": "lib", "version": "1.0", "type": "npm"},
    }


def inspector(
    cve: str,
    repo: str,
    tags: list[str],
    digest: str,
    severity: str = "HIGH",
    vector: str = NET,
    epss: float = 0.0,
    exploit: bool = False,
    status: str = "ACTIVE",
) -> dict[str, Any]:
    return {
        "type": "PACKAGE_VULNERABILITY",
        "status": status,
        "severity": severity,
        "exploitAvailable": "YES" if exploit else "NO",
        "epss": {"score": epss},
        "packageVulnerabilityDetails": {
            "vulnerabilityId": cve,
            "cvss": [{"baseScore": 7.5, "scoringVector": vector, "version": "3.1"}],
            "vulnerablePackages": [{"name": "zlib", "version": "1.2", "fixedInVersion": "1.3"}],
        },
        "resources": [
            {
                "type": "AWS_ECR_CONTAINER_IMAGE",
                "region": REGION,
                "id": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repo}/{digest}",
                "details": {
                    "awsEcrContainerImage": {
                        "registry": ACCOUNT,
                        "repositoryName": repo,
                        "imageTags": tags,
                        "imageHash": digest,
                    }
                },
            }
        ],
    }


def write(tmp: Path, name: str, doc: object) -> Path:
    p = tmp / name
    p.write_text(json.dumps(doc))
    return p


def trait_outcomes(
    doc: Any, vuln_files: list[Path] = (), kev: Path | None = None, settings: TraitSettings | None = None
) -> dict[str, Any]:
    inv = load(doc)
    for f in vuln_files:
        reports, issues = load_vuln_file(f)
        assert not issues, issues
        inv.image_reports.extend(reports)
        inv.vuln_sources.append(str(f))
    if kev is not None:
        inv.kev, _ = load_kev(kev)
    [t] = list(targets(inv, [], settings))
    ids = ("exploitable-vulnerability", "software-vulnerability", "end-of-life-os", "malicious-package")
    return {i: registry()[i].detect(t) for i in ids}


def td_with(image: str) -> dict:
    return taskdef(container(image=image), revision=None)


# --------------------------------------------------------------------------- parsers


def test_trivy_parse() -> None:
    r = Reader()
    rep = trivy_report(
        trivy("nginx:1.25", tv("CVE-1"), tv("CVE-2", vector=None), eosl=True, digests=(f"nginx@{DIGEST}",)),
        Loc("t.json"),
        r,
    )
    assert not r.issues
    assert {str(x) for x in rep.refs} == {"docker.io/library/nginx:1.25", f"docker.io/library/nginx@{DIGEST}"}
    assert rep.os_eol is True and rep.os_name == "debian 12.5"
    v1, v2 = rep.vulnerabilities
    assert v1.network and v1.fixed == "1.1" and v1.cvss_score == 7.5
    assert not v2.network and v2.cvss_vector is None


def test_grype_parse() -> None:
    rep = grype_report(
        grype("alpine:3.19", gm("GHSA-x", epss=0.5, kev=True, related=("CVE-2021-1",)), manifest=DIGEST),
        Loc("g.json"),
        Reader(),
    )
    [v] = rep.vulnerabilities
    assert (v.id, v.severity, v.epss, v.known_exploited, v.aliases) == (
        "GHSA-x",
        "HIGH",
        0.5,
        True,
        ("CVE-2021-1",),
    )
    assert any(ref.digest == DIGEST for ref in rep.refs)
    assert rep.os_eol is None


def test_vuln_file_errors(tmp_path: Path) -> None:
    _, issues = load_vuln_file(write(tmp_path, "x.json", {"hello": 1}))
    assert "not a Trivy, Grype" in issues[0].message
    (tmp_path / "bad.json").write_text("{")
    _, issues = load_vuln_file(tmp_path / "bad.json")
    assert "invalid JSON" in issues[0].message
    _, issues = load_kev(write(tmp_path, "kev.json", {"nope": []}))
    assert "KEV" in issues[0].message


# --------------------------------------------------------------------------- traits


def test_trivy_by_tag_with_registry_normalisation(tmp_path: Path) -> None:
    f = write(tmp_path, "t.json", trivy("nginx:1.25", tv("CVE-2024-1", "CRITICAL"), tv("CVE-2024-2", "LOW")))
    got = trait_outcomes(td_with("docker.io/library/nginx:1.25"), [f])
    soft = got["software-vulnerability"]
    assert isinstance(soft, TraitHit)
    [ev] = soft.evidence
    assert (
        "CVE-2024-1 CRITICAL in openssl 1.0 (fixed in 1.1)" in ev.summary and "CVE-2024-2" not in ev.summary
    )
    assert got["exploitable-vulnerability"] is None  # no EPSS, no exploit, no KEV
    assert got["end-of-life-os"] is None and got["malicious-package"] is None


def test_digest_match_wins_over_tag(tmp_path: Path) -> None:
    pinned = write(tmp_path, "a.json", trivy(f"{ECR}/web:old", tv("CVE-A"), digests=(f"{ECR}/web@{DIGEST}",)))
    other = write(tmp_path, "b.json", trivy(f"{ECR}/web:1", tv("CVE-B")))
    got = trait_outcomes(td_with(f"{ECR}/web:1@{DIGEST}"), [pinned, other])
    assert "CVE-A" in got["software-vulnerability"].evidence[0].summary
    assert "CVE-B" not in got["software-vulnerability"].evidence[0].summary


def test_image_without_report_is_unknown(tmp_path: Path) -> None:
    f = write(tmp_path, "t.json", trivy("nginx:1.25", tv("CVE-1")))
    got = trait_outcomes(td_with("redis:7"), [f])
    for outcome in got.values():
        assert (
            isinstance(outcome, TraitUnknown)
            and "no vulnerability report for image redis:7" in outcome.reason
        )


def test_no_vulnerability_source_is_unknown() -> None:
    got = trait_outcomes(td_with("nginx:1.25"))
    assert all(isinstance(o, TraitUnknown) and "no vulnerability data" in o.reason for o in got.values())


def test_clean_report_is_absent(tmp_path: Path) -> None:
    f = write(tmp_path, "t.json", trivy("nginx:1.25"))
    assert trait_outcomes(td_with("nginx:1.25"), [f]) == dict.fromkeys(
        ("exploitable-vulnerability", "software-vulnerability", "end-of-life-os", "malicious-package")
    )


@pytest.mark.parametrize(
    ("match", "threshold", "exploitable"),
    [
        (gm("CVE-E1", epss=0.5), 0.1, True),
        (gm("CVE-E2", epss=0.05), 0.1, False),
        (gm("CVE-E3", epss=0.05), 0.01, True),  # the threshold is configurable
        (gm("CVE-E4", kev=True), 0.1, True),
        (gm("CVE-E5", vector=LOCAL, epss=0.9, kev=True), 0.1, False),  # not network: never exploitable
        (gm("CVE-E6", vector=None, epss=0.9), 0.1, False),  # no vector: attack vector unknown
    ],
)
def test_exploitability(tmp_path: Path, match: dict, threshold: float, exploitable: bool) -> None:
    f = write(tmp_path, "g.json", grype("alpine:3.19", match))
    got = trait_outcomes(td_with("alpine:3.19"), [f], settings=TraitSettings(epss_threshold=threshold))
    assert isinstance(got["exploitable-vulnerability"], TraitHit) is exploitable
    # what is not exploitable is still a software vulnerability (High >= MEDIUM)
    assert isinstance(got["software-vulnerability"], TraitHit) is not exploitable


def test_kev_catalogue_makes_exploitable(tmp_path: Path) -> None:
    f = write(tmp_path, "g.json", grype("alpine:3.19", gm("GHSA-abc", related=("CVE-2021-44228",))))
    kev = write(
        tmp_path,
        "kev.json",
        {"catalogVersion": "2026.11.27", "vulnerabilities": [{"cveID": "CVE-2021-44228"}]},
    )
    assert trait_outcomes(td_with("alpine:3.19"), [f])["exploitable-vulnerability"] is None
    hit = trait_outcomes(td_with("alpine:3.19"), [f], kev=kev)["exploitable-vulnerability"]
    assert isinstance(hit, TraitHit) and "known exploited" in hit.evidence[0].summary


def test_min_severity(tmp_path: Path) -> None:
    f = write(tmp_path, "t.json", trivy("nginx:1.25", tv("CVE-M", "MEDIUM", vector=LOCAL)))
    assert isinstance(trait_outcomes(td_with("nginx:1.25"), [f])["software-vulnerability"], TraitHit)
    high = trait_outcomes(td_with("nginx:1.25"), [f], settings=TraitSettings(min_vuln_severity="HIGH"))
    assert high["software-vulnerability"] is None


def test_eol_and_malicious(tmp_path: Path) -> None:
    f = write(
        tmp_path, "t.json", trivy("node:14", tv("MAL-2025-9", "CRITICAL", vector=None, pkg="evil"), eosl=True)
    )
    got = trait_outcomes(td_with("node:14"), [f])
    assert "debian 12.5" in got["end-of-life-os"].evidence[0].summary
    assert "MAL-2025-9" in got["malicious-package"].evidence[0].summary
    assert got["software-vulnerability"] is None  # the malicious package is reported as such, not twice


def test_eol_unknown_when_report_is_silent(tmp_path: Path) -> None:
    f = write(tmp_path, "g.json", grype("alpine:3.19", gm("CVE-1")))
    assert isinstance(trait_outcomes(td_with("alpine:3.19"), [f])["end-of-life-os"], TraitUnknown)


def test_snapshot_inspector_and_ecr() -> None:
    web, api = f"{ECR}/web:7", f"{ECR}/api@{DIGEST}"
    doc = snapshot(
        services=[service("web", td="web:1"), service("api", td="api:1")],
        task_definitions=[
            taskdef(container(image=web), family="web"),
            taskdef(container(image=api), family="api"),
        ],
    )
    region = doc["accounts"][0]["regions"][0]
    region["inspector2"] = {
        "findings": [
            inspector("CVE-2023-44487", "web", ["7"], "sha256:" + "cd" * 32, epss=0.8, exploit=True),
            inspector("CVE-OLD", "web", ["7"], "sha256:" + "cd" * 32, status="CLOSED"),
            inspector("CVE-LOCAL", "web", ["7"], "sha256:" + "cd" * 32, vector=LOCAL, severity="MEDIUM"),
        ]
    }
    region["ecr"] = {
        "imageScanFindings": [
            {
                "registryId": ACCOUNT,
                "repositoryName": "api",
                "imageId": {"imageDigest": DIGEST},
                "imageScanFindings": {
                    "findings": [
                        {
                            "name": "CVE-2022-37434",
                            "severity": "CRITICAL",
                            "attributes": [
                                {"key": "package_name", "value": "zlib"},
                                {"key": "CVSS2_VECTOR", "value": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
                            ],
                        }
                    ]
                },
            }
        ]
    }
    result = scan(load(doc), ScanOptions())
    by = {f.resource.name: {h.trait_id: h for h in f.hits} for f in result.findings}
    exp = by["web"]["exploitable-vulnerability"]
    assert "CVE-2023-44487" in exp.evidence[0].summary and "exploit available" in exp.evidence[0].summary
    assert "CVE-OLD" not in str(by["web"])
    assert "CVE-LOCAL" in by["web"]["software-vulnerability"].evidence[0].summary
    assert "CVE-2022-37434" in by["api"]["software-vulnerability"].evidence[0].summary
    assert "exploitable-vulnerability" not in by["api"]  # ECR basic scans give no EPSS nor exploit signal


def test_severities_from_the_three_sources(tmp_path: Path) -> None:
    """An internet-reachable service: Very High with an exploitable vulnerability, High with another."""
    from builders import rule, sg
    from test_traits import public_service

    def reachable(image: str) -> dict:
        return snapshot(
            services=[public_service()],
            security_groups=[sg("sg-app", rule(8080))],
            task_definitions=[taskdef(container(image=image))],
        )

    g = write(tmp_path, "g.json", grype("alpine:3.19", gm("CVE-X", epss=0.7)))
    t = write(tmp_path, "t.json", trivy("nginx:1.25", tv("CVE-Y", "MEDIUM", vector=LOCAL)))
    for image, files, likelihood, severity in (
        ("alpine:3.19", [g], "VERY_HIGH", "HIGH"),
        ("nginx:1.25", [t], "HIGH", "MEDIUM"),
    ):
        inv = load(reachable(image))
        for f in files:
            inv.image_reports.extend(load_vuln_file(f)[0])
            inv.vuln_sources.append(str(f))
        [finding] = scan(inv).findings
        assert (finding.likelihood.name, finding.severity.name) == (likelihood, severity)


def test_cli_vulns_and_kev(cli, tmp_path: Path) -> None:
    td = write(tmp_path, "td.json", td_with("alpine:3.19"))
    g = write(tmp_path, "g.json", grype("alpine:3.19", gm("CVE-2021-44228")))
    kev = write(tmp_path, "kev.json", {"vulnerabilities": [{"cveID": "CVE-2021-44228"}]})
    r = cli("scan", str(td), "--vulns", str(g), "--kev", str(kev), "-f", "json")
    assert r.code == 0, r.err
    [f] = json.loads(r.out)["findings"]
    assert "exploitable-vulnerability" in {t["id"] for t in f["traits"]}
    r = cli("scan", str(td), "--vulns", str(tmp_path / "missing.json"))
    assert r.code == 2 and "missing.json: no such file or directory" in r.err  # a usage error (#9)
    (tmp_path / "dir.json").mkdir()
    r = cli("scan", str(td), "--vulns", str(tmp_path / "dir.json"))
    assert r.code == 3 and "dir.json: not a regular file: a directory" in r.err
    assert cli("scan", str(td), "--epss-threshold", "2").code == 2
    assert cli("scan", str(td), "--min-severity", "severe").code == 2


def test_example_has_every_vulnerability_trait(cli) -> None:
    report = json.loads(cli("scan", "--example", "-f", "json").out)
    seen = {t["id"] for f in report["findings"] for t in f["traits"]}
    assert {
        "exploitable-vulnerability",
        "software-vulnerability",
        "end-of-life-os",
        "malicious-package",
    } <= seen
