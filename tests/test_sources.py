"""Inputs: the shapes we accept, and bad input reported as one line naming the file and JSON path."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from builders import ECS, container, service, snapshot, taskdef
from ecs_exposure.model import Loc
from ecs_exposure.sources import load_paths


def write(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_register_shape(tmp_path: Path) -> None:
    inv = load_paths([write(tmp_path / "td.json", taskdef(revision=None))])
    assert not inv.issues
    [f] = inv.task_definition_files
    assert f.task_definition.family == "app" and f.uid.endswith("td.json")


def test_describe_shape_wrapped(tmp_path: Path) -> None:
    inv = load_paths([write(tmp_path / "td.json", {"taskDefinition": taskdef(revision=4), "tags": []})])
    [f] = inv.task_definition_files
    assert f.task_definition.label == "app:4"
    assert f.uid == f"{ECS}:task-definition/app:4"  # the ARN when the file has one
    assert f.task_definition.loc.pointer == "/taskDefinition"


def test_list_of_both_shapes(tmp_path: Path) -> None:
    doc = [taskdef(family="a", revision=None), {"taskDefinition": taskdef(family="b", revision=None)}]
    inv = load_paths([write(tmp_path / "tds.json", doc)])
    assert [f.task_definition.family for f in inv.task_definition_files] == ["a", "b"]
    assert inv.task_definition_files[1].uid.endswith("tds.json#/1/taskDefinition")
    assert not inv.issues


def test_snapshot_plain_and_gzip(tmp_path: Path) -> None:
    doc = snapshot()
    (tmp_path / "s.json.gz").write_bytes(gzip.compress(json.dumps(doc).encode()))
    for p in (write(tmp_path / "s.json", doc), tmp_path / "s.json.gz"):
        inv = load_paths([p])
        assert not inv.issues
        assert [s.name for a in inv.accounts for r in a.regions for s in r.services] == ["svc"]


def test_directory_recursive_skips_other_json(tmp_path: Path) -> None:
    write(tmp_path / "a" / "b" / "td.json", taskdef(revision=None))
    write(tmp_path / "package.json", {"name": "not-ecs"})
    (tmp_path / "notes.txt").write_text("hello")
    write(tmp_path / ".git" / "x.json", taskdef(revision=None))
    inv = load_paths([tmp_path])
    assert len(inv.task_definition_files) == 1
    assert not inv.issues
    assert any("package.json" in n and "skipped" in n for n in inv.notes)


def test_explicit_non_task_definition_is_an_issue(tmp_path: Path) -> None:
    inv = load_paths([write(tmp_path / "package.json", {"name": "x"})])
    [issue] = inv.issues
    assert "package.json" in issue.source and "not a task definition" in issue.message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"family": "x", "containerDefinitions": [', "invalid JSON at line 1"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"", "invalid JSON"),
    ],
)
def test_unparsable_file(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    good = write(tmp_path / "good.json", taskdef(revision=None))
    inv = load_paths([bad, good])
    assert len(inv.task_definition_files) == 1  # the rest is still scanned
    [issue] = inv.issues
    assert issue.source.endswith("bad.json") and message in issue.message


def test_missing_file(tmp_path: Path) -> None:
    inv = load_paths([tmp_path / "nope.json"])
    [issue] = inv.issues
    assert "no such file" in issue.message


def test_unreadable_file(tmp_path: Path) -> None:
    # /proc/self/mem exists but cannot be read from offset 0, even by root (CI runs as root, for
    # whom a chmod 000 file stays readable)
    mem = Path("/proc/self/mem")
    if not mem.exists():
        pytest.skip("no /proc on this system")
    inv = load_paths([mem, write(tmp_path / "good.json", taskdef(revision=None))])
    [issue] = inv.issues
    assert issue.source == "/proc/self/mem" and issue.message.startswith("cannot read")
    assert len(inv.task_definition_files) == 1


def test_bad_gzip(tmp_path: Path) -> None:
    p = tmp_path / "s.json.gz"
    p.write_bytes(b"\x1f\x8b not gzip")
    [issue] = load_paths([p]).issues
    assert "gzip" in issue.message


@pytest.mark.parametrize(
    ("doc", "path", "message"),
    [
        (
            taskdef(revision=None, containerDefinitions={"name": "x"}),
            "containerDefinitions",
            "expected a list",
        ),
        (
            taskdef(container(environment="A=1"), revision=None),
            "containerDefinitions[0].environment",
            "expected a list",
        ),
        (
            taskdef(container(environment=[{"name": "A", "value": "1"}, "B=2"]), revision=None),
            "containerDefinitions[0].environment[1]",
            "expected an object",
        ),
        (
            taskdef(container(privileged="maybe"), revision=None),
            "containerDefinitions[0].privileged",
            "expected a boolean",
        ),
        (
            taskdef(container(portMappings=[{"containerPort": "eighty"}]), revision=None),
            "containerDefinitions[0].portMappings[0].containerPort",
            "expected an integer",
        ),
        (
            taskdef(container(environment=[{"name": "A", "value": {"x": 1}}]), revision=None),
            "containerDefinitions[0].environment[0].value",
            "expected a string",
        ),
    ],
)
def test_wrong_types_name_the_json_path(tmp_path: Path, doc: dict, path: str, message: str) -> None:
    inv = load_paths([write(tmp_path / "td.json", doc)])
    assert [(i.path, message in i.message) for i in inv.issues] == [(path, True)]
    assert all(i.source.endswith("td.json") for i in inv.issues)


def test_bad_element_does_not_hide_the_rest(tmp_path: Path) -> None:
    doc = taskdef(
        container(
            privileged=True,
            environment=[{"name": "A", "value": {"x": 1}}, {"name": "DB_PASSWORD", "value": "hunter2!"}],
        ),
        revision=None,
    )
    inv = load_paths([write(tmp_path / "td.json", doc)])
    c = inv.task_definition_files[0].task_definition.containers[0]
    assert c.privileged and [e.name for e in c.environment] == ["DB_PASSWORD"]
    assert len(inv.issues) == 1


def test_template_placeholders_in_numbers_are_not_errors(tmp_path: Path) -> None:
    doc = taskdef(
        container(portMappings=[{"containerPort": "<container-port>", "hostPort": "${PORT}"}]), revision=None
    )
    assert not load_paths([write(tmp_path / "td.json", doc)]).issues


def test_snapshot_wrong_type_names_the_path(tmp_path: Path) -> None:
    doc = snapshot(services=[service(), "oops"])
    [issue] = load_paths([write(tmp_path / "s.json", doc)]).issues
    assert issue.path == "accounts[0].regions[0].ecs.services[1]"
    assert issue.message == "expected an object, found a string"


def test_snapshot_errors_are_issues(tmp_path: Path) -> None:
    doc = snapshot(
        errors=[
            {
                "account_id": "111122223333",
                "region": "eu-west-1",
                "api": "ec2:DescribeSubnets",
                "error": "AccessDenied",
                "message": "not allowed",
            }
        ]
    )
    [issue] = load_paths([write(tmp_path / "s.json", doc)]).issues
    assert "ec2:DescribeSubnets" in issue.message and "AccessDenied" in issue.message


def test_unsupported_snapshot_version(tmp_path: Path) -> None:
    [issue] = load_paths([write(tmp_path / "s.json", {"format": "ecs-exposure/snapshot@9"})]).issues
    assert "unsupported snapshot format" in issue.message


def test_policy_document_as_url_encoded_string(tmp_path: Path) -> None:
    from urllib.parse import quote

    doc = snapshot(
        roles=[
            {
                "RoleName": "r",
                "Arn": "arn:aws:iam::111122223333:role/r",
                "RolePolicyList": [
                    {
                        "PolicyName": "p",
                        "PolicyDocument": quote(
                            json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
                        ),
                    }
                ],
            }
        ]
    )
    inv = load_paths([write(tmp_path / "s.json", doc)])
    role = inv.accounts[0].roles["arn:aws:iam::111122223333:role/r"]  # type: ignore[index]
    assert role.inline_policies[0].statements[0]["Action"] == "*"


def test_loc_renders_pointer_and_path() -> None:
    loc = Loc("f.json", ("accounts", 0, "a/b", "c~d"))
    assert loc.pointer == "/accounts/0/a~1b/c~0d"
    assert loc.path == "accounts[0].a/b.c~d"
    assert str(Loc("f.json")) == "f.json"
