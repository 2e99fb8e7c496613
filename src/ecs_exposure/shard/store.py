"""Where a worker writes its shard's snapshot: a directory (shared by the workers, e.g. a mounted
volume) or an ``s3://bucket/prefix``. One file per account×region, ``<account>-<region>.json.gz``,
each a complete ``ecs-exposure/snapshot@1`` document (``ecs-exposure scan DIR`` reads them all).

These files hold task definitions as AWS returns them, credentials in environments included: local
files are created 0600, and S3 objects take the bucket's default encryption; protect both like
secrets. The snapshot never goes through the Dask scheduler.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from ..sources.aws.collector import CollectConfig, base_session


def part_name(account_id: str, region: str) -> str:
    return f"{account_id}-{region}.json.gz"


def is_s3(target: str) -> bool:
    return target.startswith("s3://")


def encode(doc: dict[str, Any]) -> bytes:
    return gzip.compress(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE), mtime=0)


def write_part(doc: dict[str, Any], target: str, account_id: str, region: str, config: CollectConfig) -> str:
    return write_named(encode(doc), target, part_name(account_id, region), config)


def write_named(data: bytes, target: str, name: str, config: CollectConfig) -> str:
    if is_s3(target):
        bucket, _, prefix = target[len("s3://") :].partition("/")
        key = f"{prefix.rstrip('/')}/{name}" if prefix.strip("/") else name
        s3 = base_session(config).client("s3", endpoint_url=config.endpoint_url)
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/gzip")
        return f"s3://{bucket}/{key}"
    directory = Path(target)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json.gz")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, directory / name)  # atomic: a shard run twice leaves one whole file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return str(directory / name)
