"""Running the shards on Dask distributed: a local cluster (``--workers N``) or an existing one
(``--scheduler tcp://HOST:8786`` or a scheduler file).

Dask is imported here only, and only when a sharded scan is asked for: a scan of one account runs
in-process as before and pays nothing for it.

Flow: one :func:`~.task.plan_account` task per account; as each plan's small summary arrives, one
:func:`~.task.run_shard` task per enabled region of that account (the plan itself — the account's
IAM — stays on the workers and is handed to the region tasks by Dask). Results are merged as they
complete (:class:`~.merge.Merger`), keyed by shard, so a task Dask ran twice counts once.

Faults: a worker that dies mid-shard is Dask's to handle: the scheduler gives the lost tasks to
another worker (up to ``distributed.scheduler.allowed-failures`` times, then ``KilledWorker``), and
``retries`` re-runs a task that raised. A shard that still fails is recorded as not scanned, and the
scan is incomplete (exit 3). AWS failures are not exceptions: a shard returns them as data.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .merge import Merger
from .model import AccountTarget, PlanSummary, ShardOptions, ShardResult
from .task import plan_account, run_shard, shard_key

Event = Callable[[str, Any], None]  # ("plan" | "shard" | "failed", payload)


@dataclass(frozen=True)
class ClusterSpec:
    workers: int | None = None  # a local cluster of this many worker processes
    scheduler: str | None = None  # tcp://HOST:8786, or the path of a scheduler file
    threads_per_worker: int = 1
    processes: bool = True
    connect_timeout: float = 30.0  # seconds to reach an existing scheduler


@contextmanager
def connect(spec: ClusterSpec) -> Iterator[Any]:
    """A Dask client for the cluster; a local cluster is started and stopped with it."""
    from dask.distributed import Client, LocalCluster

    if spec.scheduler:
        if "://" in spec.scheduler:
            client = Client(spec.scheduler, timeout=spec.connect_timeout)
        else:
            if not Path(spec.scheduler).is_file():  # Dask would wait for it to appear
                raise FileNotFoundError(f"no scheduler file {spec.scheduler}")
            client = Client(scheduler_file=spec.scheduler, timeout=spec.connect_timeout)
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=spec.workers or 1,
        threads_per_worker=spec.threads_per_worker,
        processes=spec.processes,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _summary(plan: Any) -> PlanSummary:
    return plan.summary()


def run_sharded(
    client: Any,
    targets: Sequence[AccountTarget],
    options: ShardOptions,
    on_event: Event | None = None,
    retries: int = 2,
) -> Merger:
    """Every account×region of ``targets`` scanned on the cluster, merged."""
    from dask.distributed import as_completed

    merger = Merger(options.scan.include_informational if options.scan else False)
    run = uuid.uuid4().hex[:8]
    shipped = client.scatter(options, broadcast=True, hash=False)
    queue = as_completed(with_results=False)
    plans: dict[Any, tuple[AccountTarget, Any]] = {}
    shards: dict[Any, str] = {}
    held: list[Any] = []
    for t in targets:
        plan = client.submit(plan_account, t, shipped, key=f"plan-{t.key}-{run}", pure=False, retries=retries)
        summary = client.submit(_summary, plan, key=f"summary-{t.key}-{run}", pure=False, retries=retries)
        plans[summary] = (t, plan)
        queue.add(summary)
    for fut in queue:
        if fut in plans:
            t, plan = plans.pop(fut)
            held.append(plan)  # its region shards need it: keep it until the run ends
            try:
                s: PlanSummary = fut.result()
            except Exception as e:  # a bug, or KilledWorker after repeated worker losses
                merger.fail(t.key, f"account plan failed ({e.__class__.__name__})")
                _emit(on_event, "failed", (t.key, e))
                continue
            merger.add_plan(s)
            _emit(on_event, "plan", s)
            for region in s.regions:
                key = shard_key(s.account_id, region)
                f = client.submit(
                    run_shard, t, region, plan, shipped, key=f"shard-{key}-{run}", pure=False, retries=retries
                )
                shards[f] = key
                queue.add(f)
            continue
        key = shards.pop(fut)
        try:
            result: ShardResult = fut.result()
        except Exception as e:
            merger.fail(key, f"failed ({e.__class__.__name__})")
            _emit(on_event, "failed", (key, e))
            continue
        if merger.add(result):
            _emit(on_event, "shard", result)
        fut.release()
    return merger


def _emit(on_event: Event | None, kind: str, payload: Any) -> None:
    if on_event is not None:
        on_event(kind, payload)
