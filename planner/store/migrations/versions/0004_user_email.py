"""Sign-in: each user may carry the email their identity provider vouches for.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(320), nullable=True))
    op.create_index("users_email", "users", ["email"], unique=True)


def downgrade() -> None:
    op.drop_index("users_email", table_name="users")
    if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place (no table copy)
        op.execute("ALTER TABLE users DROP COLUMN email")
    else:
        op.drop_column("users", "email")
