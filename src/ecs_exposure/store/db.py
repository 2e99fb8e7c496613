"""The findings history in a database (SQLAlchemy): opening and migrating it, recording and reading scans."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session

from .. import __version__
from ..model import ScanResult
from . import DEFAULT, ScanInfo, StoredFinding, StoreError, default_path, target_key
from .models import FindingRow, ScanRow, SuppressionRow

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def parse_url(text: str) -> URL:
    """A store URL from the command line or the config file.

    ``default`` is the SQLite file in the user's data directory; a path ending in ``.db``,
    ``.sqlite`` or ``.sqlite3`` is a SQLite file; ``postgresql://`` (or ``postgres://``) uses
    psycopg 3."""
    if text == DEFAULT:
        return URL.create("sqlite", database=str(default_path()))
    if "://" not in text:
        if text.endswith(SQLITE_SUFFIXES):
            return URL.create("sqlite", database=str(Path(text).resolve()))
        raise StoreError(
            f"{text!r} is not a database URL (sqlite:///FILE, postgresql://HOST/DB, or a .sqlite file); "
            "write --store=URL when paths follow"
        )
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreError(f"{_hide(text)!r} is not a database URL") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _hide(text: str) -> str:
    """A URL as text with any password replaced, for messages."""
    if "@" in text and "://" in text:
        scheme, rest = text.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else text
    return text


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _info(row: ScanRow) -> ScanInfo:
    return ScanInfo(
        row.id,
        _utc(row.started_at),
        row.tool_version,
        row.target,
        row.target_key,
        row.complete,
        row.resources_scanned,
        row.finding_count,
    )


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)

    # -- opening

    @classmethod
    def open(cls, url: str | URL) -> Store:
        """Open (create) the store and migrate its schema to this version's."""
        if isinstance(url, str):
            url = parse_url(url)
        shown = url.render_as_string(hide_password=True)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            _prepare_sqlite_file(Path(url.database), shown)
        try:
            engine = create_engine(url)
        except NoSuchModuleError:
            raise StoreError(f"{shown}: no driver for {url.drivername}") from None
        except ModuleNotFoundError as e:
            hint = " (pip install 'ecs-exposure[postgres]')" if url.get_backend_name() == "postgresql" else ""
            raise StoreError(f"{shown}: the database driver {e.name!r} is not installed{hint}") from None
        try:
            _migrate(engine, shown)
        except StoreError:
            engine.dispose()
            raise
        except SQLAlchemyError as e:
            engine.dispose()
            raise StoreError(f"{shown}: cannot open the findings history: {_first_line(e)}") from None
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing

    def record(
        self, result: ScanResult, target: str, started_at: datetime | None = None, key: str | None = None
    ) -> int:
        """Record one scan and its findings (each once, by id); the new scan's id. ``target`` says
        what was scanned, in words; ``key`` identifies the same inputs across scans (default: a
        hash of ``target``)."""
        from ..outputs.json_report import finding_dict

        started = started_at or datetime.now(UTC)
        seen: set[str] = set()
        try:
            with Session(self.engine) as s, s.begin():
                scan = ScanRow(
                    started_at=started,
                    tool_version=__version__,
                    target_key=key or target_key(target),
                    target=target,
                    complete=result.complete,
                    resources_scanned=result.resources_scanned,
                    finding_count=len(result.findings),
                )
                s.add(scan)
                s.flush()
                rows: list[dict[str, Any]] = []
                evidence: dict[int, dict[str, Any]] = {}
                for f in result.findings:
                    if f.id in seen:
                        continue
                    seen.add(f.id)
                    r = f.resource
                    rows.append(
                        {
                            "scan_id": scan.id,
                            "finding_id": f.id,
                            "status": f.status,
                            "severity": f.severity.name,
                            "likelihood": f.likelihood.label,
                            "impact": f.impact.label,
                            "title": f.title,
                            "resource_type": r.type,
                            "resource_uid": r.uid,
                            "resource_name": r.name,
                            "account": r.account_id,
                            "region": r.region,
                            "traits": [h.trait_id for h in f.hits],
                            "document": finding_dict(f, evidence),
                            "suppression_source": f.suppression.source if f.suppression else None,
                        }
                    )
                if rows:
                    s.execute(insert(FindingRow), rows)
                uses = [
                    {
                        "scan_id": scan.id,
                        "source": u.rule.source,
                        "reason": u.rule.reason,
                        "expires": u.rule.expires,
                        "state": u.state,
                        "matched": list(u.findings),
                        "problem": u.problem,
                    }
                    for u in result.suppressions
                ]
                if uses:
                    s.execute(insert(SuppressionRow), uses)
                return scan.id
        except SQLAlchemyError as e:
            raise StoreError(f"{self.url}: cannot record the scan: {_first_line(e)}") from None

    # -- reading

    def _read(self, fn: Any) -> Any:
        try:
            with Session(self.engine) as s:
                return fn(s)
        except SQLAlchemyError as e:
            raise StoreError(f"{self.url}: cannot read the findings history: {_first_line(e)}") from None

    def scans(self, limit: int | None = None) -> list[ScanInfo]:
        """Recorded scans, newest first."""
        q = select(ScanRow).order_by(ScanRow.id.desc())
        if limit is not None:
            q = q.limit(limit)
        return self._read(lambda s: [_info(r) for r in s.scalars(q)])

    def scan(self, scan_id: int) -> ScanInfo | None:
        return self._read(lambda s: (lambda r: _info(r) if r is not None else None)(s.get(ScanRow, scan_id)))

    def previous(self, scan: ScanInfo | None = None, key: str | None = None) -> ScanInfo | None:
        """The last scan of the same inputs before ``scan`` (or the last one with ``key``)."""
        key = scan.target_key if scan is not None else key
        q = select(ScanRow).where(ScanRow.target_key == key)
        if scan is not None:
            q = q.where(ScanRow.id < scan.id)
        q = q.order_by(ScanRow.id.desc()).limit(1)
        return self._read(lambda s: (lambda r: _info(r) if r is not None else None)(s.scalars(q).first()))

    def findings(self, scan_id: int) -> list[StoredFinding]:
        q = select(FindingRow).where(FindingRow.scan_id == scan_id).order_by(FindingRow.finding_id)
        return self._read(
            lambda s: [
                StoredFinding(
                    r.finding_id,
                    r.status,
                    r.severity,
                    r.title,
                    r.resource_type,
                    r.resource_uid,
                    r.resource_name,
                    r.account,
                    r.region,
                    tuple(r.traits or ()),
                    r.suppression_source,
                )
                for r in s.scalars(q)
            ]
        )

    def finding_ids(self, scan_id: int) -> set[str]:
        q = select(FindingRow.finding_id).where(FindingRow.scan_id == scan_id)
        return self._read(lambda s: set(s.scalars(q)))

    def documents(self, scan_id: int) -> list[dict[str, Any]]:
        """The findings of a scan as the JSON report wrote them."""
        q = select(FindingRow.document).where(FindingRow.scan_id == scan_id).order_by(FindingRow.id)
        return self._read(lambda s: list(s.scalars(q)))

    def counts(self, scan_ids: Iterable[int]) -> dict[int, dict[str, int]]:
        """Scan id → {severity name: n, status: n} of its findings."""
        ids = list(scan_ids)
        out: dict[int, dict[str, int]] = {i: {} for i in ids}
        if not ids:
            return out
        q = (
            select(FindingRow.scan_id, FindingRow.severity, FindingRow.status, func.count())
            .where(FindingRow.scan_id.in_(ids))
            .group_by(FindingRow.scan_id, FindingRow.severity, FindingRow.status)
        )

        def read(s: Session) -> None:
            for scan_id, severity, status, n in s.execute(q):
                c = out[scan_id]
                c[severity] = c.get(severity, 0) + n
                c[status] = c.get(status, 0) + n

        self._read(read)
        return out


def _first_line(e: Exception) -> str:
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e).strip().splitlines()
    return text[0] if text else e.__class__.__name__


def _prepare_sqlite_file(path: Path, shown: str) -> None:
    """The history holds findings about an estate: its directory and file are private to the user."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as e:
        raise StoreError(f"{shown}: cannot create the findings history: {e.strerror or e}") from None


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "ecs_exposure.store:migrations")
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
    return heads[0]


def _migrate(engine: Engine, shown: str, to: str = "head") -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = _alembic_config()
    script = ScriptDirectory.from_config(cfg)
    known = {r.revision for r in script.walk_revisions()}
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # two scans opening a new team database at once: one migrates, the other waits
            conn.execute(text("SELECT pg_advisory_xact_lock(7305019236)"))
        current = set(MigrationContext.configure(conn).get_current_heads())
        newer = current - known
        if newer:
            raise StoreError(
                f"{shown}: the findings history was written by a newer ecs-exposure (schema revision "
                f"{', '.join(sorted(newer))}); upgrade ecs-exposure to use it"
            )
        if not current and "scans" in inspect(conn).get_table_names():
            raise StoreError(f"{shown}: has a 'scans' table that is not an ecs-exposure findings history")
        target = set(script.get_heads()) if to == "head" else {to}
        if current == target:
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, to)


def migrate(url: str | URL, to: str = "head") -> None:
    """Bring a database to revision ``to`` (tests build a database at an older revision with it)."""
    if isinstance(url, str):
        url = parse_url(url)
    engine = create_engine(url)
    try:
        _migrate(engine, url.render_as_string(hide_password=True), to)
    finally:
        engine.dispose()
