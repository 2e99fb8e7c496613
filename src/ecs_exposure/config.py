"""The configuration file, ``.ecs-exposure.yaml``: option defaults, the history store, suppressions.

Found by looking in the working directory, then in each parent up to the root of the git
repository (the first directory holding ``.git``) or, outside a repository, up to the filesystem
root; or named with ``--config FILE``; ignored with ``--no-config``. Command-line flags win over
the file. Relative paths in the file are relative to the file's directory.

The file is validated strictly against ``schemas/config-1.schema.json`` (unknown keys, a missing
``reason``, a bad date, an unknown trait id are errors) and every problem is one line naming the
file, the line and the entry: ``.ecs-exposure.yaml:14: suppressions[2]: missing 'reason'``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .model import Severity, SuppressionRule
from .traits import registry

CONFIG_NAMES = (".ecs-exposure.yaml", ".ecs-exposure.yml")
SELECTORS = ("traits", "findings", "resources", "accounts", "tags", "paths")


class ConfigError(Exception):
    """A configuration file that cannot be used; ``lines`` has one message per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)  # option (argparse dest) → value
    suppressions: tuple[SuppressionRule, ...] = ()


# --------------------------------------------------------------------------- finding the file


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``.ecs-exposure.yaml`` from ``start`` (the working directory) upward, not above
    the repository root (the first directory with ``.git``) nor the filesystem root."""
    d = (start or Path.cwd()).resolve()
    while True:
        for name in CONFIG_NAMES:
            candidate = d / name
            if candidate.is_file():
                return candidate
        if (d / ".git").exists() or d.parent == d:
            return None
        d = d.parent


def shown(path: Path) -> str:
    """The path as a person would type it: relative to the working directory when under it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:  # another drive
        return str(path)


# --------------------------------------------------------------------------- YAML with lines


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text (validated here, not by the YAML resolver) and refuses
    duplicate keys (PyYAML would silently keep the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in rules if tag != "tag:yaml.org,2002:timestamp"]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line(node: yaml.Node | None, path: list[str | int]) -> int | None:
    """1-based line of the value at ``path`` in a composed YAML document (its nearest known parent)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if nxt is None:
                return line
            # a key's own line reads better than its value's, which may start on the next line
            key = next(k for k, v in node.value if v is nxt)
            line, node = key.start_mark.line + 1, nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _where(path: list[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


# --------------------------------------------------------------------------- validation


@cache
def schema() -> dict[str, Any]:
    text = (resources.files("ecs_exposure") / "schemas" / "config-1.schema.json").read_text()
    return json.loads(text)


def _describe(err: Any) -> tuple[list[str | int], str]:
    """(path, message) for one schema error, in words a person can act on. An unknown key's path
    ends with the key (for its line); the message names it."""
    if err.validator in ("oneOf", "anyOf") and err.context:
        from jsonschema.exceptions import best_match

        deeper = [e for e in err.context if e.validator not in ("type", "required")]
        if deeper and err.validator == "oneOf":
            return _describe(best_match(deeper))
    path = list(err.absolute_path)
    parent = next((p for p in reversed(path) if isinstance(p, str)), None)
    inst = err.instance
    v = err.validator
    if v == "additionalProperties":
        allowed = list(err.schema.get("properties", {}))
        extra = sorted(set(inst) - set(allowed)) if isinstance(inst, dict) else []
        name = extra[0] if extra else "?"
        close = difflib.get_close_matches(str(name), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (expected one of: {', '.join(allowed)})"
        return [*path, name], f"unknown key {name!r}{hint}"
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        why = " (a suppression must say why the risk is accepted)" if missing == "reason" else ""
        return path, f"missing {missing!r}{why}"
    if v == "anyOf":  # the one anyOf of the schema: a suppression's selectors
        return path, f"names nothing to suppress: give one of {', '.join(SELECTORS)}"
    if v == "enum":
        choices = list(dict.fromkeys(str(c).lower() for c in err.validator_value if c is not None))
        return path, f"{inst!r} is not one of {', '.join(choices)}"
    if v == "pattern":
        if parent == "expires":
            return path, f"{inst!r} is not a date (YYYY-MM-DD)"
        if parent == "accounts":
            return path, f"{inst!r} is not a 12-digit account id"
        if parent == "findings":
            return path, f"{inst!r} is not a finding id (32 hex digits, the report's 'id')"
        if parent == "traits":
            return path, f"{inst!r} is not a trait id (see 'ecs-exposure traits')"
        if parent == "reason":
            return path, "reason is blank (a suppression must say why the risk is accepted)"
    if parent == "accounts" and isinstance(inst, int):
        return path, f"write account ids as quoted strings ('{inst:012d}'): YAML reads bare digits as numbers"
    if v in ("oneOf", "anyOf", "type"):
        what = err.schema.get("description") if v == "type" else None
        kinds = _kinds(err.schema)
        return path, f"expected {kinds or what or 'another type'}, found {_kind(inst)}"
    if v in ("minimum", "maximum"):
        return path, f"{inst!r} is out of range ({err.message.split(' is ', 1)[-1]})"
    if v == "const":
        return path, f"{inst!r} is not supported (expected {err.validator_value!r})"
    return path, err.message


def _kinds(sch: dict[str, Any]) -> str:
    branches = sch.get("oneOf") or sch.get("anyOf") or [sch]
    words = []
    for b in branches:
        if "$ref" in b:
            b = schema()["$defs"][b["$ref"].rsplit("/", 1)[-1]]
            words.append(_kinds(b))
            continue
        t = b.get("type")
        if t == "array":
            words.append("a list")
        elif t == "object":
            words.append("a mapping")
        elif t == "string":
            words.append("a string")
        elif t == "boolean":
            words.append("true or false")
        elif t == "number":
            words.append("a number")
        elif "enum" in b:
            words.append("one of " + ", ".join(dict.fromkeys(str(c).lower() for c in b["enum"])))
    return " or ".join(w for w in dict.fromkeys(words) if w)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _strings(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


# --------------------------------------------------------------------------- loading


def _check_entry(entry: dict[str, Any], at: list[str | int], problem: Any) -> None:
    known = registry()
    traits = entry.get("traits")
    for j, t in enumerate(traits if isinstance(traits, list) else [traits] if traits else []):
        if isinstance(t, str) and t not in known:
            close = difflib.get_close_matches(t, list(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "see 'ecs-exposure traits'"
            problem(
                [*at, "traits", *([j] if isinstance(traits, list) else [])], f"unknown trait {t!r} ({hint})"
            )
    expires = entry.get("expires")
    if isinstance(expires, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", expires):  # else: the schema says
        try:
            date.fromisoformat(expires)
        except ValueError:
            problem([*at, "expires"], f"{expires!r} is not a date (YYYY-MM-DD)")


def load_config(path: Path) -> Config:
    """The configuration in ``path``; :class:`ConfigError` with one line per problem."""
    name = shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{name}: cannot read: {e.strerror or e}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{name}: not UTF-8 text"]) from None
    try:
        node = yaml.compose(text, Loader=_Loader)
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError([f"{where}: invalid YAML: {problem}"]) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError([f"{name}:1: expected a mapping of settings, found {_kind(doc)}"])

    problems: list[tuple[int, str]] = []

    def problem(path: list[str | int], message: str) -> None:
        line = _line(node, path) or 1
        shown_path = path[:-1] if message.startswith("unknown key") else path
        where = f"{_where(shown_path)}: " if shown_path else ""
        problems.append((line, f"{name}:{line}: {where}{message}"))

    import jsonschema  # only when there is a file to check: most scans have none

    validator = jsonschema.Draft202012Validator(schema())
    for err in validator.iter_errors(doc):
        problem(*_describe(err))
    entries = doc.get("suppressions")
    entries = [e if isinstance(e, dict) else {} for e in entries] if isinstance(entries, list) else []
    for i, entry in enumerate(entries):  # what the schema cannot say: trait ids, real dates
        _check_entry(entry, ["suppressions", i], problem)
    if problems:
        raise ConfigError([m for _, m in sorted(problems)])

    base = path.resolve().parent
    rules: list[SuppressionRule] = []
    for i, entry in enumerate(entries):
        traits = _strings(entry.get("traits"))
        expires = date.fromisoformat(entry["expires"]) if "expires" in entry else None
        line = _line(node, ["suppressions", i]) or 1
        rules.append(
            SuppressionRule(
                reason=entry["reason"].strip(),
                source=f"{name}:{line}: suppressions[{i}]",
                traits=traits,
                finding_ids=_strings(entry.get("findings")),
                resources=_strings(entry.get("resources")),
                accounts=_strings(entry.get("accounts")),
                tags=tuple(sorted((entry.get("tags") or {}).items())),
                paths=_strings(entry.get("paths")),
                expires=expires,
                base=str(base),
            )
        )

    options: dict[str, Any] = {}
    for key, value in doc.items():
        if key in ("version", "suppressions"):
            continue
        if key == "fail_on":
            value = Severity.parse(value)
        elif key == "min_severity":
            value = value.upper()
        elif key == "format":
            value = ",".join(_strings(value))
        elif key == "vulns":
            value = [base / p for p in _strings(value)]
        elif key in ("kev", "baseline", "fingerprint_key_file"):
            value = base / value
        elif key == "store" and isinstance(value, str):
            value = _sqlite_relative_to(value, base)
        options[key] = value
    if "format" in options:
        from .outputs import FORMATS  # the formats this build knows

        for fmt in options["format"].split(","):
            if fmt.strip() not in FORMATS:
                problem(["format"], f"{fmt.strip()!r} is not one of {', '.join(sorted(FORMATS))}")
    if problems:
        raise ConfigError([m for _, m in sorted(problems)])
    return Config(path, options, tuple(rules))


def _sqlite_relative_to(url: str, base: Path) -> str:
    """``sqlite:///history.db`` in the file means next to the file, not in the working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix):
        rest = url[len(prefix) :]
        if rest and not rest.startswith(("/", ":memory:")) and not Path(rest).is_absolute():
            return prefix + str(base / rest)
    return url


def resolve_config(explicit: Path | None, disabled: bool, start: Path | None = None) -> Config:
    """The configuration of a command: ``--config FILE``, else the file found upward (none with
    ``--no-config``)."""
    if disabled:
        return Config()
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError([f"{shown(explicit)}: no such configuration file"])
        return load_config(explicit)
    found = find_config(start)
    return load_config(found) if found is not None else Config()
