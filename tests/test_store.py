"""The findings history on SQLite and on a real PostgreSQL server: migrations, records, secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from conftest import scan_doc
from ecs_exposure.baseline import mark
from ecs_exposure.cli import example_path
from ecs_exposure.engine import ScanOptions, scan
from ecs_exposure.model import Status, SuppressionRule
from ecs_exposure.sources import load_paths
from ecs_exposure.store import DEFAULT, Store, StoreError, head_revision, migrate, parse_url
from ecs_exposure.store.models import Base
from estates import SECRETS, estate
from test_no_secret_leak import planted_values


def engine(url: str) -> sa.Engine:
    return sa.create_engine(parse_url(url))


def revision(url: str) -> str | None:
    e = engine(url)
    with e.connect() as c:
        rev = MigrationContext.configure(c).get_current_revision()
    e.dispose()
    return rev


def test_empty_database_is_migrated_to_head(store_url: str) -> None:
    with Store.open(store_url) as s:
        assert s.scans() == []
    assert revision(store_url) == head_revision() == "0002"
    Store.open(store_url).close()  # opening again changes nothing


def test_models_and_migrations_agree(store_url: str) -> None:
    migrate(store_url)
    e = engine(store_url)
    with e.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    e.dispose()
    assert diff == []


def test_database_at_the_previous_revision_is_upgraded(store_url: str) -> None:
    migrate(store_url, "0001")
    assert revision(store_url) == "0001"
    e = engine(store_url)
    document = {"id": "a" * 32, "severity": "HIGH", "title": "old"}
    with e.begin() as c:  # a scan recorded by the version that had revision 0001
        c.execute(
            sa.text(
                "INSERT INTO scans (started_at, tool_version, target_key, target, complete, "
                "resources_scanned, finding_count) VALUES (:t, '0.0.9', :k, 'aws 111122223333 eu-west-1', "
                ":yes, 3, 1)"
            ),
            {"t": datetime(2026, 1, 1, tzinfo=UTC), "k": "k" * 64, "yes": True},
        )
        c.execute(
            sa.text(
                "INSERT INTO findings (scan_id, finding_id, status, severity, likelihood, impact, title, "
                "resource_type, resource_uid, resource_name, account, region, traits, document) VALUES "
                "(1, :id, 'New', 'HIGH', 'High', 'Medium', 'old', 'AWS::ECS::Service', 'arn:x', 'x', "
                "'111122223333', 'eu-west-1', :traits, :doc)"
            ),
            {"id": "a" * 32, "traits": json.dumps(["public-ip"]), "doc": json.dumps(document)},
        )
    e.dispose()
    with Store.open(store_url) as s:
        assert revision(store_url) == "0002"
        [old] = s.scans()
        assert (old.id, old.tool_version, old.finding_count) == (1, "0.0.9", 1)
        assert old.started_at == datetime(2026, 1, 1, tzinfo=UTC)
        [f] = s.findings(1)
        assert (f.finding_id, f.severity, f.traits, f.suppression_source) == (
            "a" * 32,
            "HIGH",
            ("public-ip",),
            None,
        )
        assert s.documents(1) == [document]
        # and the new revision's parts work beside the old rows
        r = SuppressionRule(reason="why", source="cfg:1", resources=("*",))
        result = scan(load_paths([example_path()]), ScanOptions(suppressions=(r,)))
        new_id = s.record(result, "example", key="k" * 64)
        assert s.previous(s.scan(new_id)).id == 1
        assert {x.suppression_source for x in s.findings(new_id)} == {"cfg:1"}


def test_a_newer_database_is_refused_not_altered(store_url: str) -> None:
    migrate(store_url)
    e = engine(store_url)
    with e.begin() as c:
        c.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    e.dispose()
    with pytest.raises(
        StoreError, match=r"written by a newer ecs-exposure \(schema revision 0099\); upgrade"
    ):
        Store.open(store_url)
    assert revision(store_url) == "0099"


def test_a_foreign_scans_table_is_refused(store_url: str) -> None:
    e = engine(store_url)
    with e.begin() as c:
        c.execute(sa.text("CREATE TABLE scans (name TEXT)"))
    e.dispose()
    with pytest.raises(StoreError, match="not an ecs-exposure findings history"):
        Store.open(store_url)


def test_record_and_read_back(store_url: str) -> None:
    with Store.open(store_url) as s:
        first = mark(scan_doc(estate(1)))
        a = s.record(first, "estate", datetime(2026, 5, 1, 12, tzinfo=UTC))
        doubled = first.__class__(first.findings * 2, (), 8)  # the same resource read twice: once
        b = s.record(doubled, "estate")
        assert [x.id for x in s.scans()] == [b, a] and [x.id for x in s.scans(1)] == [b]
        assert s.previous(s.scan(b)).id == a and s.previous(s.scan(a)) is None
        assert s.scan(a).started_at == datetime(2026, 5, 1, 12, tzinfo=UTC)
        assert s.finding_ids(a) == s.finding_ids(b) == {f.id for f in first.findings}
        assert s.counts([a]) == {a: {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 2, Status.NEW: 4}}
        assert s.scan(12345) is None


def test_no_credential_value_is_stored(store_url: str) -> None:
    doc = json.loads(example_path().read_text())
    values = set(planted_values(doc)) | set(SECRETS)
    assert values
    with Store.open(store_url) as s:
        s.record(scan(load_paths([example_path()]), ScanOptions(include_informational=True)), "example")
        s.record(scan_doc(estate(2)), "estate")
    e = engine(store_url)
    dump = []
    with e.connect() as c:
        for table in Base.metadata.sorted_tables:
            for row in c.execute(sa.select(table)):
                dump.append(repr(tuple(row)))
    e.dispose()
    text = "\n".join(dump)
    assert "fingerprint" in text  # evidence is there …
    assert [v for v in values if v in text] == []  # … and no value
    if store_url.startswith("sqlite:///"):
        raw = Path(store_url.removeprefix("sqlite:///")).read_bytes()
        assert [v for v in values if v.encode() in raw] == []


def test_urls() -> None:
    assert parse_url(DEFAULT).drivername == "sqlite" and parse_url(DEFAULT).database.endswith(
        "history.sqlite"
    )
    assert parse_url("team.sqlite").database == str(Path("team.sqlite").resolve())
    assert parse_url("postgresql://u@db/h").drivername == "postgresql+psycopg"
    assert parse_url("postgres://u@db/h").drivername == "postgresql+psycopg"
    assert parse_url("postgresql+psycopg://u@db/h").drivername == "postgresql+psycopg"
    with pytest.raises(StoreError, match="not a database URL"):
        parse_url("infra/")
    with pytest.raises(StoreError) as e:
        Store.open("postgresql://me:s3cr3t-pw@127.0.0.1:1/h")
    assert "s3cr3t-pw" not in str(e.value) and "***" in str(e.value)
    with pytest.raises(StoreError, match="no driver"):
        Store.open("nosuchdb://x/y")
