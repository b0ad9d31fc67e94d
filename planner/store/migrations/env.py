"""Alembic environment: runs migrations on the connection the store hands over (or on the ini URL)."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from planner.store.schema import metadata

config = context.config


def run_on(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), poolclass=pool.NullPool)
    with engine.connect() as fresh:
        run_on(fresh)
