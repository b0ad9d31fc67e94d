"""Record with each version how its quota total was chosen (attainment goal, implied total, basis).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plan_versions", sa.Column("allocation_basis", sa.Text, nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place (no table copy)
        op.execute("ALTER TABLE plan_versions DROP COLUMN allocation_basis")
    else:
        op.drop_column("plan_versions", "allocation_basis")
