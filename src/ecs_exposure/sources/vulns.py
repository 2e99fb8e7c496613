"""Vulnerability reports → :class:`ImageReport`.

- Trivy JSON (``trivy image -f json``): ``ArtifactName``, ``Metadata.RepoTags/RepoDigests``,
  ``Metadata.OS.EOSL``, ``Results[].Vulnerabilities[]`` with ``CVSS.<source>.V3Vector``;
- Grype JSON (``grype -o json``): ``source.target`` (userInput, tags, repoDigests, manifestDigest),
  ``matches[].vulnerability`` with ``cvss[].vector``, ``epss[]`` and ``knownExploited[]``,
  ``relatedVulnerabilities[]`` (CVE aliases of GHSA ids);
- Amazon Inspector ``ListFindings`` items (type ``PACKAGE_VULNERABILITY``, status ``ACTIVE``), grouped
  by the ECR image they are about, with ``epss.score`` and ``exploitAvailable``;
- ECR ``DescribeImageScanFindings`` responses (basic ``findings`` and enhanced ``enhancedFindings``);
- the CISA Known Exploited Vulnerabilities catalogue (``--kev``): a set of CVE ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..model import Loc, ScanIssue
from ..model.vulns import SEVERITIES, ImageRef, ImageReport, Vulnerability, ecr_host
from .jsonio import SourceError, display_path, read_json
from .reader import JSON, Reader


def _severity(value: object) -> str:
    s = str(value or "UNKNOWN").upper()
    return s if s in SEVERITIES else "UNKNOWN"  # Inspector's UNTRIAGED included


def _refs(names: list[str]) -> tuple[ImageRef, ...]:
    out: dict[ImageRef, None] = {}
    for n in names:
        ref = ImageRef.parse(n) if isinstance(n, str) else None
        if ref is not None:
            out.setdefault(ref, None)
    return tuple(out)


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- Trivy


def is_trivy(doc: JSON) -> bool:
    return isinstance(doc, dict) and "SchemaVersion" in doc and ("Results" in doc or "ArtifactName" in doc)


def trivy_report(doc: dict[str, JSON], loc: Loc, r: Reader) -> ImageReport:
    meta = r.obj(doc, "Metadata", loc) or {}
    mloc = loc.child("Metadata")
    names = [n for n in (r.text(doc, "ArtifactName", loc),) if n]
    names += list(r.texts(meta, "RepoTags", mloc)) + list(r.texts(meta, "RepoDigests", mloc))
    os_info = r.obj(meta, "OS", mloc) or {}
    vulns = []
    for i, result in r.objects(r.lst(doc, "Results", loc), loc.child("Results")):
        rloc = loc.child("Results", i)
        for j, v in r.objects(r.lst(result, "Vulnerabilities", rloc), rloc.child("Vulnerabilities")):
            vloc = rloc.child("Vulnerabilities", j)
            vid = r.text(v, "VulnerabilityID", vloc)
            if not vid:
                continue
            vector, score = None, None
            cvss = r.obj(v, "CVSS", vloc) or {}
            # prefer the severity source's own score, then NVD, then any
            order = [v.get("SeveritySource"), "nvd", *cvss.keys()]
            for src in order:
                entry = cvss.get(src) if isinstance(src, str) else None
                if isinstance(entry, dict) and (entry.get("V3Vector") or entry.get("V2Vector")):
                    vector = entry.get("V3Vector") or entry.get("V2Vector")
                    score = _float(entry.get("V3Score") or entry.get("V2Score"))
                    break
            vulns.append(
                Vulnerability(
                    vid,
                    _severity(v.get("Severity")),
                    r.text(v, "PkgName", vloc),
                    r.text(v, "InstalledVersion", vloc),
                    r.text(v, "FixedVersion", vloc) or None,
                    vector if isinstance(vector, str) else None,
                    score,
                )
            )
    eosl = os_info.get("EOSL")
    return ImageReport(
        _refs(names),
        tuple(vulns),
        "trivy",
        loc,
        " ".join(x for x in (r.text(os_info, "Family", mloc), r.text(os_info, "Name", mloc)) if x) or None,
        eosl if isinstance(eosl, bool) else (False if os_info else None),
    )


# --------------------------------------------------------------------------- Grype


def is_grype(doc: JSON) -> bool:
    return isinstance(doc, dict) and "matches" in doc and isinstance(doc.get("source"), dict)


def grype_report(doc: dict[str, JSON], loc: Loc, r: Reader) -> ImageReport:
    source = r.obj(doc, "source", loc) or {}
    target = source.get("target") if isinstance(source.get("target"), dict) else {}
    tloc = loc.child("source", "target")
    names = [n for n in (r.text(target, "userInput", tloc),) if n]
    names += list(r.texts(target, "tags", tloc)) + list(r.texts(target, "repoDigests", tloc))
    manifest = r.text(target, "manifestDigest", tloc)
    user = names[0] if names else None
    if manifest and user:
        base = ImageRef.parse(user)
        if base is not None:
            names.append(f"{base.registry}/{base.repository}@{manifest}")
    vulns = []
    for i, m in r.objects(r.lst(doc, "matches", loc), loc.child("matches")):
        mloc = loc.child("matches", i)
        v = r.obj(m, "vulnerability", mloc) or {}
        vloc = mloc.child("vulnerability")
        vid = r.text(v, "id", vloc)
        if not vid:
            continue
        related = [x for x in r.lst(m, "relatedVulnerabilities", mloc) if isinstance(x, dict)]
        aliases = tuple(a["id"] for a in related if isinstance(a.get("id"), str) and a["id"] != vid)
        vector, score = None, None
        for entry in [*r.lst(v, "cvss", vloc), *(c for a in related for c in (a.get("cvss") or []))]:
            if isinstance(entry, dict) and isinstance(entry.get("vector"), str):
                vector = entry["vector"]
                metrics = entry.get("metrics")
                score = _float(metrics.get("baseScore")) if isinstance(metrics, dict) else None
                break
        epss = max(
            (
                e
                for x in r.lst(v, "epss", vloc)
                if isinstance(x, dict) and (e := _float(x.get("epss"))) is not None
            ),
            default=None,
        )
        kev = bool(r.lst(v, "knownExploited", vloc))
        fix = v.get("fix") if isinstance(v.get("fix"), dict) else {}
        fixed = ", ".join(x for x in fix.get("versions") or [] if isinstance(x, str)) or None
        artifact = m.get("artifact") if isinstance(m.get("artifact"), dict) else {}
        vulns.append(
            Vulnerability(
                vid,
                _severity(v.get("severity")),
                r.text(artifact, "name", mloc),
                r.text(artifact, "version", mloc),
                fixed,
                vector,
                score,
                epss,
                None,
                kev,
                aliases,
            )
        )
    distro = doc.get("distro") if isinstance(doc.get("distro"), dict) else {}
    os_name = (
        " ".join(x for x in (distro.get("name"), distro.get("version")) if isinstance(x, str) and x) or None
    )
    return ImageReport(_refs(names), tuple(vulns), "grype", loc, os_name, None)


# --------------------------------------------------------------------------- Inspector and ECR


def _ecr_names(host: str | None, repository: str | None, tags: list[str], digest: str | None) -> list[str]:
    if not host or not repository:
        return []
    names = [f"{host}/{repository}:{t}" for t in tags]
    if digest:
        names.append(f"{host}/{repository}@{digest}")
    return names


def _inspector_vuln(f: Mapping[str, JSON], loc: Loc, r: Reader) -> Vulnerability | None:
    details = r.obj(f, "packageVulnerabilityDetails", loc) or {}
    dloc = loc.child("packageVulnerabilityDetails")
    vid = r.text(details, "vulnerabilityId", dloc)
    if not vid:
        return None
    vector, score = None, None
    for c in r.lst(details, "cvss", dloc):
        if isinstance(c, dict) and isinstance(c.get("scoringVector"), str):
            vector, score = c["scoringVector"], _float(c.get("baseScore"))
            if str(c.get("version", "")).startswith("3"):
                break
    adjusted = (
        ((f.get("inspectorScoreDetails") or {}).get("adjustedCvss") or {})
        if isinstance(f.get("inspectorScoreDetails"), dict)
        else {}
    )
    if isinstance(adjusted, dict) and isinstance(adjusted.get("scoringVector"), str):
        vector = adjusted["scoringVector"]
        score = _float(adjusted.get("score")) or score
    pkgs = [p for p in r.lst(details, "vulnerablePackages", dloc) if isinstance(p, dict)]
    pkg = pkgs[0] if pkgs else {}
    epss = f.get("epss")
    exploit = f.get("exploitAvailable")
    related = tuple(x for x in r.texts(details, "relatedVulnerabilities", dloc) if x != vid)
    return Vulnerability(
        vid,
        _severity(f.get("severity")),
        pkg.get("name"),
        pkg.get("version"),
        pkg.get("fixedInVersion") if pkg.get("fixedInVersion") not in (None, "NotAvailable") else None,
        vector,
        score,
        _float(epss.get("score")) if isinstance(epss, dict) else None,
        (exploit == "YES") if isinstance(exploit, str) else None,
        False,
        related,
    )


def inspector_reports(findings: list[JSON], loc: Loc, region: str | None, r: Reader) -> list[ImageReport]:
    """Inspector findings grouped into one report per ECR image."""
    by_image: dict[str, tuple[list[str], list[Vulnerability], Loc]] = {}
    for i, f in r.objects(findings, loc):
        floc = loc.child(i)
        if (
            f.get("type", "PACKAGE_VULNERABILITY") != "PACKAGE_VULNERABILITY"
            or f.get("status", "ACTIVE") != "ACTIVE"
        ):
            continue
        vuln = _inspector_vuln(f, floc, r)
        if vuln is None:
            continue
        for res in r.lst(f, "resources", floc):
            if not isinstance(res, dict) or res.get("type") != "AWS_ECR_CONTAINER_IMAGE":
                continue
            img = (
                ((res.get("details") or {}).get("awsEcrContainerImage") or {})
                if isinstance(res.get("details"), dict)
                else {}
            )
            if not isinstance(img, dict):
                continue
            digest = img.get("imageHash") if isinstance(img.get("imageHash"), str) else None
            key = res.get("id") if isinstance(res.get("id"), str) else f"{img.get('repositoryName')}@{digest}"
            host = ecr_host(img.get("registry"), res.get("region") or region)
            names = _ecr_names(
                host,
                img.get("repositoryName"),
                [t for t in img.get("imageTags") or [] if isinstance(t, str)],
                digest,
            )
            entry = by_image.setdefault(key, ([], [], floc))
            entry[0].extend(n for n in names if n not in entry[0])
            entry[1].append(vuln)
    return [
        ImageReport(_refs(names), tuple(vulns), "inspector", floc) for names, vulns, floc in by_image.values()
    ]


def ecr_reports(
    responses: list[JSON], loc: Loc, account: str | None, region: str | None, r: Reader
) -> list[ImageReport]:
    out = []
    for i, resp in r.objects(responses, loc):
        rloc = loc.child(i)
        image_id = r.obj(resp, "imageId", rloc) or {}
        host = ecr_host(r.text(resp, "registryId", rloc) or account, region)
        tag = r.text(image_id, "imageTag", rloc.child("imageId"))
        digest = r.text(image_id, "imageDigest", rloc.child("imageId"))
        names = _ecr_names(host, r.text(resp, "repositoryName", rloc), [tag] if tag else [], digest)
        scan = r.obj(resp, "imageScanFindings", rloc) or {}
        sloc = rloc.child("imageScanFindings")
        vulns: list[Vulnerability] = []
        for j, f in r.objects(r.lst(scan, "findings", sloc), sloc.child("findings")):
            attrs = {a.get("key"): a.get("value") for a in f.get("attributes") or [] if isinstance(a, dict)}
            name = r.text(f, "name", sloc.child("findings", j))
            if not name:
                continue
            vector = attrs.get("CVSS3_VECTOR") or attrs.get("CVSS2_VECTOR")
            vulns.append(
                Vulnerability(
                    name,
                    _severity(f.get("severity")),
                    attrs.get("package_name"),
                    attrs.get("package_version"),
                    None,
                    vector if isinstance(vector, str) else None,
                    _float(attrs.get("CVSS3_SCORE") or attrs.get("CVSS2_SCORE")),
                )
            )
        for j, f in r.objects(r.lst(scan, "enhancedFindings", sloc), sloc.child("enhancedFindings")):
            v = _inspector_vuln(f, sloc.child("enhancedFindings", j), r)
            if v is not None:
                vulns.append(v)
        out.append(ImageReport(_refs(names), tuple(vulns), "ecr", rloc))
    return out


# --------------------------------------------------------------------------- files given with --vulns / --kev


def load_vuln_file(path: Path) -> tuple[list[ImageReport], list[ScanIssue]]:
    shown = display_path(path)
    try:
        doc = read_json(path, shown)
    except SourceError as e:
        return [], [ScanIssue(e.path, "", e.message)]
    r = Reader()
    root = Loc(shown)
    if is_trivy(doc):
        reports = [trivy_report(doc, root, r)]
    elif is_grype(doc):
        reports = [grype_report(doc, root, r)]
    elif isinstance(doc, dict) and isinstance(doc.get("findings"), list):  # aws inspector2 list-findings
        reports = inspector_reports(doc["findings"], root.child("findings"), None, r)
    elif isinstance(doc, dict) and "imageScanFindings" in doc:  # aws ecr describe-image-scan-findings
        reports = ecr_reports([doc], root, None, None, r)
    else:
        return [], [ScanIssue(shown, "", "not a Trivy, Grype, Inspector or ECR scan report")]
    issues = list(r.issues)
    for rep in reports:
        if not rep.refs:
            issues.append(ScanIssue(shown, "", "the report does not name the image it scanned"))
    return [rep for rep in reports if rep.refs], issues


def load_kev(path: Path) -> tuple[frozenset[str], list[ScanIssue]]:
    shown = display_path(path)
    try:
        doc = read_json(path, shown)
    except SourceError as e:
        return frozenset(), [ScanIssue(e.path, "", e.message)]
    items = doc.get("vulnerabilities") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        return frozenset(), [
            ScanIssue(shown, "vulnerabilities", "not a CISA KEV catalogue (no vulnerabilities list)")
        ]
    ids = frozenset(
        v["cveID"].upper() for v in items if isinstance(v, dict) and isinstance(v.get("cveID"), str)
    )
    return ids, []
