"""The configuration file: where it is found, what it sets, and one clear line per mistake."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, Run
from ecs_exposure.cli import main
from ecs_exposure.config import ConfigError, find_config, load_config, schema
from ecs_exposure.model import Severity
from estates import estate


@pytest.fixture
def ecs(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Run:
        code = main(list(args))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_found_upward_but_not_past_the_repository_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    deep = repo / "services" / "web"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    assert find_config(deep) is None
    (tmp_path / ".ecs-exposure.yaml").write_text("fail_on: high\n")  # above the repository: ignored
    assert find_config(deep) is None
    (repo / ".ecs-exposure.yml").write_text("fail_on: high\n")
    assert find_config(deep) == repo / ".ecs-exposure.yml"
    (deep / ".ecs-exposure.yaml").write_text("fail_on: low\n")
    assert find_config(deep) == deep / ".ecs-exposure.yaml"  # the nearest
    (repo / "other").mkdir()
    (repo / "other" / ".git").write_text("gitdir: ../.git/worktrees/other\n")  # a worktree's .git file
    assert find_config(repo / "other") is None


def test_outside_a_repository_up_to_the_root(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".ecs-exposure.yaml").write_text("fail_on: high\n")
    assert find_config(tmp_path / "a" / "b") == tmp_path / ".ecs-exposure.yaml"


def test_options_and_paths(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / ".ecs-exposure.yaml"
    path.write_text(
        """\
version: 1
fail_on: HIGH
format: json
include_informational: true
vulns: [reports/trivy.json, reports/grype.json]
kev: kev.json
epss_threshold: 0.2
min_severity: low
baseline: baseline.json
store: sqlite:///history.sqlite
color: never
"""
    )
    c = load_config(path)
    base = tmp_path / "cfg"
    assert c.options == {
        "fail_on": Severity.HIGH,
        "format": "json",
        "include_informational": True,
        "vulns": [base / "reports/trivy.json", base / "reports/grype.json"],
        "kev": base / "kev.json",
        "epss_threshold": 0.2,
        "min_severity": "LOW",
        "baseline": base / "baseline.json",
        "store": f"sqlite:///{base / 'history.sqlite'}",  # beside the file, not in the working directory
        "color": "never",
    }
    assert c.suppressions == ()


def test_suppressions(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        """\
suppressions:
  - traits: privileged-container
    reason: the node agent needs the host
  - traits: [public-ip, open-security-group]
    resources:
      - "arn:aws:ecs:*:111122223333:service/shop/*"
    accounts: "111122223333"
    tags: {team: web, env: "prod*"}
    paths: "infra/**"
    findings: 0123456789abcdef0123456789abcdef
    reason: "  public front behind CloudFront  "
    expires: 2027-01-31
"""
    )
    a, b = load_config(path).suppressions
    assert (a.traits, a.reason, a.source, a.expires) == (
        ("privileged-container",),
        "the node agent needs the host",
        f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}:2: suppressions[0]",
        None,
    )
    assert b.traits == ("public-ip", "open-security-group")
    assert b.resources == ("arn:aws:ecs:*:111122223333:service/shop/*",)
    assert b.accounts == ("111122223333",) and b.paths == ("infra/**",)
    assert b.tags == (("env", "prod*"), ("team", "web"))
    assert b.finding_ids == ("0123456789abcdef0123456789abcdef",)
    assert b.reason == "public front behind CloudFront" and str(b.expires) == "2027-01-31"
    assert b.base == str(tmp_path.resolve())


WHY = "(a suppression must say why the risk is accepted)"
NOTHING = "names nothing to suppress: give one of traits, findings, resources, accounts, tags, paths"
S0 = "c.yaml:2: suppressions[0]"
YAML = "c.yaml:1: invalid YAML"
PYTHON_TAG = "could not determine a constructor for the tag 'tag:yaml.org,2002:python/name:os.system'"


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (
            "fail_on: severe\n",
            ["c.yaml:1: fail_on: 'severe' is not one of critical, high, medium, low, informational"],
        ),
        ("fial_on: high\n", ["c.yaml:1: unknown key 'fial_on' (did you mean 'fail_on'?)"]),
        ("suppressions:\n  - traits: public-ip\n", [f"{S0}: missing 'reason' {WHY}"]),
        ("suppressions:\n  - reason: why\n", [f"{S0}: {NOTHING}"]),
        (
            "suppressions:\n  - traits: public-ip\n    reason: ' '\n",
            [f"c.yaml:3: suppressions[0].reason: reason is blank {WHY}"],
        ),
        (
            "suppressions:\n  - traits: public-ip\n    reason: x\n    expires: 31/12/2026\n",
            ["c.yaml:4: suppressions[0].expires: '31/12/2026' is not a date (YYYY-MM-DD)"],
        ),
        (
            "suppressions:\n  - traits: public-ip\n    reason: x\n    expires: 2026-02-30\n",
            ["c.yaml:4: suppressions[0].expires: '2026-02-30' is not a date (YYYY-MM-DD)"],
        ),
        (
            "suppressions:\n  - traits: [public-ip, pubic-ip]\n    reason: x\n",
            [f"{S0}.traits[1]: unknown trait 'pubic-ip' (did you mean 'public-ip'?)"],
        ),
        (
            "suppressions:\n  - accounts: 111122223333\n    reason: x\n",
            [
                f"{S0}.accounts: write account ids as quoted strings ('111122223333'): "
                "YAML reads bare digits as numbers"
            ],
        ),
        (
            "suppressions:\n  - findings: abc\n    reason: x\n",
            [f"{S0}.findings: 'abc' is not a finding id (32 hex digits, the report's 'id')"],
        ),
        (
            "suppressions:\n  - resource: '*'\n    reason: x\n",
            [f"{S0}: {NOTHING}", f"{S0}: unknown key 'resource' (did you mean 'resources'?)"],
        ),
        ("suppressions: {}\n", ["c.yaml:1: suppressions: expected a list, found a mapping"]),
        ("store: 5\n", ["c.yaml:1: store: expected true or false or a string, found a number"]),
        (
            "epss_threshold: 2\n",
            ["c.yaml:1: epss_threshold: 2 is out of range (greater than the maximum of 1)"],
        ),
        (
            "format: sarif,pdf\n",
            ["c.yaml:1: format: 'pdf' is not one of asff, html, json, junit, markdown, ocsf, sarif, table"],
        ),
        ("version: 2\n", ["c.yaml:1: version: 2 is not supported (expected 1)"]),
        ("fail_on: high\nfail_on: low\n", ["c.yaml:2: invalid YAML: duplicate key 'fail_on'"]),
        (
            "suppressions: [\n",
            ["c.yaml:2: invalid YAML: expected the node content, but found '<stream end>'"],
        ),
        ("- fail_on\n", ["c.yaml:1: expected a mapping of settings, found a list"]),
        ("fail_on: !!python/name:os.system high\n", [f"{YAML}: {PYTHON_TAG}"]),
    ],
)
def test_mistakes_are_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, errors: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(Path("c.yaml"))
    assert e.value.lines == errors


def test_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("# nothing yet\n")
    assert load_config(tmp_path / "c.yaml").options == {}


def test_command_line_wins_over_the_file(ecs, tmp_path: Path) -> None:
    (tmp_path / "v1.json").write_text(json.dumps(estate(1)))
    (tmp_path / ".ecs-exposure.yaml").write_text("fail_on: critical\nformat: json\n")
    r = ecs("scan", "v1.json")
    assert r.code == 1 and json.loads(r.out)["schema"] == "ecs-exposure/findings@1"
    r = ecs("scan", "v1.json", "--fail-on", "informational", "-f", "table")
    assert r.code == 1 and "findings" in r.out and not r.out.startswith("{")
    assert ecs("scan", "v1.json", "--no-config").code == 0
    (tmp_path / "other.yaml").write_text("include_informational: true\nformat: json\n")
    r = ecs("scan", "v1.json", "--config", "other.yaml")
    assert r.code == 0 and json.loads(r.out)["summary"]["findings"] == 4
    r = ecs("scan", "v1.json", "--config", "other.yaml", "--no-include-informational")
    assert r.code == 0


def test_bad_file_stops_the_command(ecs, tmp_path: Path) -> None:
    (tmp_path / "v1.json").write_text(json.dumps(estate(1)))
    (tmp_path / ".ecs-exposure.yaml").write_text("suppressions:\n  - traits: public-ip\n")
    for command in (("scan", "v1.json"), ("history",), ("diff",)):
        r = ecs(*command)
        assert r.code == 2 and r.out == ""
        assert r.err == (
            "ecs-exposure: error: .ecs-exposure.yaml:2: suppressions[0]: missing 'reason' "
            "(a suppression must say why the risk is accepted)\n"
        )
    r = ecs("scan", "v1.json", "--config", "missing.yaml")
    assert r.code == 2 and "missing.yaml: no such configuration file" in r.err


def test_readme_example_is_valid(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"```yaml\n(# \.ecs-exposure\.yaml.*?)```", readme, re.S)
    assert m, "README has the full example of .ecs-exposure.yaml"
    (tmp_path / ".ecs-exposure.yaml").write_text(m.group(1))
    c = load_config(tmp_path / ".ecs-exposure.yaml")
    keys = set(schema()["properties"]) - {"version"}
    assert set(c.options) | {"suppressions"} == keys  # the example shows every setting
    selectors = {"traits", "findings", "resources", "accounts", "tags", "paths", "expires"}
    used = {k for r in c.suppressions for k, v in _fields(r).items() if v}
    assert selectors <= used


def _fields(rule) -> dict:
    return {
        "traits": rule.traits,
        "findings": rule.finding_ids,
        "resources": rule.resources,
        "accounts": rule.accounts,
        "tags": rule.tags,
        "paths": rule.paths,
        "expires": rule.expires,
    }
