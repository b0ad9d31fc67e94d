"""Database tables of the plan store (SQLAlchemy Core), one place for column names and types.

Money columns are ``BigInteger`` cents; quota amounts are hundredths of their line's unit
(cents for USD lines, hundredths of a deal for count lines: :mod:`planner.quota.lines`).
Times are UTC. The DDL is created by the Alembic
migrations in ``planner/store/migrations``; a test checks that they agree with these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("rep_id", String(64), nullable=True),
    Column("email", String(320), nullable=True),  # the identity provider's email, for sign-in
    Column("db_login", String(128), nullable=True),  # the PostgreSQL login the CLI connects with
    Index("users_email", "email", unique=True),
    Index("users_db_login", "db_login", unique=True),
)

plan_versions = Table(
    "plan_versions",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("parent_id", Integer, ForeignKey("plan_versions.version_id"), nullable=True),
    Column("target_cents", BigInteger, nullable=False),  # the USD lines' targets, summed
    Column("effective_from", Date, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", DateTime(timezone=True), nullable=True),
)

version_lines = Table(
    "version_lines",
    metadata,
    Column("version_id", Integer, ForeignKey("plan_versions.version_id"), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("unit", String(32), nullable=False),
    Column("potential", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("target_cents", BigInteger, nullable=False),  # hundredths of the line's unit
    Column("allocation_basis", Text, nullable=True),  # JSON: how the quota total was chosen
)

version_units = Table(
    "version_units",
    metadata,
    Column("version_id", Integer, ForeignKey("plan_versions.version_id"), primary_key=True),
    Column("unit_id", String(64), primary_key=True),
    Column("territory_id", String(64), nullable=False),
)

version_reps = Table(
    "version_reps",
    metadata,
    Column("version_id", Integer, ForeignKey("plan_versions.version_id"), primary_key=True),
    Column("rep_id", String(64), primary_key=True),
    Column("territory_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("manager_id", String(64), nullable=True),
)

version_territories = Table(
    "version_territories",
    metadata,
    Column("version_id", Integer, ForeignKey("plan_versions.version_id"), primary_key=True),
    Column("territory_id", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("potential_cents", BigInteger, nullable=False),
    Column("forecast_cents", BigInteger, nullable=False),
    Column("last_quota_cents", BigInteger, nullable=True),
)

version_quotas = Table(
    "version_quotas",
    metadata,
    Column("version_id", Integer, ForeignKey("plan_versions.version_id"), primary_key=True),
    Column("territory_id", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("quota_cents", BigInteger, nullable=False),
)

proposals = Table(
    "proposals",
    metadata,
    Column("proposal_id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("plan_versions.version_id"), nullable=False),
    Column("territory_id", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("base_quota_cents", BigInteger, nullable=False),
    Column("proposed_quota_cents", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("comment", Text, nullable=True),
)

comp_adjustments = Table(
    "comp_adjustments",
    metadata,
    Column("adjustment_id", Integer, primary_key=True, autoincrement=True),
    Column("rep_id", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("kind", String(16), nullable=False),  # amount (paid as is) or credit (counts like a deal)
    Column("amount_cents", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # pending, approved, rejected
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("comment", Text, nullable=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("version_id", Integer, nullable=True),
    Column("territory_id", String(64), nullable=True),
    Column("line", String(64), nullable=True),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("reason", Text, nullable=True),
)
