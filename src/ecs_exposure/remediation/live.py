"""What a fix needs from AWS beyond the collection: which CodeDeploy deployment group deploys a
``CODE_DEPLOY`` service (read-only: ListApplications, ListDeploymentGroups, GetDeploymentGroup)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


def codedeploy_groups(
    collected: dict[str, Any], clients_for: Callable[[str | None], dict[str, Any]]
) -> dict[str, tuple[str, str]]:
    """Service ARN → (application, deployment group), for the CODE_DEPLOY services collected. A failed
    look-up leaves the service out: its manual step then asks for the names."""
    out: dict[str, tuple[str, str]] = {}
    for account in collected.get("accounts") or []:
        for region in account.get("regions") or []:
            services = [
                s
                for s in (region.get("ecs") or {}).get("services") or []
                if ((s.get("deploymentController") or {}).get("type")) == "CODE_DEPLOY"
            ]
            if not services:
                continue
            by_name = {
                (str(s.get("clusterArn") or "").rsplit("/", 1)[-1], s.get("serviceName")): s.get("serviceArn")
                for s in services
            }
            try:
                cd = clients_for(region.get("region"))["codedeploy"]
                for app in _pages(cd, "list_applications", "applications"):
                    for group in _pages(
                        cd, "list_deployment_groups", "deploymentGroups", applicationName=app
                    ):
                        info = cd.get_deployment_group(applicationName=app, deploymentGroupName=group)
                        for ecs in (info.get("deploymentGroupInfo") or {}).get("ecsServices") or []:
                            arn = by_name.get((ecs.get("clusterName"), ecs.get("serviceName")))
                            if arn:
                                out[arn] = (app, group)
            except (ClientError, BotoCoreError):
                continue
    return out


def _pages(client: Any, op: str, key: str, **kwargs: Any) -> list[str]:
    items: list[str] = []
    token = None
    while True:
        page = getattr(client, op)(**kwargs, **({"nextToken": token} if token else {}))
        items += page.get(key) or []
        token = page.get("nextToken")
        if not token:
            return items
