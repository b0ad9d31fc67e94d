"""Identity: a user's sign-in email (the app) and database login (the CLI on PostgreSQL).

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
    op.add_column("users", sa.Column("db_login", sa.String(128), nullable=True))
    op.create_index("users_email", "users", ["email"], unique=True)
    op.create_index("users_db_login", "users", ["db_login"], unique=True)


def downgrade() -> None:
    op.drop_index("users_db_login", table_name="users")
    op.drop_index("users_email", table_name="users")
    for column in ("db_login", "email"):
        if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place (no copy)
            op.execute(f"ALTER TABLE users DROP COLUMN {column}")
        else:
            op.drop_column("users", column)
