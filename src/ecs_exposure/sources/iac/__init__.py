"""Infrastructure code → the inventory the live scan uses: one module per input language.

- :mod:`.cloudformation`: CloudFormation templates in JSON or YAML (short tags), ``cdk synth`` output,
  SAM templates.
- :mod:`.containers`: bare container-definition lists, YAML task definitions, ``*.json.tpl`` templates.
- Terraform: ``.tf`` files are recognised and reported as not read yet (the Terraform module plugs in
  here, see ``docs/iac.md``).

Shared by every language: :mod:`.values` (resolved values and :class:`~.values.Unknown`),
:mod:`.mapping` (values in the AWS API's shape → model objects, unknowns → ``Unresolved`` records),
:mod:`.locs` (template paths as locations), :mod:`.positions` (line and column, aliases, origins),
:mod:`.suppress` (inline suppressions) and :mod:`.patch` (unified diffs of the source).
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from ...model import Inventory, ScanIssue
from ..jsonio import NotAFile, SourceError, read_bytes
from . import cloudformation, containers
from .interface import Language
from .yamlload import YamlError, load_yaml


def _cfn(doc: object, shown: str, path: Path | None, kind: str, text: str | None) -> Inventory:
    inv = cloudformation.load_template(doc, shown, path, kind, text)  # type: ignore[arg-type]
    from .suppress import template_suppressions

    template_suppressions(doc, shown, inv, text if kind == "yaml" else None)  # type: ignore[arg-type]
    return inv


def _terraform_not_read(text: str, shown: str, path: Path) -> Inventory:
    inv = Inventory()
    inv.issues.append(
        ScanIssue(shown, "", "Terraform is not read yet: the resources of this file are not scanned")
    )
    return inv


LANGUAGES: list[Language] = [
    Language("cloudformation", claims=cloudformation.is_template, load=_cfn),
    Language(
        "container-definitions", claims=containers.is_container_list, load=containers.load_container_list
    ),
    Language(
        "task-definition", claims=containers.is_task_definition_doc, load=containers.load_task_definition
    ),
    Language("terraform", suffixes=(".tf",), load_text=_terraform_not_read),
]

YAML_SUFFIXES = (".yaml", ".yml", ".template")
TEMPLATE_SUFFIXES = (".json.tpl", ".json.tmpl", ".tpl", ".tmpl")


def claims_name(name: str) -> bool:
    """The file names infrastructure code is read from (JSON is read by the file source itself)."""
    lower = name.lower()
    return lower.endswith(YAML_SUFFIXES + TEMPLATE_SUFFIXES) or any(
        lower.endswith(s) for lang in LANGUAGES for s in lang.suffixes
    )


def load_document(
    doc: object, shown: str, path: Path | None, kind: str, text: str | None = None
) -> Inventory | None:
    """A parsed document of one of the languages, or None."""
    for lang in LANGUAGES:
        if lang.claims is not None and lang.load is not None and lang.claims(doc):
            return lang.load(doc, shown, path, kind, text)
    return None


def _read_text(path: Path, shown: str, max_size: int | None = None) -> str | ScanIssue:
    """The file as text, read safely (size limit, regular files only: :func:`.jsonio.read_bytes`;
    :class:`NotAFile` goes up to the caller, which skips a FIFO or device with a note)."""
    try:
        data = read_bytes(path, shown, max_size)
    except NotAFile:
        raise
    except SourceError as e:
        return ScanIssue(e.path, "", e.message)
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return ScanIssue(shown, "", "not UTF-8 text")


def load_file(path: Path, shown: str, explicit: bool, max_size: int | None = None) -> Inventory:
    """A file whose name :func:`claims_name` accepts."""
    inv = Inventory()
    text = _read_text(path, shown, max_size)
    if isinstance(text, ScanIssue):
        inv.issues.append(text)
        return inv
    lower = path.name.lower()
    for lang in LANGUAGES:
        if lang.load_text is not None and lower.endswith(lang.suffixes):
            return lang.load_text(text, shown, path)
    if lower.endswith(TEMPLATE_SUFFIXES):
        if not re.match(r"\s*(\[|\{\s*[\"$%}])", text):
            inv.notes.append(f"{shown}: skipped, a template that is not JSON")
            return inv
        return containers.load_json_template(text, shown, path)
    kind = "yaml"
    try:
        doc = load_yaml(text)
    except YamlError as e:
        try:  # JSON with tabs is not YAML
            doc, kind = orjson.loads(text), "json"
        except orjson.JSONDecodeError:
            inv.issues.append(ScanIssue(shown, "", e.message))
            return inv
    found = load_document(doc, shown, path, kind, text if kind == "yaml" else None)
    if found is not None:
        return found
    if explicit:
        inv.issues.append(
            ScanIssue(
                shown, "", "not a CloudFormation template, task definition or container-definition list"
            )
        )
    else:
        inv.notes.append(
            f"{shown}: skipped, YAML that is neither a CloudFormation template nor a task definition"
        )
    return inv


def json_fallback(path: Path, shown: str, max_size: int | None = None) -> Inventory | None:
    """A ``.json`` file that strict JSON rejects but that is one of ours: a template with ``${…}``
    placeholders (Terraform's templatefile), or a CloudFormation template CloudFormation accepts
    (a trailing comma: read as YAML, as cfn-lint does). None when it is neither."""
    text = _read_text(path, shown, max_size)
    if isinstance(text, ScanIssue):
        return None
    if "${" in text and text.lstrip().startswith("["):
        found = containers.load_json_template(text, shown, path)
        return None if found.issues else found
    try:
        doc = load_yaml(text)
    except YamlError:
        doc = None
    if cloudformation.is_template(doc):
        return _cfn(doc, shown, path, "json", None)
    if "${" in text:
        found = containers.load_json_template(text, shown, path)
        return None if found.issues else found
    return None
