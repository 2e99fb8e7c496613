"""The findings history as SQLAlchemy tables. The schema changes only through a migration in
``migrations/versions`` (a test checks that these models and the migrations agree)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ScanRow(Base):
    """One recorded scan."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tool_version: Mapped[str] = mapped_column(String(32))
    target_key: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of target
    target: Mapped[str] = mapped_column(Text)  # what was scanned: the inputs, in words
    complete: Mapped[bool]
    resources_scanned: Mapped[int] = mapped_column(Integer)
    finding_count: Mapped[int] = mapped_column(Integer)


class FindingRow(Base):
    """A finding as one scan saw it: the columns for queries, the JSON report's finding as document
    (evidence carries names and fingerprints, never a credential value)."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("scan_id", "finding_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    likelihood: Mapped[str] = mapped_column(String(16))
    impact: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_uid: Mapped[str] = mapped_column(Text)
    resource_name: Mapped[str] = mapped_column(Text)
    account: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(32))
    traits: Mapped[list[str]] = mapped_column(JSON)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    # revision 0002: the rule that suppresses the whole finding, where it was declared
    suppression_source: Mapped[str | None] = mapped_column(Text)


class SuppressionRow(Base):
    """Revision 0002: the accepted risks in force at a scan and what each did (an audit trail of who
    accepted what, and when a rule expired or stopped matching)."""

    __tablename__ = "scan_suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    expires: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    matched: Mapped[list[str]] = mapped_column(JSON)
    problem: Mapped[str | None] = mapped_column(Text)
