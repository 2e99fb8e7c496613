"""Validators of each output format against its official contract (see schemas/README.md).

Each returns a list of problems (empty: valid), so a test can show them all at once.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "schemas"

# --------------------------------------------------------------------------- OCSF


@cache
def _ocsf_schema(version: str, profiles: tuple[str, ...]) -> dict[str, Any]:
    from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

    return OcsfJsonSchemaEmbedded(get_ocsf_schema(version=version)).get_class_schema(
        "detection_finding", list(profiles)
    )


@cache
def ocsf_export(version: str) -> dict[str, Any]:
    from ocsf_json_schema import get_ocsf_schema

    return get_ocsf_schema(version=version)


def ocsf_problems(obj: dict[str, Any]) -> list[str]:
    """Against the official OCSF schema of the version the object declares, with its profiles;
    then the enum siblings (``severity`` is the caption of ``severity_id`` …), which JSON Schema
    cannot express."""
    from jsonschema import Draft202012Validator

    version = obj.get("metadata", {}).get("version")
    profiles = tuple(sorted(obj.get("metadata", {}).get("profiles", [])))
    schema = _ocsf_schema(version, profiles)
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(obj)
    ]
    attrs = ocsf_export(version)["classes"]["detection_finding"]["attributes"]
    for id_name, caption_name in (
        ("severity_id", "severity"),
        ("status_id", "status"),
        ("activity_id", "activity_name"),
        ("impact_id", "impact"),
        ("type_uid", "type_name"),
    ):
        if id_name in obj and caption_name in obj:
            enum = attrs[id_name]["enum"]
            if str(obj[id_name]) not in enum:
                continue  # the schema check above reports it
            caption = enum[str(obj[id_name])]["caption"]
            if obj[caption_name] != caption:
                problems.append(
                    f"{caption_name} {obj[caption_name]!r} is not the caption of {id_name}: {caption!r}"
                )
    if obj.get("class_uid") != 2004 or obj.get("category_uid") != 2 or obj.get("type_uid") != 200401:
        problems.append("not a Detection Finding: Create (2004 / 2 / 200401)")
    return problems


# --------------------------------------------------------------------------- SARIF


@cache
def _sarif_validator():
    from jsonschema import Draft4Validator

    schema = json.loads((HERE / "sarif-schema-2.1.0.json").read_text())
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def sarif_problems(doc: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _sarif_validator().iter_errors(doc)
    ]


# --------------------------------------------------------------------------- JUnit


@cache
def _junit_schema():
    import xmlschema

    return xmlschema.XMLSchema(str(HERE / "junit-10.xsd"))


def junit_problems(data: bytes) -> list[str]:
    return [str(e.reason) + f" at {e.path}" for e in _junit_schema().iter_errors(data.decode("utf-8"))]


# --------------------------------------------------------------------------- ASFF (botocore's model)

_MAX_LEN = re.compile(r"Maximum (?:length )?of (\d+)(?: length)?")
_MIN_LEN = re.compile(r"Minimum (?:length )?of (\d+)(?: length)?")
_MAX_ITEMS = re.compile(r"Maximum number of (\d+) items?")
_MIN_ITEMS = re.compile(r"Minimum number of (\d+) items?")
_PAIRS = re.compile(r"up to (\d+) key-value pairs")
_KEY_VALUE = re.compile(
    r"key can contain up to (\d+) characters, and the value can contain up to (\d+) characters"
)


@cache
def _securityhub():
    import botocore.session

    return botocore.session.get_session().get_service_model("securityhub")


def _doc_limits(doc: str | None) -> dict[str, int]:
    text = re.sub(r"<[^>]+>", " ", doc or "")
    out: dict[str, int] = {}
    for key, pattern in (
        ("max_items", _MAX_ITEMS),
        ("min_items", _MIN_ITEMS),
        ("pairs", _PAIRS),
    ):
        m = pattern.search(text)
        if m:
            out[key] = int(m.group(1))
    if "max_items" not in out and "min_items" not in out:
        m = _MAX_LEN.search(text)
        if m:
            out["max_len"] = int(m.group(1))
        m = _MIN_LEN.search(text)
        if m:
            out["min_len"] = int(m.group(1))
    m = _KEY_VALUE.search(text)
    if m:
        out["key_len"], out["value_len"] = int(m.group(1)), int(m.group(2))
    return out


def _check_shape(value: Any, shape: Any, path: str, limits: dict[str, int], out: list[str]) -> None:
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            out.append(f"{path}: expected an object")
            return
        for k in shape.required_members:
            if k not in value:
                out.append(f"{path}.{k}: required")
        for k, v in value.items():
            member = shape.members.get(k)
            if member is None:
                out.append(f"{path}.{k}: not a member of {shape.name}")
                continue
            _check_shape(v, member, f"{path}.{k}", _doc_limits(member.documentation), out)
    elif t == "list":
        if not isinstance(value, list):
            out.append(f"{path}: expected a list")
            return
        lo = limits.get("min_items", meta.get("min", 0))
        hi = limits.get("max_items", meta.get("max"))
        if len(value) < lo or (hi is not None and len(value) > hi):
            out.append(f"{path}: {len(value)} items, allowed {lo}..{hi}")
        for i, item in enumerate(value):
            _check_shape(item, shape.member, f"{path}[{i}]", {}, out)
    elif t == "map":
        if not isinstance(value, dict):
            out.append(f"{path}: expected a map")
            return
        if "pairs" in limits and len(value) > limits["pairs"]:
            out.append(f"{path}: {len(value)} pairs, at most {limits['pairs']}")
        for k, v in value.items():
            if "key_len" in limits and len(k) > limits["key_len"]:
                out.append(f"{path}: key {k!r} longer than {limits['key_len']}")
            if "value_len" in limits and isinstance(v, str) and len(v) > limits["value_len"]:
                out.append(f"{path}.{k}: value longer than {limits['value_len']}")
            _check_shape(v, shape.value, f"{path}.{k}", {}, out)
    elif t == "string":
        if not isinstance(value, str):
            out.append(f"{path}: expected a string")
            return
        if "enum" in meta and value not in meta["enum"]:
            out.append(f"{path}: {value!r} not one of {meta['enum']}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value, re.S):
            out.append(f"{path}: {value!r} does not match {meta['pattern']}")
        lo = limits.get("min_len", meta.get("min", 0))
        hi = limits.get("max_len", meta.get("max"))
        if len(value) < lo or (hi is not None and len(value) > hi):
            out.append(f"{path}: length {len(value)}, allowed {lo}..{hi}")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            out.append(f"{path}: expected an integer")
    elif t in ("double", "float"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            out.append(f"{path}: expected a number")
    elif t == "boolean":
        if not isinstance(value, bool):
            out.append(f"{path}: expected a boolean")
    elif t == "timestamp" and not isinstance(value, str):
        out.append(f"{path}: expected a timestamp string")


ASFF_NAMESPACES = (
    "Software and Configuration Checks",
    "TTPs",
    "Effects",
    "Unusual Behaviors",
    "Sensitive Data Identifications",
)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


def asff_problems(finding: dict[str, Any]) -> list[str]:
    """Against botocore's ``AwsSecurityFinding`` shape (members, types, enums, patterns, required
    fields) and the limits its documentation states; plus the Types namespaces and RFC 3339 times
    the ASFF reference requires."""
    shape = _securityhub().shape_for("AwsSecurityFinding")
    out: list[str] = []
    _check_shape(finding, shape, "finding", {}, out)
    for t in finding.get("Types", []) + finding.get("FindingProviderFields", {}).get("Types", []):
        if t.split("/")[0] not in ASFF_NAMESPACES or t.count("/") > 2:
            out.append(f"Types: {t!r} is not namespace/category/classifier in an ASFF namespace")
    for key in ("CreatedAt", "UpdatedAt"):
        if key in finding and not _ISO.fullmatch(finding[key]):
            out.append(f"{key}: {finding[key]!r} is not an RFC 3339 UTC time")
    return out


def batch_import_request_problems(findings: list[dict[str, Any]]) -> list[str]:
    """What botocore's own parameter validation says about a BatchImportFindings request."""
    from botocore.validate import ParamValidator

    op = _securityhub().operation_model("BatchImportFindings")
    report = ParamValidator().validate({"Findings": findings}, op.input_shape)
    return [report.generate_report()] if report.has_errors() else []
