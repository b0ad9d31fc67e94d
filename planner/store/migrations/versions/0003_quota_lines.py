"""Quota lines: a version holds one or more lines (new business, renewal, deals...) per territory.

Existing versions become single-line versions: line ``bookings`` (USD, potential ``tam_usd``,
every booking), with their target and allocation basis moved to ``version_lines``.
Territory inputs and quotas gain ``line`` in their primary key (the tables are rebuilt: a
copy, then a swap, which SQLite and PostgreSQL both do inside the migration's transaction);
proposals and audit events gain a ``line`` column.

Downgrading keeps each version's first line (by name) and drops the others.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DEFAULT_LINE = "bookings"


def version_fk() -> sa.Column:
    return sa.Column("version_id", sa.Integer, sa.ForeignKey("plan_versions.version_id"), primary_key=True)


def territory_columns(with_line: bool) -> list[sa.Column]:
    line = [sa.Column("line", sa.String(64), primary_key=True)] if with_line else []
    return [
        version_fk(),
        sa.Column("territory_id", sa.String(64), primary_key=True),
        *line,
        sa.Column("potential_cents", sa.BigInteger, nullable=False),
        sa.Column("forecast_cents", sa.BigInteger, nullable=False),
        sa.Column("last_quota_cents", sa.BigInteger, nullable=True),
    ]


def quota_columns(with_line: bool) -> list[sa.Column]:
    line = [sa.Column("line", sa.String(64), primary_key=True)] if with_line else []
    return [
        version_fk(),
        sa.Column("territory_id", sa.String(64), primary_key=True),
        *line,
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("quota_cents", sa.BigInteger, nullable=False),
    ]


def rebuild(table: str, columns: list[sa.Column], select: str) -> None:
    """Replace ``table`` by one with ``columns``, filled by ``select`` from the old one."""
    op.create_table(f"{table}_rebuilt", *columns)
    names = ", ".join(c.name for c in columns)
    op.execute(f"INSERT INTO {table}_rebuilt ({names}) {select}")
    op.drop_table(table)
    op.rename_table(f"{table}_rebuilt", table)


def upgrade() -> None:
    op.create_table(
        "version_lines",
        version_fk(),
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("potential", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("target_cents", sa.BigInteger, nullable=False),
        sa.Column("allocation_basis", sa.Text, nullable=True),
    )
    op.execute(
        "INSERT INTO version_lines "
        "(version_id, line, unit, potential, source, target_cents, allocation_basis) "
        f"SELECT version_id, '{DEFAULT_LINE}', 'usd', 'tam_usd', '*', target_cents, allocation_basis "
        "FROM plan_versions"
    )
    rebuild(
        "version_territories",
        territory_columns(with_line=True),
        "SELECT version_id, territory_id, "
        f"'{DEFAULT_LINE}', potential_cents, forecast_cents, last_quota_cents FROM version_territories",
    )
    rebuild(
        "version_quotas",
        quota_columns(with_line=True),
        f"SELECT version_id, territory_id, '{DEFAULT_LINE}', period, quota_cents FROM version_quotas",
    )
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("line", sa.String(64), nullable=True))
    op.execute(f"UPDATE proposals SET line = '{DEFAULT_LINE}'")
    with op.batch_alter_table("proposals") as batch:
        batch.alter_column("line", existing_type=sa.String(64), nullable=False)
    op.add_column("audit_events", sa.Column("line", sa.String(64), nullable=True))
    drop_column("plan_versions", "allocation_basis")


def downgrade() -> None:
    op.add_column("plan_versions", sa.Column("allocation_basis", sa.Text, nullable=True))
    first = "(SELECT MIN(l.line) FROM version_lines l WHERE l.version_id = {table}.version_id)"
    op.execute(
        "UPDATE plan_versions SET allocation_basis = (SELECT l.allocation_basis FROM version_lines l "
        f"WHERE l.version_id = plan_versions.version_id AND l.line = {first.format(table='plan_versions')})"
    )
    drop_column("audit_events", "line")
    op.execute(f"DELETE FROM proposals WHERE line <> {first.format(table='proposals')}")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("line")
    rebuild(
        "version_quotas",
        quota_columns(with_line=False),
        "SELECT version_id, territory_id, period, quota_cents FROM version_quotas "
        f"WHERE line = {first.format(table='version_quotas')}",
    )
    rebuild(
        "version_territories",
        territory_columns(with_line=False),
        "SELECT version_id, territory_id, potential_cents, forecast_cents, last_quota_cents "
        f"FROM version_territories WHERE line = {first.format(table='version_territories')}",
    )
    op.drop_table("version_lines")


def drop_column(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place (no table copy)
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)
