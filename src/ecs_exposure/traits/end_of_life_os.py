from ..model import Category, Evidence
from ._vulns import images
from .base import IMAGE_FIELDS, Target, TraitSpec, conclude

ID = "end-of-life-os"


def detect(target: Target):
    unknown: list[str] = []
    evidence = []
    for use in images(target, unknown):
        eol = [r for r in use.reports if r.os_eol]
        if not eol:
            if all(r.os_eol is None for r in use.reports):
                unknown.append(
                    f"the report for {use.image} does not say whether its OS is end of life (Trivy's does)"
                )
            continue
        container, revision = use.containers[0]
        os_name = eol[0].os_name or "its operating system"
        evidence.append(
            Evidence(
                f"image {use.image} (container {container.name}) runs {os_name}, "
                "which no longer gets security updates",
                (
                    ("image", use.image),
                    ("container", container.name),
                    ("os", eol[0].os_name),
                    ("source", ", ".join(sorted({r.source for r in eol}))),
                ),
                revision,
                container.loc.child("image"),
            )
        )
    return conclude(ID, evidence, unknown)


TRAIT = TraitSpec(
    id=ID,
    category=Category.VULNERABILITY,
    title="End-of-life operating system",
    phrase="an end-of-life operating system",
    contextual=False,
    description=(
        "The scanner reports the image's operating system as end of life (Trivy's `Metadata.OS.EOSL`): "
        "new vulnerabilities in it will never be fixed."
    ),
    remediation="Rebuild the image on a supported base image (a current distribution release).",
    detect=detect,
    reads=IMAGE_FIELDS,
)
