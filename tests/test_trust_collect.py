"""The trust policy travels from AWS (a real moto server) through ``collect`` to the trait."""

from __future__ import annotations

import copy
import json

import pytest

from awsfake import REGION, TRUST, build_estate, clients, moto_post
from ecs_exposure.engine import scan
from ecs_exposure.model import TraitHit
from ecs_exposure.sources.aws import CollectConfig, collect
from ecs_exposure.sources.snapshot import load_snapshot

pytestmark = pytest.mark.usefixtures("aws_env")


def test_collected_trust_policy_qualifies_the_task_role(moto_url: str) -> None:
    moto_post(moto_url, "/moto-api/reset")
    build_estate(moto_url)
    iam = clients(moto_url)["iam"]
    partner = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
        "Action": "sts:AssumeRole",
    }
    iam.update_assume_role_policy(
        RoleName="api-task", PolicyDocument=json.dumps({**TRUST, "Statement": [*TRUST["Statement"], partner]})
    )
    doc = collect(CollectConfig(regions=(REGION,), endpoint_url=moto_url))
    roles = {r["RoleName"]: r for r in doc["accounts"][0]["iam"]["roles"]}
    assert "AssumeRolePolicyDocument" in roles["api-task"]  # GetAccountAuthorizationDetails carries it
    result = scan(load_snapshot(copy.deepcopy(doc), "aws"))
    hits = {f.resource.name: {h.trait_id: h for h in f.hits} for f in result.findings}
    api = hits["api"]["assumable-task-role"]
    web = hits["web"]["assumable-task-role"]
    assert isinstance(api, TraitHit) and {"cross-account", "notable"} <= api.qualifiers
    assert dict(api.evidence[0].facts)["assumableBy"] == ("arn:aws:iam::444455556666:root",)
    assert (
        isinstance(web, TraitHit)
        and not web.qualifiers
        and dict(web.evidence[0].facts)["trust"] == "ecs-tasks"
    )
