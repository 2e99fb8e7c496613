"""Fault injection at every mutating call of one rich plan: after each failure, rollback leaves AWS
exactly as it was (services, revisions' status, secrets, roles, policies, rules).

The plan touches every kind of change ecs-exposure makes: CreateSecret, CreateRole,
AttachRolePolicy, PutRolePolicy (grants, and a narrowed policy), DeleteRolePolicy,
DetachRolePolicy, RegisterTaskDefinition, UpdateService (ECS controller, new revision and network),
CreateTaskSet / UpdateServicePrimaryTaskSet / DeleteTaskSet (EXTERNAL controller),
AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress. A proxy in front of moto fails the Nth
write, for every N, in two ways: the request never reaches AWS (503), and the request is made but
its answer is lost (moto makes the change, the client gets a 500). The second is the case a
write-ahead journal exists for: the change happened and nobody was told.

Each run reuses the same moto state: rollback must have restored it for the next run to start from
the same estate, so a rollback that leaves anything behind fails the next comparison too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awsfake import FaultProxy, moto_post
from fixestate import build_fix_estate, dump, few_managed_policies, same_as_before
from test_fix_live import FLAGS, aws, run

pytestmark = pytest.mark.usefixtures("aws_env")


@pytest.fixture
def estate(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    few_managed_policies(monkeypatch)
    moto_post(moto_url, "/moto-api/reset")
    build_fix_estate(moto_url, fillers=0)
    return moto_url


SERVICES = ("--service", "web", "--service", "worker", "--service", "edge", "--service", "agent")


def test_rollback_after_a_failure_at_every_write(estate: str, tmp_path: Path) -> None:
    url = estate
    before = dump(url)
    # a clean run counts the writes and shows the plan covers every kind of change
    journal = tmp_path / "clean.json"
    with FaultProxy(url) as proxy:
        code, _, err = run("fix", *aws(proxy.url), *SERVICES, "--apply", "--journal", str(journal), *FLAGS)
        writes = list(proxy.faults.writes)
    assert code == 0, err
    assert set(writes) >= {
        "CreateSecret",
        "CreateRole",
        "AttachRolePolicy",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "DetachRolePolicy",
        "RegisterTaskDefinition",
        "UpdateService",
        "CreateTaskSet",
        "UpdateServicePrimaryTaskSet",
        "DeleteTaskSet",
        "AuthorizeSecurityGroupIngress",
        "RevokeSecurityGroupIngress",
    }
    assert 15 <= len(writes) <= 40
    code, _, err = run("rollback", str(journal), "--endpoint-url", url)
    assert code == 0, err
    assert same_as_before(before, dump(url)) == []

    for n in range(1, len(writes) + 1):
        for mode in ("refused", "lost"):
            journal = tmp_path / f"j-{n}-{mode}.json"
            with FaultProxy(url) as proxy:
                proxy.faults.fail_write, proxy.faults.write_mode = n, mode
                code, _, err = run(
                    "fix", *aws(proxy.url), *SERVICES, "--apply", "--journal", str(journal), *FLAGS
                )
            where = f"write {n} ({writes[n - 1]}, {mode})"
            assert code == 2, (where, err)
            assert "stopped" in err and "ecs-exposure rollback" in err, where
            entries = json.loads(journal.read_text())["entries"]
            # the failed call is in the journal, written before it was made
            assert entries[-1]["status"] == "failed", where
            assert entries[-1]["error"]["made"] == "unknown", where
            code, _, err = run("rollback", str(journal), "--endpoint-url", url)
            assert code == 0, (where, err)
            assert same_as_before(before, dump(url)) == [], (where, err)


def test_a_refused_write_is_nothing_to_undo(estate: str, tmp_path: Path) -> None:
    url = estate
    before = dump(url)
    journal = tmp_path / "j.json"
    with FaultProxy(url) as proxy:
        proxy.faults.fail_write, proxy.faults.write_mode = 3, "denied"
        code, _, err = run("fix", *aws(proxy.url), "--service", "web", "--apply", "--journal", str(journal))
    assert code == 2
    entries = json.loads(journal.read_text())["entries"]
    assert entries[-1]["error"]["made"] == "no"  # AccessDenied: AWS refused it
    code, _, err = run("rollback", str(journal), "--endpoint-url", url)
    assert code == 0, err
    assert "nothing to undo" in err and "the call was refused" in err
    assert same_as_before(before, dump(url)) == []


def test_rerun_after_a_partial_failure_finishes_the_plan(estate: str, tmp_path: Path) -> None:
    """No rollback in between: the rerun plans from what AWS holds, reuses what the failed run made
    (the secret it made but never heard back about) and records only the rest."""
    url = estate
    before = dump(url)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    with FaultProxy(url) as proxy:
        proxy.faults.fail_write, proxy.faults.write_mode = 1, "lost"  # CreateSecret made, answer lost
        code, _, err = run("fix", *aws(proxy.url), "--service", "web", "--apply", "--journal", str(first))
    assert code == 2, err
    code, _, err = run("fix", *aws(url), "--service", "web", "--apply", "--journal", str(second))
    assert code == 0, err
    assert "already done: create secret ecs/web/web/DB_PASSWORD" in err
    ops = [e["op"] for e in json.loads(second.read_text())["entries"]]
    assert "create_secret" not in ops and "update_service" in ops
    code, _, err = run(
        "fix", *aws(url), "--service", "web", "--apply", "--journal", str(tmp_path / "third.json")
    )
    assert json.loads((tmp_path / "third.json").read_text())["entries"] == []
    for journal in (second, first):  # newest first
        code, _, err = run("rollback", str(journal), "--endpoint-url", url)
        assert code == 0, err
    assert same_as_before(before, dump(url)) == []
