"""Initial plan store: users, plan versions and their contents, proposals, append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY_SQLITE = """
CREATE TRIGGER audit_events_no_{verb} BEFORE {verb} ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: events cannot be changed or deleted'); END
"""
APPEND_ONLY_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit_events is append-only: events cannot be changed or deleted'; END
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_POSTGRES_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
"""


def version_fk() -> sa.Column:
    return sa.Column("version_id", sa.Integer, sa.ForeignKey("plan_versions.version_id"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("rep_id", sa.String(64), nullable=True),
    )
    op.create_table(
        "plan_versions",
        sa.Column("version_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("plan_versions.version_id"), nullable=True),
        sa.Column("target_cents", sa.BigInteger, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "version_units",
        version_fk(),
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("territory_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "version_reps",
        version_fk(),
        sa.Column("rep_id", sa.String(64), primary_key=True),
        sa.Column("territory_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("manager_id", sa.String(64), nullable=True),
    )
    op.create_table(
        "version_territories",
        version_fk(),
        sa.Column("territory_id", sa.String(64), primary_key=True),
        sa.Column("potential_cents", sa.BigInteger, nullable=False),
        sa.Column("forecast_cents", sa.BigInteger, nullable=False),
        sa.Column("last_quota_cents", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "version_quotas",
        version_fk(),
        sa.Column("territory_id", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("quota_cents", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "proposals",
        sa.Column("proposal_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("plan_versions.version_id"), nullable=False),
        sa.Column("territory_id", sa.String(64), nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("base_quota_cents", sa.BigInteger, nullable=False),
        sa.Column("proposed_quota_cents", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
    )
    op.create_table(
        "audit_events",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=True),
        sa.Column("territory_id", sa.String(64), nullable=True),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_POSTGRES_FUNCTION)
        op.execute(APPEND_ONLY_POSTGRES_TRIGGER)
    else:
        op.execute(APPEND_ONLY_SQLITE.format(verb="UPDATE"))
        op.execute(APPEND_ONLY_SQLITE.format(verb="DELETE"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    for table in (
        "audit_events",
        "proposals",
        "version_quotas",
        "version_territories",
        "version_reps",
        "version_units",
        "plan_versions",
        "users",
    ):
        op.drop_table(table)
